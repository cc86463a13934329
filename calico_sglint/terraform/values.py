"""Terraform values as the evaluator sees them, including the ones it cannot know.

Known values are plain Python: `None` (null), `bool`, `int`/`float` (number), `str`,
`list` (list/tuple), `dict` (map/object, iterated in key order like Terraform) and `TfSet`.
Two more kinds stand for what only `terraform apply` could tell:

- `Ref`: the `id` (or `name`/`arn`) of a resource created in the scanned code. Opaque, but we
  know *which* resource it names, which is all a security-group rule needs.
- `Unknown`: anything else we cannot evaluate. It names the expression and why, and it
  propagates through every operation that needs its value.

Functions that need a concrete value call `require_known`, which raises `Deferred`; the
evaluator turns that back into the `Unknown` it carries.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

from calico_sglint.source import Location
from calico_sglint.terraform import budget
from calico_sglint.terraform.budget import MAX_ELEMENTS, MAX_STRING

MAX_COLLECTION = MAX_ELEMENTS  # refuse to build collections larger than this (e.g. range(1e9))
_NUMBER = re.compile(r"[-+]?(?:\d+(\.\d*)?|(\.\d+))([eE][+-]?\d+)?")


@dataclass(frozen=True)
class Unknown:
    """A value we could not evaluate: `expr` is the expression as written, `reason` says why."""

    expr: str
    reason: str
    location: Location | None = None

    def describe(self) -> str:
        where = f" ({self.location})" if self.location else ""
        return f"{self.expr}: {self.reason}{where}"


@dataclass(frozen=True)
class UndeclaredReference(Unknown):
    """A reference to a resource the module does not declare: Terraform rejects it, so it is a
    mistake to report (`sg-unknown-reference`), not a value to wait for."""


@dataclass(frozen=True)
class UnknownMembers(Unknown):
    """Zero or more list elements that could not be evaluated, beside the known ones:
    `compact(concat(var.extra, [aws_security_group.node.id]))` is
    `[UnknownMembers(var.extra), Ref(aws_security_group.node)]`. Whoever reads the elements
    sees the known ones and an unknown; whoever needs a count or a position (`length`, an
    index) gets an Unknown."""

    @classmethod
    def of(cls, unknown: Unknown) -> UnknownMembers:
        return unknown if isinstance(unknown, cls) else cls(unknown.expr, unknown.reason, unknown.location)


def unknown_members(items: Any) -> UnknownMembers | None:
    """The first `UnknownMembers` among a list's elements: its length and positions are unknown."""
    if isinstance(items, (list, tuple)):
        return next((i for i in items if isinstance(i, UnknownMembers)), None)
    return None


@dataclass(frozen=True)
class Ref:
    """The `id`, `name` or `arn` of a resource managed in the scanned code."""

    address: str
    attribute: str = "id"

    def expr(self) -> str:
        return f"{self.address}.{self.attribute}"


class FileText(str):
    """A string read by `file()` or rendered by `templatefile()` that remembers its file, so a
    setting read from it can point at the file's line. `aligned`: line N is the file's line N
    (always for `file()`; for a template, when no substitution added or removed lines)."""

    path: str  # as written, relative to the root module's directory
    aligned: bool

    def __new__(cls, text: str, path: str, aligned: bool) -> FileText:
        value = super().__new__(cls, text)
        value.path = path
        value.aligned = aligned
        return value


class ObjectLike:
    """A value whose attributes are looked up one at a time (a resource or module instance)."""

    expr: str = ""

    def get_attr(self, name: str) -> Any:
        raise EvalError(f'{self.expr} has no attribute "{name}"')

    def index(self, key: Any) -> Any:
        raise EvalError(f"{self.expr} cannot be indexed")

    def splat(self) -> Any:
        """The elements `[*]` iterates over."""
        return [self]


class TfSet(tuple):  # type: ignore[type-arg]
    """A Terraform set: no duplicates, ordered like Terraform orders sets of primitives."""

    @classmethod
    def of(cls, items: Iterable[Any]) -> TfSet:
        unique: dict[Any, Any] = {}
        for item in items:
            unique.setdefault(equality_key(item), item)
        return cls(sorted(unique.values(), key=_set_sort_key))

    def __repr__(self) -> str:
        return f"TfSet({list(self)!r})"


