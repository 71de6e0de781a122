"""What crosses a process boundary in a sweep: a trial's spec going out, its result coming back.

A `TrialSpec` is tiny on purpose (an id, a parameter mapping, a seed, an attempt
number): market data never travels with it, it is opened once per worker from a
`DataHandle`. A `TrialResult` is JSON-friendly so the driver can store it as is.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from isoloop.results.metrics import STATS_KEYS

__all__ = [
    "STATS_KEYS",
    "TRIAL_STATUSES",
    "TrialOutput",
    "TrialResult",
    "TrialSpec",
    "TrialStatus",
    "trial_seed",
    "worker_name",
]

#: ok; error (the trial raised); timeout; crashed (its worker died on every attempt);
#: memory (the trial ran out of memory: `trial_memory_mb` refused an allocation, or a
#: `MemoryError`, or the engine's own out-of-memory monitor killed it).
TrialStatus = Literal["ok", "error", "timeout", "crashed", "memory"]
TRIAL_STATUSES: tuple[TrialStatus, ...] = ("ok", "error", "timeout", "crashed", "memory")


def trial_seed(base_seed: int, trial_id: int) -> int:
    """The trial's own seed: independent of worker, pid, order and executor."""
    state = np.random.SeedSequence(base_seed, spawn_key=(trial_id,)).generate_state(1)
    return int(state[0])


def worker_name() -> str:
    """`host:pid` of the calling process, as reported in every result."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True, slots=True)
class TrialSpec:
    """One trial to run: the only thing sent to a worker besides the data handle."""

    trial_id: int
    params: Mapping[str, Any]
    seed: int
    attempt: int = 0

    def retry(self) -> TrialSpec:
        """The same trial, one attempt later (after its worker died)."""
        return TrialSpec(self.trial_id, self.params, self.seed, self.attempt + 1)


@dataclass(frozen=True, slots=True)
class TrialOutput:
    """What a trial function returns: stats, an optional run digest, optional JSON extras."""

    stats: Mapping[str, float]
    digest: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TrialResult:
    """The outcome of one trial, as stored by the driver (keyed by `trial_id`).

    `attempts` counts submissions (1 unless a worker died under the trial);
    `recycled`/`recycle_reason` say the worker was replaced after this trial
    (memory ceiling or recycle-after-N), so a reader can tell which trial did it.
    """

    trial_id: int
    status: TrialStatus
    stats: Mapping[str, float]
    digest: str | None
    attempts: int
    worker: str
    error: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    memory_rss_mb: float | None = None
    recycled: bool = False
    recycle_reason: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    # The stack trace of an "error" trial (its `error` stays the one-line summary).
    traceback: str | None = None
