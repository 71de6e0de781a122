"""A blueprint's dependency graph and init order, as text or a Mermaid flowchart.

Nothing here derives the graph: `Blueprint.plan()` does, from the constructor
signatures of the classes behind the slots, so what is shown is exactly what a
run container initializes (and, reversed, what it tears down).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from isoloop.scope.blueprint import CONFIG_REF, Blueprint

__all__ = ["BlueprintGraph", "SlotNode", "describe_blueprint", "render_mermaid", "render_text"]


@dataclass(frozen=True, slots=True)
class SlotNode:
    """One slot as the container builds it."""

    name: str
    class_path: str  # `module:QualName` of the class the slot resolved to
    written: str  # the class reference as written in the blueprint (may be `@config.…`)
    needs: tuple[str, ...]  # slots injected into the constructor
    shared: tuple[str, ...]
    run_values: tuple[str, ...]
    args: tuple[str, ...]
    role: str | None = None  # the role written in the blueprint (`role:`), if any


@dataclass(frozen=True, slots=True)
class BlueprintGraph:
    """Slots in init order, with the edges between them."""

    name: str
    path: Path
    shared: tuple[str, ...]
    order: tuple[SlotNode, ...]

    @property
    def edges(self) -> tuple[tuple[str, str], ...]:
        """(dependency, dependent) pairs: the dependency is initialized first."""
        return tuple((dep, node.name) for node in self.order for dep in node.needs)


def describe_blueprint(blueprint: Blueprint, config: object) -> BlueprintGraph:
    """The graph of `blueprint` with `@config.` class references resolved against `config`."""
    written = {spec.name: spec.class_ref for spec in blueprint.slots}
    roles = {spec.name: spec.role for spec in blueprint.slots}
    nodes = tuple(
        SlotNode(
            name=plan.name,
            class_path=f"{plan.cls.__module__}:{plan.cls.__qualname__}",
            written=written[plan.name],
            needs=tuple(slot for _, slot in plan.slot_params),
            shared=plan.shared_params,
            run_values=plan.run_params,
            args=plan.arg_params,
            role=roles[plan.name],
        )
        for plan in blueprint.plan(config)
    )
    return BlueprintGraph(blueprint.name, blueprint.path, blueprint.shared, nodes)


def render_text(graph: BlueprintGraph) -> str:
    width = max(len(node.name) for node in graph.order)
    lines = [f"blueprint {graph.name} ({graph.path})"]
    if graph.shared:
        lines.append(f"shared services: {', '.join(graph.shared)}")
    lines += ["", "init order (a slot after every slot it needs; teardown runs in reverse):"]
    for i, node in enumerate(graph.order, 1):
        source = f"  (from {node.written})" if node.written.startswith(CONFIG_REF) else ""
        lines.append(f"  {i:>2}. {node.name:<{width}}  {node.class_path}{source}")
        detail = [
            f"{label}: {', '.join(values)}"
            for label, values in (
                ("role", (node.role,) if node.role else ()),
                ("needs", node.needs),
                ("shared", node.shared),
                ("run values", node.run_values),
                ("args", node.args),
            )
            if values
        ]
        if detail:
            lines.append(f"      {'':<{width}}  {'; '.join(detail)}")
    lines += ["", "edges (dependency -> dependent):"]
    lines += [f"  {dep} -> {slot}" for dep, slot in graph.edges] or ["  (none)"]
    return "\n".join(lines) + "\n"


def _label(text: str) -> str:
    """Mermaid label text inside double quotes (entity codes for the characters it parses)."""
    for char, code in (('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text


def render_mermaid(graph: BlueprintGraph) -> str:
    """A `flowchart` whose arrows point from a slot to the slots that need it.

    Node ids carry a prefix, so a slot named like a Mermaid keyword (`end`) stays valid.
    """
    lines = [
        "flowchart TD",
        f"  %% blueprint {graph.name}: arrows point from a dependency to its dependents",
    ]
    for i, node in enumerate(graph.order, 1):
        label = f"{_label(f'{i}. {node.name}')}<br/>{_label(node.class_path)}"
        lines.append(f'  slot_{node.name}["{label}"]')
    for service in graph.shared:
        lines.append(f'  shared_{service}[("{_label(service)} (shared)")]')
    lines += [f"  slot_{dep} --> slot_{slot}" for dep, slot in graph.edges]
    lines += [
        f"  shared_{service} -.-> slot_{node.name}"
        for node in graph.order
        for service in node.shared
    ]
    return "\n".join(lines) + "\n"
