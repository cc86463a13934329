"""Terraform's built-in functions, over the values of `calico_sglint.terraform.values`.

`call_function(name, args)` runs one function. Every function is pure: it never looks
inside an `Unknown`, `Ref` or lazy object, it asks `require_known` / `require_shallow`
for what it needs and lets `Deferred` propagate, so a function only depends on the parts
of its arguments that decide its result (`length([unknown, 1])` is 2).

The behaviour follows Terraform 1.11 (checked with `terraform console`), including its
type unification: `tolist([1, "a"])` is `["1", "a"]` because a list has a single type.
Numbers are Python ints and floats rather than Terraform's 512-bit floats, and strings are
measured in grapheme clusters approximated from Unicode categories.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import hashlib
import inspect
import ipaddress
import json
import math
import re
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import re2  # type: ignore[import-untyped]
import yaml

from calico_sglint.terraform import budget
from calico_sglint.terraform.budget import MAX_FORMAT_WIDTH, MAX_STRING
from calico_sglint.terraform.values import (
    Deferred,
    EvalError,
    ObjectLike,
    Ref,
    TfSet,
    Unknown,
    UnknownMembers,
    check_size,
    check_string,
    equality_key,
    find_unknown,
    is_known,
    normalize_number,
    require_known,
    require_shallow,
    sorted_items,
    tf_equal,
    to_bool,
    to_int,
    to_number,
    to_string,
    type_name,
    unknown_members,
)

RANGE_LIMIT = 1024  # Terraform's own cap on range()
_PAIRWISE_LIMIT = 1000  # values not known until apply, compared pairwise in distinct/toset
_MISSING: Any = object()  # marks an optional argument that was not given


# Functions whose result keeps known elements beside unknown members (values.UnknownMembers);
# every other function defers when a list argument has unknown members.
_MEMBERSHIP_SAFE = frozenset({"concat", "compact", "flatten", "distinct", "tolist", "toset", "setunion", "reverse"})


def is_supported(name: str) -> bool:
    """True when `name` (optionally prefixed `core::`) is a function we evaluate."""
    return name.removeprefix("core::") in _FUNCTIONS


def call_function(name: str, args: list[Any]) -> Any:
    """Call Terraform function `name`; raises `EvalError`, or `Deferred` for unknown inputs."""
    bare = name.removeprefix("core::")
    impl = _FUNCTIONS.get(bare)
    if impl is None:
        raise EvalError(f'call to unknown function "{name}"')
    _check_arity(bare, impl, len(args))
    if bare not in _MEMBERSHIP_SAFE:
        uncounted = next((m for m in map(unknown_members, args) if m is not None), None)
        if uncounted is not None:
            # the result depends on how many elements there are
            raise Deferred(Unknown(uncounted.expr, uncounted.reason, uncounted.location))
    try:
        result = impl(*args)
    except EvalError as err:
        message = str(err)
        if message.startswith(f"{bare}:"):
            raise
        raise EvalError(f"{bare}: {message}") from None
    except (ArithmeticError, RecursionError) as err:
        raise EvalError(f"{bare}: {err}") from None
    _charge(bare, result)
    return result


def _charge(name: str, result: Any) -> None:
    """Charge the run's budget for what a function built (`budget.py`), and refuse results
    over the per-value limits (e.g. `flatten` of nested lists, `strrev` of a huge string)."""
    try:
        if isinstance(result, str):
            check_string(len(result), f"{name} result")
        elif isinstance(result, (list, tuple, dict)):
            check_size(len(result), f"{name} result")
    except EvalError as err:
        raise EvalError(f"{name}: {err}") from None


@functools.cache
def _arity(impl: Callable[..., Any]) -> tuple[int, int, bool]:
    """(required, optional, variadic) positional parameters of an implementation."""
    params = inspect.signature(impl).parameters.values()
    required = sum(1 for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty)
    optional = sum(
        1 for p in params if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is not p.empty
    )
    return required, optional, any(p.kind is p.VAR_POSITIONAL for p in params)


def _check_arity(name: str, impl: Callable[..., Any], count: int) -> None:
    required, optional, variadic = _arity(impl)
    if count < required or (not variadic and count > required + optional):
        if variadic:
            expected = f"at least {required}"
        elif optional:
            expected = f"{required} to {required + optional}"
        else:
            expected = str(required)
        raise EvalError(f"{name}: expects {expected} argument(s), got {count}")


# --- argument helpers -------------------------------------------------------------------


def _not_null(value: Any) -> Any:
    if value is None:
        raise EvalError("argument must not be null")
    return value


def _elements(value: Any) -> list[Any]:
    """The elements of a list, tuple or set argument (the elements may be unknown)."""
    require_shallow(_not_null(value))
    if isinstance(value, (list, tuple)):
        return list(value)
    raise EvalError(f"expected a list, tuple or set, got {type_name(value)}")


def _list_only(value: Any) -> list[Any]:
    """Like `_elements` but rejects sets, which have no index."""
    if isinstance(value, TfSet):
        raise EvalError("cannot index a set; convert it with tolist() first")
    return _elements(value)


def _mapping(value: Any) -> dict[str, Any]:
    require_shallow(_not_null(value))
    if isinstance(value, dict):
        return value
    raise EvalError(f"expected a map or object, got {type_name(value)}")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, (Unknown, ObjectLike)):
        return "unknown"
    return "list" if type_name(value) == "set" else type_name(value)


def _unify(items: list[Any]) -> list[Any]:
    """Convert elements to one type like Terraform's list(any): mixed primitives become strings."""
    kinds = {_kind(item) for item in items} - {"null", "unknown"}
    if len(kinds) <= 1:
        return items
    if kinds <= {"string", "number", "bool"} and "string" in kinds:
        return [to_string(v) if _kind(v) in ("number", "bool") else v for v in items]
    raise EvalError(
        f"elements of types {', '.join(sorted(kinds))} cannot be converted to a single type"
    )


def _same(left: Any, right: Any) -> bool:
    """Whether two values are equal; raises `Deferred` when only apply could tell."""
    if is_known(left) and is_known(right):
        return tf_equal(left, right)
    if type(left) is type(right) and left == right:
        return True
    # The ids and ARNs of two different resources never coincide.
    both_refs = isinstance(left, Ref) and isinstance(right, Ref)
    if both_refs and left.attribute == right.attribute and left.attribute in ("id", "arn"):
        return False
    return _defer(left, right)


def _defer(*values: Any) -> bool:
    """Raise `Deferred` for the first unknown among `values`."""
    raise Deferred(next(u for u in map(find_unknown, values) if u is not None))


def _dedupe(items: list[Any]) -> list[Any]:
    """First occurrences, in order: known values by hash (linear time); values only apply could
    tell apart are compared pairwise, as `_same` decides, and only a bounded few. An unknown
    element may repeat a known one, so it is kept as unknown members (values.UnknownMembers)
    rather than making the whole result unknown."""
    keys: set[Any] = set()
    pending: list[Any] = []  # the values not known until apply kept so far
    result: list[Any] = []
    for item in items:
        if isinstance(item, Unknown):
            member = UnknownMembers.of(item)
            if member not in result:
                result.append(member)
            continue
        if is_known(item):
            key = equality_key(item)
            if key in keys or any(_same(item, seen) for seen in pending):
                continue
            keys.add(key)
        else:
            if len(pending) >= _PAIRWISE_LIMIT:
                _defer(item)
            if any(_same(item, seen) for seen in result if not isinstance(seen, Unknown)):
                continue
            pending.append(item)
        result.append(item)
    return result


