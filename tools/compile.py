"""Compile isoloop's hot path with mypyc, in place: each module's extension beside its .py.

`make install` runs this (skip it with `make install COMPILE=0`): the per-order and
per-bar path — the simulated venue and its accounting, positions, trades, risk,
execution health, routing, the order model, position keys and the order-list digest —
becomes C through mypyc, which reads the strict type hints the code already has. Python imports
an extension module before a same-named .py, so nothing else changes: the .py files
stay the source of truth and the pure-Python fallback (`python tools/compile.py
--clean` removes the extensions). Both give identical digests
(tests/reproducibility/test_compiled_pure.py).

A build records the SHA-256 of each compiled source in `build/mypyc/sources.json`;
`--check` (and a test) fails when a .py changed after its extension was built, since
the stale extension would shadow the edit. `make` rebuilds when a listed source changes.

Needs a C compiler and Python's headers (.ci/run installs Debian's gcc and
python3.11-dev when they are missing).

Usage: python tools/compile.py [--clean | --check | --list]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.machinery
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BUILD = ROOT / "build" / "mypyc"
MANIFEST = BUILD / "sources.json"
GROUP = "isoloop_hot"

#: The modules compiled, in dotted form. Each runs once per order or per bar (or per
#: fill, per trade); the strategy base class stays Python (users subclass it).
MODULES = (
    "isoloop.engine.bar_loop",
    "isoloop.engine.blocks",
    "isoloop.engine.bus",
    "isoloop.engine.clock",
    "isoloop.engine.exec_health",
    "isoloop.engine.execution",
    "isoloop.engine.gateway",
    "isoloop.engine.positions",
    "isoloop.engine.risk",
    "isoloop.engine.tight_loop",
    "isoloop.engine.tradeops",
    "isoloop.engine.trades",
    "isoloop.engine.venue_manager",
    "isoloop.model.events",
    "isoloop.model.orders",
    "isoloop.model.positions",
    "isoloop.results.digest",
    "isoloop.results.order_hash",
    "isoloop.venues.accounting",
    "isoloop.venues.costs",
    "isoloop.venues.simulated",
    "isoloop.venues.tradebook",
)


def source(module: str) -> Path:
    return SRC.joinpath(*module.split(".")).with_suffix(".py")


def extensions(module: str) -> list[Path]:
    """The built extension files of `module` (normally one)."""
    base = source(module).with_suffix("")
    return [
        p
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if (p := base.with_name(base.name + suffix)).exists()
    ]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clean() -> None:
    for module in MODULES:
        for p in extensions(module):
            p.unlink()
    for p in SRC.glob(f"{GROUP}__mypyc*"):
        p.unlink()
    MANIFEST.unlink(missing_ok=True)


def stale() -> list[str]:
    """Compiled modules whose .py changed since the build (or with no record of it)."""
    recorded = json.loads(MANIFEST.read_text()) if MANIFEST.exists() else {}
    return [m for m in MODULES if extensions(m) and recorded.get(m) != _sha(source(m))]


def build() -> None:
    # Imported here: --clean and --check work without the build tools.
    from mypyc.build import mypycify
    from setuptools import setup

    clean()
    BUILD.mkdir(parents=True, exist_ok=True)
    paths = [str(source(m).relative_to(ROOT)) for m in MODULES]
    os.chdir(ROOT)
    ext_modules = mypycify(
        ["--config-file", str(Path(__file__).with_name("mypyc.ini")), *paths],
        opt_level="3",
        group_name=GROUP,
        target_dir=str(BUILD / "c"),
    )
    with tempfile.TemporaryDirectory(dir=BUILD) as temp:
        setup(
            name="isoloop-hot-path",
            package_dir={"": "src"},
            ext_modules=ext_modules,
            script_args=[
                "--quiet",
                "build_ext",
                "--inplace",
                "--build-temp",
                temp,
                "--build-lib",
                temp,
            ],
        )
    missing = [m for m in MODULES if not extensions(m)]
    if missing:
        raise SystemExit(f"error: mypyc built no extension for {', '.join(missing)}")
    MANIFEST.write_text(json.dumps({m: _sha(source(m)) for m in MODULES}, indent=1) + "\n")
    shutil.rmtree(BUILD / "c", ignore_errors=True)
    print(f"compiled {len(MODULES)} modules with mypyc (python tools/compile.py --clean undoes it)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--clean", action="store_true", help="remove the compiled modules")
    group.add_argument("--check", action="store_true", help="fail if a compiled module is stale")
    group.add_argument("--list", action="store_true", help="print the compiled modules' sources")
    args = parser.parse_args(argv)
    if args.list:
        print(" ".join(str(source(m).relative_to(ROOT)) for m in MODULES))
        return 0
    if args.clean:
        clean()
        return 0
    if args.check:
        old = stale()
        if old:
            print(
                f"error: compiled {', '.join(old)} older than the source; run `make compile`",
                file=sys.stderr,
            )
            return 1
        return 0
    build()
    return 0


if __name__ == "__main__":
    sys.exit(main())
