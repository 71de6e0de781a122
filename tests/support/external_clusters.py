"""External Dask and Ray clusters, started as separate processes the way a user would.

Each is started in its own session (process group) and stopped by that group's id,
so nothing else running on the machine is touched (never `ray stop`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BIN = Path(sys.executable).parent
START_S = 240.0  # a loaded 2-core box starts Ray in tens of seconds
#: Set in a Ray head's environment (inherited by every process it starts) to find them all.
RAY_MARKER = "ISOLOOP_TEST_RAY_HEAD"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(extra or {})
    return env


def _stop(proc: subprocess.Popen[bytes], grace_s: float = 30.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def _spawn(
    args: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    return subprocess.Popen(
        args, cwd=cwd, env=_env(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


@contextlib.contextmanager
def dask_cluster(
    workdir: Path,
    workers: int = 2,
    *,
    worker_port: int | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """`dask scheduler` + `dask worker` processes on 127.0.0.1; yields the address.

    With `worker_port`, the one worker listens there (and its restarts too)."""
    import distributed

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = [
        _spawn(
            [
                str(BIN / "dask"),
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-dashboard",
            ],
            workdir,
            workdir / "scheduler.log",
            env,  # the scheduler unpickles task graphs too
        )
    ]
    try:
        procs.append(
            _spawn(
                [
                    str(BIN / "dask"),
                    "worker",
                    address,
                    "--nworkers",
                    str(workers),
                    "--nthreads",
                    "1",
                    "--no-dashboard",
                    "--local-directory",
                    str(workdir / "dask-workers"),
                    *([] if worker_port is None else ["--worker-port", str(worker_port)]),
                ],
                workdir,
                workdir / "workers.log",
                env,
            )
        )
        deadline = time.monotonic() + START_S
        while True:
            try:
                with distributed.Client(address, timeout=10) as client:  # type: ignore[no-untyped-call]
                    client.wait_for_workers(workers, timeout=START_S)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)


@contextlib.contextmanager
def ray_head(workdir: Path, cpus: int = 2) -> Iterator[tuple[str, dict[str, str]]]:
    """`ray start --head --block` on 127.0.0.1 in its own session, with token
    authentication (a token file of its own); yields the GCS address and the
    environment a driver needs to connect (pass it to the process calling
    `ray.init(address=...)`; its `RAY_MARKER` entry, inherited by every process
    the head starts, lets a test check that none outlives the head: `marked`).

    Why the environment, with ray >= 2.59: `ray start --head` turns token auth on
    by itself when it finds a token file (`~/.ray/auth_token`, which any earlier
    local `ray.init()` on the machine writes), while `ray.init(address=...)` never
    does, so a driver left to the defaults is refused ("InvalidAuthToken"). Setting
    the mode and the token path on both sides makes them agree whatever lies in
    `~`. And `--node-ip-address 127.0.0.1` alone is not honoured: Ray swaps a
    loopback address for the host's. `RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0` is
    Ray's switch for a single-node cluster bound to 127.0.0.1; the driver needs it
    too, or it looks for its node's raylet at the host's address.

    Stopping: SIGTERM to `ray start` alone (it drains and stops what it started
    while its GCS is still up), then SIGKILL to the session's group and to any
    process carrying this head's marker variable (Ray's workers run in process
    groups of their own). Never `ray stop`, which would reach other Ray clusters.
    """
    port = free_port()
    token = workdir / "ray-token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    driver = {
        "RAY_AUTH_MODE": "token",
        "RAY_AUTH_TOKEN_PATH": str(token),
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_DISABLE_USAGE_STATS": "1",
        RAY_MARKER: secrets.token_hex(8),
    }
    # Ray's socket paths must stay short: a temp dir of its own under /tmp.
    temp = Path(tempfile.mkdtemp(prefix="isr-", dir="/tmp"))
    log = workdir / "ray.log"
    proc = _spawn(
        [
            str(BIN / "ray"),
            "start",
            "--head",
            "--block",
            "--port",
            str(port),
            "--node-ip-address",
            "127.0.0.1",
            "--num-cpus",
            str(cpus),
            "--include-dashboard",
            "false",
            "--disable-usage-stats",
            "--temp-dir",
            str(temp),
        ],
        workdir,
        log,
        driver,
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        # `ray start` logs this once GCS, raylet and the head's agents are up.
        while "Ray runtime started" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray head did not start: {log.read_text(errors='replace')}")
            time.sleep(1)
        yield address, driver
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=90)
        with contextlib.suppress(ProcessLookupError):  # whatever is left in its session
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while (left := marked(RAY_MARKER, driver[RAY_MARKER])) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        shutil.rmtree(temp, ignore_errors=True)


def marked(name: str, value: str) -> list[int]:
    """Pids of the live processes whose environment has `name=value` (this user's)."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in env.split(b"\0"):
            found.append(int(entry.name))
    return found
