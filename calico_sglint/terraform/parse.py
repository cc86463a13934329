"""Parse stage: Terraform files -> `syntax.File`, via python-hcl2's Lark parse tree.

python-hcl2 does the parsing (grammar, lexing, post-lexing), with its parser built without
Lark's position propagation (`larkparser.py`): each node's line is its first token's, which
is what Lark would have propagated. We only convert the tree into the small typed tree in
`syntax.py`, and split heredoc and `templatefile` templates, whose interpolations
python-hcl2 leaves as plain text, handing each `${...}` back to it.

`reference=True` parses with python-hcl2's own parser instead, lines from Lark's propagated
positions: the path sglint took before, kept so tests can prove both give the same trees.
"""

from __future__ import annotations

import hashlib
import os
import re
from sys import intern
from typing import Any, Callable

from calico_sglint.source import InputError
from calico_sglint.terraform import larkparser
from calico_sglint.terraform.syntax import (
    EMPTY_BODY,
    Attribute,
    BinaryOp,
    Block,
    Body,
    Call,
    Comment,
    Conditional,
    Expr,
    File,
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
)

Token = str  # what a Lark token is (a str subclass, with its type and lines); a tree node is not

# The HCL parser (Lark under python-hcl2) takes ~250 bytes of memory per byte of input, so a
# file over 1 MiB (~25,000 lines; the corpus's largest is under 200 kB) is refused rather
# than allowed to use gigabytes.
MAX_FILE_BYTES = 1024 * 1024
MAX_TEMPLATE_PARTS = 10_000  # `${...}` and `%{...}` in one string template, heredoc or template file
_DIRECTIVE_COMMENT = re.compile(r"(?:#|//)\s*sglint:.*$")


def parse_file(path: str, display: str | None = None) -> File:
    """Read and parse one `.tf` file; raise `InputError` naming the file and line on failure."""
    shown = display or path
    data = read_bytes(path, shown)
    text = decode(data, shown)
    return parse_text(text, shown, hashlib.sha256(data).hexdigest())


def parse_text(text: str, display: str, digest: str = "", *, reference: bool = False) -> File:
    """Parse HCL text that came from `display` (used in locations and errors)."""
    tree = _lark_parse(text, display, reference=reference)
    convert = _Converter(display, 0, reference)
    try:
        body = convert.body(tree.children[0]) if tree.children else EMPTY_BODY
    except RecursionError:
        raise InputError("expression nested too deeply to evaluate", display, 1) from None
    except _ConvertError as err:
        raise InputError(err.message, display, err.line) from None
    return File(display, body, digest, _directives(text))


def parse_expression(text: str, display: str, line: int, *, reference: bool = False) -> Expr:
    """Parse a standalone expression (a `-var` value, an interpolation inside a template)."""
    tree = _lark_parse(f"x = (\n{text}\n)", display, line_offset=line - 2, reference=reference)
    try:
        body = _Converter(display, line - 2, reference).body(tree.children[0])
    except RecursionError:
        raise InputError("expression nested too deeply to evaluate", display, line) from None
    except _ConvertError as err:
        raise InputError(err.message, display, err.line) from None
    return body.attributes["x"].expr


def read_bytes(path: str, shown: str) -> bytes:
    """The file's bytes, refusing what is too large to be Terraform."""
    try:
        with open(path, "rb") as handle:
            # Ask for the file's size, not the limit: read(50 MB) allocates 50 MB first. A file
            # that grows while it is read, or reports no size (a pipe), is still capped.
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(min(size, MAX_FILE_BYTES) + 1 if size else MAX_FILE_BYTES + 1)
            if size and len(data) > size:
                data += handle.read(MAX_FILE_BYTES + 1 - len(data))
    except IsADirectoryError:
        raise InputError("is a directory, not a file", shown) from None
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", shown) from None
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, more than sglint parses", shown)
    return data


