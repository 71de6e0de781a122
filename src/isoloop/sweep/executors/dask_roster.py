"""The live workers of a Dask cluster as the Dask executor sees them, told apart by process.

A worker's address does not name it for good: a worker started with a fixed
`--worker-port` restarts at the same address, and the OS reuses ports. Its "id"
is its name, which restarts keep too. What each worker process makes fresh is
its working directory (`worker-<random>`), so a dead or killed worker is
remembered by that, and a fresh process at its address is used again.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from isoloop.errors import ExecutorError

__all__ = ["NO_WORKER_S", "WorkerRoster"]

NO_WORKER_S = 300.0  # no live worker this long, with trials waiting: the sweep stops


@dataclass(slots=True)
class WorkerRoster:
    """Live workers (address → threads, address → working dir) and the dead ones."""

    threads: dict[str, int] = field(default_factory=dict)
    dirs: dict[str, str] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # working dirs of dead or killed workers
    refreshed: float = 0.0  # when the scheduler was last asked
    workerless_since: float | None = None  # since when no worker has been alive

    def update(self, workers: Mapping[str, Mapping[str, Any]]) -> None:
        """Take the scheduler's view (`scheduler_info()["workers"]`): a dead one has left."""
        self.refreshed = time.monotonic()
        dirs = {addr: str(w.get("local_directory") or addr) for addr, w in workers.items()}
        self.dirs = {addr: d for addr, d in dirs.items() if d not in self.gone}
        self.threads = {addr: int(workers[addr].get("nthreads", 1)) for addr in self.dirs}
        if self.threads:
            self.workerless_since = None  # counted afresh from the next loss of them all

    def workdir(self, addr: str) -> str:
        """The working dir of the process at `addr` now (the address, if unknown)."""
        return self.dirs.get(addr, addr)

    def guard(self, addr: str) -> str | None:
        """What a task sent to `addr` checks it runs in (None: the scheduler did not say)."""
        workdir = self.dirs.get(addr)
        return None if workdir == addr else workdir

    def is_current(self, addr: str, workdir: str | None) -> bool:
        """Whether the process a task was sent to (in `workdir`) still lives at `addr`."""
        return addr in self.threads and self.dirs.get(addr) == workdir

    def forget(self, addr: str, workdir: str | None = None) -> None:
        """The process at `addr` (the one in `workdir`, when given) is dead or being
        killed: send it nothing more. A newer process at that address stays."""
        workdir = workdir or self.workdir(addr)
        self.gone.add(workdir)
        if self.dirs.get(addr) == workdir:
            del self.dirs[addr]
            self.threads.pop(addr, None)

    def check(self, where: str) -> None:
        """Trials wait: with no live worker for NO_WORKER_S, stop instead of waiting forever."""
        if self.threads:
            return
        now = time.monotonic()
        if self.workerless_since is None:
            self.workerless_since = now
        elif now - self.workerless_since > NO_WORKER_S:
            raise ExecutorError(
                f"dask executor: no worker alive at {where} for {NO_WORKER_S:g} s; start "
                "workers and run the sweep again (it resumes from its store)"
            )
