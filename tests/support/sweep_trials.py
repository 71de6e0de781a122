"""Trial functions for the sweep tests (importable by worker processes as `support.sweep_trials`).

Each computes a deterministic toy metric from the params, the trial seed and the
bars; some misbehave on purpose (raise, hang, get killed, leak memory).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from isoloop.data.bars import MarketData
from isoloop.sweep import TrialOutput, TrialSpec, run_generic_sweep

# Memory a leaky strategy keeps between trials (deliberate: the thing being tested).
_LEAK: list[np.ndarray] = []


def toy(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """Crossings of two moving averages of Close plus seeded noise: cheap but data-dependent."""
    close = np.asarray(data.primary.close, dtype="float64")
    fast, slow = int(spec.params["fast"]), int(spec.params["slow"])
    csum = np.concatenate([[0.0], np.cumsum(close)])
    ma_fast = (csum[fast:] - csum[:-fast]) / fast
    ma_slow = (csum[slow:] - csum[:-slow]) / slow
    diff = ma_fast[slow - fast :] - ma_slow
    crossings = int(np.count_nonzero(np.diff(np.sign(diff)) != 0))
    noise = float(np.random.default_rng(spec.seed).normal())
    stats = {
        "trades": float(crossings),
        "return_pct": float((close[-1] / close[slow] - 1.0) * 100.0),
        "sharpe_ratio": crossings / 10.0 + noise * float(context.get("noise", 0.1)),
        "my_extra_metric": float(fast * slow),
    }
    if context.get("sleep_s"):
        time.sleep(float(context["sleep_s"]))
    digest = hashlib.sha256(repr(sorted(stats.items())).encode()).hexdigest()
    return TrialOutput(stats=stats, digest=digest, extra={"pid": os.getpid()})


def raising(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    if spec.params["fast"] == context["bad_fast"]:
        raise ValueError(f"fast={spec.params['fast']} is cursed\nsecond line is dropped")
    return toy(spec, data, context)


def out_of_memory(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """The `bad_fast` trials fail as an allocation the machine refuses would."""
    if spec.params["fast"] == context["bad_fast"]:
        raise MemoryError("Unable to allocate 8.00 TiB for an array")
    return toy(spec, data, context)


def _marker(context: Mapping[str, Any], spec: TrialSpec, tag: str) -> None:
    directory = Path(context["marker_dir"])
    name = f"{tag}-{spec.trial_id}-{spec.attempt}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    # Written under a temporary name and renamed, so a watcher never reads it half-written.
    tmp = directory / f".{name}.tmp"
    tmp.write_text(str(os.getpid()))
    tmp.rename(directory / name)


def hanging(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    if spec.trial_id == context["hang_id"]:
        _marker(context, spec, "hang")
        time.sleep(float(context.get("hang_s", 3600)))
    return toy(spec, data, context)


def killable(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """The victim trial announces its pid and sleeps so the test can SIGKILL its worker."""
    if spec.trial_id == context["victim_id"]:
        _marker(context, spec, "victim")
        time.sleep(float(context["victim_sleep_s"]))
    return toy(spec, data, context)


def counted(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """Leaves one marker file per execution, so a test can count what actually ran."""
    _marker(context, spec, "ran")
    return toy(spec, data, context)


def hog(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    if spec.trial_id == context["hog_id"]:
        _LEAK.append(np.ones(int(context["hog_mb"]) * 2**20 // 8))
    return toy(spec, data, context)


def exiting(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """The `exit_ids` trials kill their own worker process (`os._exit`) on every attempt;
    `hang_id`, if given, hangs; the rest are `toy`."""
    if spec.trial_id in context["exit_ids"]:
        _marker(context, spec, "exit")
        os._exit(1)
    if spec.trial_id == context.get("hang_id"):
        _marker(context, spec, "hang")
        time.sleep(3600)
    return toy(spec, data, context)


def greedy(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """The `greedy_id` trial allocates (and touches) 50 MB chunks without bound.

    After each chunk it records how much it holds (`greedy-<id>.mb`, rewritten in
    place), so a test can read the trial's peak after the trial was stopped.
    """
    if spec.trial_id == context["greedy_id"]:
        _marker(context, spec, "greedy")
        progress = Path(context["marker_dir"]) / f"greedy-{spec.trial_id}.mb"
        chunks: list[np.ndarray] = []
        while True:
            chunks.append(np.ones(50 * 2**20 // 8))
            tmp = progress.with_suffix(".tmp")
            tmp.write_text(str(50 * len(chunks)))
            tmp.rename(progress)
            time.sleep(0.02)  # lets a test sampling the worker's RSS see every step
    return toy(spec, data, context)


def sleepy(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """Sleeps `sleep_by_id[str(trial_id)]` seconds (0 when absent), then `toy`."""
    time.sleep(float(context.get("sleep_by_id", {}).get(str(spec.trial_id), 0.0)))
    return toy(spec, data, context)


def mutating(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    # Long enough that a cluster scheduler spreads the trials over every worker.
    time.sleep(float(context.get("mutate_delay_s", 0.0)))
    data.primary.close[0] = 0.0  # must fail: shared bars are read-only
    return toy(spec, data, context)


def quick(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> dict[str, Any]:
    return {"stats": {"sharpe_ratio": float(spec.params["a"] - spec.params["b"])}}


# ---- helpers shared by the sweep tests -------------------------------------------------

SPACE30 = {"fast": [4, 8, 12, 16, 20, 24], "slow": {"range": [10, 70, 10]}}
CONSTRAINT30 = "fast < slow"


def goog() -> MarketData:
    from backtesting.test import GOOG

    from isoloop.data.bars import Bars

    return MarketData({"GOOG": Bars.from_frame(GOOG, "GOOG")})


def grid30():
    """The 30-trial grid every executor must agree on."""
    from isoloop.sweep import GridSearch, SearchSpace, compile_constraint

    space = SearchSpace.from_mapping(SPACE30)
    return GridSearch(space, compile_constraint(CONSTRAINT30, space.keys))


def definition(**extra: Any) -> dict[str, Any]:
    return {
        "space": SPACE30,
        "constraint": CONSTRAINT30,
        "search": {"method": "grid"},
        "base": {"test": "toy"},
        **extra,
    }


def per_trial(outcome: Any) -> dict[int, tuple[Any, ...]]:
    """What must not depend on the executor: id → (params, status, stats, digest)."""
    from isoloop.sweep.spec import STATS_KEYS

    table = outcome.trials
    out: dict[int, tuple[Any, ...]] = {}
    for row in table.to_dict("records"):
        stats = tuple((k, row[k]) for k in STATS_KEYS if row[k] == row[k])  # drop NaN
        out[int(row["trial_id"])] = (
            row["params"],
            row["status"],
            stats,
            row["stats_extra"],
            _str(row["digest"]),
            _str(row["error"]),
        )
    return out


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None  # pandas shows a missing str as NaN


def jitter(spec: TrialSpec, data: MarketData, context: Mapping[str, Any]) -> TrialOutput:
    """Uneven durations, so parallel executors finish trials out of order."""
    time.sleep((spec.trial_id * 7919) % 5 * 0.03)
    return toy(spec, data, context)


CONTEXT = {"noise": 0.25, "sleep_s": 0.02}


def run_grid30(executor: Any, fn: Any = toy, context: Any = CONTEXT, store: Any = None, **kw: Any):
    """The 30-trial GOOG grid through the generic driver: the sweep tests' common run."""
    return run_generic_sweep(
        fn,
        goog(),
        search=grid30(),
        executor=executor,
        definition=definition(),
        base_seed=42,
        metric="sharpe_ratio",
        store=store,
        context=context,
        **kw,
    )


