"""Evaluate one HCL expression the way Terraform would at plan time.

`evaluate(expr, scope)` returns a value from `values.py`. What cannot be known returns an
`Unknown` naming the innermost expression responsible; what Terraform would reject raises
`EvalError`. References (`var.x`, `local.y`, `module.m.out`, `aws_x.y.id`, `data.a.b`) are
resolved by the scope's `Names`, implemented by the module evaluator.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from calico_sglint.source import Location
from calico_sglint.terraform import budget, functions
from calico_sglint.terraform.budget import BudgetExceeded
from calico_sglint.terraform.confine import OUTSIDE, Refused
from calico_sglint.terraform.syntax import (
    BinaryOp,
    Call,
    Conditional,
    Expr,
    ForExpr,
    GetAttr,
    Index,
    Literal,
    Name,
    ObjectExpr,
    Splat,
    Template,
    TemplateFor,
    TemplateIf,
    TemplatePart,
    TupleExpr,
    UnaryOp,
    render,
)
from calico_sglint.terraform.values import (
    Deferred,
    EvalError,
    FileText,
    ObjectLike,
    Ref,
    TfSet,
    Unknown,
    UnknownMembers,
    check_size,
    check_string,
    find_unknown,
    known_equal,
    normalize_number,
    sorted_items,
    tf_equal,
    to_bool,
    to_int,
    to_number,
    to_string,
    type_name,
    unknown_members,
)


class Names:
    """What a scope's references resolve to. The module evaluator overrides these."""

    def variable(self, name: str, at: Location) -> Any:
        raise EvalError(f"variables cannot be used here (var.{name})")

    def local(self, name: str, at: Location) -> Any:
        raise EvalError(f"local values cannot be used here (local.{name})")

    def module(self, name: str, at: Location) -> Any:
        raise EvalError(f"module outputs cannot be used here (module.{name})")

    def resource(self, type_: str, name: str, at: Location) -> Any:
        raise EvalError(f"resources cannot be referenced here ({type_}.{name})")

    def data(self, type_: str, name: str, at: Location) -> Any:
        raise EvalError(f"data sources cannot be referenced here (data.{type_}.{name})")

    def template(self, path: str, at: Location) -> tuple[Template, str] | Refused:
        """The parsed template at `path` and its display name (for `templatefile`)."""
        return Refused("files cannot be read here")

    def read_text(self, path: str) -> str | Refused:
        """The content of a file the configuration reads (for `file`), or why not."""
        return Refused("files cannot be read here")

    def read_bytes(self, path: str) -> bytes | Refused:
        """The bytes of a file the configuration reads (`filebase64`, `filemd5`, ...), or why not."""
        return Refused("files cannot be read here")

    def fileset(self, path: str, pattern: str) -> list[str] | Refused:
        """The files under `path` matching `pattern` (for `fileset`), or why not."""
        return Refused("files cannot be read here")


NO_NAMES = Names()
_REFERENCE_ROOTS = {"var", "local", "module", "data"}


@dataclass(frozen=True)
class Scope:
    """Where an expression is evaluated: whose names, which file, which local bindings."""

    names: Names
    file: str
    bindings: Mapping[str, Any] = field(default_factory=dict)

    def bind(self, **values: Any) -> Scope:
        return Scope(self.names, self.file, {**self.bindings, **values})

    def at(self, line: int) -> Location:
        return Location(self.file, line, line)


def evaluate(expr: TemplatePart, scope: Scope) -> Any:
    """The value of `expr` in `scope`: a value, an `Unknown`, or `EvalError` if invalid."""
    if isinstance(expr, str):
        return expr
    handler = _HANDLERS.get(type(expr))
    if handler is None:  # pragma: no cover - every syntax node has a handler
        raise EvalError(f"cannot evaluate {type(expr).__name__}")
    try:
        return handler(expr, scope)
    except BudgetExceeded as exceeded:
        if exceeded.location is None:  # the innermost expression names where it ran out
            exceeded.location = scope.at(expr.line)
        raise


