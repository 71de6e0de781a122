"""The executor protocol, the data handles and the one trial wrapper every executor runs.

`execute_trial` is the single code path that turns a trial function's return
value or exception into a `TrialResult`, in the driver (serial, thread) or in a
worker (process, dask, ray), so executors differ only in where it runs.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self, TypeAlias, runtime_checkable

import numpy as np
import psutil

from isoloop.data.bars import Bars, Columns, MarketData
from isoloop.errors import ExecutorError
from isoloop.sweep.executors.memory import trial_memory_limit
from isoloop.sweep.spec import TrialOutput, TrialResult, TrialSpec, TrialStatus, worker_name

__all__ = [
    "BarsTupleHandle",
    "CodeBundle",
    "DataHandle",
    "Executor",
    "ExecutorError",
    "InMemoryHandle",
    "MemmapHandle",
    "TrialContext",
    "TrialFn",
    "code_folders",
    "crashed_result",
    "error_result",
    "execute_trial",
    "freeze_context",
    "memory_result",
    "timeout_result",
]

#: What every trial of a sweep shares besides the bars, sent once per worker (process),
#: per map (ray) or with each task (dask), never rebuilt per trial: a mapping of plain
#: values, or a small frozen dataclass (e.g. the backtest sweep's `TrialBase`).
TrialContext: TypeAlias = Mapping[str, Any] | Hashable

#: A trial function: module-level and importable (it is pickled by reference), called
#: as `fn(spec, data, context)` with the map's context (whatever type it expects).
#: Returns a `TrialOutput` or a mapping with "stats" and optional "digest"/"extra".
TrialFn = Callable[[TrialSpec, MarketData, Any], Any]

_BAR_FIELDS = ("index", "open", "high", "low", "close", "volume")


@runtime_checkable
class DataHandle(Protocol):
    """A tiny, picklable way for a worker to get the sweep's read-only market data."""

    def open(self) -> MarketData: ...


@dataclass(frozen=True, eq=False)
class InMemoryHandle:
    """serial/thread: the driver's own `MarketData` (arrays already read-only)."""

    data: MarketData

    def open(self) -> MarketData:
        return self.data


@dataclass(frozen=True)
class MemmapHandle:
    """process: `.npy` files written once (under /dev/shm when present), opened read-only.

    Every worker maps the same pages (`mmap_mode="r"`), so N workers share one copy
    and a write from a trial raises instead of leaking into the next trial.
    """

    directory: str
    symbols: tuple[str, ...]
    # Each symbol's extra data columns, by name in file order (`{i}_x{j}.npy`).
    extras: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def write(cls, data: MarketData) -> MemmapHandle:
        needed = sum(getattr(b, name).nbytes for b in data.values() for name in _BAR_FIELDS)
        needed += sum(col.nbytes for b in data.values() for col in b.extra.values())
        shm = Path("/dev/shm")
        # Containers often mount a 64 MB /dev/shm: fall back to the temp dir (page cache).
        fits = shm.is_dir() and shutil.disk_usage(shm).free > 2 * needed + 2**20
        base = str(shm) if fits else None
        remove_stale_memmaps(Path(base or tempfile.gettempdir()))
        # The owner's pid is in the name, so a later driver can tell a folder left by a
        # SIGKILLed driver (which never ran `remove`) from one still in use.
        directory = tempfile.mkdtemp(prefix=f"isoloop-sweep-{os.getpid()}-", dir=base)
        extras = []
        for i, (_symbol, bars) in enumerate(data.items()):
            for name in _BAR_FIELDS:
                np.save(Path(directory) / f"{i}_{name}.npy", getattr(bars, name))
            for j, col in enumerate(bars.extra.values()):
                np.save(Path(directory) / f"{i}_x{j}.npy", col)
            extras.append(tuple(bars.extra))
        return cls(directory, tuple(data), tuple(extras))

    def open(self) -> MarketData:
        bars: dict[str, Bars] = {}
        for i, symbol in enumerate(self.symbols):
            arrays = {
                name: np.load(Path(self.directory) / f"{i}_{name}.npy", mmap_mode="r")
                for name in _BAR_FIELDS
            }
            names = self.extras[i] if i < len(self.extras) else ()
            extra = Columns(
                (name, np.load(Path(self.directory) / f"{i}_x{j}.npy", mmap_mode="r"))
                for j, name in enumerate(names)
            )
            bars[symbol] = Bars(symbol=symbol, **arrays, extra=extra)
        return MarketData(bars)

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def remove_stale_memmaps(folder: Path) -> list[Path]:
    """Delete memmap folders whose driver process is gone; returns what was removed."""
    removed = []
    for path in folder.glob("isoloop-sweep-*-*"):
        owner = path.name.removeprefix("isoloop-sweep-").split("-", 1)[0]
        if not owner.isdigit() or not path.is_dir():
            continue
        if psutil.pid_exists(int(owner)):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


