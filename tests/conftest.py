"""Shared fixtures. `tests/` is on sys.path so blueprints can name test-only classes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


@pytest.fixture(autouse=True)
def _oracle_optimizes_in_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """backtesting.py's `optimize` forks a process pool. Forked from an xdist worker
    that an earlier test left with live threads (a notebook kernel's client, tqdm's
    monitor), a child can inherit a lock some thread held and hang for good (CI of
    stop 18: 300 s in `Pool.terminate`). Threads give the oracle the same results."""
    if "backtesting" not in sys.modules:
        import backtesting  # noqa: F401  (imported here so the patch below has a target)
    from multiprocessing.dummy import Pool

    monkeypatch.setattr(sys.modules["backtesting"], "Pool", Pool)