def unknown(expr: Expr, scope: Scope, reason: str) -> Unknown:
    """An `Unknown` for `expr`, located in the scope's file."""
    return Unknown(render(expr), reason, scope.at(expr.line))


# --- literals and collections ------------------------------------------------------------


def _literal(expr: Literal, scope: Scope) -> Any:
    return expr.value


def _tuple(expr: TupleExpr, scope: Scope) -> Any:
    return [evaluate(item, scope) for item in expr.items]


def _object(expr: ObjectExpr, scope: Scope) -> Any:
    result: dict[str, Any] = {}
    for key_expr, value_expr in expr.items:
        key = evaluate(key_expr, scope)
        if isinstance(key, (Unknown, Ref, ObjectLike)):
            return find_unknown(key)
        result[to_string(key)] = evaluate(value_expr, scope)
    return result


def _template(expr: Template, scope: Scope) -> Any:
    if len(expr.parts) == 1 and not isinstance(expr.parts[0], (str, TemplateIf, TemplateFor)):
        return evaluate(expr.parts[0], scope)  # "${x}" is x itself, not its string form
    pieces: list[str] = []
    for part in expr.parts:
        result = _template_part(part, scope)
        if isinstance(result, Unknown):
            return result
        pieces.append(result)
    return _concatenate(pieces)


def _concatenate(pieces: list[str]) -> str:
    check_string(sum(map(len, pieces)), "template result")
    return "".join(pieces)


def _template_part(part: TemplatePart, scope: Scope) -> str | Unknown:
    if isinstance(part, str):
        return part
    if isinstance(part, TemplateIf):
        cond = evaluate(part.cond, scope)
        if isinstance(cond, (Unknown, Ref, ObjectLike)):
            return find_unknown(cond)  # type: ignore[return-value]
        chosen = part.then if to_bool(cond) else part.otherwise
        return _join_parts(chosen, scope)
    if isinstance(part, TemplateFor):
        collection = evaluate(part.collection, scope)
        if isinstance(collection, (Unknown, Ref, ObjectLike)):
            return find_unknown(collection)  # type: ignore[return-value]
        pieces = []
        for key, value in iterate(collection, "template for"):
            budget.tick()
            inner = scope.bind(**{part.value_var: value})
            if part.key_var:
                inner = inner.bind(**{part.key_var: key})
            result = _join_parts(part.body, inner)
            if isinstance(result, Unknown):
                return result
            pieces.append(result)
        return _concatenate(pieces)
    value = evaluate(part, scope)
    culprit = find_unknown(value) if isinstance(value, (Unknown, Ref, ObjectLike)) else None
    if culprit is not None:
        if isinstance(value, (Ref, ObjectLike)):
            return Unknown(culprit.expr, culprit.reason, scope.at(part.line))
        return culprit
    if value is None:
        raise EvalError(f"{render(part)} is null and cannot be part of a string")
    return to_string(value)


def _join_parts(parts: tuple[TemplatePart, ...], scope: Scope) -> str | Unknown:
    pieces = []
    for part in parts:
        result = _template_part(part, scope)
        if isinstance(result, Unknown):
            return result
        pieces.append(result)
    return _concatenate(pieces)


# --- references --------------------------------------------------------------------------


def _name(expr: Name, scope: Scope) -> Any:
    if expr.name in scope.bindings:
        return scope.bindings[expr.name]
    if expr.name in _REFERENCE_ROOTS:
        raise EvalError(f'"{expr.name}" must be followed by an attribute name')
    raise EvalError(f'unknown name "{expr.name}"')


def _get_attr(expr: GetAttr, scope: Scope) -> Any:
    obj = expr.obj
    if isinstance(obj, Name) and obj.name not in scope.bindings:
        at = scope.at(expr.line)
        if obj.name == "var":
            return scope.names.variable(expr.name, at)
        if obj.name == "local":
            return scope.names.local(expr.name, at)
        if obj.name == "module":
            return scope.names.module(expr.name, at)
        if obj.name != "data":
            return scope.names.resource(obj.name, expr.name, at)
    if (
        isinstance(obj, GetAttr)
        and isinstance(obj.obj, Name)
        and obj.obj.name == "data"
        and "data" not in scope.bindings
    ):
        return scope.names.data(obj.name, expr.name, scope.at(expr.line))
    return get_attribute(evaluate(obj, scope), expr.name, expr, scope)