def _number(value: Any) -> int | float:
    return to_number(_not_null(value))


def _decimal(number: int | float) -> Decimal:
    """The decimal a number was written as (floats by their shortest repr)."""
    return Decimal(number) if isinstance(number, int) else Decimal(repr(number))


def _from_decimal(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else normalize_number(float(value))


# Grapheme clusters, approximated: marks, joiners, emoji modifiers and flag pairs extend.
def _graphemes(text: str) -> list[str]:
    """The clusters of `text`, in time linear in its length (plain ASCII in one step)."""
    if text.isascii() and "\r\n" not in text:
        return list(text)
    starts: list[int] = []
    previous, length, flags = "", 0, 0  # the current cluster's last character, size, flag count
    for index, char in enumerate(text):
        if index & 0xFF == 0:  # the run's clock is read every 256 ticks: every 64k characters
            budget.tick()
        if starts and _extends_cluster(previous, length, flags, char):
            length += 1
        else:
            starts.append(index)
            length, flags = 1, 0
        flags += 0x1F1E6 <= ord(char) <= 0x1F1FF
        previous = char
    return [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)])]


def _extends_cluster(previous: str, length: int, flags: int, char: str) -> bool:
    if unicodedata.category(char) in ("Mn", "Me", "Mc") or char == "\u200d":
        return True
    if previous == "\u200d" or 0x1F3FB <= ord(char) <= 0x1F3FF:
        return True
    if length == 1 and previous == "\r" and char == "\n":
        return True
    return 0x1F1E6 <= ord(char) <= 0x1F1FF and flags == length and flags % 2 == 1


# --- type conversion --------------------------------------------------------------------


def _tolist(value: Any) -> list[Any] | None:
    """tolist(v): a list or set as a list of one element type."""
    if value is None:
        return None
    if _kind(value) != "list":
        require_shallow(value)
        raise EvalError(f"cannot convert {type_name(value)} to a list")
    return _unify(list(value))


def _toset(value: Any) -> TfSet | None:
    """toset(v): a list as a set (deduplicated, in Terraform's order)."""
    if value is None:
        return None
    return TfSet.of(_dedupe(_tolist(value) or []))


def _tomap(value: Any) -> dict[str, Any] | None:
    """tomap(v): an object as a map, its values converted to one type."""
    if value is None:
        return None
    mapping = _mapping(value)
    keys = sorted(mapping)
    return dict(zip(keys, _unify([mapping[k] for k in keys]), strict=True))


def _tostring(value: Any) -> Any:
    """tostring(v): a number, bool or string as a string (null stays null)."""
    if value is None or isinstance(value, Ref):
        return value
    return to_string(value)


_DECIMAL_NUMBER = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _tonumber(value: Any) -> int | float | None:
    """tonumber(v): a number or a string of a decimal number as a number."""
    if value is None:
        return None
    if isinstance(value, str) and not _DECIMAL_NUMBER.fullmatch(value):
        raise EvalError(f'cannot convert "{value}" to number')
    return to_number(value)


def _tobool(value: Any) -> bool | None:
    """tobool(v): a bool or the strings "true"/"false" as a bool."""
    if value is None:
        return None
    return to_bool(value)


def _identity(value: Any) -> Any:
    """sensitive(v) / nonsensitive(v): sensitivity does not matter to a linter."""
    return value


# --- collections ------------------------------------------------------------------------


def _length(value: Any) -> int:
    """length(v): characters of a string, elements of a collection."""
    require_shallow(_not_null(value))
    if isinstance(value, str):
        return len(_graphemes(value))
    if isinstance(value, (list, tuple, dict)):
        return len(value)
    raise EvalError("argument must be a string, a collection type, or a structural type")


def _element(collection: Any, index: Any) -> Any:
    """element(list, i): the element at i modulo the length."""
    items = _list_only(collection)
    position = to_int(index)
    if not items:
        raise EvalError("cannot use element function with an empty list")
    if position < 0:
        raise EvalError(f"index {position} out of range")
    return items[position % len(items)]


def _index(collection: Any, value: Any) -> int:
    """index(list, v): the position of the first element equal to v."""
    for position, item in enumerate(_list_only(collection)):
        if _same(item, value):
            return position
    raise EvalError("item not found")


def _contains(collection: Any, value: Any) -> bool:
    """contains(list, v): whether any element equals v."""
    undecided: Deferred | None = None
    for item in _elements(collection):
        try:
            if _same(item, value):
                return True
        except Deferred as err:
            undecided = undecided or err
    if undecided:
        raise undecided
    return False


def _lookup(mapping: Any, key: Any, default: Any = _MISSING) -> Any:
    """lookup(map, key, default): map[key], else the default."""
    values = _mapping(mapping)
    name = to_string(key)
    if name in values:
        return values[name]
    if default is _MISSING:
        raise EvalError(f'the given map has no key "{name}" and no default was given')
    return default


def _keys(mapping: Any) -> list[str]:
    """keys(map): the keys in lexical order."""
    return sorted(_mapping(mapping))


def _values(mapping: Any) -> list[Any]:
    """values(map): the values in the lexical order of their keys."""
    return [value for _, value in sorted_items(_mapping(mapping))]


def _merge(*mappings: Any) -> dict[str, Any]:
    """merge(maps...): later maps win; null arguments are skipped."""
    merged: dict[str, Any] = {}
    for mapping in mappings:
        if mapping is not None:
            merged.update(_mapping(mapping))
    return dict(sorted_items(merged))


def _concat(*seqs: Any) -> list[Any]:
    """concat(lists...): the lists one after another; an unknown list stands for unknown
    members among the known elements of the others."""
    if not seqs:
        raise EvalError("at least one argument is required")
    result: list[Any] = []
    for seq in seqs:
        if isinstance(seq, Unknown):
            result.append(UnknownMembers.of(seq))
        else:
            result.extend(_list_only(seq))
    return result


def _flatten(value: Any) -> list[Any]:
    """flatten(list): nested lists (and sets) replaced by their elements, recursively; an
    unknown element (it could be a list) becomes unknown members."""
    result: list[Any] = []
    for item in _elements(value):
        if isinstance(item, Unknown):
            result.append(UnknownMembers.of(item))
        elif isinstance(item, (list, tuple)):
            result.extend(_flatten(item))
        else:
            result.append(item)
    return result


def _distinct(value: Any) -> list[Any]:
    """distinct(list): first occurrences, in order (unknown elements as unknown members)."""
    return _dedupe(_unify(_elements(value)))


