"""Variable type constraints: `list(object({port = number, proto = optional(string, "tcp")}))`.

Terraform converts every variable value to its declared type, filling `optional()` defaults
and turning lists into sets. Modules rely on that (a `set(string)` for `for_each`, a default
protocol), so we do it too.
"""

from __future__ import annotations

from typing import Any

from calico_sglint.terraform.syntax import (
    Call,
    Expr,
    Literal,
    Name,
    ObjectExpr,
    Template,
    TupleExpr,
    render,
)
from calico_sglint.terraform.values import (
    EvalError,
    ObjectLike,
    Ref,
    TfSet,
    Unknown,
    find_unknown,
    to_bool,
    to_number,
    to_string,
    type_name,
)

_PRIMITIVES = {"string", "number", "bool", "any"}
_COLLECTIONS = {"list", "set", "map"}


def is_primitive(type_expr: Expr | None) -> bool:
    """True for string/number/bool/any or no constraint: `-var` values are then taken as strings."""
    if type_expr is None:
        return True
    name = _simple_name(type_expr)
    return name in _PRIMITIVES


def convert(value: Any, type_expr: Expr | None) -> Any:
    """`value` converted to the constraint `type_expr` (None: no constraint)."""
    if type_expr is None or value is None or isinstance(value, Unknown):
        return value
    name = _simple_name(type_expr)
    if name is not None:
        return _convert_simple(value, name, type_expr)
    if not isinstance(type_expr, Call):
        raise EvalError(f"unsupported type constraint {render(type_expr)}")
    kind, args = type_expr.name, type_expr.args
    if kind in _COLLECTIONS and len(args) == 1:
        return _convert_collection(value, kind, args[0])
    if kind == "object" and len(args) == 1 and isinstance(args[0], ObjectExpr):
        return _convert_object(value, args[0])
    if kind == "tuple" and len(args) == 1 and isinstance(args[0], TupleExpr):
        return _convert_tuple(value, args[0])
    if kind == "optional" and args:
        return convert(value, args[0])
    raise EvalError(f"unsupported type constraint {render(type_expr)}")


def _simple_name(type_expr: Expr) -> str | None:
    if isinstance(type_expr, Name):
        return type_expr.name
    if isinstance(type_expr, Template) and len(type_expr.parts) == 1:
        part = type_expr.parts[0]
        return part if isinstance(part, str) else None  # legacy quoted "string"
    if isinstance(type_expr, Literal) and isinstance(type_expr.value, str):
        return type_expr.value
    return None


def _convert_simple(value: Any, name: str, type_expr: Expr) -> Any:
    if name == "any":
        return value
    if name in _COLLECTIONS:  # legacy `list` / `map` meaning list(any) / map(any)
        return _convert_collection(value, name, None)
    if isinstance(value, (Ref, ObjectLike)):
        return value
    if name == "string":
        return to_string(value)
    if name == "number":
        return to_number(value)
    if name == "bool":
        return to_bool(value)
    raise EvalError(f"unknown type {render(type_expr)}")


def _convert_collection(value: Any, kind: str, element: Expr | None) -> Any:
    if kind == "map":
        if not isinstance(value, dict):
            raise EvalError(f"a {type_name(value)} value cannot be converted to a map")
        return {key: convert(item, element) for key, item in value.items()}
    if isinstance(value, dict) or not isinstance(value, (list, tuple)):
        raise EvalError(f"a {type_name(value)} value cannot be converted to a {kind}")
    items = [convert(item, element) for item in value]
    if kind == "set":
        culprit = next((find_unknown(i) for i in items if isinstance(i, (Unknown, ObjectLike))), None)
        return culprit if culprit is not None else TfSet.of(items)
    return items


def _convert_object(value: Any, spec: ObjectExpr) -> Any:
    if not isinstance(value, dict):
        raise EvalError(f"a {type_name(value)} value cannot be converted to an object")
    result: dict[str, Any] = {}
    for key_expr, attr_type in spec.items:
        key = _simple_name(key_expr) if not isinstance(key_expr, Literal) else str(key_expr.value)
        if key is None:
            raise EvalError(f"unsupported object type key {render(key_expr)}")
        optional = isinstance(attr_type, Call) and attr_type.name == "optional"
        if key in value and value[key] is not None:
            result[key] = convert(value[key], attr_type)
        elif optional:
            default = _optional_default(attr_type)  # type: ignore[arg-type]
            result[key] = convert(default, attr_type)
        elif key in value:
            result[key] = None
        else:
            raise EvalError(f'the object is missing the required attribute "{key}"')
    return result


def _optional_default(attr_type: Call) -> Any:
    if len(attr_type.args) < 2:
        return None
    from calico_sglint.terraform.expressions import NO_NAMES, Scope, evaluate

    return evaluate(attr_type.args[1], Scope(NO_NAMES, "<type>"))


def _convert_tuple(value: Any, spec: TupleExpr) -> Any:
    if not isinstance(value, (list, tuple)) or len(value) != len(spec.items):
        raise EvalError(f"the value does not match tuple type {render(spec)}")
    return [convert(item, item_type) for item, item_type in zip(value, spec.items)]
