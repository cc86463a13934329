"""`count` and `for_each`: the instance keys of a resource or module call, and what
`count.index`, `each.key` and `each.value` are for each key.

Pure functions of the evaluated `count`/`for_each` value; `evaluate.py` evaluates the
expression, charges the instances to the run's budget and memoises the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from calico_sglint.source import Location
from calico_sglint.terraform.budget import MAX_INSTANCES_PER_BLOCK
from calico_sglint.terraform.syntax import Attribute, File, render
from calico_sglint.terraform.values import (
    EvalError,
    ObjectLike,
    Ref,
    TfSet,
    Unknown,
    find_unknown,
    to_int,
    to_string,
)


@dataclass(frozen=True)
class Expansion:
    """The instance keys of a resource or module call, and each key's `each.value`."""

    keys: tuple[int | str | None, ...]
    values: Mapping[Any, Any]
    kind: str  # "single", "count", "for_each" or "unknown"
    unknown: Unknown | None = None


SINGLE = Expansion((None,), {}, "single")


def count_expansion(value: Any, attribute: Attribute, file: File) -> Expansion:
    """The instances `count = value` makes; `EvalError` for a negative or huge count."""
    if isinstance(value, (Unknown, Ref, ObjectLike)):
        return unknown_expansion(find_unknown(value), attribute, file)
    count = to_int(value)
    if count < 0:
        raise EvalError(f"count must not be negative (got {count})")
    _check_instances(count, "count")
    return Expansion(tuple(range(count)), {}, "count")


def for_each_expansion(value: Any, attribute: Attribute, file: File) -> Expansion:
    """The instances `for_each = value` makes: a map's keys (sorted) or a set's strings;
    `EvalError` for anything else, as Terraform refuses it."""
    if isinstance(value, (Unknown, Ref, ObjectLike)):
        return unknown_expansion(find_unknown(value), attribute, file)
    if isinstance(value, dict):
        _check_instances(len(value), "for_each")
        items = sorted(value.items())
        return Expansion(tuple(k for k, _ in items), dict(items), "for_each")
    if isinstance(value, TfSet):
        culprit = find_unknown(list(value))
        if culprit is not None:
            return unknown_expansion(culprit, attribute, file)
        _check_instances(len(value), "for_each")
        keys = [to_string(item) for item in value]
        return Expansion(tuple(keys), {k: v for k, v in zip(keys, value)}, "for_each")
    if isinstance(value, (list, tuple)):
        raise EvalError("for_each needs a map or a set of strings; wrap the list in toset()")
    raise EvalError(f"for_each needs a map or a set of strings, not {type(value).__name__}")


def unknown_expansion(unknown: Unknown | None, attribute: Attribute, file: File) -> Expansion:
    """One placeholder instance whose keys depend on `unknown` (located at the attribute)."""
    at = Location(file.path, attribute.line, attribute.line)
    if unknown is None:
        unknown = Unknown(render(attribute.expr), "cannot be evaluated", at)
    elif unknown.location is None:
        unknown = Unknown(unknown.expr, unknown.reason, at)
    return Expansion((None,), {}, "unknown", unknown)


def bindings(expansion: Expansion, key: Any) -> dict[str, Any]:
    """`count.index` or `each.key`/`each.value` for one instance; unknown ones (naming the
    expression the instances depend on) for an unknown expansion."""
    if expansion.kind == "count":
        return {"count": {"index": key}}
    if expansion.kind == "for_each":
        return {"each": {"key": key, "value": expansion.values[key]}}
    if expansion.kind == "unknown":
        assert expansion.unknown is not None
        reason = f"instances depend on {expansion.unknown.expr}"
        loc = expansion.unknown.location
        return {
            "count": {"index": Unknown("count.index", reason, loc)},
            "each": {
                "key": Unknown("each.key", reason, loc),
                "value": Unknown("each.value", reason, loc),
            },
        }
    return {}


def _check_instances(count: int, what: str) -> None:
    if count > MAX_INSTANCES_PER_BLOCK:
        raise EvalError(f"{what} of {count} instances is more than sglint evaluates ({MAX_INSTANCES_PER_BLOCK})")