def decode(data: bytes, shown: str) -> str:
    """UTF-8 text (as Terraform requires), or an `InputError` saying where it is not."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise InputError("binary file (contains NUL bytes), not Terraform text", shown, line)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text (byte 0x{data[err.start]:02x}); Terraform files must be UTF-8",
            shown,
            line,
        ) from None
    return text[1:] if text.startswith("\ufeff") else text


def _directives(text: str) -> tuple[Comment, ...]:
    """Comments with `sglint:` directives, and the code line each one stands above."""
    if "sglint:" not in text:
        return ()
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        if "sglint:" not in line:
            continue
        match = _DIRECTIVE_COMMENT.search(line)
        if not match:
            continue
        trailing = bool(line[: match.start()].strip())
        following = 0 if trailing else next(
            (n for n in range(index + 1, len(lines)) if not _is_comment_or_blank(lines[n])), -1
        ) + 1
        found.append(Comment(index + 1, match.group(0), following))
    return tuple(found)


def _is_comment_or_blank(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith(("#", "//"))


# --- python-hcl2 / Lark -----------------------------------------------------------------


def _lark_parse(text: str, display: str, line_offset: int = 0, reference: bool = False) -> Any:
    from lark.exceptions import (
        LarkError,
        UnexpectedCharacters,
        UnexpectedEOF,
        UnexpectedToken,
    )

    last_line = text.count("\n") + (0 if text.endswith("\n") else 1) + line_offset
    try:
        if reference:
            from hcl2.api import parses_to_tree

            return parses_to_tree(text)
        # python-hcl2 appends a newline too: its grammar cannot end on "newline or end of file".
        return larkparser.parser().parse(text + "\n")
    except UnexpectedToken as err:
        token = err.token
        if token.type == "$END":
            message = "unexpected end of file (is a closing brace or quote missing?)"
        else:
            message = f"syntax error: unexpected {_describe_token(token)}"
        line = min((err.line or 1) + line_offset, max(last_line, 1))
        raise InputError(message, display, line) from None
    except UnexpectedCharacters as err:
        char = err.char if err.char.isprintable() else repr(err.char)
        raise InputError(
            f"syntax error: unexpected character {char!r}", display, err.line + line_offset
        ) from None
    except UnexpectedEOF:
        message = "unexpected end of file (is a closing brace or quote missing?)"
        raise InputError(message, display, max(last_line, 1)) from None
    except RecursionError:
        raise InputError("expression nested too deeply to parse", display, 1) from None
    except (LarkError, RuntimeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"syntax error: {first}", display, 1) from None


def _describe_token(token: Any) -> str:
    value = str(token).strip().splitlines()[0] if str(token).strip() else ""
    if not value:
        return "end of line"
    if len(value) > 30:
        value = value[:27] + "..."
    return repr(value)


class _ConvertError(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _kind(node: Any) -> str:
    return str(node.type if isinstance(node, Token) else node.data)


def _content(node: Any) -> list[Any]:
    """Children that carry meaning: tokens and subtrees, without runs of newlines/comments
    or absent options. (A rule whose grammar has no `new_line_or_comment` is read through
    `children` directly.)"""
    return [
        c for c in node.children
        if c is not None and (isinstance(c, Token) or c.data != "new_line_or_comment")
    ]


def _last_content(node: Any) -> Any:
    """The last child that carries meaning (`_content`'s test, written out: a helper call per
    child costs 7% of converting), or None."""
    for child in reversed(node.children):
        if child is not None and (isinstance(child, Token) or child.data != "new_line_or_comment"):
            return child
    return None


def _token_line(node: Any, offset: int) -> int:
    """The line `node` starts on: its first token's, as Lark's propagated positions say
    (a subtree without tokens, like an empty body, does not count; none at all: line 1)."""
    first = node
    while not isinstance(first, Token) and first.children and first.children[0] is not None:
        first = first.children[0]  # the usual case: the first child leads to the token
    if isinstance(first, Token):
        return int(first.line or 1) + offset
    pending = [node]
    while pending:
        node = pending.pop()
        if node is None:
            continue
        if isinstance(node, Token):
            return int(node.line or 1) + offset
        pending.extend(reversed(node.children))
    return 1 + offset


def _meta_line(node: Any, offset: int) -> int:
    """The line Lark's propagated positions give `node` (the reference path)."""
    if isinstance(node, Token):
        return int(node.line or 1) + offset
    return int(getattr(node.meta, "line", 1) or 1) + offset


