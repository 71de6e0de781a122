"""YAML with YAML 1.2 booleans: only true/false are booleans.

PyYAML follows YAML 1.1, where `on`, `off`, `yes`, `no` are booleans, so
`fill: {on: close}` would silently become `{True: 'close'}`. Configs use `on`
as a key, so isoloop reads YAML with a loader that keeps those as strings.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

__all__ = ["Yaml12Loader", "load_yaml"]


# libyaml's parser when PyYAML was built with it (≈10× faster); same safe constructor.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Yaml12Loader(_SafeBase):  # type: ignore[misc,valid-type]
    """SafeLoader whose bool resolver only matches true/false (any case)."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def load_yaml(text: str) -> Any:
    """Parse YAML safely (no object construction) with YAML 1.2 booleans."""
    return yaml.load(text, Loader=Yaml12Loader)  # a SafeLoader subclass: no object construction