def get_attribute(value: Any, name: str, expr: Expr, scope: Scope) -> Any:
    """`value.name`, as Terraform resolves attribute access on objects and maps."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, ObjectLike):
        result = value.get_attr(name)
        if isinstance(result, Unknown) and result.location is None:
            return Unknown(result.expr, result.reason, scope.at(expr.line))
        return result
    if isinstance(value, Ref):
        return unknown(expr, scope, "attribute of a value known only after apply")
    if isinstance(value, dict):
        if name not in value:
            raise EvalError(f'{render(expr)}: object has no attribute "{name}"')
        return value[name]
    if value is None:
        raise EvalError(f"{render(expr)}: attempt to get attribute of a null value")
    raise EvalError(f'{render(expr)}: a {type_name(value)} value has no attribute "{name}"')


def _index(expr: Index, scope: Scope) -> Any:
    collection = evaluate(expr.obj, scope)
    key = evaluate(expr.key, scope)
    return index_value(collection, key, expr, scope)


def index_value(collection: Any, key: Any, expr: Expr, scope: Scope) -> Any:
    """`collection[key]` for lists (whole-number keys) and maps (string keys)."""
    if isinstance(collection, Unknown):
        return collection
    if isinstance(collection, ObjectLike):
        if isinstance(key, (Unknown, Ref, ObjectLike)):
            return find_unknown(key)
        return collection.index(key)
    if isinstance(key, (Unknown, Ref, ObjectLike)):
        return find_unknown(key)
    if isinstance(collection, Ref):
        return unknown(expr, scope, "index into a value known only after apply")
    if isinstance(collection, TfSet):
        raise EvalError(f"{render(expr)}: sets cannot be indexed; use tolist() first")
    if isinstance(collection, (list, tuple)):
        uncounted = unknown_members(collection)
        if uncounted is not None:
            return Unknown(uncounted.expr, f"position unknown: {uncounted.reason}", uncounted.location)
        position = to_int(key)
        if not 0 <= position < len(collection):
            raise EvalError(
                f"{render(expr)}: index {position} is out of range for a list of {len(collection)}"
            )
        return collection[position]
    if isinstance(collection, dict):
        name = to_string(key)
        if name not in collection:
            raise EvalError(f'{render(expr)}: the map has no element "{name}"')
        return collection[name]
    if collection is None:
        raise EvalError(f"{render(expr)}: attempt to index a null value")
    raise EvalError(f"{render(expr)}: a {type_name(collection)} value cannot be indexed")


def _splat(expr: Splat, scope: Scope) -> Any:
    source = evaluate(expr.obj, scope)
    if isinstance(source, Unknown):
        return source
    if source is None:
        return []
    if isinstance(source, ObjectLike):
        source = source.splat()
        if isinstance(source, Unknown):
            return source
    elements = list(source) if isinstance(source, (list, tuple)) else [source]
    results = []
    for element in elements:
        value = element
        for step in expr.steps:
            if isinstance(step, str):
                value = get_attribute(value, step, expr, scope)
            else:
                value = index_value(value, evaluate(step, scope), expr, scope)
        results.append(_as_member(element, value))
    return results


def _as_member(element: Any, value: Any) -> Any:
    """What an element of a list becomes: unknown members stay unknown members."""
    if isinstance(element, UnknownMembers):
        return UnknownMembers.of(find_unknown(value) or element)
    return value


# --- operators ---------------------------------------------------------------------------


def _conditional(expr: Conditional, scope: Scope) -> Any:
    cond = evaluate(expr.cond, scope)
    if isinstance(cond, (Unknown, Ref, ObjectLike)):
        then = evaluate(expr.then, scope)
        otherwise = evaluate(expr.otherwise, scope)
        if find_unknown(then) is None and find_unknown(otherwise) is None and tf_equal(
            then, otherwise
        ):
            return then
        return find_unknown(cond)
    return evaluate(expr.then if to_bool(cond) else expr.otherwise, scope)


def _unary(expr: UnaryOp, scope: Scope) -> Any:
    operand = evaluate(expr.operand, scope)
    if isinstance(operand, (Unknown, Ref, ObjectLike)):
        return find_unknown(operand)
    if expr.op == "!":
        return not to_bool(operand)
    return normalize_number(-to_number(operand))


def _binary(expr: BinaryOp, scope: Scope) -> Any:
    left = evaluate(expr.left, scope)
    right = evaluate(expr.right, scope)
    op = expr.op
    if op in ("&&", "||"):
        return _logical(op, left, right)
    if op in ("==", "!="):
        equal = known_equal(left, right)
        if equal is None:
            return find_unknown(left) or find_unknown(right)
        return equal if op == "==" else not equal
    for side in (left, right):
        if isinstance(side, (Unknown, Ref, ObjectLike)):
            return find_unknown(side)
    a, b = to_number(left), to_number(right)
    if op == "+":
        return normalize_number(a + b)
    if op == "-":
        return normalize_number(a - b)
    if op == "*":
        return normalize_number(a * b)
    if op in ("/", "%"):
        if b == 0:
            raise EvalError(f"{render(expr)}: division by zero")
        if op == "/":
            return normalize_number(a / b)
        return normalize_number(_truncated_mod(a, b))
    comparisons: dict[str, Callable[[Any, Any], bool]] = {
        "<": lambda x, y: x < y,
        ">": lambda x, y: x > y,
        "<=": lambda x, y: x <= y,
        ">=": lambda x, y: x >= y,
    }
    return comparisons[op](a, b)


def _truncated_mod(a: int | float, b: int | float) -> int | float:
    """Terraform's `%` keeps the sign of the dividend, like Go."""
    result = abs(a) % abs(b)
    return -result if a < 0 else result