def _last_line(node: Any, offset: int, line_of: Callable[[Any, int], int]) -> int:
    """The line of the last meaningful token under `node` (trailing newlines excluded)."""
    while not isinstance(node, Token):
        last = _last_content(node)
        if last is None:
            return line_of(node, offset)
        node = last
    end = int(node.end_line or node.line or 1)
    if str(node).endswith("\n"):
        end -= 1
    return end + offset


def _name_of(node: Any) -> str:
    """The text of an identifier, keyword or literal-value node (interned: a module says
    the same few names many times, and a cached module pickles each once)."""
    while not isinstance(node, Token):
        node = node.children[0]
    return intern(str(node))


# By token type: python-hcl2's post-lexer merges a line break (and comments) before an
# operator into the operator's token, so its text may start with them.
_BINARY_OPS = {
    "DOUBLE_PIPE": "||", "DOUBLE_AMP": "&&", "DOUBLE_EQ": "==", "NEQ": "!=", "LT": "<", "GT": ">",
    "LEQ": "<=", "GEQ": ">=", "PLUS": "+", "MINUS": "-", "ASTERISK": "*", "SLASH": "/",
    "PERCENT": "%",
}


class _Converter:
    """Lark subtrees -> `syntax` bodies, blocks and expressions."""

    def __init__(self, display: str, line_offset: int, reference: bool = False) -> None:
        self.display = display
        self.offset = line_offset
        self.reference = reference
        self.line_of: Callable[[Any, int], int] = _meta_line if reference else _token_line

    def body(self, node: Any) -> Body:
        attributes: dict[str, Attribute] = {}
        blocks: list[Block] = []
        for child in node.children:
            if isinstance(child, Token):
                continue
            if child.data == "attribute":
                name_node, _, expr_node = child.children
                name = _name_of(name_node)
                line = self.line_of(child, self.offset)
                if name in attributes:
                    raise _ConvertError(
                        f'attribute "{name}" is defined twice (first at line {attributes[name].line})',
                        line,
                    )
                expr = self.expr(expr_node)
                end = _last_line(expr_node, self.offset, self.line_of)
                attributes[name] = Attribute(name, expr, line, end)
            elif child.data == "block":
                blocks.append(self.block(child))
        return Body(attributes, tuple(blocks))

    def block(self, node: Any) -> Block:
        parts = _content(node)
        block_type = _name_of(parts[0])
        labels: list[str] = []
        body = EMPTY_BODY
        line = self.line_of(node, self.offset)
        end_line = line
        for part in parts[1:]:
            if isinstance(part, Token):
                if part.type == "RBRACE":
                    end_line = int(part.line) + self.offset
                continue
            if part.data == "body":
                body = self.body(part)
            elif part.data == "string":
                labels.append(self.plain_string(part))
            else:
                labels.append(_name_of(part))
        return Block(block_type, tuple(labels), body, line, end_line)

    def plain_string(self, node: Any) -> str:
        template = self.string(node)
        if all(isinstance(p, str) for p in template.parts):
            return intern("".join(template.parts))  # type: ignore[arg-type]
        raise _ConvertError("block labels cannot contain interpolations", self.line_of(node, self.offset))

    def expr(self, node: Any) -> Expr:
        node = self._unwrap_parens(node)
        if isinstance(node, Token):
            raise _ConvertError(f"unexpected {_describe_token(node)}", self.line_of(node, self.offset))
        kind = node.data
        line = self.line_of(node, self.offset)
        handler = _HANDLERS.get(kind)
        if handler is None:
            raise _ConvertError(f"unsupported expression ({kind})", line)
        result: Expr = handler(self, node, line)
        return result

    def _unwrap_parens(self, node: Any) -> Any:
        # Iterative, so 5,000 nested parentheses do not exhaust Python's stack.
        while not isinstance(node, Token) and node.data == "expr_term":
            children = node.children
            node = children[0] if len(children) == 1 else _content(node)[1]  # a term, or ( expression )
        return node

    def _is_parenthesised(self, node: Any) -> bool:
        return (
            not isinstance(node, Token)
            and node.data == "expr_term"
            and isinstance(node.children[0], Token)
            and node.children[0].type == "LPAR"
        )

    # literals

    def _int_lit(self, node: Any, line: int) -> Expr:
        return Literal(int(str(node.children[0])), line)

    def _float_lit(self, node: Any, line: int) -> Expr:
        value = float(str(node.children[0]))
        return Literal(int(value) if value.is_integer() and abs(value) < 2**53 else value, line)

    def _literal_value(self, node: Any, line: int) -> Expr:
        word = str(node.children[0])
        return Literal({"true": True, "false": False, "null": None}[word], line)

    def _identifier(self, node: Any, line: int) -> Expr:
        return Name(intern(str(node.children[0])), line)

    def _keyword(self, node: Any, line: int) -> Expr:
        return Name(intern(str(node.children[0])), line)

    # strings and templates

    def _string(self, node: Any, line: int) -> Expr:
        return self.string(node)

    def string(self, node: Any) -> Template:
        from hcl2.utils import process_escape_sequences

        line = self.line_of(node, self.offset)
        flat: list[Any] = []
        for part in node.children:
            if isinstance(part, Token):
                continue  # the quotes
            inner = part.children[0]
            if isinstance(inner, Token):
                text = str(inner)
                if inner.type in ("ESCAPED_INTERPOLATION", "ESCAPED_DIRECTIVE"):
                    # `$${a\"b}` is the text `${a"b}`: Terraform resolves escapes inside it too
                    flat.append(process_escape_sequences(text[1:]))
                else:
                    flat.append(process_escape_sequences(text))
            elif inner.data == "interpolation":
                flat.append(self.expr(inner.children[1]))  # ${ expression }
            else:
                flat.append(self._directive(inner))
        return Template(_assemble(flat, line), line)

    def _template_string(self, node: Any, line: int) -> Expr:
        from hcl2.utils import process_escape_sequences

        raw = str(node.children[0])[2:-2]
        return Template((process_escape_sequences(raw),), line)

    def _directive(self, node: Any) -> tuple[str, Any]:
        line = self.line_of(node, self.offset)
        parts = [c for c in _content(node)]
        strip_before = len(parts) > 1 and isinstance(parts[1], Token) and parts[1].type == "STRIP_MARKER"
        strip_after = len(parts) > 2 and isinstance(parts[-2], Token) and parts[-2].type == "STRIP_MARKER"
        trees = [p for p in parts if not isinstance(p, Token)]
        strip = (strip_before, strip_after)
        if node.data == "template_if_start":
            return ("if", (self.expr(trees[0]), line, strip))
        if node.data == "template_for_start":
            names = [str(t.children[0]) for t in trees[:-1]]
            key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
            return ("for", (key_var, value_var, self.expr(trees[-1]), line, strip))
        return (node.data.removeprefix("template_"), (line, strip))

    def _heredoc_template(self, node: Any, line: int) -> Expr:
        return self._heredoc(str(node.children[0]), line, trim=False)

    def _heredoc_template_trim(self, node: Any, line: int) -> Expr:
        return self._heredoc(str(node.children[0]), line, trim=True)

    def _heredoc(self, raw: str, line: int, trim: bool) -> Expr:
        first_newline = raw.index("\n")
        lines = raw[first_newline + 1 :].split("\n")
        while lines and lines[-1].strip() == "":
            lines.pop()
        body_lines = lines[:-1]  # the last line is the closing marker
        if trim:
            indents = [len(l) - len(l.lstrip(" \t")) for l in body_lines if l.strip()]
            cut = min(indents, default=0)
            body_lines = [l[cut:] for l in body_lines]
        text = "".join(l.rstrip("\r") + "\n" for l in body_lines)
        return parse_template(text, self.display, line + 1, reference=self.reference)

    # collections

    def _tuple(self, node: Any, line: int) -> Expr:
        items = [self.expr(c) for c in _content(node) if not isinstance(c, Token)]
        return TupleExpr(tuple(items), line)

    def _object(self, node: Any, line: int) -> Expr:
        items = []
        for elem in _content(node):
            if isinstance(elem, Token):
                continue
            key_node, _, value_node = elem.children
            key_inner = key_node.children[0]
            key: Expr
            if not isinstance(key_inner, Token) and key_inner.data == "keyword":
                key = Literal(_name_of(key_inner), self.line_of(key_inner, self.offset))
            else:
                key = self.expr(key_inner)
                if isinstance(key, Name) and not self._is_parenthesised(key_inner):
                    key = Literal(key.name, key.line)
            items.append((key, self.expr(value_node)))
        return ObjectExpr(tuple(items), line)

    # traversals

    def _get_attr_expr_term(self, node: Any, line: int) -> Expr:
        obj_node, attr = node.children
        return GetAttr(self.expr(obj_node), _name_of(attr.children[1]), line)

    def _index_expr_term(self, node: Any, line: int) -> Expr:
        obj_node, index = node.children
        return Index(self.expr(obj_node), self._index_key(index), line)

    def _index_key(self, index: Any) -> Expr:
        parts = _content(index)
        if index.data == "short_index":
            return Literal(int(str(parts[1])), self.line_of(parts[1], self.offset))
        return self.expr(parts[1])

    def _attr_splat_expr_term(self, node: Any, line: int) -> Expr:
        return self._splat(node, line, full=False)

    def _full_splat_expr_term(self, node: Any, line: int) -> Expr:
        return self._splat(node, line, full=True)

    def _splat(self, node: Any, line: int, full: bool) -> Expr:
        obj_node, splat = node.children
        steps: list[str | Expr] = []
        for step in splat.children[1:]:
            if step.data == "get_attr":
                steps.append(_name_of(step.children[1]))
            else:
                steps.append(self._index_key(step))
        return Splat(self.expr(obj_node), tuple(steps), full, line)

    # operations

    def _function_call(self, node: Any, line: int) -> Expr:
        parts = _content(node)
        names = [_name_of(p) for p in parts if not isinstance(p, Token) and p.data == "identifier"]
        name = "::".join(names) if len(names) > 1 else names[0]
        args: list[Expr] = []
        expand = False
        for part in parts:
            if not isinstance(part, Token) and part.data == "arguments":
                for arg in _content(part):
                    if isinstance(arg, Token):
                        expand = expand or arg.type == "ELLIPSIS"
                    else:
                        args.append(self.expr(arg))
        return Call(name, tuple(args), expand, line)

    def _conditional(self, node: Any, line: int) -> Expr:
        exprs = [c for c in _content(node) if not isinstance(c, Token)]
        cond, then, otherwise = (self.expr(e) for e in exprs)
        return Conditional(cond, then, otherwise, line)

    def _binary_op(self, node: Any, line: int) -> Expr:
        left_node, term = [c for c in _content(node)]
        term_parts = _content(term)
        op = _BINARY_OPS.get(term_parts[0].children[0].type)
        if op is None:
            raise _ConvertError(f"unknown operator {str(term_parts[0].children[0]).strip()}", line)
        return BinaryOp(op, self.expr(left_node), self.expr(term_parts[-1]), line)

    def _unary_op(self, node: Any, line: int) -> Expr:
        op_token, operand = node.children
        return UnaryOp(str(op_token), self.expr(operand), line)

    def _for_tuple_expr(self, node: Any, line: int) -> Expr:
        return self._for(node, line, is_object=False)

    def _for_object_expr(self, node: Any, line: int) -> Expr:
        return self._for(node, line, is_object=True)

    def _for(self, node: Any, line: int, is_object: bool) -> Expr:
        parts = _content(node)
        intro = next(p for p in parts if not isinstance(p, Token) and p.data == "for_intro")
        intro_parts = _content(intro)
        names = [_name_of(p) for p in intro_parts if not isinstance(p, Token) and p.data == "identifier"]
        collection = next(
            p for p in intro_parts if not isinstance(p, Token) and p.data != "identifier"
        )
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        exprs = [
            p for p in parts
            if not isinstance(p, Token) and p.data not in ("for_intro", "for_cond")
        ]
        cond_node = next((p for p in parts if not isinstance(p, Token) and p.data == "for_cond"), None)
        cond = self.expr(_content(cond_node)[1]) if cond_node is not None else None
        group = any(isinstance(p, Token) and p.type == "ELLIPSIS" for p in parts)
        if is_object:
            key, value = self.expr(exprs[0]), self.expr(exprs[1])
        else:
            key, value = None, self.expr(exprs[0])
        return ForExpr(key_var, value_var, self.expr(collection), key, value, cond, group, line)


