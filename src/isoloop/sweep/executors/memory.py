"""A per-trial memory budget, enforced while the trial runs (`trial_memory_mb`).

Why `RLIMIT_DATA` and not `RLIMIT_AS` or an RSS watchdog: `RLIMIT_DATA` counts
only private writable mappings (malloc'd memory, numpy buffers, Python's
arenas), not the read-only memmapped bars, Ray's shared-memory object store or
reserved-but-inaccessible address space, all of which make a worker's virtual
size huge while its real use is small (`RLIMIT_AS` breaks Ray workers). The
kernel refuses the allocation that would cross the budget, so the trial gets a
`MemoryError` at that point, before the pages are touched: a watchdog sampling
RSS would notice only after the memory is in use, and could not stop a trial
stuck inside one large C allocation.

The budget is relative: the trial may allocate `trial_memory_mb` beyond what
its worker held when the trial started. The soft limit is set just before the
trial and restored right after, so the worker (and the engine's own threads)
run unconstrained between trials. The limit is per process: one trial per
worker process at a time (process and Ray workers; Dask with one thread per
worker, which the Dask executor checks).
"""

from __future__ import annotations

import resource
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["data_segment_bytes", "trial_memory_limit"]


def data_segment_bytes() -> int:
    """The process's private writable memory (`VmData`), which `RLIMIT_DATA` bounds."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmData:"):
            return int(line.split()[1]) * 1024
    raise OSError("VmData not reported by /proc/self/status")


@contextmanager
def trial_memory_limit(limit_mb: float | None) -> Iterator[None]:
    """Within the block, allocations beyond `limit_mb` more raise `MemoryError`."""
    if limit_mb is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    budget = data_segment_bytes() + int(limit_mb * 2**20)
    if soft != resource.RLIM_INFINITY:
        budget = min(budget, soft)  # never loosen a limit the operator set
    if hard != resource.RLIM_INFINITY:
        budget = min(budget, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (budget, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))
