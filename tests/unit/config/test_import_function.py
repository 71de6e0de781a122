"""`import_function`: a code reference to a function obeys the class-path rules."""

from __future__ import annotations

import pytest

from isoloop.config.classpath import ALLOWED_MODULES_ENV, import_function
from isoloop.errors import BlueprintError


def test_a_module_level_function_is_imported() -> None:
    fn = import_function("math:hypot", where="venue.commission.function")
    assert fn(3.0, 4.0) == 5.0


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("math", "must look like 'package.module:function'"),
        ("math:_private", "public name"),
        ("math:nothing_here", "has no function 'nothing_here'"),
        ("collections:OrderedDict", "has no function 'OrderedDict'"),  # a class is not one
        ("math:pi", "has no function 'pi'"),  # not callable
    ],
)
def test_bad_function_paths_are_one_clear_error(ref: str, says: str) -> None:
    with pytest.raises(BlueprintError, match=r"venue\.commission\.function") as err:
        import_function(ref, where="venue.commission.function")
    assert says in str(err.value)


def test_the_module_allow_list_applies_to_functions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ALLOWED_MODULES_ENV, "mycompany")
    with pytest.raises(BlueprintError, match="is not in ISOLOOP_ALLOWED_MODULES"):
        import_function("math:hypot", where="venue.commission.function")
