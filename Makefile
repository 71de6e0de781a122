# The README's two commands live here: `make demo` and `make test`.
# Everything is bootstrapped from a bare machine with Python 3.11 and make.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP  := $(VENV)/.installed

.PHONY: test demo lint typecheck bench clean install compile docs docs-site lock wheel-smoke

# COMPILE=0 keeps the pure-Python hot path (no C compiler needed; slower per order).
COMPILE ?= 1
# The sources tools/compile.py compiles with mypyc (its MODULES list; stdlib only).
HOT    := $(shell $(PYTHON) tools/compile.py --list)
COMPILED := build/mypyc/sources.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# The hot path compiled by mypyc, rebuilt when one of its sources changes.
$(COMPILED): $(STAMP) $(HOT) tools/compile.py tools/mypyc.ini
	$(BIN)/python tools/compile.py

ifeq ($(COMPILE),1)
install: $(STAMP) $(COMPILED)
else
install: $(STAMP)
	$(BIN)/python tools/compile.py --clean
endif

compile: $(COMPILED)

test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q $(if $(filter 1,$(COMPILE)),,-m "not compiled")

# The main job: a parameter sweep of SmaCross over GOOG (50 trials, 2 worker processes),
# best trials + report path. Rerunning resumes from results/goog_sma_sweep.sqlite.
demo: install
	$(BIN)/isoloop sweep configs/goog_sma_sweep.yaml

docs: $(STAMP)
	$(BIN)/python -m isoloop.reference > docs/config-reference.md

# The documentation site (mkdocs-material; API reference from the docstrings) in
# build/site/. --strict: any warning (a broken link or anchor, a page left out of the
# nav, a docstring that does not parse) fails the build.
docs-site: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --clean --site-dir build/site

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: $(STAMP)
	$(BIN)/mypy

# Build the sdist and wheel, install the wheel into a fresh venv outside the repo and run
# backtest, sweep (serial, process) and validate from an empty folder (.ci/wheel-smoke).
wheel-smoke: $(STAMP)
	PYTHON=$(PYTHON) .ci/wheel-smoke

bench: install
	$(BIN)/python benchmarks/container_lifecycle.py
	$(BIN)/python benchmarks/engine_throughput.py
	$(BIN)/python benchmarks/sweep_throughput.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/vs_vectorbt.py
	$(BIN)/python benchmarks/costs.py
	$(BIN)/python benchmarks/executor_overhead.py --write

# Regenerate the lock file after changing dependencies in pyproject.toml.
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --extra dev --extra dask --extra ray --extra exchanges --extra bench --python-version 3.11 -o requirements.lock

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
