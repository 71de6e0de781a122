"""`isoloop blueprint show`: the derived graph as text or Mermaid; bad names exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.cli import main

ROOT = Path(__file__).resolve().parents[2]
GOOG_CFG = ROOT / "configs" / "goog_sma.yaml"


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def init_order(text: str) -> list[str]:
    return [line.split()[1] for line in text.splitlines() if line[:5].strip()[:-1].isdigit()]


def test_show_prints_the_init_order(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "blueprint", "show", "backtest")
    assert (code, err) == (0, "")
    order = init_order(out)
    assert order[0] == "clock" and order[-1] == "engine"
    assert order.index("venue") < order.index("execution") < order.index("strategy")
    # Without --config the strategy slot shows the base every strategy's constructor has.
    assert "isoloop.engine.strategy:Strategy  (from @config.strategy.class_path)" in out


def test_show_with_a_config_uses_its_strategy(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(capsys, "blueprint", "show", "backtest", "--config", str(GOOG_CFG))
    assert code == 0
    assert "isoloop.examples.sma_cross:SmaCross  (from @config.strategy.class_path)" in out


def test_show_mermaid(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "blueprint", "show", "backtest", "--mermaid")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    for edge in ("slot_clock --> slot_venue", "slot_execution --> slot_strategy"):
        assert f"  {edge}" in lines


@pytest.mark.parametrize("name", ["backtest", "basis", "paper", "live"])
def test_every_shipped_blueprint_shows(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "blueprint", "show", name)
    assert (code, err) == (0, ""), err
    assert out.startswith(f"blueprint {name} (")


def test_unknown_name_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "blueprint", "show", "nosuch")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("error: no blueprint named 'nosuch' (looked in: ")


def test_config_folder_blueprint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A user's own blueprint next to their config: <config dir>/containers/NAME.yaml.
    folder = tmp_path / "project"
    (folder / "containers").mkdir(parents=True)
    shipped = (ROOT / "containers" / "backtest.yaml").read_text()
    venue = '    class: isoloop.venues.simulated:SimulatedVenue\n    args: {settings: "@config.venue"}\n'
    assert venue in shipped
    (folder / "containers" / "mine.yaml").write_text(
        shipped.replace("name: backtest", "name: mine").replace(
            venue, "    class: isoloop.venues.passthrough:PassthroughVenue\n"
        )
    )
    config = folder / "run.yaml"
    config.write_text(GOOG_CFG.read_text().replace("container: backtest", "container: mine"))
    code, out, err = cli(capsys, "blueprint", "show", "mine", "--config", str(config))
    assert (code, err) == (0, ""), err
    assert out.startswith(f"blueprint mine ({folder / 'containers' / 'mine.yaml'})")
    assert "isoloop.venues.passthrough:PassthroughVenue" in out
    code, _, err = cli(capsys, "blueprint", "show", "mine")  # not found without the config
    assert code == 2 and "no blueprint named 'mine'" in err


def test_unresolvable_config_reference_suggests_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("slots:\n  venue: '@config.venue.class_path'\n")
    code, _, err = cli(capsys, "blueprint", "show", str(path))
    assert code == 2
    assert len(err.splitlines()) == 1 and err.rstrip().endswith(
        "pass --config RUN.yaml to resolve it"
    )
