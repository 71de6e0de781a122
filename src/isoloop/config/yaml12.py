"""YAML with YAML 1.2 booleans, duplicate keys refused and every size capped.

PyYAML follows YAML 1.1, where `on`, `off`, `yes`, `no` are booleans, so
`fill: {on: close}` would silently become `{True: 'close'}`. Configs use `on`
as a key, so isoloop reads YAML with a loader that keeps those as strings.

Hostile input: libyaml's composer recurses in C without a depth check, so
`a: [[[[…` 100,000 levels deep crashes the interpreter (SIGSEGV). The text is
therefore first walked as a flat event stream (iterative, no recursion) that
checks nesting depth, the number of values with aliases expanded ("billion
laughs") and the length of every scalar; only then is it composed. A key given
twice in one mapping is an error (PyYAML keeps the last one silently), and an
integer with more digits than the cap is refused before `int()` sees it.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import yaml

from isoloop.config.limits import check_limit, exceeded, limit_value, shorten
from isoloop.errors import ConfigError

__all__ = ["Yaml12Loader", "load_yaml", "prescan_yaml"]


# libyaml's parser when PyYAML was built with it (≈10× faster); same safe constructor.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"
_DIGIT = re.compile(r"[0-9a-fA-F]")


def _line(node: yaml.Node | yaml.Event) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}" if mark is not None else "a value"


class Yaml12Loader(_SafeBase):  # type: ignore[misc,valid-type]
    """SafeLoader whose bool resolver only matches true/false (any case).

    It also refuses duplicate keys and over-long integers; `isoloop_source`
    names the file (or `--set` option) in those errors.
    """

    isoloop_source = "YAML"

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=False)
                if key in seen:
                    raise ConfigError(
                        f"{self.isoloop_source}: {_line(key_node)}: key "
                        f"{shorten(repr(key))} is given twice in the same mapping (first on "
                        f"{_line(seen[key])}); keep one"
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)  # type: ignore[no-any-return]

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = len(_DIGIT.findall(str(node.value)))
        where = f"{self.isoloop_source}: {_line(node)}"
        check_limit("int_digits", digits, where)
        try:
            return super().construct_yaml_int(node)  # type: ignore[no-any-return]
        except ValueError:
            python_cap = sys.get_int_max_str_digits()
            if python_cap and digits > python_cap:
                # Python's own cap on int/str conversion (PYTHONINTMAXSTRDIGITS) is lower.
                raise exceeded("int_digits", where, f"{digits:_}") from None
            raise

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        # A tagged or implicit value its constructor cannot build (`!!float abc`, a
        # timestamp with month 13) is the user's to fix: one line naming where it is.
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, TypeError, OverflowError) as exc:
            tag = str(node.tag).rsplit(":", 1)[-1]
            raise ConfigError(
                f"{self.isoloop_source}: {_line(node)}: the value cannot be read as {tag} "
                f"({shorten(str(exc), 80)}); fix it, or quote it to make it a string"
            ) from None


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)
Yaml12Loader.add_constructor("tag:yaml.org,2002:int", Yaml12Loader.construct_yaml_int)


def prescan_yaml(text: str, source: str = "YAML") -> None:
    """Check depth, value count (aliases expanded) and scalar length without recursion."""
    max_depth = limit_value("yaml_depth")
    max_nodes = limit_value("yaml_nodes")
    max_chars = limit_value("string_chars")
    frames: list[list[Any]] = []  # [anchor, expanded size] per open collection
    anchored: dict[str, int] = {}
    total = 0
    for event in yaml.parse(text, Loader=_SafeBase):
        size = 0
        if isinstance(event, yaml.CollectionStartEvent):
            frames.append([event.anchor, 1])
            total += 1
            if len(frames) > max_depth:
                where = f"{source}: {_line(event)}"
                raise exceeded("yaml_depth", where, None, max_depth)
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = frames.pop()
            if anchor is not None:
                anchored[anchor] = size
        elif isinstance(event, yaml.ScalarEvent):
            size = 1
            total += 1
            if len(event.value) > max_chars:
                where = f"{source}: {_line(event)}"
                raise exceeded("string_chars", where, f"{len(event.value):_}", max_chars)
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            size = anchored.get(event.anchor or "", 1)
            total += size
        if size and frames:
            frames[-1][1] += size
        if total > max_nodes:
            raise exceeded("yaml_nodes", source, None, max_nodes)


def load_yaml(text: str, source: str = "YAML") -> Any:
    """Parse YAML safely (no object construction) with YAML 1.2 booleans and caps."""
    check_limit("yaml_bytes", len(text), source)
    prescan_yaml(text, source)
    loader = Yaml12Loader(text)  # a SafeLoader subclass: no object construction
    loader.isoloop_source = source
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
