"""External Dask and Ray clusters, started as separate processes the way a user would.

Each is started in its own session (process group) and stopped by that group's id,
so nothing else running on the machine is touched (never `ray stop`).
"""

from __future__ import annotations

import contextlib
import os
import secrets
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
def dask_cluster(workdir: Path, workers: int = 2) -> Iterator[str]:
    """`dask scheduler` + `dask worker` processes on 127.0.0.1; yields the address."""
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
                ],
                workdir,
                workdir / "workers.log",
            )
        )
        deadline = time.monotonic() + START_S
        while True:
            try:
                with distributed.Client(address, timeout=10) as client:
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
    """`ray start --head --block` in its own session, with token authentication (its own
    token file); yields the GCS address and the environment a driver needs to connect.

    Not used by a test yet: with ray 2.60 on the project machine a driver's
    `ray.init(address=...)` to this head fails with "InvalidAuthToken" (also with
    RAY_AUTH_MODE=disabled on both sides), and the head registers the host's
    address rather than 127.0.0.1.
    """
    port = free_port()
    token = workdir / "ray-token"
    token.write_text(secrets.token_hex(32))
    token.chmod(0o600)
    auth = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token)}
    # Ray's socket paths must stay short: a temp dir of its own under /tmp.
    temp = Path(tempfile.mkdtemp(prefix="isr-", dir="/tmp"))
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
        workdir / "ray.log",
    )
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray head did not start: {(workdir / 'ray.log').read_text()}")
            time.sleep(1)
        yield address, auth
    finally:
        _stop(proc, grace_s=60)
        import shutil

        shutil.rmtree(temp, ignore_errors=True)