def _range(*params: Any) -> list[int | float]:
    """range(stop) / range(start, stop) / range(start, stop, step)."""
    if not 1 <= len(params) <= 3:
        raise EvalError("must have one, two, or three arguments")
    numbers = [_decimal(_number(p)) for p in params]
    start, stop = (Decimal(0), numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
    step = numbers[2] if len(numbers) == 3 else Decimal(1 if start <= stop else -1)
    if step < 0 and start < stop:
        raise EvalError("end must be less than start when step is negative")
    if step > 0 and start > stop:
        raise EvalError("end must be greater than start when step is positive")
    if step == 0 and start != stop:
        raise EvalError(f"more than {RANGE_LIMIT} values were generated")
    result: list[int | float] = []
    current = start
    while (step > 0 and current < stop) or (step <= 0 and current > stop):
        if len(result) == RANGE_LIMIT:
            raise EvalError(f"more than {RANGE_LIMIT} values were generated")
        result.append(_from_decimal(current))
        current += step
    check_size(len(result), "range", charge=False)
    return result


def _coalesce(*values: Any) -> Any:
    """coalesce(vals...): the first argument that is neither null nor an empty string."""
    for value in _unify(list(values)):
        if isinstance(value, Ref):
            return value  # a resource attribute is never null or empty
        require_shallow(value)
        if value is not None and value != "":
            return value
    raise EvalError("no non-null, non-empty-string arguments")


def _coalescelist(*seqs: Any) -> list[Any]:
    """coalescelist(lists...): the first non-empty list."""
    for seq in seqs:
        if seq is None:
            raise EvalError("coalescelist arguments must be lists or tuples")
        items = _list_only(seq)
        if items:
            return items
    raise EvalError("no non-null arguments")


def _compact(value: Any) -> list[Any]:
    """compact(list): the list without null and empty-string elements."""
    result: list[Any] = []
    for item in _elements(value):
        if isinstance(item, Ref):
            result.append(item)
        elif isinstance(item, Unknown):
            result.append(UnknownMembers.of(item))  # it may be null or "", or a string
        elif item is not None and to_string(item) != "":
            result.append(to_string(item))
    return result


def _slice(collection: Any, start: Any, end: Any) -> list[Any]:
    """slice(list, start, end): elements from start up to (not including) end."""
    items = _list_only(collection)
    first, last = to_int(start), to_int(end)
    if first < 0:
        raise EvalError("start index must not be less than zero")
    if last > len(items):
        raise EvalError("end index must not be greater than the length of the list")
    if first > last:
        raise EvalError("start index must not be greater than end index")
    return items[first:last]


def _reverse(value: Any) -> list[Any]:
    """reverse(list): the elements in reverse order."""
    return _elements(value)[::-1]


def _sort(value: Any) -> list[str]:
    """sort(list): the elements as strings, in lexical order."""
    items = _elements(value)
    for position, item in enumerate(items):
        if item is None:
            raise EvalError(
                f"given list element {position} is null; a null string cannot be sorted"
            )
    return sorted(to_string(item) for item in items)


def _zipmap(keys: Any, values: Any) -> dict[str, Any]:
    """zipmap(keys, values): a map from each key to the value at the same position."""
    names = [to_string(k) for k in _elements(keys)]
    items = _list_only(values)
    if len(names) != len(items):
        raise EvalError(
            f"number of keys ({len(names)}) does not match number of values ({len(items)})"
        )
    return dict(sorted(dict(zip(names, items, strict=True)).items()))


def _set_args(sets: tuple[Any, ...]) -> list[list[Any]]:
    """The elements of each set argument, converted to one element type across all of them."""
    groups = [_elements(s) for s in sets]
    unified = _unify([item for group in groups for item in group])
    result, start = [], 0
    for group in groups:
        result.append(unified[start : start + len(group)])
        start += len(group)
    return result


def _setunion(first: Any, *rest: Any) -> TfSet:
    """setunion(sets...): elements in any of the sets."""
    return TfSet.of(_dedupe([item for group in _set_args((first, *rest)) for item in group]))


def _setintersection(first: Any, *rest: Any) -> TfSet:
    """setintersection(sets...): elements in all of the sets."""
    head, *others = _set_args((first, *rest))
    lookups = _lookups(others)
    common = [item for item in head if all(_member(item, lookup) for lookup in lookups)]
    return TfSet.of(_dedupe(common))


def _setsubtract(minuend: Any, subtrahend: Any) -> TfSet:
    """setsubtract(a, b): elements of a that are not in b."""
    left, right = _set_args((minuend, subtrahend))
    [lookup] = _lookups([right])
    return TfSet.of(_dedupe([item for item in left if not _member(item, lookup)]))


def _lookups(groups: list[list[Any]]) -> list[tuple[set[Any], list[Any]]]:
    """Each group as (keys of its known elements, its other elements), for `_member`."""
    result = []
    for group in groups:
        known = [item for item in group if is_known(item)]
        result.append(({equality_key(item) for item in known}, [i for i in group if not is_known(i)]))
    return result


def _member(item: Any, lookup: tuple[set[Any], list[Any]]) -> bool:
    """Whether `item` is in a group: by hash among known values (linear time overall)."""
    keys, others = lookup
    if is_known(item):
        if equality_key(item) in keys:
            return True
        if not others:
            return False
    elif keys:
        _defer(item)  # only apply could tell whether it equals one of them
    return any(_same(item, other) for other in others)


def _setproduct(*sets: Any) -> list[Any] | TfSet:
    """setproduct(sets...): every combination of one element from each set."""
    if len(sets) < 2:
        raise EvalError("at least two arguments are required")
    groups = [_elements(s) for s in sets]
    check_size(math.prod(len(g) for g in groups), "setproduct result", charge=False)
    product: list[list[Any]] = [[]]
    for group in groups:
        product = [[*combo, item] for combo in product for item in group]
    if any(isinstance(s, TfSet) for s in sets):
        return TfSet.of(product)
    return product


def _one(value: Any) -> Any:
    """one(list): null for an empty collection, its element for a one-element one."""
    items = _elements(value)
    if len(items) > 1:
        raise EvalError("must be a list, set, or tuple value with either zero or one elements")
    return items[0] if items else None


def _sum(value: Any) -> int | float:
    """sum(list): the total of the numbers."""
    items = _elements(value)
    if not items:
        raise EvalError("cannot sum an empty list")
    return _from_decimal(sum((_decimal(_number(item)) for item in items), Decimal(0)))


def _bools(value: Any) -> Iterator[bool | None]:
    for position, item in enumerate(_elements(value)):
        if isinstance(item, (Unknown, Ref, ObjectLike)):
            yield None
        elif item is None:
            yield False
        else:
            try:
                yield to_bool(item)
            except EvalError:
                raise EvalError(f"element {position}: bool required") from None


def _alltrue(value: Any) -> bool:
    """alltrue(list): true unless an element is false (null counts as false)."""
    flags = list(_bools(value))
    if False in flags:
        return False
    if None in flags:
        _defer(value)
    return True


def _anytrue(value: Any) -> bool:
    """anytrue(list): true when an element is true."""
    flags = list(_bools(value))
    if True in flags:
        return True
    if None in flags:
        _defer(value)
    return False


def _chunklist(value: Any, size: Any) -> list[list[Any]]:
    """chunklist(list, size): consecutive chunks of at most size elements (0: one chunk)."""
    items = _unify(_elements(value))
    width = to_int(size)
    if width < 0:
        raise EvalError("the size argument must be positive")
    if width == 0:
        return [items] if items else []
    return [items[i : i + width] for i in range(0, len(items), width)]


def _transpose(value: Any) -> dict[str, list[str]]:
    """transpose(map of lists): swap keys and values."""
    result: dict[str, list[str]] = {}
    for key, items in sorted_items(_mapping(require_known(value))):
        for item in _elements(items):
            result.setdefault(to_string(item), []).append(key)
    return dict(sorted(result.items()))


def _matchkeys(values: Any, keys: Any, searchset: Any) -> list[Any]:
    """matchkeys(values, keys, searchset): values whose key at that position is in searchset."""
    items = _list_only(values)
    key_items = _list_only(require_known(keys))
    wanted = _elements(require_known(searchset))
    if len(items) != len(key_items):
        raise EvalError("length of keys and values should be equal")
    unified = _unify(key_items + wanted)
    key_items, wanted = unified[: len(key_items)], unified[len(key_items) :]
    pairs = zip(items, key_items, strict=True)
    return [v for v, k in pairs if any(tf_equal(k, w) for w in wanted)]


# --- strings ----------------------------------------------------------------------------


def _string(value: Any) -> str:
    return to_string(_not_null(value))


def _join(separator: Any, *lists: Any) -> str:
    """join(sep, lists...): the elements of the lists joined with sep."""
    sep = _string(separator)
    if not lists:
        raise EvalError("at least one list is required")
    parts: list[str] = []
    for seq in lists:
        for position, item in enumerate(_elements(seq)):
            if item is None:
                raise EvalError(f"element {position} is null; cannot concatenate null values")
            parts.append(to_string(item))
    check_string(sum(map(len, parts)) + len(sep) * max(len(parts) - 1, 0), "join result")
    return sep.join(parts)


def _split(separator: Any, text: Any) -> list[str]:
    """split(sep, str): the pieces of str between occurrences of sep."""
    sep, value = _string(separator), _string(text)
    return list(value) if sep == "" else value.split(sep)


# Go maps case rune by rune: no "ß" -> "SS", and "İ" lowers to plain "i".
def _lower(text: Any) -> str:
    """lower(str)."""
    return "".join(c.lower()[0] for c in _string(text))


def _upper(text: Any) -> str:
    """upper(str)."""
    return "".join(u if len(u := c.upper()) == 1 else c for c in _string(text))


def _is_word_separator(char: str) -> bool:
    """Go's strings.Title rule for what starts a new word."""
    if char.isascii():
        return not (char.isalnum() or char == "_")
    if unicodedata.category(char)[0] == "L" or unicodedata.category(char) == "Nd":
        return False
    return char.isspace()


def _title(text: Any) -> str:
    """title(str): the first letter of each word in upper case."""
    result, previous = [], " "
    for char in _string(text):
        titled = char.title()
        result.append(titled if _is_word_separator(previous) and len(titled) == 1 else char)
        previous = char
    return "".join(result)


def _trimspace(text: Any) -> str:
    """trimspace(str): without leading and trailing whitespace."""
    return _string(text).strip()


def _trim(text: Any, cutset: Any) -> str:
    """trim(str, cutset): without leading and trailing characters from cutset."""
    return _string(text).strip(_string(cutset))


def _trimprefix(text: Any, prefix: Any) -> str:
    """trimprefix(str, prefix)."""
    return _string(text).removeprefix(_string(prefix))


def _trimsuffix(text: Any, suffix: Any) -> str:
    """trimsuffix(str, suffix)."""
    return _string(text).removesuffix(_string(suffix))


def _chomp(text: Any) -> str:
    """chomp(str): without trailing newlines."""
    return _string(text).rstrip("\r\n")


def _indent(spaces: Any, text: Any) -> str:
    """indent(n, str): n spaces after every newline."""
    count = to_int(spaces)
    if count < 0:
        raise EvalError("the number of spaces must not be negative")
    value = _string(text)
    check_string(len(value) + value.count("\n") * count, "indent result")
    return value.replace("\n", "\n" + " " * count)


def _strrev(text: Any) -> str:
    """strrev(str): the characters in reverse order."""
    return "".join(reversed(_graphemes(_string(text))))


def _substr(text: Any, offset: Any, length: Any) -> str:
    """substr(str, offset, length): offset < 0 counts from the end, length -1 means the rest."""
    clusters = _graphemes(_string(text))
    start, size = to_int(offset), to_int(length)
    if start < 0:
        start = max(start + len(clusters), 0)
    elif size == 0:
        return ""
    rest = clusters[start:]
    # Terraform returns the rest for any length <= 0 once the offset was negative.
    return "".join(rest if size <= 0 else rest[:size])


def _startswith(text: Any, prefix: Any) -> bool:
    """startswith(str, prefix)."""
    return _string(text).startswith(_string(prefix))


def _endswith(text: Any, suffix: Any) -> bool:
    """endswith(str, suffix)."""
    return _string(text).endswith(_string(suffix))


def _strcontains(text: Any, part: Any) -> bool:
    """strcontains(str, substr)."""
    return _string(part) in _string(text)


def _replace(text: Any, search: Any, replacement: Any) -> str:
    """replace(str, search, replacement): search written "/.../" is a regular expression."""
    value, pattern, new = _string(text), _string(search), _string(replacement)
    if len(pattern) > 1 and pattern.startswith("/") and pattern.endswith("/"):
        regex = _compile_regex(pattern[1:-1])
        parts, position, length = [], 0, len(value)
        for match in _go_matches(regex, value):
            parts += [value[position : match.start()], _expand_template(new, match)]
            length += len(parts[-1]) - (match.end() - match.start())
            if length > MAX_STRING:
                check_string(length, "replace result")
            position = match.end()
        return "".join(parts) + value[position:]
    occurrences = value.count(pattern) if pattern else len(value) + 1
    check_string(len(value) + occurrences * (len(new) - len(pattern)), "replace result")
    return value.replace(pattern, new)


# --- regular expressions (RE2, in linear time like Terraform's Go regexp) ------------------

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # a bad pattern is an EvalError, not a line on stderr
_RE2_OPTIONS.max_mem = 8 << 20  # RE2's own bound on the compiled program (its default)
MAX_PATTERN = 4096  # characters in one pattern; longer ones are refused before compiling


@functools.lru_cache(maxsize=256)
def _compile_regex(pattern: str) -> Any:
    """A compiled RE2 pattern. Terraform's regexp is Go's, which is RE2: matching takes time
    linear in the text whatever the pattern, so a hostile pattern cannot hang a run (Python's
    backtracking `re` never sees a user's pattern)."""
    if len(pattern) > MAX_PATTERN:
        raise EvalError(f"regexp pattern of {len(pattern)} characters is longer than {MAX_PATTERN}")
    try:
        regex = re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as err:
        detail = err.args[0].decode("utf-8", "replace") if err.args and isinstance(err.args[0], bytes) else str(err)
        raise EvalError(f"invalid regexp pattern {pattern!r}: {detail}") from None
    if regex.groupindex and len(regex.groupindex) != regex.groups:
        raise EvalError("invalid regexp pattern: cannot mix both named and unnamed capture groups")
    return regex


def _go_matches(regex: Any, text: str) -> Iterator[Any]:
    """Matches like Go's FindAll, which skips an empty match right after the previous one."""
    last_end = -1
    for match in regex.finditer(text):
        if match.start() == match.end() == last_end:
            continue
        last_end = match.end()
        yield match


_TEMPLATE_REF = re.compile(r"\$(?:\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))")


def _expand_template(template: str, match: Any) -> str:
    """Go's Regexp.Expand: $1, ${1}, $name, ${name}; $$ is a dollar; unknown groups are empty."""

    def group(ref: re.Match[str]) -> str:
        if ref.group(0) == "$$":
            return "$"
        name = ref.group(1) or ref.group(2)
        if name.isdigit():
            number = int(name)
            return (match.group(number) or "") if number <= match.re.groups else ""
        return match.groupdict().get(name) or ""

    return _TEMPLATE_REF.sub(group, template)


def _match_value(match: Any) -> Any:
    if match.re.groups == 0:
        return match.group(0)
    if match.re.groupindex:
        return {name: match.group(name) for name in sorted(match.re.groupindex)}
    return list(match.groups())


def _regex(pattern: Any, text: Any) -> Any:
    """regex(pattern, str): the first match (a string, or its capture groups as a list or map)."""
    match = _compile_regex(_string(pattern)).search(_string(text))
    if match is None:
        raise EvalError("pattern did not match any part of the given string")
    return _match_value(match)


def _regexall(pattern: Any, text: Any) -> list[Any]:
    """regexall(pattern, str): every match, as regex() would return it."""
    return [_match_value(m) for m in _go_matches(_compile_regex(_string(pattern)), _string(text))]


# --- format -----------------------------------------------------------------------------

_VERB = re.compile(
    r"%(?P<flags>[-+# 0]*)(?:\[(?P<index>[1-9][0-9]*)\])?(?P<width>[0-9]+)?"
    r"(?P<dot>\.(?P<prec>[0-9]*))?(?P<verb>.?)",
    re.DOTALL,
)


@dataclass(frozen=True)
class _Spec:
    raw: str
    verb: str
    flags: str
    width: int
    precision: int | None


def _format(template: Any, *args: Any) -> str:
    """format(spec, values...): printf-style formatting with Terraform's verbs."""
    return _format_known(_string(template), [require_known(a) for a in args])


def _format_known(template: str, args: list[Any]) -> str:
    out: list[str] = []
    position, next_arg, used = 0, 1, 0
    while (start := template.find("%", position)) >= 0:
        out.append(template[position:start])
        if template.startswith("%%", start):
            out.append("%")
            position = start + 2
            continue
        match = _VERB.match(template, start)
        assert match is not None  # the pattern accepts any "%"
        spec = _spec(match, start)
        number = int(match["index"]) if match["index"] else next_arg
        if number > len(args):
            raise EvalError(
                f'not enough arguments for "{spec.raw}" at {start}: '
                f"need index {number} but have {len(args)} total"
            )
        out.append(_format_value(spec, args[number - 1]))
        check_string(len(out[-1]), "format result")
        next_arg, used = number + 1, max(used, number)
        position = match.end()
    out.append(template[position:])
    if len(args) > used:
        raise EvalError(f"too many arguments; only {used} used by format string")
    return "".join(out)


def _spec(match: re.Match[str], offset: int) -> _Spec:
    verb = match["verb"]
    if not verb:
        raise EvalError(f"invalid format string starting at offset {offset}")
    if verb not in "vtbdoxXeEfgGsq":
        raise EvalError(
            f"unsupported format verb {verb!r} in {match.group(0)!r} at offset {offset}"
        )
    precision = int(match["prec"] or 0) if match["dot"] else None  # "%.f" means precision 0
    for amount in (int(match["width"] or 0), precision or 0):
        if amount > MAX_FORMAT_WIDTH:  # "%999999999d" would build a gigabyte string
            raise EvalError(f"width or precision {amount} in {match.group(0)!r} is larger than {MAX_FORMAT_WIDTH}")
    return _Spec(match.group(0), verb, match["flags"], int(match["width"] or 0), precision)


def _format_value(spec: _Spec, value: Any) -> str:
    if value is None and spec.verb != "v":
        raise EvalError(f'unsupported value for "{spec.raw}": null value cannot be formatted')
    if spec.verb == "v":
        if "#" not in spec.flags and isinstance(value, str):
            return _pad(value, spec)
        if "#" not in spec.flags and _kind(value) == "number":
            return _pad(_shortest_g(value), spec)
        return _pad(_json(value), spec)
    if spec.verb == "t":
        return "true" if to_bool(value) else "false"
    if spec.verb in "sq":
        text = to_string(value)
        if spec.precision:
            text = "".join(_graphemes(text)[: spec.precision])
        return _pad(text if spec.verb == "s" else _json_string(text), spec)
    return _format_number(spec, to_number(value))


def _pad(text: str, spec: _Spec) -> str:
    gap = spec.width - len(_graphemes(text))
    if gap <= 0:
        return text
    fill = ("0" if "0" in spec.flags else " ") * gap
    return text + fill if "-" in spec.flags else fill + text


def _format_number(spec: _Spec, number: int | float) -> str:
    verb, precision = spec.verb, spec.precision
    zero_ok = "0" in spec.flags
    if verb in "bdoxX":
        if isinstance(number, float):
            if not number.is_integer():
                raise EvalError(f'unsupported value for "{spec.raw}": an integer is required')
            number = int(number)
        digits = format(abs(number), verb)
        if precision is not None:
            digits, zero_ok = digits.zfill(precision), False
        if "#" in spec.flags:
            digits = {"x": "0x", "X": "0X", "o": "0", "b": "0b"}.get(verb, "") + digits
    elif verb == "f":
        digits = format(abs(_decimal(number)), f".{6 if precision is None else precision}f")
    elif verb in "gG" and precision is None:
        digits = _shortest_g(abs(number))
        digits = digits.upper() if verb == "G" else digits
    else:
        digits = f"%.{6 if precision is None else precision}{verb}" % abs(float(number))
    sign = "-" if number < 0 else "+" if "+" in spec.flags else " " if " " in spec.flags else ""
    gap = spec.width - len(sign) - len(digits)
    if gap <= 0:
        return sign + digits
    if "-" in spec.flags:
        return sign + digits + " " * gap
    if zero_ok:
        return sign + "0" * gap + digits
    return " " * gap + sign + digits


def _digits(number: int | float) -> tuple[str, int]:
    """The significant digits of a positive number and where its decimal point goes."""
    if isinstance(number, int):
        return str(number).rstrip("0"), len(str(number))
    exact = Decimal(repr(number)).as_tuple()
    digits = "".join(map(str, exact.digits))
    return digits.rstrip("0"), len(digits) + int(exact.exponent)


def _shortest_g(number: int | float) -> str:
    """Go's %g with the shortest digits: exponent form from 1e+06 on and below 1e-04."""
    if number == 0:
        return "0"
    sign = "-" if number < 0 else ""
    digits, point = _digits(abs(number))
    exponent = point - 1
    if exponent < -4 or exponent >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{sign}{mantissa}e{'-' if exponent < 0 else '+'}{abs(exponent):02d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _formatlist(template: Any, *args: Any) -> list[str]:
    """formatlist(spec, values...): format() once per element of the list arguments."""
    spec = _string(template)
    values = [require_known(a) for a in args]
    lengths = {len(v) for v in values if isinstance(v, (list, tuple))}
    if len(lengths) > 1:
        raise EvalError(f"list arguments have different lengths: {sorted(lengths)}")
    count = lengths.pop() if lengths else 1
    return [
        _format_known(spec, [v[i] if isinstance(v, (list, tuple)) else v for v in values])
        for i in range(count)
    ]


# --- numbers ----------------------------------------------------------------------------


def _min(*numbers: Any) -> int | float:
    """min(numbers...)."""
    if not numbers:
        raise EvalError("must pass at least one number")
    return min(_number(n) for n in numbers)


def _max(*numbers: Any) -> int | float:
    """max(numbers...)."""
    if not numbers:
        raise EvalError("must pass at least one number")
    return max(_number(n) for n in numbers)


def _abs(number: Any) -> int | float:
    """abs(n)."""
    return abs(_number(number))


def _ceil(number: Any) -> int:
    """ceil(n): the smallest whole number not below n."""
    return math.ceil(_number(number))


def _floor(number: Any) -> int:
    """floor(n): the largest whole number not above n."""
    return math.floor(_number(number))


def _signum(number: Any) -> int:
    """signum(n): -1, 0 or 1."""
    value = to_int(_not_null(number))
    return (value > 0) - (value < 0)


def _pow(base: Any, exponent: Any) -> int | float:
    """pow(x, y): x to the power y, computed in floating point like Terraform."""
    try:
        return normalize_number(math.pow(_number(base), _number(exponent)))
    except ValueError:
        raise EvalError("the result is not a real number") from None


def _log(number: Any, base: Any) -> int | float:
    """log(x, base)."""
    value, root = _number(number), _number(base)
    if value <= 0 or root <= 0 or root == 1:
        raise EvalError(f"the logarithm of {value} in base {root} is not a finite number")
    return normalize_number(math.log(value) / math.log(root))


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _parseint(text: Any, base: Any) -> int:
    """parseint(str, base): base 2 to 62; letters are case-insensitive up to base 36."""
    if not isinstance(text, str):
        require_shallow(text)
        raise EvalError(f"first argument must be a string, not {type_name(text)}")
    radix = to_int(_not_null(base))
    if not 2 <= radix <= 62:
        raise EvalError("base must be a whole number between 2 and 62 inclusive")
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text.removeprefix("+"))
    values = [_DIGITS.find(c) for c in (digits if radix > 36 else digits.lower())]
    if not values or any(not 0 <= v < radix for v in values):
        raise EvalError(f'cannot parse "{text}" as a base {radix} integer')
    return sign * functools.reduce(lambda total, digit: total * radix + digit, values, 0)


# --- network ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Network:
    address: int  # with the host bits cleared
    prefix: int
    bits: int  # 32 for IPv4, 128 for IPv6

    def mask(self, prefix: int) -> int:
        return ((1 << self.bits) - 1) ^ ((1 << (self.bits - prefix)) - 1)

    def text(self, address: int, prefix: int | None = None) -> str:
        ip = ipaddress.IPv4Address(address) if self.bits == 32 else ipaddress.IPv6Address(address)
        return str(ip) if prefix is None else f"{ip}/{prefix}"


def _parse_cidr(value: Any) -> _Network:
    text = _string(value)
    address, slash, length = text.partition("/")
    parsed = _parse_ip(address)
    if (
        not slash
        or not re.fullmatch("[0-9]+", length)
        or parsed is None
        or int(length) > parsed[0]
    ):
        raise EvalError(f"invalid CIDR expression: invalid CIDR address: {text}")
    bits, number = parsed
    network = _Network(0, int(length), bits)
    return _Network(number & network.mask(network.prefix), network.prefix, bits)


def _parse_ip(text: str) -> tuple[int, int] | None:
    """(bits, number) of an IP address; IPv4 octets may have leading zeros, as in Terraform."""
    if re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){3}", text):
        octets = [int(part) for part in text.split(".")]
        return (32, int.from_bytes(bytes(octets), "big")) if max(octets) <= 255 else None
    if ":" in text and "%" not in text:
        try:
            return 128, int(ipaddress.IPv6Address(text))
        except ValueError:
            return None
    return None