# The converter's method for each kind of expression node: `_<rule name>`.
_HANDLERS: dict[str, Callable[[_Converter, Any, int], Expr]] = {
    name[1:]: method for name, method in vars(_Converter).items()
    if name.startswith("_") and not name.startswith("__")
}


def _assemble(flat: list[Any], line: int) -> tuple[TemplatePart, ...]:
    """Nest the flat `%{if}`/`%{for}` markers python-hcl2 produces into `TemplateIf`/`For`."""
    stack: list[tuple[str, Any, list[Any], list[Any] | None]] = []
    current: list[Any] = []
    pending_strip_after = False
    for item in flat:
        if isinstance(item, tuple):
            kind, data = item
            strip_before, strip_after = data[-1]
            if strip_before and current and isinstance(current[-1], str):
                current[-1] = current[-1].rstrip()
            if kind in ("if", "for"):
                stack.append((kind, data, current, None))
                current = []
            elif kind == "else":
                if not stack or stack[-1][0] != "if" or stack[-1][3] is not None:
                    raise _ConvertError("%{else} without a matching %{if}", data[0])
                kind_, data_, outer, _ = stack.pop()
                stack.append((kind_, data_, outer, current))
                current = []
            elif kind in ("endif", "endfor"):
                wanted = kind[3:]
                if not stack or stack[-1][0] != wanted:
                    raise _ConvertError(f"%{{{kind}}} without a matching %{{{wanted}}}", data[0])
                opened, odata, outer, then = stack.pop()
                node: TemplatePart
                if opened == "if":
                    cond, if_line, _ = odata
                    if then is None:
                        node = TemplateIf(cond, tuple(current), (), if_line)
                    else:
                        node = TemplateIf(cond, tuple(then), tuple(current), if_line)
                else:
                    key_var, value_var, coll, for_line, _ = odata
                    node = TemplateFor(key_var, value_var, coll, tuple(current), for_line)
                current = outer
                current.append(node)
            pending_strip_after = strip_after
            continue
        if pending_strip_after and isinstance(item, str):
            item = item.lstrip()
        pending_strip_after = False
        if isinstance(item, str) and current and isinstance(current[-1], str):
            current[-1] += item
        elif not (isinstance(item, str) and item == ""):
            current.append(item)
    if stack:
        raise _ConvertError(f"%{{{stack[-1][0]}}} is never closed", line)
    return tuple(current)