def _logical(op: str, left: Any, right: Any) -> Any:
    known = [side for side in (left, right) if not isinstance(side, (Unknown, Ref, ObjectLike))]
    decisive = op == "||"  # true decides ||, false decides &&
    if any(to_bool(side) is decisive for side in known):
        return decisive
    if len(known) < 2:
        return find_unknown(left) or find_unknown(right)
    return (to_bool(left) and to_bool(right)) if op == "&&" else (to_bool(left) or to_bool(right))


# --- for expressions ---------------------------------------------------------------------


def _iterate(collection: Any, what: str) -> list[tuple[Any, Any]]:
    if isinstance(collection, dict):
        return sorted_items(collection)
    if isinstance(collection, TfSet):
        return [(item, item) for item in collection]
    if isinstance(collection, (list, tuple)):
        return list(enumerate(collection))
    if collection is None:
        raise EvalError(f"{what}: cannot iterate over a null value")
    raise EvalError(f"{what}: cannot iterate over a {type_name(collection)} value")


def _for(expr: ForExpr, scope: Scope) -> Any:
    collection = evaluate(expr.collection, scope)
    if isinstance(collection, (Unknown, Ref, ObjectLike)):
        return find_unknown(collection)
    items: list[Any] = []
    grouped: dict[str, list[Any]] = {}
    mapping: dict[str, Any] = {}
    for key, value in iterate(collection, "for expression"):
        budget.tick()
        inner = scope.bind(**{expr.value_var: value})
        if expr.key_var:
            inner = inner.bind(**{expr.key_var: key})
        if expr.cond is not None:
            keep = evaluate(expr.cond, inner)
            if isinstance(keep, (Unknown, Ref, ObjectLike)):
                return find_unknown(keep)
            if not to_bool(keep):
                continue
        if expr.key is None:
            items.append(_as_member(value, evaluate(expr.value, inner)))
            continue
        key_value = evaluate(expr.key, inner)
        if isinstance(key_value, (Unknown, Ref, ObjectLike)):
            return find_unknown(key_value)
        name = to_string(key_value)
        element = evaluate(expr.value, inner)
        if expr.group:
            grouped.setdefault(name, []).append(element)
        elif name in mapping:
            raise EvalError(
                f'{render(expr)}: duplicate key "{name}" (add "..." to group values by key)'
            )
        else:
            mapping[name] = element
    check_size(len(items) + len(grouped) + len(mapping), "for expression")
    if expr.key is None:
        return items
    return dict(sorted(grouped.items())) if expr.group else dict(sorted(mapping.items()))