@dataclass(frozen=True, eq=False)
class BarsTupleHandle:
    """dask/ray: the bars themselves as a picklable tuple (`MarketData` is a mapping proxy)."""

    bars: tuple[Bars, ...]

    @classmethod
    def of(cls, data: MarketData) -> BarsTupleHandle:
        return cls(tuple(data.values()))

    def open(self) -> MarketData:
        for bars in self.bars:
            for name in _BAR_FIELDS:
                array = getattr(bars, name)
                if array.flags.writeable:
                    # A transport (e.g. Dask moving the bars between workers) may hand
                    # back writeable copies: restore the read-only guarantee.
                    array.flags.writeable = False
        return MarketData({b.symbol: b for b in self.bars})


_CODE_MAX_BYTES = 64 * 2**20  # a code folder larger than this is not user code to ship


def code_folders(context: object) -> tuple[str, ...]:
    """Folders of user code a trial context needs on every worker (`context.code_folders`).

    The backtest sweep's context names the folder its strategy module came from;
    executors whose workers may run on other machines (dask, ray) ship it.
    """
    folders = getattr(context, "code_folders", ())
    return tuple(str(f) for f in folders) if isinstance(folders, tuple) else ()


def _code_files(folder: Path) -> Iterator[Path]:
    """A folder's top-level modules and packages (`*.py` under a folder with `__init__.py`)."""
    for entry in sorted(folder.iterdir()):
        if not entry.name.isidentifier() and not entry.name.endswith(".py"):
            continue
        if entry.is_file() and entry.suffix == ".py" and entry.stem.isidentifier():
            yield entry
        elif entry.is_dir() and entry.name.isidentifier() and (entry / "__init__.py").is_file():
            for path in sorted(entry.rglob("*.py")):
                if "__pycache__" not in path.parts and all(
                    part.isidentifier() for part in path.relative_to(folder).parent.parts
                ):
                    yield path


@dataclass(frozen=True)
class CodeBundle:
    """The Python files of a user's code folder, shipped to workers that cannot see it.

    Only `*.py` files travel: the folder's top-level modules and its packages (data
    files next to them stay behind). A worker writes them once into a private folder
    named by their digest and appends it to `sys.path`, so the modules import the
    usual way and an installed module of the same name still wins.
    """

    files: tuple[tuple[str, bytes], ...]
    digest: str

    @classmethod
    def of(cls, folders: Sequence[str]) -> CodeBundle | None:
        files: dict[str, bytes] = {}
        for folder in map(Path, folders):
            if not folder.is_dir():
                raise ExecutorError(
                    f"user code folder {folder} does not exist; check strategy.path"
                )
            for path in _code_files(folder):
                files.setdefault(path.relative_to(folder).as_posix(), path.read_bytes())
        if not files:
            return None
        size = sum(len(b) for b in files.values())
        if size > _CODE_MAX_BYTES:
            raise ExecutorError(
                f"user code in {', '.join(folders)} is {size / 2**20:.0f} MB of Python files "
                f"(limit {_CODE_MAX_BYTES // 2**20} MB); keep the strategy in its own folder "
                "and name it with strategy.path"
            )
        h = hashlib.sha256()
        for name, data in sorted(files.items()):
            h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
        return cls(tuple(sorted(files.items())), h.hexdigest())

    def install(self, root: str | None = None) -> str:
        """Write the files once under `root` (default: the temp folder); put them on `sys.path`."""
        parent = Path(root or tempfile.gettempdir())
        target = parent / f"isoloop-code-{os.getuid()}-{self.digest[:20]}"
        if not target.is_dir():
            staging = Path(tempfile.mkdtemp(prefix=".isoloop-code-", dir=parent))
            for name, data in self.files:
                path = staging / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
            try:
                staging.rename(target)
            except OSError:  # another worker process on this host was first
                shutil.rmtree(staging, ignore_errors=True)
        info = target.stat()
        if info.st_uid != os.getuid() or info.st_mode & 0o022:
            raise ExecutorError(f"{target} is not a private folder of this user; remove it")
        entry = str(target)
        if entry not in sys.path:
            sys.path.append(entry)
            importlib.invalidate_caches()
        return entry