# --- templates (heredocs, templatefile) ---------------------------------------------------

_DIRECTIVE = re.compile(
    r"^\s*(?:(if)\s+(?P<cond>.+)|(else)|(endif)|(endfor)|"
    r"(for)\s+(?P<names>[A-Za-z_][\w-]*(?:\s*,\s*[A-Za-z_][\w-]*)?)\s+in\s+(?P<coll>.+))\s*$",
    re.S,
)


def parse_template(text: str, display: str, line: int, *, reference: bool = False) -> Template:
    """Split a template into literal text, `${}` expressions and `%{}` directives. At most
    `MAX_TEMPLATE_PARTS` of those (each is parsed on its own; a million of them is an attack)."""
    flat: list[Any] = []
    pos = 0
    literal: list[str] = []
    length = len(text)
    current_line, counted, parts = line, 0, 0
    while pos < length:
        char = text[pos]
        if char in "$%" and text.startswith("{", pos + 1):
            current_line += text.count("\n", counted, pos)
            counted = pos
            parts += 1
            if parts > MAX_TEMPLATE_PARTS:
                raise InputError(f"template has more than {MAX_TEMPLATE_PARTS:,} interpolations and directives", display, current_line)
            close = _matching_brace(text, pos + 2, display, current_line)
            inner = text[pos + 2 : close]
            strip_before = inner.startswith("~")
            strip_after = inner.endswith("~")
            inner = inner[1 if strip_before else 0 : len(inner) - 1 if strip_after else len(inner)]
            if literal:
                flat.append("".join(literal))
                literal = []
            if char == "$":
                if strip_before:
                    flat.append(("strip", None))
                flat.append(parse_expression(inner, display, current_line, reference=reference))
                if strip_after:
                    flat.append(("lstrip", None))
            else:
                strip = (strip_before, strip_after)
                flat.append(_template_directive(inner, display, current_line, strip, reference))
            pos = close + 1
        elif char in "$%" and text.startswith(char + "{", pos + 1):
            literal.append(char + "{")  # $${ and %%{ are escapes
            pos += 3
        else:
            literal.append(char)
            pos += 1
    if literal:
        flat.append("".join(literal))
    flat = _apply_interpolation_strips(flat)
    try:
        return Template(_assemble(flat, line), line)
    except _ConvertError as err:
        raise InputError(err.message, display, err.line) from None