class EvalError(Exception):
    """The expression is wrong the way Terraform would reject it (bad type, missing key, ...)."""


class Deferred(Exception):
    """Raised by `require_known`: the result depends on `unknown`."""

    def __init__(self, unknown: Unknown) -> None:
        super().__init__(unknown.expr)
        self.unknown = unknown


def _set_sort_key(value: Any) -> tuple[int, Any]:
    if isinstance(value, bool):
        return (0, str(value).lower())
    if isinstance(value, (int, float)):
        return (1, value)
    if isinstance(value, str):
        return (2, value)
    if isinstance(value, Ref):
        return (3, value.expr())
    return (4, json.dumps(value, sort_keys=True, default=repr))


def is_known(value: Any) -> bool:
    """True when `value` holds no `Unknown`, `Ref` or lazy object at any depth."""
    return find_unknown(value) is None


def find_unknown(value: Any) -> Unknown | None:
    """The first thing inside `value` that is not a concrete value, as an `Unknown`."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, Ref):
        return Unknown(value.expr(), "known only after apply")
    if isinstance(value, ObjectLike):
        return Unknown(value.expr, "used as a whole value")
    if isinstance(value, (list, tuple)):
        for item in value:
            found = find_unknown(item)
            if found:
                return found
    elif isinstance(value, dict):
        for item in value.values():
            found = find_unknown(item)
            if found:
                return found
    return None


def find_refs(value: Any) -> list[Ref]:
    """Every resource id (`Ref`) inside `value`; a resource passed whole counts as its id."""
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, ObjectLike) and getattr(value, "managed", False):
        return [Ref(value.expr, "id")]
    if isinstance(value, (list, tuple)):
        return [ref for item in value for ref in find_refs(item)]
    if isinstance(value, dict):
        return [ref for item in value.values() for ref in find_refs(item)]
    return []


def require_known(value: Any) -> Any:
    """Return `value` if it is concrete all the way down, else raise `Deferred`."""
    found = find_unknown(value)
    if found is not None:
        raise Deferred(found)
    return value


def require_shallow(value: Any) -> Any:
    """Return `value` if it is itself concrete (its elements may not be), else raise `Deferred`."""
    if isinstance(value, (Unknown, Ref, ObjectLike)):
        raise Deferred(find_unknown(value))  # type: ignore[arg-type]
    return value


def normalize_number(value: int | float) -> int | float:
    """Integral floats become ints, so 5473.0 prints as 5473 like in Terraform."""
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise EvalError("arithmetic produced a value that is not a number")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
    return value


def type_name(value: Any) -> str:
    """Terraform's name for the type of `value`, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, TfSet):
        return "set"
    if isinstance(value, (list, tuple)):
        return "list"
    if isinstance(value, dict):
        return "map"
    if isinstance(value, Ref):
        return "string"
    return "object"