def _cidrsubnet(prefix: Any, newbits: Any, netnum: Any) -> str:
    """cidrsubnet(prefix, newbits, netnum): subnet netnum of the prefix extended by newbits."""
    network = _parse_cidr(prefix)
    extra, number = to_int(newbits), to_int(netnum)
    if extra < 0:
        raise EvalError("newbits must not be negative")
    length = network.prefix + extra
    if length > network.bits:
        raise EvalError(
            f"insufficient address space to extend prefix of {network.prefix} by {extra}"
        )
    if (abs(number) & (2**64 - 1)) > (1 << extra) - 1:
        raise EvalError(
            f"prefix extension of {extra} does not accommodate a subnet numbered {number}"
        )
    # go-cidr ORs the number in two's complement and keeps the magnitude: a negative netnum
    # gives an odd address ("0.0.1.0/24" for 10.0.0.0/16, 8, -1), exactly as Terraform does.
    address = abs(network.address | (number << (network.bits - length)))
    return network.text(address, length)


def _cidrhost(prefix: Any, hostnum: Any) -> str:
    """cidrhost(prefix, hostnum): host number hostnum of the prefix (negative: from the end)."""
    network = _parse_cidr(prefix)
    number = to_int(hostnum)
    size = 1 << (network.bits - network.prefix)
    index = number + size if number < 0 else number
    if not 0 <= index < size:
        raise EvalError(
            f"prefix of {network.prefix} does not accommodate a host numbered {number}"
        )
    return network.text(network.address + index)