# --- function calls ----------------------------------------------------------------------


def _call(expr: Call, scope: Scope) -> Any:
    special = _SPECIAL_FUNCTIONS.get(expr.name)
    if special is not None:
        return special(expr, scope)
    budget.tick()
    if not functions.is_supported(expr.name):
        return unknown(expr, scope, f"function {expr.name}() is not evaluated by sglint")
    args = [evaluate(arg, scope) for arg in expr.args]
    if expr.expand_last:
        if not args:
            raise EvalError(f"{expr.name}: nothing to expand with ...")
        last = args.pop()
        if isinstance(last, (Unknown, Ref, ObjectLike)):
            return find_unknown(last)
        if not isinstance(last, (list, tuple)):
            raise EvalError(f"{expr.name}: the argument expanded with ... must be a list")
        args.extend(last)
    try:
        return functions.call_function(expr.name, args)
    except Deferred as deferred:
        culprit = deferred.unknown
        if culprit.location is None:
            return Unknown(culprit.expr, culprit.reason, scope.at(expr.line))
        return culprit


def _try(expr: Call, scope: Scope) -> Any:
    if not expr.args:
        raise EvalError("try() needs at least one argument")
    errors = []
    for arg in expr.args:
        try:
            return evaluate(arg, scope)
        except EvalError as err:
            errors.append(str(err))
    raise EvalError("try(): no argument could be evaluated: " + "; ".join(errors))


def _can(expr: Call, scope: Scope) -> Any:
    if len(expr.args) != 1:
        raise EvalError("can() takes exactly one argument")
    try:
        value = evaluate(expr.args[0], scope)
    except EvalError:
        return False
    culprit = find_unknown(value) if isinstance(value, Unknown) else None
    return culprit if culprit is not None else True


def _path_argument(expr: Call, scope: Scope) -> str | Unknown:
    if not expr.args:
        raise EvalError(f"{expr.name}() needs a path")
    path = evaluate(expr.args[0], scope)
    if isinstance(path, (Unknown, Ref, ObjectLike)):
        return find_unknown(path)  # type: ignore[return-value]
    return to_string(path)


def _path_and_argument(expr: Call, scope: Scope, usage: str) -> tuple[str, Any] | Unknown:
    """The path and the evaluated second argument of a two-argument file function, or the
    unknown either depends on; `EvalError(usage)` for another number of arguments."""
    if len(expr.args) != 2:
        raise EvalError(usage)
    path = _path_argument(expr, scope)
    if isinstance(path, Unknown):
        return path
    second = evaluate(expr.args[1], scope)
    if isinstance(second, (Unknown, Ref, ObjectLike)):
        return find_unknown(second)  # type: ignore[return-value]
    return path, second


def _templatefile(expr: Call, scope: Scope) -> Any:
    arguments = _path_and_argument(expr, scope, "templatefile() takes a path and a map of variables")
    if isinstance(arguments, Unknown):
        return arguments
    path, variables = arguments
    if not isinstance(variables, dict):
        raise EvalError("templatefile(): the second argument must be a map")
    loaded = scope.names.template(path, scope.at(expr.line))
    if isinstance(loaded, Refused):
        return unknown(expr, scope, f"template file not read: {loaded.reason}")
    template, display = loaded
    template_scope = Scope(NO_NAMES, display, dict(variables))
    rendered = evaluate(template, template_scope)
    if not isinstance(rendered, str):
        return rendered
    source = scope.names.read_text(path)  # cached by the template() call above
    aligned = isinstance(source, str) and source.count("\n") == rendered.count("\n")
    return FileText(rendered, path, aligned)