def _apply_interpolation_strips(flat: list[Any]) -> list[Any]:
    out: list[Any] = []
    strip_next = False
    for item in flat:
        if isinstance(item, tuple) and item[0] == "strip":
            if out and isinstance(out[-1], str):
                out[-1] = out[-1].rstrip()
            continue
        if isinstance(item, tuple) and item[0] == "lstrip":
            strip_next = True
            continue
        if strip_next and isinstance(item, str):
            item = item.lstrip()
        strip_next = False
        out.append(item)
    return out


def _template_directive(
    inner: str, display: str, line: int, strip: tuple[bool, bool], reference: bool
) -> tuple[str, Any]:
    match = _DIRECTIVE.match(inner)
    if not match:
        raise InputError(f"unknown template directive %{{{inner.strip()}}}", display, line)
    if match.group(1):
        cond = parse_expression(match.group("cond"), display, line, reference=reference)
        return ("if", (cond, line, strip))
    if match.group(6):
        names = [n.strip() for n in match.group("names").split(",")]
        key_var, value_var = (names[0], names[1]) if len(names) == 2 else (None, names[0])
        coll = parse_expression(match.group("coll"), display, line, reference=reference)
        return ("for", (key_var, value_var, coll, line, strip))
    kind = next(g for g in match.groups()[2:5] if g)
    return (kind, (line, strip))


def _matching_brace(text: str, start: int, display: str, line: int) -> int:
    """Index of the `}` closing the `${`/`%{` opened just before `start`."""
    depth = 1
    pos = start
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == '"':
            pos = _skip_string(text, pos + 1, display, line)
            continue
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
            if depth == 0:
                return pos
        pos += 1
    raise InputError("template interpolation is never closed", display, line)


def _skip_string(text: str, pos: int, display: str, line: int) -> int:
    length = len(text)
    while pos < length:
        char = text[pos]
        if char == "\\":
            pos += 2
            continue
        if char == '"':
            return pos + 1
        if char == "$" and text.startswith("{", pos + 1):
            pos = _matching_brace(text, pos + 2, display, line) + 1
            continue
        pos += 1
    raise InputError("string inside template interpolation is never closed", display, line)
