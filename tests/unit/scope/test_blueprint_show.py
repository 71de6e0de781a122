"""`blueprint show`'s graph is the real derived init order, and blueprints are found in order.

The order asserted here is what a run container of `containers/backtest.yaml`
initializes (a slot after every slot its constructor asks for); if a component's
constructor changes, this test says how the order moved.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from isoloop.errors import BlueprintError
from isoloop.scope.blueprint import blueprint_dirs, load_blueprint, packaged_blueprints
from isoloop.scope.describe import describe_blueprint, render_mermaid, render_text

ROOT = Path(__file__).resolve().parents[3]
BACKTEST = ROOT / "containers" / "backtest.yaml"
CONFIG = SimpleNamespace(strategy=SimpleNamespace(class_path="isoloop.examples.sma_cross:SmaCross"))
MINIMAL = "slots:\n  clock: support.scope_parts:Clock\n"


def order_of(path: Path) -> list[str]:
    graph = describe_blueprint(load_blueprint(path), CONFIG)
    return [node.name for node in graph.order]


def test_backtest_init_order_follows_the_constructors() -> None:
    order = order_of(BACKTEST)
    assert sorted(order) == sorted(
        [
            "clock",
            "bus",
            "venue",
            "positions",
            "venues",
            "position_updates",
            "risk",
            "execution",
            "strategy",
            "engine",
        ]
    )
    at = order.index
    # The chain an order takes: clock → venue → venue manager → execution → strategy → engine.
    assert at("clock") < at("venue") < at("venues") < at("execution") < at("strategy")
    assert at("positions") < at("position_updates") < at("execution")
    assert at("risk") < at("execution")
    assert order[-1] == "engine"


def test_graph_edges_are_the_constructor_parameters() -> None:
    graph = describe_blueprint(load_blueprint(BACKTEST), CONFIG)
    edges = set(graph.edges)
    assert {("clock", "venue"), ("venue", "venues"), ("execution", "strategy")} <= edges
    assert ("strategy", "engine") in edges
    assert ("strategy", "execution") not in edges  # the strategy sees a facade, not the reverse
    nodes = {node.name: node for node in graph.order}
    assert nodes["strategy"].class_path == "isoloop.examples.sma_cross:SmaCross"
    assert nodes["strategy"].written == "@config.strategy.class_path"
    assert nodes["clock"].shared == ("market_data",)
    # Every edge points forward in the init order.
    index = {node.name: i for i, node in enumerate(graph.order)}
    assert all(index[dep] < index[slot] for dep, slot in graph.edges)


def test_text_lists_the_order_and_the_edges() -> None:
    text = render_text(describe_blueprint(load_blueprint(BACKTEST), CONFIG))
    lines = text.splitlines()
    assert lines[0].startswith("blueprint backtest (")
    numbered = [line.split()[1] for line in lines if line[:5].strip().rstrip(".").isdigit()]
    assert numbered == order_of(BACKTEST)
    assert "  clock -> venue" in lines
    assert "  execution -> strategy" in lines
    assert "(from @config.strategy.class_path)" in text


def test_mermaid_is_a_flowchart_with_every_edge() -> None:
    graph = describe_blueprint(load_blueprint(BACKTEST), CONFIG)
    lines = render_mermaid(graph).splitlines()
    assert lines[0] == "flowchart TD"
    for dep, slot in graph.edges:
        assert f"  slot_{dep} --> slot_{slot}" in lines
    assert "  slot_clock --> slot_venue" in lines
    assert "  slot_execution --> slot_strategy" in lines
    assert "  shared_market_data -.-> slot_clock" in lines
    assert any(line.startswith('  slot_venue["3. venue<br/>') for line in lines)


def test_mermaid_escapes_labels_and_keyword_slot_names(tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text("slots:\n  end: support.scope_parts:Clock\n")
    out = render_mermaid(describe_blueprint(load_blueprint(path), None))
    assert '  slot_end["1. end<br/>support.scope_parts:Clock"]' in out.splitlines()


# Lookup order: $ISOLOOP_CONTAINERS, <config dir>/containers, ./containers, packaged.


def write_bp(folder: Path, name: str = "mine") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(MINIMAL)
    return path


def test_packaged_blueprints_are_found_from_any_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOLOOP_CONTAINERS", raising=False)
    shipped = packaged_blueprints()
    assert {"backtest.yaml", "basis.yaml", "paper.yaml", "live.yaml"} <= {
        p.name for p in shipped.iterdir()
    }
    bp = load_blueprint("backtest")
    assert Path(bp.path).resolve() == BACKTEST.resolve()  # one copy: the top-level folder
    assert str(bp.path).startswith(str(shipped))


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cwd, config_dir, env = tmp_path / "cwd", tmp_path / "cfg", tmp_path / "env"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("ISOLOOP_CONTAINERS", raising=False)
    # Shadowing a packaged name: ./containers beats the package...
    in_cwd = write_bp(cwd / "containers", "backtest")
    assert load_blueprint("backtest").path == in_cwd
    # ...the config's folder beats ./containers...
    in_config = write_bp(config_dir / "containers", "backtest")
    assert load_blueprint("backtest", config_dir=config_dir).path == in_config
    # ...and $ISOLOOP_CONTAINERS beats both.
    monkeypatch.setenv("ISOLOOP_CONTAINERS", str(env))
    in_env = write_bp(env, "backtest")
    assert load_blueprint("backtest", config_dir=config_dir).path == in_env
    dirs = [str(d) for d in blueprint_dirs(config_dir)]
    assert dirs == [
        str(env),
        str(config_dir / "containers"),
        str(cwd / "containers"),
        str(packaged_blueprints()),
    ]


def test_a_users_blueprint_by_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    own = write_bp(tmp_path / "cfg", "own")
    # Relative to the working folder, absolute, and relative to the config's folder.
    assert load_blueprint("cfg/own.yaml").path == Path("cfg/own.yaml")
    assert load_blueprint(own).path == own
    assert load_blueprint("own.yaml", config_dir=tmp_path / "cfg").path == own
    with pytest.raises(BlueprintError, match=r"blueprint file nope\.yaml not found"):
        load_blueprint("nope.yaml", config_dir=tmp_path / "cfg")


def test_unknown_name_lists_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ISOLOOP_CONTAINERS", raising=False)
    with pytest.raises(BlueprintError, match="no blueprint named 'nosuch'") as info:
        load_blueprint("nosuch")
    assert str(packaged_blueprints()) in str(info.value)