class Executor(Protocol):
    """Runs trial specs somewhere and yields their results in completion order."""

    name: str
    workers: int

    def share(self, data: MarketData) -> Any:
        """Make `data` available to workers once; returns the handle to pass to `map`."""
        ...

    def map(
        self,
        fn: TrialFn,
        specs: Iterator[TrialSpec],
        handle: Any,
        *,
        context: TrialContext | None = None,
        timeout_s: float | None = None,
        retries: int = 2,
        max_in_flight: int | None = None,
    ) -> Iterator[TrialResult]:
        """Pull specs lazily (at most `max_in_flight` outstanding), yield each result once."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def freeze_context(context: TrialContext | None) -> TrialContext:
    """The context a map runs with: a private copy of a mapping (later edits by the caller
    cannot reach running trials), a frozen value as is, `{}` for none."""
    if context is None:
        return {}
    if isinstance(context, Mapping):
        return dict(context)
    return context


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _coerce_output(value: Any) -> TrialOutput:
    if isinstance(value, TrialOutput):
        out = value
    elif isinstance(value, Mapping) and "stats" in value:
        unknown = set(value) - {"stats", "digest", "extra"}
        if unknown:
            raise TypeError(f"trial function returned unknown keys {sorted(unknown)}")
        out = TrialOutput(value["stats"], value.get("digest"), value.get("extra") or {})
    else:
        raise TypeError(
            "trial function must return TrialOutput or a mapping with 'stats', "
            f"got {type(value).__name__}"
        )
    stats = {str(k): float(v) for k, v in out.stats.items()}
    digest = None if out.digest is None else str(out.digest)
    return TrialOutput(stats, digest, dict(out.extra))


def current_rss_mb() -> float:
    """This process's resident memory in MiB (Linux: one read of ≈ 20 µs, not psutil's 80)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return float(psutil.Process().memory_info().rss) / 2**20


def execute_trial(
    fn: TrialFn,
    spec: TrialSpec,
    data: MarketData,
    context: TrialContext,
    memory_mb: float | None = None,
) -> TrialResult:
    """Run one trial; an exception becomes status "error" with type and first line.

    With `memory_mb`, the trial may allocate that much beyond what its worker holds
    (`memory.trial_memory_limit`); a `MemoryError` (that budget, or the machine's)
    becomes status "memory", after the trial's frames, and so its memory, are gone.
    """
    started = time.time()
    out_of_memory: str | None = None
    try:
        with trial_memory_limit(memory_mb):
            output = _coerce_output(fn(spec, data, context))
    except MemoryError as exc:
        out_of_memory = _first_line(exc)  # leaving the block frees the trial's frames
    except (Exception, SystemExit) as exc:
        failed = failed_result(
            spec, "error", worker_name(), _first_line(exc), started, current_rss_mb()
        )
        return replace(failed, traceback="".join(traceback.format_exception(exc)))
    if out_of_memory is not None:
        return memory_result(
            spec, worker_name(), out_of_memory, memory_mb, started, current_rss_mb()
        )
    return TrialResult(
        trial_id=spec.trial_id,
        status="ok",
        stats=output.stats,
        digest=output.digest,
        attempts=spec.attempt + 1,
        worker=worker_name(),
        extra=output.extra,
        memory_rss_mb=current_rss_mb(),
        started_at=started,
        finished_at=time.time(),
    )


def failed_result(
    spec: TrialSpec,
    status: TrialStatus,
    worker: str,
    error: str,
    started: float | None,
    memory_rss_mb: float | None = None,
) -> TrialResult:
    """A trial that produced no stats: `error`, `timeout`, `crashed` or `memory`."""
    return TrialResult(
        trial_id=spec.trial_id,
        status=status,
        stats={},
        digest=None,
        attempts=spec.attempt + 1,
        worker=worker,
        error=error,
        memory_rss_mb=memory_rss_mb,
        started_at=started,
        finished_at=time.time(),
    )


def memory_result(
    spec: TrialSpec,
    worker: str,
    cause: str,
    memory_mb: float | None,
    started: float | None,
    memory_rss_mb: float | None = None,
) -> TrialResult:
    """The trial ran out of memory: its budget (if any) and what refused it."""
    budget = "" if memory_mb is None else f"trial exceeded trial_memory_mb={memory_mb:g}; "
    return failed_result(spec, "memory", worker, budget + cause, started, memory_rss_mb)


def error_result(
    spec: TrialSpec, worker: str, exc: BaseException, started: float | None
) -> TrialResult:
    """The trial raised (or could not be run): its exception type and first line."""
    return failed_result(spec, "error", worker, _first_line(exc), started)


def timeout_result(
    spec: TrialSpec, worker: str, timeout_s: float, started: float | None, action: str
) -> TrialResult:
    error = f"trial exceeded trial_timeout={timeout_s:g}s; {action}"
    return failed_result(spec, "timeout", worker, error, started)


def crashed_result(spec: TrialSpec, worker: str, reason: str, started: float | None) -> TrialResult:
    error = f"{reason} (attempt {spec.attempt + 1}; retries exhausted)"
    return failed_result(spec, "crashed", worker, error, started)


class ClosingExecutor:
    """`with executor:` closes it; executors share this instead of repeating it."""

    def close(self) -> None:
        return None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
