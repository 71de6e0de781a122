"""One exceptions module, two bases the CLI maps by class."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from pathlib import Path

import isoloop
from isoloop import errors

SRC = Path(isoloop.__file__).resolve().parent


def test_every_exception_class_lives_in_isoloop_errors() -> None:
    elsewhere = []
    for info in pkgutil.walk_packages([str(SRC)], prefix="isoloop."):
        if info.name == "isoloop.errors" or info.name.endswith((".ray", ".dask")):
            continue  # backends import their optional engine at module level
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == info.name
            ):
                elsewhere.append(f"{info.name}.{name}")
    assert elsewhere == [], "define exceptions in isoloop/errors.py"


def test_what_the_user_can_fix_is_an_input_error_and_the_rest_is_not() -> None:
    user_fixable = (
        errors.ConfigError,
        errors.DataError,
        errors.BlueprintError,
        errors.CredentialsError,
        errors.StrategyParamError,
    )
    run_failures = (errors.RunFailed, errors.EngineError, errors.LiveError, errors.ExecutorError)
    assert all(issubclass(c, errors.InputError) for c in user_fixable)
    assert not any(issubclass(c, errors.InputError) for c in run_failures)
    assert all(issubclass(c, errors.IsoloopError) for c in (*user_fixable, *run_failures))
