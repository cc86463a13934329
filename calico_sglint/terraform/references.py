"""The references an HCL expression makes, spelled like the `references` of a Terraform plan,
and whether its value names every resource it references.

A plan records only the references of an expression (`[a.id, b.id]`, `x ? a.id : b.id` and
`[a.id, b.id][i]` all reference `a` and `b`); the `.tf` source says which of them the value
names. The plan reader uses this where the plan alone would have to guess.
"""

from __future__ import annotations

import json

from calico_sglint.terraform.syntax import (
    BinaryOp,
    Call,
    Conditional,
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
    TupleExpr,
    UnaryOp,
)


def expression_references(expr: object, bound: frozenset[str] = frozenset()) -> list[str]:
    """The references an expression makes, spelled like Terraform's `references` in a plan:
    `local.x`, `aws_x.y[0].id`, `module.m.out`; a traversal stops at an index that is not a
    literal (`module.m[each.key].out` -> `module.m`, `each.key`). `bound` are for-expression
    variables, which are not references."""
    found: list[str] = []
    _collect(expr, bound, found)
    return list(dict.fromkeys(found))


def _collect(expr: object, bound: frozenset[str], found: list[str]) -> None:
    chain = _traversal(expr)
    if chain is not None:
        root, steps, rest = chain
        if root not in bound:
            found.append(root + "".join(steps))
        for item in rest:
            _collect(item, bound, found)
        return
    if isinstance(expr, ForExpr):
        _collect(expr.collection, bound, found)
        inner = bound | {expr.value_var} | ({expr.key_var} if expr.key_var else set())
        for part in (expr.key, expr.value, expr.cond):
            _collect(part, frozenset(inner), found)
        return
    if isinstance(expr, TemplateFor):
        _collect(expr.collection, bound, found)
        inner = bound | {expr.value_var} | ({expr.key_var} if expr.key_var else set())
        for part in expr.body:
            _collect(part, frozenset(inner), found)
        return
    for child in _children(expr):
        _collect(child, bound, found)


def _traversal(expr: object) -> tuple[str, list[str], list[object]] | None:
    """(root name, static steps, expressions left to walk) of a reference chain."""
    steps: list[tuple[str, object]] = []
    node = expr
    while isinstance(node, (GetAttr, Index)):
        steps.append(("attr", node.name) if isinstance(node, GetAttr) else ("index", node.key))
        node = node.obj
    if not isinstance(node, Name):
        return None
    static: list[str] = []
    rest: list[object] = []
    for kind, value in reversed(steps):
        if rest:
            if kind == "index":
                rest.append(value)
            continue
        if kind == "attr":
            static.append(f".{value}")
        elif _literal_key(value) is not None:
            static.append(f"[{json.dumps(_literal_key(value))}]")
        else:
            rest.append(value)
    return node.name, static, rest


_LIST_FUNCTIONS = frozenset({"concat", "compact", "distinct", "toset", "tolist", "flatten", "sort"})


def names_every_candidate(expr: object) -> bool:
    """Whether every resource an expression references is part of its value: a reference, a
    list of them, `concat`/`compact`/`toset`/... of such. A condition, an index into a list or
    map, a `for` or any other function may pick some of them only."""
    if isinstance(expr, (Name, GetAttr, Index)):
        chain = _traversal(expr)
        return chain is not None and not chain[2] and _selects_nothing(chain[0], chain[1])
    if isinstance(expr, TupleExpr):
        return all(names_every_candidate(item) for item in expr.items)
    if isinstance(expr, Call) and expr.name in _LIST_FUNCTIONS and not expr.expand_last:
        return all(names_every_candidate(arg) for arg in expr.args)
    if isinstance(expr, Template) and len(expr.parts) == 1 and not isinstance(expr.parts[0], str):
        return names_every_candidate(expr.parts[0])
    return isinstance(expr, Literal)


def _selects_nothing(root: str, steps: list[str]) -> bool:
    """A traversal indexes only where an instance key goes (`aws_x.y[0].id`, `module.m["a"].out`),
    not into a value (`var.ids[0]`, `local.sgs["a"]`)."""
    keyed_at = {"var": -1, "local": -1, "module": 1, "data": 2}.get(root, 1)
    return all(not step.startswith("[") or index == keyed_at for index, step in enumerate(steps))


def _literal_key(expr: object) -> int | str | None:
    if isinstance(expr, Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], str):
        return expr.parts[0]
    if isinstance(expr, Literal) and isinstance(expr.value, (int, str)) and not isinstance(expr.value, bool):
        return expr.value
    return None


def _children(expr: object) -> list[object]:
    if isinstance(expr, Template):
        return list(expr.parts)
    if isinstance(expr, TemplateIf):
        return [expr.cond, *expr.then, *expr.otherwise]
    if isinstance(expr, TupleExpr):
        return list(expr.items)
    if isinstance(expr, ObjectExpr):
        return [part for item in expr.items for part in item]
    if isinstance(expr, Splat):
        return [expr.obj, *(s for s in expr.steps if not isinstance(s, str))]
    if isinstance(expr, Call):
        return list(expr.args)
    if isinstance(expr, Conditional):
        return [expr.cond, expr.then, expr.otherwise]
    if isinstance(expr, BinaryOp):
        return [expr.left, expr.right]
    if isinstance(expr, UnaryOp):
        return [expr.operand]
    return []
