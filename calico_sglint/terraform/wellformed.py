"""Checked constructors for `syntax` nodes: what a cache entry is rebuilt with.

A cache entry comes from disk, and whoever can write the cache directory (a CI cache restored
from another run) decides what is in it. The cache's unpickler builds nothing but `syntax`
nodes and plain values, and it builds each node with the constructor here, which refuses
(raises `Malformed`) a field that does not hold what `parse.py` puts there: an expression
where an expression belongs, a tuple of them where a tuple belongs, strings, ints, known
operators. A pickle builds children before their parent, so checking each node's own fields
checks the whole tree: a wrong-shaped entry is a cache miss, never an internal error later.

Checking as the node is built, rather than walking the tree afterwards, costs about a third
of what building the nodes costs; a walk cost twice as much.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, Callable

from calico_sglint.terraform import syntax as s

EXPRESSIONS = frozenset({
    s.Literal, s.Template, s.TupleExpr, s.ObjectExpr, s.Name, s.GetAttr, s.Index, s.Splat,
    s.Call, s.Conditional, s.BinaryOp, s.UnaryOp, s.ForExpr,
})
_PARTS = EXPRESSIONS | {str, s.TemplateIf, s.TemplateFor}
_STEPS = EXPRESSIONS | {str}
_EXPR_OR_NONE = EXPRESSIONS | {type(None)}
_STR_OR_NONE = frozenset({str, type(None)})
_LITERAL_VALUES = frozenset({type(None), bool, int, float, str})
_BINARY = frozenset({"||", "&&", "==", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", "%"})
_UNARY = frozenset({"-", "!"})
_STRS = frozenset({str})
_BLOCKS = frozenset({s.Block})


def _setters(cls: type) -> _Setters:
    """The slot setters of `cls`'s fields, in order. A frozen dataclass's `__init__` sets
    each field through `object.__setattr__`; the slots' own setters do the same work in
    two thirds of the time, and building nodes is most of what reading the cache costs."""
    return tuple(cls.__dict__[f.name].__set__ for f in fields(cls))  # type: ignore[arg-type]


_new = object.__new__
_Setters = tuple[Callable[[Any, Any], None], ...]


def _node2(cls: type, setters: _Setters, a: Any, b: Any) -> Any:
    node = _new(cls)
    setters[0](node, a)
    setters[1](node, b)
    return node


def _node3(cls: type, setters: _Setters, a: Any, b: Any, c: Any) -> Any:
    node = _new(cls)
    setters[0](node, a)
    setters[1](node, b)
    setters[2](node, c)
    return node


def _node4(cls: type, setters: _Setters, a: Any, b: Any, c: Any, d: Any) -> Any:
    node = _new(cls)
    setters[0](node, a)
    setters[1](node, b)
    setters[2](node, c)
    setters[3](node, d)
    return node


def _node5(cls: type, setters: _Setters, a: Any, b: Any, c: Any, d: Any, e: Any) -> Any:
    node = _node4(cls, setters, a, b, c, d)
    setters[4](node, e)
    return node


def _node8(cls: type, setters: _Setters, *values: Any) -> Any:
    node = _new(cls)
    for setter, value in zip(setters, values):
        setter(node, value)
    return node


_LITERAL = _setters(s.Literal)
_TEMPLATE_IF = _setters(s.TemplateIf)
_TEMPLATE_FOR = _setters(s.TemplateFor)
_TEMPLATE = _setters(s.Template)
_TUPLE_EXPR = _setters(s.TupleExpr)
_OBJECT_EXPR = _setters(s.ObjectExpr)
_NAME = _setters(s.Name)
_GET_ATTR = _setters(s.GetAttr)
_INDEX = _setters(s.Index)
_SPLAT = _setters(s.Splat)
_CALL = _setters(s.Call)
_CONDITIONAL = _setters(s.Conditional)
_BINARY_OP = _setters(s.BinaryOp)
_UNARY_OP = _setters(s.UnaryOp)
_FOR_EXPR = _setters(s.ForExpr)
_ATTRIBUTE = _setters(s.Attribute)
_BLOCK = _setters(s.Block)
_BODY = _setters(s.Body)
_COMMENT = _setters(s.Comment)


class Malformed(Exception):
    """A node field that `parse.py` never produces: the entry is not used."""


# Each constructor checks its node's own fields (children were checked when they were built)
# inline: a helper call per check would cost as much as building the node.


def _literal(value: Any, line: Any) -> s.Literal:
    if type(value) in _LITERAL_VALUES and type(line) is int:
        return _node2(s.Literal, _LITERAL, value, line)
    raise Malformed("Literal")


def _template_if(cond: Any, then: Any, otherwise: Any, line: Any) -> s.TemplateIf:
    parts = type(then) is tuple and type(otherwise) is tuple
    if parts and _PARTS.issuperset(map(type, then)) and _PARTS.issuperset(map(type, otherwise)):
        if type(cond) in EXPRESSIONS and type(line) is int:
            return _node4(s.TemplateIf, _TEMPLATE_IF, cond, then, otherwise, line)
    raise Malformed("TemplateIf")


def _template_for(key_var: Any, value_var: Any, coll: Any, body: Any, line: Any) -> s.TemplateFor:
    names = type(key_var) in _STR_OR_NONE and type(value_var) is str
    parts = type(body) is tuple and _PARTS.issuperset(map(type, body))
    if names and parts and type(coll) in EXPRESSIONS and type(line) is int:
        return _node5(s.TemplateFor, _TEMPLATE_FOR, key_var, value_var, coll, body, line)
    raise Malformed("TemplateFor")


def _template(parts: Any, line: Any) -> s.Template:
    if type(parts) is tuple and _PARTS.issuperset(map(type, parts)) and type(line) is int:
        return _node2(s.Template, _TEMPLATE, parts, line)
    raise Malformed("Template")


def _tuple_expr(items: Any, line: Any) -> s.TupleExpr:
    if type(items) is tuple and EXPRESSIONS.issuperset(map(type, items)) and type(line) is int:
        return _node2(s.TupleExpr, _TUPLE_EXPR, items, line)
    raise Malformed("TupleExpr")


def _object_expr(items: Any, line: Any) -> s.ObjectExpr:
    if type(items) is tuple and type(line) is int:
        for pair in items:
            if type(pair) is not tuple or len(pair) != 2 or not EXPRESSIONS.issuperset(map(type, pair)):
                raise Malformed("ObjectExpr")
        return _node2(s.ObjectExpr, _OBJECT_EXPR, items, line)
    raise Malformed("ObjectExpr")


def _name(name: Any, line: Any) -> s.Name:
    if type(name) is str and type(line) is int:
        return _node2(s.Name, _NAME, name, line)
    raise Malformed("Name")


def _get_attr(obj: Any, name: Any, line: Any) -> s.GetAttr:
    if type(obj) in EXPRESSIONS and type(name) is str and type(line) is int:
        return _node3(s.GetAttr, _GET_ATTR, obj, name, line)
    raise Malformed("GetAttr")


def _index(obj: Any, key: Any, line: Any) -> s.Index:
    if type(obj) in EXPRESSIONS and type(key) in EXPRESSIONS and type(line) is int:
        return _node3(s.Index, _INDEX, obj, key, line)
    raise Malformed("Index")


def _splat(obj: Any, steps: Any, full: Any, line: Any) -> s.Splat:
    path = type(steps) is tuple and _STEPS.issuperset(map(type, steps))
    if path and type(obj) in EXPRESSIONS and type(full) is bool and type(line) is int:
        return _node4(s.Splat, _SPLAT, obj, steps, full, line)
    raise Malformed("Splat")


def _call(name: Any, args: Any, expand_last: Any, line: Any) -> s.Call:
    arguments = type(args) is tuple and EXPRESSIONS.issuperset(map(type, args))
    if arguments and type(name) is str and type(expand_last) is bool and type(line) is int:
        return _node4(s.Call, _CALL, name, args, expand_last, line)
    raise Malformed("Call")


def _conditional(cond: Any, then: Any, otherwise: Any, line: Any) -> s.Conditional:
    if EXPRESSIONS.issuperset((type(cond), type(then), type(otherwise))) and type(line) is int:
        return _node4(s.Conditional, _CONDITIONAL, cond, then, otherwise, line)
    raise Malformed("Conditional")


def _binary_op(op: Any, left: Any, right: Any, line: Any) -> s.BinaryOp:
    operands = EXPRESSIONS.issuperset((type(left), type(right)))
    if operands and type(op) is str and op in _BINARY and type(line) is int:
        return _node4(s.BinaryOp, _BINARY_OP, op, left, right, line)
    raise Malformed("BinaryOp")


def _unary_op(op: Any, operand: Any, line: Any) -> s.UnaryOp:
    if type(op) is str and op in _UNARY and type(operand) in EXPRESSIONS and type(line) is int:
        return _node3(s.UnaryOp, _UNARY_OP, op, operand, line)
    raise Malformed("UnaryOp")


def _for_expr(
    key_var: Any, value_var: Any, coll: Any, key: Any, value: Any, cond: Any, group: Any, line: Any
) -> s.ForExpr:
    names = type(key_var) in _STR_OR_NONE and type(value_var) is str
    exprs = type(coll) in EXPRESSIONS and type(value) in EXPRESSIONS
    optional = type(key) in _EXPR_OR_NONE and type(cond) in _EXPR_OR_NONE
    if names and exprs and optional and type(group) is bool and type(line) is int:
        values = (key_var, value_var, coll, key, value, cond, group, line)
        return _node8(s.ForExpr, _FOR_EXPR, *values)
    raise Malformed("ForExpr")


def _attribute(name: Any, expr: Any, line: Any, end_line: Any) -> s.Attribute:
    if type(name) is str and type(expr) in EXPRESSIONS and type(line) is int and type(end_line) is int:
        return _node4(s.Attribute, _ATTRIBUTE, name, expr, line, end_line)
    raise Malformed("Attribute")


def _block(type_: Any, labels: Any, body: Any, line: Any, end_line: Any) -> s.Block:
    names = type(type_) is str and type(labels) is tuple and _STRS.issuperset(map(type, labels))
    if names and type(body) is s.Body and type(line) is int and type(end_line) is int:
        return _node5(s.Block, _BLOCK, type_, labels, body, line, end_line)
    raise Malformed("Block")


def _body(attributes: Any, blocks: Any) -> s.Body:
    if type(attributes) is not dict or type(blocks) is not tuple or not _BLOCKS.issuperset(map(type, blocks)):
        raise Malformed("Body")
    for name, attribute in attributes.items():
        if type(attribute) is not s.Attribute or attribute.name != name:
            raise Malformed("Body")
    return _node2(s.Body, _BODY, attributes, blocks)


def _comment(line: Any, text: Any, next_code_line: Any) -> s.Comment:
    if type(text) is str and type(line) is int and type(next_code_line) is int:
        return _node3(s.Comment, _COMMENT, line, text, next_code_line)
    raise Malformed("Comment")


CONSTRUCTORS: dict[type, Callable[..., Any]] = {
    s.Literal: _literal, s.TemplateIf: _template_if, s.TemplateFor: _template_for,
    s.Template: _template, s.TupleExpr: _tuple_expr, s.ObjectExpr: _object_expr, s.Name: _name,
    s.GetAttr: _get_attr, s.Index: _index, s.Splat: _splat, s.Call: _call,
    s.Conditional: _conditional, s.BinaryOp: _binary_op, s.UnaryOp: _unary_op,
    s.ForExpr: _for_expr, s.Attribute: _attribute, s.Block: _block, s.Body: _body,
    s.Comment: _comment,
}