def to_string(value: Any) -> str:
    """Convert like Terraform's automatic string conversion (numbers, bools, strings)."""
    require_shallow(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        number = normalize_number(value)
        if isinstance(number, int):
            return str(number)
        return format(Decimal(repr(number)), "f")  # Terraform never writes exponents
    if isinstance(value, str):
        return value
    if value is None:
        raise EvalError("a null value cannot be used as a string")
    raise EvalError(f"a {type_name(value)} value cannot be used as a string")


def to_number(value: Any) -> int | float:
    """Convert like Terraform's automatic number conversion."""
    require_shallow(value)
    if isinstance(value, bool):
        raise EvalError("a bool value cannot be used as a number")
    if isinstance(value, (int, float)):
        return normalize_number(value)
    if isinstance(value, str):
        match = _NUMBER.fullmatch(value)
        if not match:
            raise EvalError(f'"{value}" is not a number')
        if not any(match.groups()):
            return int(value)
        return normalize_number(float(value))
    if value is None:
        raise EvalError("a null value cannot be used as a number")
    raise EvalError(f"a {type_name(value)} value cannot be used as a number")


def to_bool(value: Any) -> bool:
    """Convert like Terraform's automatic bool conversion ("true"/"false" strings too)."""
    require_shallow(value)
    if isinstance(value, bool):
        return value
    if value == "true":
        return True
    if value == "false":
        return False
    if value is None:
        raise EvalError("a null value cannot be used as a bool")
    raise EvalError(f"a {type_name(value)} value cannot be used as a bool")


def to_int(value: Any) -> int:
    """A whole number, as needed for count, indexes and port numbers."""
    number = to_number(value)
    if not isinstance(number, int):
        raise EvalError(f"{number} is not a whole number")
    return number


def tf_equal(left: Any, right: Any) -> bool:
    """Equality with Terraform's types: `1 == "1"` is false and so is `true == 1`."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        return isinstance(left, TfSet) == isinstance(right, TfSet) and (
            len(left) == len(right) and all(tf_equal(a, b) for a, b in zip(left, right))
        )
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(tf_equal(left[k], right[k]) for k in left)
    if type(left) is not type(right):
        return False
    return bool(left == right)


def equality_key(value: Any) -> Any:
    """A hashable key with `equality_key(a) == equality_key(b)` when `tf_equal(a, b)` (and for a
    string read by `file()` and the same plain string), so sets and `distinct` deduplicate in
    linear time instead of comparing every pair."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, (int, float)):
        return ("number", value)  # 1 == 1.0 and hash(1) == hash(1.0)
    if isinstance(value, str):
        return ("string", str(value))  # a FileText equals the plain string
    if isinstance(value, TfSet):
        return ("set", tuple(equality_key(item) for item in value))
    if isinstance(value, (list, tuple)):
        return ("list", tuple(equality_key(item) for item in value))
    if isinstance(value, dict):
        return ("map", tuple(sorted((key, equality_key(item)) for key, item in value.items())))
    if value is None:
        return ("null",)
    try:
        hash(value)
    except TypeError:
        return ("object", id(value))
    return (type(value).__name__, value)


def known_equal(left: Any, right: Any) -> bool | None:
    """`left == right` when unknown parts cannot change the answer, else None. Terraform
    knows `var.groups != null` for a map whose values are known only after apply: null-ness,
    key sets and lengths are known; two resource ids are equal only when they are the same."""
    if left is None or right is None:
        if isinstance(left, (Unknown, ObjectLike)) or isinstance(right, (Unknown, ObjectLike)):
            return None
        return left is None and right is None
    if isinstance(left, Ref) and isinstance(right, Ref):
        return left == right
    if isinstance(left, (Unknown, Ref, ObjectLike)) or isinstance(right, (Unknown, Ref, ObjectLike)):
        return None
    if isinstance(left, dict) and isinstance(right, dict):
        if left.keys() != right.keys():
            return False
        pairs = [(left[k], right[k]) for k in left]
    elif isinstance(left, (list, tuple)) and isinstance(right, (list, tuple)):
        if isinstance(left, TfSet) != isinstance(right, TfSet) or len(left) != len(right):
            return False
        pairs = list(zip(left, right))
    else:
        return tf_equal(left, right)
    answers = [known_equal(a, b) for a, b in pairs]
    if False in answers:
        return False
    return None if None in answers else True


def sorted_items(mapping: dict[str, Any]) -> list[tuple[str, Any]]:
    """Map entries in Terraform's iteration order (lexical by key)."""
    return sorted(mapping.items(), key=lambda item: item[0])


def check_size(count: int, what: str = "collection", charge: bool = True) -> None:
    """Refuse to build absurdly large collections instead of hanging, and charge the run's
    budget (`budget.py`) for the elements (`charge=False`: only iterated, not built)."""
    if count > MAX_COLLECTION:
        raise EvalError(f"{what} of {count} elements is larger than {MAX_COLLECTION}")
    if charge:
        budget.spend_elements(count, what)


def check_string(length: int, what: str = "string") -> None:
    """Refuse to build a string longer than `MAX_STRING` characters, and charge the run's
    budget for it. Call it before building a string whose length is known in advance."""
    if length > MAX_STRING:
        raise EvalError(f"{what} of {length} characters is longer than {MAX_STRING}")
    budget.spend_characters(length, what)
