"""Input caps on YAML and `--set`: checked before parsing recurses, each error names its limit."""

from __future__ import annotations

from pathlib import Path

import pytest

from isoloop.config import load_run_config, parse_set_options, read_yaml
from isoloop.config.limits import LIMITS, limit_value
from isoloop.config.yaml12 import load_yaml
from isoloop.errors import ConfigError, InputError, LimitExceeded

RUN = "strategy: {class: 'isoloop.examples.sma_cross:SmaCross'}\ndata: {source: 'sample:GOOG'}\n"


def test_depth_is_refused_before_the_composer_recurses() -> None:
    # 200k levels: composing this crashed the interpreter (libyaml recursion in C).
    with pytest.raises(LimitExceeded, match=r"conf: line 1: YAML nesting depth .*ISOLOOP_MAX"):
        load_yaml("a: " + "[" * 200_000, "conf")


def test_depth_within_the_limit_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "a: " + "[" * 60 + "]" * 60
    assert load_yaml(text)["a"] is not None
    monkeypatch.setenv("ISOLOOP_MAX_YAML_DEPTH", "10")
    with pytest.raises(LimitExceeded, match="limit of 10"):
        load_yaml(text)


def test_block_nesting_counts_like_flow_nesting() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(100))
    with pytest.raises(LimitExceeded, match="line 65: YAML nesting depth"):
        load_yaml(text)


def test_aliases_count_as_often_as_they_are_used() -> None:
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 6):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    with pytest.raises(LimitExceeded, match="ISOLOOP_MAX_YAML_NODES"):
        load_yaml(text)  # 10⁶ values once expanded, though the text is 300 bytes
    assert load_yaml("a: &a [1, 2]\nb: *a\n") == {"a": [1, 2], "b": [1, 2]}


def test_duplicate_keys_are_refused_with_both_lines(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(RUN + "venue:\n  cash: 1\n  cash: 2\n")
    with pytest.raises(ConfigError, match=r"run.yaml: line 5: key 'cash' is given twice .*line 4"):
        read_yaml(path)


def test_equal_keys_written_differently_are_duplicates_and_merge_keys_are_not() -> None:
    with pytest.raises(ConfigError, match="given twice"):
        load_yaml("1: a\n0x1: b\n")
    merged = load_yaml("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert merged["other"] == {"x": 1, "y": 3}


def test_integer_digits_are_capped_in_files_and_in_set_options(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(RUN + "seed: " + "7" * 5000 + "\n")
    with pytest.raises(LimitExceeded, match=r"run.yaml: line 3: digits in one integer is 5_000"):
        read_yaml(path)
    with pytest.raises(LimitExceeded, match=r"--set seed.*ISOLOOP_MAX_INT_DIGITS"):
        parse_set_options(["seed=" + "7" * 5000])
    assert parse_set_options(["seed=" + "7" * 40]) == {"seed": int("7" * 40)}


def test_raising_the_digit_cap_above_pythons_own_still_gives_one_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ISOLOOP_MAX_INT_DIGITS", "100000")
    with pytest.raises(LimitExceeded, match="digits in one integer is 5_000"):
        load_yaml("seed: " + "7" * 5000)


def test_file_size_is_checked_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(RUN + "#" * 5000 + "\n")
    monkeypatch.setenv("ISOLOOP_MAX_YAML_BYTES", "4096")
    with pytest.raises(LimitExceeded, match=r"run.yaml: YAML file size in bytes is 5_\d+"):
        read_yaml(path)


def test_long_values_and_keys_are_refused_and_never_echoed_whole() -> None:
    with pytest.raises(LimitExceeded) as info:
        parse_set_options(["name=" + "x" * 100_000])
    assert len(str(info.value)) < 300
    with pytest.raises(LimitExceeded, match=r"\(the key\)"):
        parse_set_options(["k" * 20_000 + "=1"])
    with pytest.raises(LimitExceeded, match="line 1: characters in one value"):
        load_yaml("name: " + "y" * 20_000)


def test_inf_and_nan_are_refused_with_the_key_named(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(RUN)
    for value in (".inf", "-.inf", ".nan"):
        with pytest.raises(ConfigError, match=r"run.yaml: venue.cash: .*finite number"):
            load_run_config(path, parse_set_options([f"venue.cash={value}"]))
    with pytest.raises(ConfigError, match=r"strategy\.params\.x"):
        load_run_config(path, {"strategy.params.x": float("nan")})


def test_a_long_run_name_is_refused_and_shortened_in_the_error(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text(RUN + "name: " + "n" * 5000 + "\n")
    with pytest.raises(ConfigError, match="name: String should have at most 100") as info:
        load_run_config(path)
    assert len(str(info.value)) < 300


def test_a_bad_limit_variable_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ISOLOOP_MAX_YAML_DEPTH", "lots")
    with pytest.raises(InputError, match="ISOLOOP_MAX_YAML_DEPTH must be a positive whole"):
        load_yaml("a: 1")


def test_every_limit_has_a_distinct_variable_and_a_positive_default() -> None:
    envs = [lim.env for lim in LIMITS.values()]
    assert len(set(envs)) == len(envs)
    assert all(e.startswith("ISOLOOP_MAX_") for e in envs)
    assert all(limit_value(key) == lim.default > 0 for key, lim in LIMITS.items())


def test_the_quickstart_lists_every_limit_with_its_default() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "quickstart.md").read_text()
    for lim in LIMITS.values():
        assert f"| `{lim.env}` | {lim.default} |" in doc, lim.env


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("2024-13-45", "line 2: the value cannot be read as timestamp (month must be in 1..12)"),
        ("!!float abc", "line 2: the value cannot be read as float"),
        ("!!int zz", "line 2: the value cannot be read as int"),
        ("2001-12-14t21:59:43.10-25:00", "line 2: the value cannot be read as timestamp"),
    ],
)
def test_a_value_its_tag_cannot_build_is_a_config_error(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(f"a: 1\nb: {value}\n", "run.yaml")
    assert str(info.value).startswith("run.yaml: " + fragment), str(info.value)
