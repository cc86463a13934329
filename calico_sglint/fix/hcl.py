"""Writing HCL that stays inert: escaped strings, checked names, and a last look before writing.

Everything `sglint fix` writes that came from the user's files (resource names, instance
keys, module names, descriptions) goes through here. Names must be Terraform identifiers
(Terraform rejects anything else, so it is an input error, never something to quote);
strings are escaped for HCL, including the `${` and `%{` that would start an interpolation
or a directive; lines are counted the way the parser counts them (only `\\n` ends a line, not
U+2028 or a form feed). Every file is parsed again before it is written and refused when it
does not parse or gained a block sglint does not generate.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

from calico_sglint.source import InputError, Location
from calico_sglint.terraform.syntax import Body

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_SIMPLE_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_STEP = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)|\[((?:"(?:[^"\\]|\\.)*")|-?[0-9]+)\]|(\.)')


def hcl_string(text: str) -> str:
    """`text` as a quoted HCL string whose value is exactly `text`, and never a template.

    Quotes, backslashes and line breaks are escaped, `${`/`%{` doubled, and every other
    control, format or separator character (U+2028, NUL, a BOM...) written as `\\uNNNN`."""
    out = []
    for char in text:
        if char in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[char])
        elif char != " " and unicodedata.category(char)[0] in "CZ":
            code = ord(char)
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
        else:
            out.append(char)
    return '"' + "".join(out).replace("${", "$${").replace("%{", "%%{") + '"'


def is_identifier(name: str) -> bool:
    return bool(IDENTIFIER.match(name))


def identifier(name: str, where: Location | None, what: str = "name") -> str:
    """`name` itself when Terraform accepts it as an identifier, else an input error."""
    if is_identifier(name):
        return name
    raise InputError(
        f"{what} {json.dumps(name)[:80]} is not a valid Terraform identifier; sglint fix writes "
        "nothing for it (terraform rejects it too)",
        where.file if where else None, where.line if where else None,
    )


def reference(address: str, where: Location | None) -> str:
    """A Terraform address (`module.a["k"].aws_security_group.x[0]`) as an HCL reference.

    Names must be identifiers; string keys are escaped again for HCL, so a key that holds
    `${...}` or a quote stays a string."""
    out, pos = [], 0
    while pos < len(address):
        match = _STEP.match(address, pos)
        if match is None:
            raise InputError(
                f"{json.dumps(address)[:120]} is not a valid Terraform address (a name that is not an "
                "identifier); sglint fix writes nothing for it, and terraform rejects it too",
                where.file if where else None, where.line if where else None,
            )
        name, key, dot = match.groups()
        if name is not None or dot is not None:
            out.append(name or dot)
        elif key.startswith('"'):
            out.append(f"[{hcl_string(json.loads(key))}]")
        else:
            out.append(f"[{int(key)}]")
        pos = match.end()
    return "".join(out)


def split_lines(text: str) -> list[str]:
    """Lines with their endings, as the HCL parser sees them: only `\\n` ends a line."""
    lines = text.split("\n")
    kept = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        kept.append(lines[-1])
    return kept


# --- the last look before writing ------------------------------------------------------------

GENERATED_BLOCKS = frozenset({
    ("resource", "aws_security_group_rule"),
    ("resource", "aws_vpc_security_group_ingress_rule"),
    ("resource", "aws_vpc_security_group_egress_rule"),
    ("ingress",),
    ("egress",),
    ("dynamic",),  # an inline rule naming a counted group, and its content
    ("content",),
})


def block_kinds(body: Body) -> Counter[tuple[str, ...]]:
    """Every block at any depth, as (type,) or (type, first label) for `resource`/`data`."""
    kinds: Counter[tuple[str, ...]] = Counter()
    stack = [body]
    while stack:
        current = stack.pop()
        for block in current.blocks:
            labelled = block.type in ("resource", "data") and block.labels
            kinds[(block.type, block.labels[0]) if labelled else (block.type,)] += 1
            stack.append(block.body)
    return kinds


def verify_generated(before: str | None, after: str, display: str) -> None:
    """Refuse `after` unless it parses and adds only blocks sglint generates."""
    from calico_sglint.terraform.parse import parse_text

    try:
        new = parse_text(after, display)
    except InputError as err:
        raise InputError(
            f"sglint fix generated text that does not parse ({err.message}); nothing was written", display,
        ) from None
    old = block_kinds(parse_text(before, display).body) if before is not None else Counter()
    added = block_kinds(new.body) - old
    foreign = sorted(kind for kind in added if kind not in GENERATED_BLOCKS)
    if foreign or old - block_kinds(new.body):
        what = " ".join(foreign[0]) if foreign else "a block went missing"
        raise InputError(
            f"sglint fix refused its own output: it would add a block it never generates ({what}); "
            "nothing was written", display,
        )
