"""A paper container whose `credentials` slot holds exchange keys: the credentials tests run
the real pre-flight and slot against the paper venue (no exchange needed)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAPER_CREDENTIALS = "credentials: isoloop.live.slots.credentials:StrategyCredentials"
EXCHANGE_CREDENTIALS = "credentials: isoloop.live.slots.credentials:ExchangeCredentials"


def paper_blueprint_with_exchange_keys(folder: Path) -> Path:
    """`paper.yaml` with `ExchangeCredentials` in its credentials slot (the config's
    `venue.exchange` says which exchange and market)."""
    text = (ROOT / "containers" / "paper.yaml").read_text(encoding="utf-8")
    assert PAPER_CREDENTIALS in text
    path = folder / "paper_exchange_keys.yaml"
    path.write_text(
        text.replace("name: paper", "name: paper_exchange_keys").replace(
            PAPER_CREDENTIALS, EXCHANGE_CREDENTIALS
        ),
        encoding="utf-8",
    )
    return path