def _cidrnetmask(prefix: Any) -> str:
    """cidrnetmask(prefix): the dotted netmask of an IPv4 prefix."""
    network = _parse_cidr(prefix)
    if network.bits != 32:
        raise EvalError(f"IPv6 addresses cannot have a netmask: {prefix}")
    return network.text(network.mask(network.prefix))


def _cidrsubnets(prefix: Any, *newbits: Any) -> list[str]:
    """cidrsubnets(prefix, newbits...): consecutive aligned subnets of the given sizes."""
    network = _parse_cidr(prefix)
    lengths = [network.prefix + to_int(n) for n in newbits]
    for length in lengths:
        if length <= network.prefix:
            raise EvalError("must extend prefix by at least one bit")
        if length > network.bits:
            family = "IPv4" if network.bits == 32 else "IPv6"
            raise EvalError(
                f"would extend prefix to {length} bits, which is too long for an {family} address"
            )
    if not lengths:
        return []
    top = (1 << network.bits) - 1
    current, current_length = (network.address - 1) & top & network.mask(lengths[0]), lengths[0]
    result = []
    for length in lengths:
        last = current | (top ^ network.mask(current_length))
        following = ((last & network.mask(length)) | (top ^ network.mask(length))) + 1
        if following > top or following & network.mask(network.prefix) != network.address:
            raise EvalError(
                f"not enough remaining address space for a subnet with a prefix of {length} bits "
                f"after {network.text(current, current_length)}"
            )
        current, current_length = following, length
        result.append(network.text(current, length))
    return result


