"""The exchange-credentials pre-flight: every strategy's exchange keys, before any container.

A container checks its own keys when its `credentials` slot is built; a live run on
real exchanges checks them all first, so a missing, placeholder or other-environment
key stops `isoloop live` and `isoloop validate` with one `error:` line naming the
variable (never its value) before anything connects anywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from isoloop.config.classpath import import_class
from isoloop.errors import CredentialsError, InputError
from isoloop.live.config import LiveConfig
from isoloop.live.slots.credentials import ExchangeCredentials
from isoloop.scope import load_blueprint
from isoloop.scope.blueprint import CONFIG_REF, SlotSpec

__all__ = ["check_exchange_credentials", "exchange_credential_slots"]

# The slot arguments that pick which keys a credentials slot holds.
_ARGS = ("exchange", "market", "leg")


def _is_credentials_slot(spec: SlotSpec) -> bool:
    # Only these slots' classes are imported here: a credentials slot by its role or
    # name, or any slot whose class is called ExchangeCredentials, whatever its name.
    return (
        spec.role == "credentials"
        or spec.name == "credentials"
        or spec.name.endswith("_credentials")
        or spec.class_ref.rpartition(":")[2] == "ExchangeCredentials"
    )


def exchange_credential_slots(live: LiveConfig, name: str) -> list[tuple[str, dict[str, Any]]]:
    """The slots of strategy `name`'s blueprint that hold exchange keys, with their args.

    A blueprint that cannot be read is left to the container, which reports it as
    its own failure (the pre-flight is about keys only).
    """
    try:
        blueprint = load_blueprint(live.blueprint_for(name))
    except InputError:
        return []
    found = []
    for spec in blueprint.slots:
        if not _is_credentials_slot(spec) or spec.class_ref.startswith(CONFIG_REF):
            continue
        try:
            cls = import_class(spec.class_ref, where=blueprint.where(spec.name))
        except InputError:
            continue
        if isinstance(cls, type) and issubclass(cls, ExchangeCredentials):
            try:
                args = blueprint.resolve_args(spec, live.run_config(name))
            except InputError:
                continue
            found.append((spec.name, {k: v for k, v in args.items() if k in _ARGS}))
    return found


def check_exchange_credentials(live: LiveConfig, env: Mapping[str, str] | None = None) -> int:
    """Build every exchange credentials slot of every strategy (and drop it at once).

    Returns how many slots were checked; raises one `CredentialsError` naming every
    problem (each names the variable and the fix), strategy by strategy.
    """
    problems: list[str] = []
    checked = 0
    for s in live.strategies:
        for _, args in exchange_credential_slots(live, s.name):
            try:
                ExchangeCredentials(live, s.name, env=env, **args)
            except CredentialsError as exc:
                problems.append(str(exc))
            checked += 1
    if problems:
        # One line: the CLI prints it as a single `error:` line, exit 2.
        raise CredentialsError("; ".join(dict.fromkeys(problems)))
    return checked
