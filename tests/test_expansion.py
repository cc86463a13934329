"""expansion.py: the instances `count` and `for_each` make, and what each instance sees."""

from __future__ import annotations

import pytest

from calico_sglint.source import Location
from calico_sglint.terraform.budget import MAX_INSTANCES_PER_BLOCK
from calico_sglint.terraform.expansion import (
    bindings,
    count_expansion,
    for_each_expansion,
    unknown_expansion,
)
from calico_sglint.terraform.syntax import EMPTY_BODY, Attribute, File, Name
from calico_sglint.terraform.values import EvalError, TfSet, Unknown

FILE = File("mod/main.tf", EMPTY_BODY, "")


def _attribute(name: str) -> Attribute:
    return Attribute(name, Name("var.n", 7), 7, 7)


@pytest.mark.parametrize(("value", "keys"), [(0, ()), (3, (0, 1, 2)), ("2", (0, 1))])
def test_count(value: object, keys: tuple[int, ...]) -> None:
    expansion = count_expansion(value, _attribute("count"), FILE)
    assert (expansion.kind, expansion.keys) == ("count", keys)
    assert [bindings(expansion, k) for k in keys] == [{"count": {"index": k}} for k in keys]


@pytest.mark.parametrize(("value", "message"), [
    (-1, "count must not be negative (got -1)"),
    (MAX_INSTANCES_PER_BLOCK + 1, f"count of {MAX_INSTANCES_PER_BLOCK + 1} instances is more than sglint evaluates ({MAX_INSTANCES_PER_BLOCK})"),
])
def test_count_refused(value: int, message: str) -> None:
    with pytest.raises(EvalError) as raised:
        count_expansion(value, _attribute("count"), FILE)
    assert str(raised.value) == message


def test_for_each_over_a_map_is_sorted_by_key_and_a_set_keyed_by_its_strings() -> None:
    by_map = for_each_expansion({"b": 2, "a": 1}, _attribute("for_each"), FILE)
    assert (by_map.kind, by_map.keys) == ("for_each", ("a", "b"))
    assert bindings(by_map, "b") == {"each": {"key": "b", "value": 2}}
    by_set = for_each_expansion(TfSet(["x", "y"]), _attribute("for_each"), FILE)
    assert sorted(by_set.keys) == ["x", "y"]  # type: ignore[type-var]
    assert bindings(by_set, "x") == {"each": {"key": "x", "value": "x"}}


@pytest.mark.parametrize(("value", "message"), [
    (["a"], "for_each needs a map or a set of strings; wrap the list in toset()"),
    (3, "for_each needs a map or a set of strings, not int"),
])
def test_for_each_refused_like_terraform(value: object, message: str) -> None:
    with pytest.raises(EvalError) as raised:
        for_each_expansion(value, _attribute("for_each"), FILE)
    assert str(raised.value) == message


def test_an_unknown_value_is_one_placeholder_whose_keys_name_it() -> None:
    expansion = for_each_expansion(Unknown("var.groups", "no value"), _attribute("for_each"), FILE)
    assert (expansion.kind, expansion.keys) == ("unknown", (None,))
    assert expansion.unknown == Unknown("var.groups", "no value", Location("mod/main.tf", 7, 7))
    seen = bindings(expansion, None)
    assert seen["each"]["key"] == Unknown("each.key", "instances depend on var.groups", Location("mod/main.tf", 7, 7))
    assert unknown_expansion(None, _attribute("count"), FILE).unknown == Unknown(
        "var.n", "cannot be evaluated", Location("mod/main.tf", 7, 7))