# --- JSON -------------------------------------------------------------------------------


def _number_text(number: int | float) -> str:
    """A number written out in full, never with an exponent (as Terraform encodes it)."""
    number = normalize_number(number)
    return str(number) if isinstance(number, int) else format(_decimal(number).normalize(), "f")


def _json_string(text: str) -> str:
    """A JSON string escaped like Go's encoding/json (<, >, & and U+2028/9 as \\u escapes)."""
    encoded = json.dumps(text, ensure_ascii=False)
    for char in "<>&\u2028\u2029":
        encoded = encoded.replace(char, f"\\u{ord(char):04x}")
    return encoded


def _json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_json(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{" + ",".join(f"{_json_string(k)}:{_json(v)}" for k, v in sorted_items(value)) + "}"
        )
    raise EvalError(f"cannot encode a {type_name(value)} value as JSON")


def _jsonencode(value: Any) -> str:
    """jsonencode(v): compact JSON with keys in lexical order."""
    return _json(require_known(value))


def _json_float(text: str) -> int | float:
    return _from_decimal(Decimal(text))


def _reject_constant(name: str) -> Any:
    raise EvalError(f"invalid JSON literal {name}")


def _jsondecode(text: Any) -> Any:
    """jsondecode(str): the value of a JSON document."""
    try:
        return json.loads(
            _string(text),
            parse_float=_json_float,
            parse_constant=_reject_constant,
            object_pairs_hook=lambda pairs: dict(sorted(dict(pairs).items())),
        )
    except json.JSONDecodeError as err:
        raise EvalError(f"invalid JSON: {err}") from None


