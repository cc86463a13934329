"""The typed syntax tree the evaluator works on, converted from python-hcl2's parse tree.

Plain frozen dataclasses, so parsed files pickle cheaply for the cache. Every expression
keeps the line it starts on (for `Unknown` locations); every attribute and block keeps its
first and last line. `render` prints an expression back as HCL for messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Union


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any  # None, bool, int, float or str
    line: int


@dataclass(frozen=True, slots=True)
class TemplateIf:
    cond: Expr
    then: tuple[TemplatePart, ...]
    otherwise: tuple[TemplatePart, ...]
    line: int


@dataclass(frozen=True, slots=True)
class TemplateFor:
    key_var: str | None
    value_var: str
    collection: Expr
    body: tuple[TemplatePart, ...]
    line: int


TemplatePart = Union[str, "Expr", TemplateIf, TemplateFor]


@dataclass(frozen=True, slots=True)
class Template:
    """A string with interpolations or directives; a lone `"${x}"` evaluates to `x` itself."""

    parts: tuple[TemplatePart, ...]
    line: int


@dataclass(frozen=True, slots=True)
class TupleExpr:
    items: tuple[Expr, ...]
    line: int


@dataclass(frozen=True, slots=True)
class ObjectExpr:
    items: tuple[tuple[Expr, Expr], ...]  # a bare-word key is a Literal string
    line: int


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: the root of a reference (`var`, `aws_instance`) or a local binding."""

    name: str
    line: int


@dataclass(frozen=True, slots=True)
class GetAttr:
    obj: Expr
    name: str
    line: int


@dataclass(frozen=True, slots=True)
class Index:
    obj: Expr
    key: Expr
    line: int


@dataclass(frozen=True, slots=True)
class Splat:
    """`obj[*].a.b` (full) or `obj.*.a` (attribute-only): `steps` apply to every element."""

    obj: Expr
    steps: tuple[str | Expr, ...]  # a str is an attribute name, an Expr an index
    full: bool
    line: int


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Expr, ...]
    expand_last: bool  # f(a, list...)
    line: int


@dataclass(frozen=True, slots=True)
class Conditional:
    cond: Expr
    then: Expr
    otherwise: Expr
    line: int


@dataclass(frozen=True, slots=True)
class BinaryOp:
    op: str
    left: Expr
    right: Expr
    line: int


@dataclass(frozen=True, slots=True)
class UnaryOp:
    op: str  # "-" or "!"
    operand: Expr
    line: int


@dataclass(frozen=True, slots=True)
class ForExpr:
    key_var: str | None
    value_var: str
    collection: Expr
    key: Expr | None  # None for a tuple-producing `[for ...]`
    value: Expr
    cond: Expr | None
    group: bool  # `...` after the value: group values by key
    line: int


Expr = Union[
    Literal, Template, TupleExpr, ObjectExpr, Name, GetAttr, Index, Splat, Call, Conditional,
    BinaryOp, UnaryOp, ForExpr,
]


@dataclass(frozen=True, slots=True)
class Attribute:
    name: str
    expr: Expr
    line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Block:
    type: str
    labels: tuple[str, ...]
    body: Body
    line: int
    end_line: int  # the line of the closing brace


@dataclass(frozen=True, slots=True)
class Body:
    attributes: dict[str, Attribute]
    blocks: tuple[Block, ...]

    def blocks_of(self, type_: str) -> list[Block]:
        return [b for b in self.blocks if b.type == type_]

    def first_block(self, type_: str) -> Block | None:
        return next((b for b in self.blocks if b.type == type_), None)


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment that carries an `sglint:` directive (suppressions)."""

    line: int
    text: str
    next_code_line: int = 0  # the first later line that is not blank or a comment; 0 if trailing code


@dataclass(frozen=True, slots=True)
class File:
    path: str  # as shown to the user (relative to the working directory)
    body: Body
    digest: str  # sha256 of the bytes read, so `fix` can refuse to overwrite a changed file
    directives: tuple[Comment, ...] = field(default=())


EMPTY_BODY = Body({}, ())


def render(expr: TemplatePart, limit: int = 200) -> str:
    """HCL source text for an expression, shortened to `limit` characters for messages."""
    text = _render(expr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _render(expr: TemplatePart) -> str:
    if isinstance(expr, str):
        return expr
    if isinstance(expr, Literal):
        if expr.value is None:
            return "null"
        if isinstance(expr.value, bool):
            return "true" if expr.value else "false"
        if isinstance(expr.value, str):
            return json.dumps(expr.value)
        return str(expr.value)
    if isinstance(expr, Template):
        if len(expr.parts) == 1 and not isinstance(expr.parts[0], str):
            return _render_part(expr.parts[0]).join('""')
        return '"' + "".join(_render_part(p) for p in expr.parts) + '"'
    if isinstance(expr, TupleExpr):
        return "[" + ", ".join(_render(i) for i in expr.items) + "]"
    if isinstance(expr, ObjectExpr):
        return "{" + ", ".join(f"{_render(k)} = {_render(v)}" for k, v in expr.items) + "}"
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, GetAttr):
        return f"{_render(expr.obj)}.{expr.name}"
    if isinstance(expr, Index):
        return f"{_render(expr.obj)}[{_render(expr.key)}]"
    if isinstance(expr, Splat):
        steps = "".join(f".{s}" if isinstance(s, str) else f"[{_render(s)}]" for s in expr.steps)
        return f"{_render(expr.obj)}{'[*]' if expr.full else '.*'}{steps}"
    if isinstance(expr, Call):
        args = ", ".join(_render(a) for a in expr.args)
        return f"{expr.name}({args}{'...' if expr.expand_last else ''})"
    if isinstance(expr, Conditional):
        return f"{_render(expr.cond)} ? {_render(expr.then)} : {_render(expr.otherwise)}"
    if isinstance(expr, BinaryOp):
        return f"{_render(expr.left)} {expr.op} {_render(expr.right)}"
    if isinstance(expr, UnaryOp):
        return f"{expr.op}{_render(expr.operand)}"
    if isinstance(expr, ForExpr):
        names = f"{expr.key_var}, {expr.value_var}" if expr.key_var else expr.value_var
        cond = f" if {_render(expr.cond)}" if expr.cond else ""
        if expr.key is None:
            return f"[for {names} in {_render(expr.collection)} : {_render(expr.value)}{cond}]"
        group = "..." if expr.group else ""
        body = f"{_render(expr.key)} => {_render(expr.value)}{group}"
        return f"{{for {names} in {_render(expr.collection)} : {body}{cond}}}"
    if isinstance(expr, TemplateIf):
        return "%{if " + _render(expr.cond) + "}...%{endif}"
    if isinstance(expr, TemplateFor):
        return "%{for " + expr.value_var + " in " + _render(expr.collection) + "}...%{endfor}"
    raise TypeError(f"cannot render {type(expr).__name__}")


def _render_part(part: TemplatePart) -> str:
    if isinstance(part, str):
        return json.dumps(part)[1:-1].replace("${", "$${").replace("%{", "%%{")
    if isinstance(part, (TemplateIf, TemplateFor)):
        return _render(part)
    return "${" + _render(part) + "}"