def _read(expr: Call, scope: Scope, read: Callable[[str], Any]) -> tuple[str, Any] | Unknown:
    """The path `expr` names and what `read` (the scope's `read_text` or `read_bytes`) got
    from it, or an unknown saying why not (outside the repository, missing, ...)."""
    path = _path_argument(expr, scope)
    if isinstance(path, Unknown):
        return path
    content = read(path)
    if isinstance(content, Refused):
        return unknown(expr, scope, f"file not read: {content.reason}")
    return path, content


def _file(expr: Call, scope: Scope) -> Any:
    found = _read(expr, scope, scope.names.read_text)
    return found if isinstance(found, Unknown) else FileText(found[1], found[0], True)


def _fileexists(expr: Call, scope: Scope) -> Any:
    path = _path_argument(expr, scope)
    if isinstance(path, Unknown):
        return path
    text = scope.names.read_text(path)
    if isinstance(text, Refused) and text.reason == OUTSIDE:
        return unknown(expr, scope, f"file not looked at: {text.reason}")
    return not isinstance(text, Refused)


def _file_function(name: str) -> Callable[[Call, Scope], Any]:
    """`filebase64`, `filemd5`, `filesha*`: a function of the file's bytes (functions.py)."""
    compute = functions.FILE_FUNCTIONS[name]

    def call(expr: Call, scope: Scope) -> Any:
        if len(expr.args) != 1:
            raise EvalError(f"{name}() takes exactly one argument, a path")
        found = _read(expr, scope, scope.names.read_bytes)
        return found if isinstance(found, Unknown) else compute(found[1])

    return call


def _fileset(expr: Call, scope: Scope) -> Any:
    arguments = _path_and_argument(expr, scope, "fileset() takes a path and a pattern")
    if isinstance(arguments, Unknown):
        return arguments
    path, pattern = arguments
    found = scope.names.fileset(path, to_string(pattern))
    if isinstance(found, Refused):
        return unknown(expr, scope, f"files not listed: {found.reason}")
    return TfSet.of(found)


def _path_function(name: str) -> Callable[[Call, Scope], Any]:
    operations: dict[str, Callable[[str], str]] = {
        "basename": os.path.basename,
        "dirname": os.path.dirname,
        "abspath": os.path.abspath,
        "pathexpand": os.path.expanduser,
    }

    def call(expr: Call, scope: Scope) -> Any:
        path = _path_argument(expr, scope)
        if isinstance(path, Unknown):
            return path
        if name == "pathexpand" and path.startswith("~"):  # the runner's home is not ours to show
            return unknown(expr, scope, "depends on the home directory of the machine running sglint")
        return operations[name](path)

    return call


_SPECIAL_FUNCTIONS: dict[str, Callable[[Call, Scope], Any]] = {
    "try": _try,
    "can": _can,
    "templatefile": _templatefile,
    "file": _file,
    "fileexists": _fileexists,
    "fileset": _fileset,
    **{name: _file_function(name) for name in functions.FILE_FUNCTIONS},
    **{name: _path_function(name) for name in ("basename", "dirname", "abspath", "pathexpand")},
}

_HANDLERS: dict[type, Callable[[Any, Scope], Any]] = {
    Literal: _literal,
    TupleExpr: _tuple,
    ObjectExpr: _object,
    Template: _template,
    Name: _name,
    GetAttr: _get_attr,
    Index: _index,
    Splat: _splat,
    Conditional: _conditional,
    UnaryOp: _unary,
    BinaryOp: _binary,
    ForExpr: _for,
    Call: _call,
}


def iterate(collection: Any, what: str) -> list[tuple[Any, Any]]:
    """(key, value) pairs in Terraform's order: list index, map key, set element."""
    items = _iterate(collection, what)
    check_size(len(items), what, charge=False)
    return items