@contextmanager
def tests_on_pythonpath() -> Iterator[None]:
    """Ray workers are started by the raylet: give them the tests dir for `sweep_trials`."""
    tests_dir = str(Path(__file__).parents[1])
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [tests_dir, old]))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


@contextmanager
def ray_executor(workers: int = 2, **kw: Any) -> Iterator[Any]:
    """A Ray executor on this test process's one local Ray, started on first use.

    Starting Ray costs seconds, and on a busy machine a start can fail outright
    (the raylet gives its agent a fixed 15 s), so the test process starts it once
    — through an executor, with that executor's start-up retries — and keeps it
    until the process exits; each executor then finds Ray running and leaves it
    running when it closes.
    """
    import atexit

    import ray

    from isoloop.sweep.executors.ray import RayExecutor

    with tests_on_pythonpath():
        if not ray.is_initialized():
            # The raylet is started here, with the tests folder on its PYTHONPATH,
            # which every worker it starts inherits.
            RayExecutor(workers).share(goog())
            atexit.register(ray.shutdown)
        with RayExecutor(workers, **kw) as executor:
            executor.share(goog())
            yield executor


def sampled_peak_rss_mb(pid: int, stop: Any, peaks: list[float]) -> None:
    """Thread body: sample `pid`'s RSS every 10 ms until `stop` is set or it exits."""
    import psutil

    peak = 0.0
    try:
        proc = psutil.Process(pid)
        while not stop.is_set():
            peak = max(peak, proc.memory_info().rss / 2**20)
            time.sleep(0.01)
    except psutil.Error:
        pass
    peaks.append(peak)