# --- YAML -------------------------------------------------------------------------------
# Terraform's yamlencode is libyaml's emitter with every string double-quoted, multi-line
# strings as literal blocks, lines of quoted strings folded after column 80, and lists in
# maps not indented. We write that layout directly: PyYAML's emitter lays it out differently.

_YAML_WIDTH = 80
_YAML_ESCAPES = {
    "\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r",
    "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\u2028": "L", "\u2029": "P",
}  # fmt: skip


def _yaml_printable(char: str) -> bool:
    code = ord(char)
    return (
        char == "\n"
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


def _yaml_escape(char: str) -> str:
    code = ord(char)
    if char in _YAML_ESCAPES:
        return "\\" + _YAML_ESCAPES[char]
    if code <= 0xFF:
        return f"\\x{code:02X}"
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _yaml_quoted(text: str, indent: int, column: int | None) -> str:
    """A double-quoted scalar; with a `column`, long lines fold at spaces like libyaml."""
    out, col, spaces = ['"'], (column or 0) + 1, False
    for i, char in enumerate(text):
        if not _yaml_printable(char) or char in '"\\\n\u2028\u2029':
            out.append(_yaml_escape(char))
            col += len(out[-1])
            spaces = False
            continue
        if (
            char == " "
            and column is not None
            and not spaces
            and col > _YAML_WIDTH
            and 0 < i < len(text) - 1
        ):
            out.append("\n" + " " * indent + ("\\" if text[i + 1] == " " else ""))
            col = len(out[-1]) - 1
        else:
            out.append(char)
            col += 1
        spaces = char == " "
    return "".join(out) + '"'


def _yaml_literal(text: str, indent: int) -> str:
    """A literal block scalar (`|`), with libyaml's indentation and chomping indicators."""
    hints = "2" if text[0] in " \n" else ""
    if not text.endswith("\n"):
        hints += "-"
    elif text == "\n" or text.endswith("\n\n"):
        hints += "+"
    body = "\n".join(" " * indent + line if line else "" for line in text.split("\n"))
    return f"|{hints}\n{body}"


def _yaml_scalar(value: Any, indent: int, column: int) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number_text(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, (list, tuple)):
        return "[]"
    block_ok = (
        all(_yaml_printable(c) for c in value) and " \n" not in value and not value.endswith(" ")
    )
    if "\n" in value and block_ok:
        return _yaml_literal(value, indent)
    return _yaml_quoted(value, indent, column)


def _yaml_node(value: Any, indent: int, column: int) -> str:
    """`value` written from the current position; nested lines start at `indent`."""
    if isinstance(value, dict) and value:
        entries = []
        for key, item in sorted_items(value):
            head = _yaml_quoted(key, 0, None) + ":"
            if isinstance(item, dict) and item:
                entries.append(
                    f"{head}\n{' ' * (indent + 2)}{_yaml_node(item, indent + 2, indent + 2)}"
                )
            elif isinstance(item, (list, tuple)) and item:
                entries.append(f"{head}\n{' ' * indent}{_yaml_node(item, indent, indent)}")
            else:
                entries.append(f"{head} {_yaml_line(item, indent + 2, indent + len(head) + 1)}")
        return (" " * indent).join(entries)
    if isinstance(value, (list, tuple)) and value:
        items = [
            f"- {_yaml_node(item, indent + 2, indent + 2)}"
            if isinstance(item, (list, tuple, dict)) and item
            else f"- {_yaml_line(item, indent + 2, indent + 2)}"
            for item in value
        ]
        return (" " * indent).join(items)
    return _yaml_line(value, indent + 2, column)


def _yaml_line(value: Any, indent: int, column: int) -> str:
    text = _yaml_scalar(value, indent, column)
    return text if text.endswith("\n") else text + "\n"


def _yamlencode(value: Any) -> str:
    """yamlencode(v): a YAML document laid out like Terraform's."""
    known = require_known(value)
    text = _yaml_node(known, 0, 0)
    if known is None or isinstance(known, (bool, int, float)):
        return text + "...\n"  # libyaml ends a document holding a plain scalar explicitly
    return text


class _YamlLoader(yaml.SafeLoader):
    """Builds nodes only; untagged plain scalars get the tag "?" so we resolve them ourselves."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            return "?"
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


_TAG = "tag:yaml.org,2002:"
_YAML_WORDS: dict[str, bool | None] = {
    **dict.fromkeys(
        ["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"], True
    ),
    **dict.fromkeys(
        ["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"], False
    ),
    **dict.fromkeys(["", "~", "null", "Null", "NULL"], None),
}
_YAML_TIMESTAMP = re.compile(
    r"(\d{4})-(\d\d?)-(\d\d?)"  # date, then optionally a time with "T" and a zone, or " " and none
    r"(?:(?:([Tt])|[ ])(\d\d?):(\d\d?):(\d\d?)(?:\.\d+)?(Z|[-+]\d\d:\d\d)?)?"
)


def _yaml_timestamp(text: str) -> str | None:
    """A YAML timestamp in the formats Terraform accepts, as an RFC 3339 string."""
    match = _YAML_TIMESTAMP.fullmatch(text)
    if not match:
        return None
    year, month, day, t, hour, minute, second, zone = match.groups()
    if (t is None) != (zone is None):
        return None
    try:
        moment = datetime.datetime(
            int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    suffix = "Z" if zone in (None, "Z", "+00:00", "-00:00") else zone
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + suffix


def _yaml_plain(text: str) -> Any:
    """An untagged plain scalar resolved like Terraform (YAML 1.2 numbers, 1.1 booleans)."""
    if text in _YAML_WORDS:
        return _YAML_WORDS[text]
    if text.lower().lstrip("+-") in (".inf", ".nan"):
        raise EvalError(f"{text} cannot be represented as a Terraform number")
    if text[0] in "+-0123456789.":
        timestamp = _yaml_timestamp(text)
        if timestamp:
            return timestamp
        if _DECIMAL_NUMBER.fullmatch(text):
            return _from_decimal(Decimal(text))
        if re.fullmatch("0x[0-9a-fA-F]+|0o[0-7]+", text):
            return int(text, 0)
    return text


def _yaml_tagged(tag: str, text: str) -> Any:
    name = tag.removeprefix(_TAG)
    if name in ("int", "float"):
        plain = text.replace("_", "")
        if _DECIMAL_NUMBER.fullmatch(plain):
            return _from_decimal(Decimal(plain))
        try:
            return int(plain, 0)
        except ValueError:
            raise EvalError(f'cannot parse "{text}" as {tag}') from None
    if name == "bool" and isinstance(_YAML_WORDS.get(text), bool):
        return _YAML_WORDS[text]
    if name == "null":
        return None
    if name == "timestamp" and _yaml_timestamp(text):
        return _yaml_timestamp(text)
    if name == "binary":
        try:
            base64.b64decode(text, validate=True)
            return text  # Terraform keeps the base64 text
        except binascii.Error:
            raise EvalError(f'cannot parse "{text}" as {tag}: not valid base64') from None
    if name in ("bool", "timestamp"):
        raise EvalError(f'cannot parse "{text}" as {tag}')
    raise EvalError(f'unsupported tag "{tag}"')


def _yaml_value(node: yaml.Node, path: tuple[int, ...], budget: list[int]) -> Any:
    if id(node) in path:
        raise EvalError("recursive YAML alias")
    path += (id(node),)
    budget[0] += 1
    check_size(budget[0], "yamldecode result")
    if isinstance(node, yaml.ScalarNode):
        if node.tag == "?":
            return _yaml_plain(node.value)
        if node.tag == _TAG + "str" or node.style:
            return node.value  # quoted scalars stay strings, whatever their tag
        return _yaml_tagged(node.tag, node.value)
    if node.tag not in (_TAG + "map", _TAG + "seq"):
        kind = "sequence" if isinstance(node, yaml.SequenceNode) else "mapping"
        raise EvalError(f"can't interpret {kind} as {node.tag}")
    if isinstance(node, yaml.SequenceNode):
        return [_yaml_value(item, path, budget) for item in node.value]
    merged: dict[str, Any] = {}
    explicit: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = _yaml_value(key_node, path, budget)
        value = _yaml_value(value_node, path, budget)
        if key == "<<":
            if not isinstance(value, dict):
                raise EvalError(f"cannot merge {type_name(value)} into mapping")
            merged.update(value)
            continue
        if key is None:
            raise EvalError("mapping key cannot be null")
        if isinstance(key, (list, dict)):
            raise EvalError("only strings are allowed as mapping keys")
        explicit[key if isinstance(key, str) else to_string(key)] = value
    return dict(sorted_items({**merged, **explicit}))


def _yamldecode(text: Any) -> Any:
    """yamldecode(str): the value of a single YAML document."""
    try:
        node = yaml.compose(_string(text), Loader=_YamlLoader)
    except yaml.YAMLError as err:
        raise EvalError(f"invalid YAML: {err}".replace("\n", " ")) from None
    if node is None:
        raise EvalError("missing start of document")
    return _yaml_value(node, (), [0])


# --- other encodings and hashes ---------------------------------------------------------


def _base64encode(text: Any) -> str:
    """base64encode(str): the UTF-8 bytes in base64."""
    return base64.b64encode(_string(text).encode()).decode("ascii")


def _base64decode(text: Any) -> str:
    """base64decode(str): base64 (line breaks ignored) decoded to a UTF-8 string."""
    encoded = _string(text)
    try:
        raw = base64.b64decode(encoded.replace("\r", "").replace("\n", ""), validate=True)
    except binascii.Error:
        raise EvalError(f'failed to decode base64 data "{encoded}"') from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise EvalError("the result of decoding the provided string is not valid UTF-8") from None


def _urlencode(text: Any) -> str:
    """urlencode(str): query-string escaping (spaces become "+")."""
    return urllib.parse.quote_plus(_string(text), safe="")


def _digest(algorithm: str, encoding: str, data: bytes) -> str:
    """The `algorithm` digest of `data`, in hex or base64."""
    hashed = hashlib.new(algorithm, data)
    return hashed.hexdigest() if encoding == "hex" else base64.b64encode(hashed.digest()).decode()


def _hasher(algorithm: str, encoding: str) -> Callable[[Any], str]:
    def digest(text: Any) -> str:
        return _digest(algorithm, encoding, _string(text).encode())

    digest.__doc__ = f"The {algorithm} digest of the UTF-8 string, in {encoding}."
    return digest


def _file_hasher(algorithm: str, encoding: str) -> Callable[[bytes], str]:
    def digest(data: bytes) -> str:
        return _digest(algorithm, encoding, data)

    digest.__doc__ = f"The {algorithm} digest of the file's bytes, in {encoding}."
    return digest


def _filebase64(data: bytes) -> str:
    """filebase64(path): the file's bytes (any bytes, not only UTF-8) in base64."""
    check_string((len(data) + 2) // 3 * 4, "filebase64 result")
    return base64.b64encode(data).decode("ascii")


# Functions of a file's bytes: the caller reads the file (confined to the repository,
# confine.py) and passes its bytes; `file`, `fileexists`, `fileset` and `templatefile`
# need more than the bytes and live with the evaluator (expressions.py, fileset.py).
FILE_FUNCTIONS: dict[str, Callable[[bytes], str]] = {
    "filebase64": _filebase64,
    "filemd5": _file_hasher("md5", "hex"),
    "filesha1": _file_hasher("sha1", "hex"),
    "filesha256": _file_hasher("sha256", "hex"),
    "filesha512": _file_hasher("sha512", "hex"),
    "filebase64sha256": _file_hasher("sha256", "base64"),
    "filebase64sha512": _file_hasher("sha512", "base64"),
}


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    # type conversion
    "tolist": _tolist,
    "toset": _toset,
    "tomap": _tomap,
    "tostring": _tostring,
    "tonumber": _tonumber,
    "tobool": _tobool,
    "sensitive": _identity,
    "nonsensitive": _identity,
    # collections
    "length": _length,
    "element": _element,
    "index": _index,
    "contains": _contains,
    "lookup": _lookup,
    "keys": _keys,
    "values": _values,
    "merge": _merge,
    "concat": _concat,
    "flatten": _flatten,
    "distinct": _distinct,
    "range": _range,
    "coalesce": _coalesce,
    "coalescelist": _coalescelist,
    "compact": _compact,
    "slice": _slice,
    "reverse": _reverse,
    "sort": _sort,
    "zipmap": _zipmap,
    "setunion": _setunion,
    "setintersection": _setintersection,
    "setsubtract": _setsubtract,
    "setproduct": _setproduct,
    "one": _one,
    "sum": _sum,
    "alltrue": _alltrue,
    "anytrue": _anytrue,
    "chunklist": _chunklist,
    "transpose": _transpose,
    "matchkeys": _matchkeys,
    # strings
    "format": _format,
    "formatlist": _formatlist,
    "join": _join,
    "split": _split,
    "lower": _lower,
    "upper": _upper,
    "title": _title,
    "trimspace": _trimspace,
    "trim": _trim,
    "trimprefix": _trimprefix,
    "trimsuffix": _trimsuffix,
    "chomp": _chomp,
    "indent": _indent,
    "strrev": _strrev,
    "substr": _substr,
    "startswith": _startswith,
    "endswith": _endswith,
    "strcontains": _strcontains,
    "replace": _replace,
    "regex": _regex,
    "regexall": _regexall,
    # numbers
    "min": _min,
    "max": _max,
    "abs": _abs,
    "ceil": _ceil,
    "floor": _floor,
    "signum": _signum,
    "pow": _pow,
    "log": _log,
    "parseint": _parseint,
    # network
    "cidrsubnet": _cidrsubnet,
    "cidrhost": _cidrhost,
    "cidrnetmask": _cidrnetmask,
    "cidrsubnets": _cidrsubnets,
    # encoding
    "jsonencode": _jsonencode,
    "jsondecode": _jsondecode,
    "yamlencode": _yamlencode,
    "yamldecode": _yamldecode,
    "base64encode": _base64encode,
    "base64decode": _base64decode,
    "urlencode": _urlencode,
    "md5": _hasher("md5", "hex"),
    "sha1": _hasher("sha1", "hex"),
    "sha256": _hasher("sha256", "hex"),
    "sha512": _hasher("sha512", "hex"),
    "base64sha256": _hasher("sha256", "base64"),
    "base64sha512": _hasher("sha512", "base64"),
}

SUPPORTED: frozenset[str] = frozenset(_FUNCTIONS)
