"""Provider graphs for run scopes, recycled between runs of the same blueprint.

Building dependency-injector providers costs several microseconds each, and a
`DeclarativeContainer()` deep-copies every provider (≈25–30 µs each here). A
run therefore checks out a ready graph (one `Factory` per slot, whose result is
published in the slot's `Object` provider), fills its per-run `Object` providers
(config sections, logger, ids, seed), resolves every slot once in dependency
order, and at disposal clears every instance and per-run value before the graph
goes back to the pool. A graph is held by one scope at a time,
so two live scopes never share a component; after disposal the graph keeps no
reference to anything of the run.

Never passed between runs: shared providers that other containers override
(the dependency-injector leak in research/di-anchors.md). The only providers
that outlive a run are this graph's own, and they hold nothing when idle.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from dependency_injector import containers, providers

from isoloop.scope.blueprint import RUN_VALUES, Blueprint, SlotPlan
from isoloop.scope.roles import SlotRoles

__all__ = ["GraphPool", "ProviderGraph"]


class ProviderGraph:
    """One blueprint plan as a container of providers with per-run value slots."""

    __slots__ = ("container", "instances", "order", "run_params", "run_values", "slot_args")

    def __init__(self, plans: tuple[SlotPlan, ...], shared: Mapping[str, Any]) -> None:
        self.run_values: dict[str, providers.Object[Any]] = {
            name: providers.Object(None) for name in sorted(RUN_VALUES)
        }
        shared_providers = {name: providers.Object(value) for name, value in shared.items()}
        self.slot_args: dict[str, dict[str, providers.Object[Any]]] = {}
        # One instance per slot per run: a slot's `Factory` runs once, in dependency
        # order, and its result is published in the slot's `Object` provider, which is
        # what dependents receive and what the container exposes. (A `Singleton` gives
        # the same semantics but its first call and reset cost ≈5 µs per slot here,
        # against ≈0.8 µs for this pair.)
        self.instances: dict[str, providers.Object[Any]] = {}
        factories: list[tuple[str, providers.Factory[Any]]] = []
        for plan in plans:
            args: dict[str, providers.Object[Any]] = {
                name: providers.Object(None) for name in plan.arg_params
            }
            self.slot_args[plan.name] = args
            kwargs: dict[str, providers.Provider[Any]] = dict(args)
            kwargs.update({p: self.instances[s] for p, s in plan.slot_params})
            kwargs.update({n: shared_providers[n] for n in plan.shared_params})
            kwargs.update({n: self.run_values[n] for n in plan.run_params})
            factories.append((plan.name, providers.Factory(plan.cls, **kwargs)))
            self.instances[plan.name] = providers.Object(None)
        self.order = tuple((name, factory, self.instances[name]) for name, factory in factories)
        # The run values some slot asks for (the rest need not be made for a run).
        self.run_params = frozenset(n for plan in plans for n in plan.run_params)
        # The container is what users and tools inspect: `container.<slot>()` returns
        # the run's one instance of that slot.
        self.container = containers.DynamicContainer()
        self.container.set_providers(**self.instances)

    def bind(
        self, run_values: Mapping[str, Any], slot_args: Mapping[str, Mapping[str, Any]]
    ) -> None:
        for name, value in run_values.items():
            self.run_values[name].set_provides(value)
        for slot, values in slot_args.items():
            holders = self.slot_args[slot]
            for name, value in values.items():
                holders[name].set_provides(value)

    def resolve(self) -> dict[str, Any]:
        """Instantiate every slot once, in dependency order."""
        made: dict[str, Any] = {}
        for name, factory, holder in self.order:
            instance = made[name] = factory()
            holder.set_provides(instance)
        return made

    def clear(self) -> None:
        """Forget the run: drop every instance and per-run value."""
        for _, _, holder in self.order:
            holder.set_provides(None)
        for holder in self.run_values.values():
            holder.set_provides(None)
        for holders in self.slot_args.values():
            for holder in holders.values():
                holder.set_provides(None)


class GraphPool:
    """Idle provider graphs per (blueprint, resolved classes); thread-safe checkout.

    `roles` is the run kind's role table: a new graph's classes are checked against
    it (`Blueprint.plan`) before any provider is made.
    """

    def __init__(
        self, shared: Mapping[str, Any], max_idle: int = 8, roles: SlotRoles | None = None
    ) -> None:
        self._shared = shared
        self._roles = roles
        self._max_idle = max_idle
        self._lock = threading.Lock()
        # Keyed by the blueprint object's id; the blueprint is kept alongside so the
        # id cannot be reused by another blueprint while graphs for it are cached.
        self._idle: dict[tuple[int, tuple[str, ...]], tuple[Blueprint, list[ProviderGraph]]] = {}

    def acquire(self, blueprint: Blueprint, config: object) -> tuple[Any, ProviderGraph]:
        refs = blueprint.class_refs(config)
        key = (id(blueprint), refs)
        with self._lock:
            entry = self._idle.get(key)
            if entry is not None and entry[1]:
                return key, entry[1].pop()
        needed = {n: self._shared[n] for n in blueprint.shared if n in self._shared}
        return key, ProviderGraph(blueprint.plan(config, self._roles), needed)

    def release(self, key: Any, blueprint: Blueprint, graph: ProviderGraph) -> None:
        graph.clear()
        with self._lock:
            _, idle = self._idle.setdefault(key, (blueprint, []))
            if len(idle) < self._max_idle:
                idle.append(graph)

    def clear(self) -> None:
        with self._lock:
            self._idle.clear()
