"""Writing entries into a module call: a new key in a literal map, a new first element of a
literal list, or the argument itself when the call does not set it. Every line that was there
stays as it was, except a `number_of_computed_*` count, which grows by the entries added.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict

from calico_sglint.fix.hcl import hcl_string, identifier, split_lines
from calico_sglint.fix.modules import CallEntry, current_value, map_keys
from calico_sglint.render.wording import traffic_text
from calico_sglint.source import InputError
from calico_sglint.terraform.syntax import Block


def entry_key(entry: CallEntry, taken: set[str]) -> str:
    """A map key for `entry` that no other key of the map has."""
    peer = "self" if entry.peer == "itself" else _peer_label(entry.peer, entry.sg_address)
    base = re.sub(r"[^a-z0-9_]+", "_", f"{entry.requirements[0]}_{entry.direction}_{peer}".lower())[:64]
    base = base if re.match(r"[a-z_]", base) else f"r_{base}"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    taken.add(key)
    return identifier(key, None, "key")


def _peer_label(peer: str, own: str) -> str:
    """`cluster_0` for a group of the same module instance, `eks_b_cluster_0` for another's."""
    prefix = own.rsplit(".aws_security_group.", 1)[0] + "." if ".aws_security_group." in own else ""
    local = peer[len(prefix):] if prefix and peer.startswith(prefix) else peer
    return re.sub(r"[^A-Za-z0-9_]+", "_", re.sub(r"(^|\.)(module|aws_security_group)\.", r"\1", local)).strip("_")


def entry_fields(entry: CallEntry) -> list[tuple[str, str]]:
    low, high = (entry.from_port, entry.to_port) if entry.protocol in ("tcp", "udp") else (0, 0)
    protocol = "-1" if entry.protocol == "all" else entry.protocol
    return [
        ("description", hcl_string("calico-sglint: " + "; ".join(entry.titles))),
        ("protocol", hcl_string(protocol)),
        ("from_port", str(low)),
        ("to_port", str(high)),
        *entry.fields,
    ]


def entry_object(entry: CallEntry, indent: str) -> list[str]:
    """`{ ... }` lines for one entry, its fields aligned like terraform fmt aligns them."""
    fields = entry_fields(entry)
    width = max(len(k) for k, _ in fields)
    return [f"{indent}  {k.ljust(width)} = {v}" for k, v in fields] + [f"{indent}}}"]


def describe(entry: CallEntry, key: str | None) -> str:
    where = f'{entry.input}["{key}"]' if key else f"{entry.input}[+]"
    preposition = "from" if entry.direction == "ingress" else "to"
    traffic = traffic_text(entry.protocol, entry.from_port, entry.to_port)
    return f"module.{entry.site.call.name} {where}: {entry.direction} {traffic} on {entry.sg_address} {preposition} {entry.peer}"


def apply_entries(text: str, entries: list[CallEntry], display: str) -> tuple[str, list[str]]:
    """`text` with every entry written into its call; and one summary line per entry."""
    lines = split_lines(text)
    newline = "\r\n" if "\r\n" in text else "\n"
    edits: list[tuple[int, int, list[str]]] = []  # (line index, lines replaced, new lines)
    added: list[str] = []
    by_input: dict[tuple[int, str], list[CallEntry]] = defaultdict(list)
    for entry in entries:
        by_input[(entry.site.block.line, entry.input)].append(entry)
    for (_, name), group in sorted(by_input.items()):
        block = group[0].site.block
        kind, attribute = current_value(block, name)
        indent = _indent(lines[block.line - 1]) + "  "
        taken = map_keys(attribute)
        if kind == "absent":
            if block.line == block.end_line or not _closes(lines[block.end_line - 1], "}"):
                raise InputError(
                    f"cannot add {name} to module.{group[0].site.call.name}: its closing brace is not on a line "
                    "of its own", display, block.line,
                )
            body, summary = _entries_body(group, indent, taken)
            opening = "{" if group[0].shape == "map" else "["
            closing = "}" if group[0].shape == "map" else "]"
            new = ([""] if not lines[block.end_line - 2].rstrip().endswith("{") else []) + [
                f"{indent}{name} = {opening}", *body, f"{indent}{closing}"]
            edits.append((block.end_line - 1, 0, new))
        elif attribute is not None and kind in ("map", "list"):
            edit, summary = _into_literal(lines, attribute.line, attribute.end_line, kind, group, taken, display)
            edits.append(edit)
        else:
            raise InputError(f"module.{group[0].site.call.name}: cannot extend {name}", display, block.line)
        added.extend(summary)
        counts = [e.count_input for e in group if e.count_input]
        if counts:
            edits.append(_count_edit(lines, block, counts[0], len(counts), indent, display))
    for index, replaced, new in sorted(edits, key=lambda e: -e[0]):
        lines[index:index + replaced] = [line + newline for line in new]
    return "".join(lines), added


def layout_problem(entry: CallEntry) -> str | None:
    """Why `entry` cannot be written into its call as the file is laid out, or None."""
    path = os.path.join(entry.site.module.path, os.path.basename(entry.site.file.path))
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None  # writing reports it, with the file
    try:
        apply_entries(text, [entry], entry.site.file.path)
    except InputError as err:
        return f"{err}"
    return None


def _entries_body(group: list[CallEntry], indent: str, taken: set[str]) -> tuple[list[str], list[str]]:
    body, summary = [], []
    for number, entry in enumerate(group):
        if entry.shape == "map":
            key = entry_key(entry, taken)
            body += ([""] if number else []) + [f"{indent}  {key} = {{", *entry_object(entry, indent + "  ")]
            summary.append(describe(entry, key))
        else:
            object_lines = entry_object(entry, indent + "  ")
            body += [f"{indent}  {{", *object_lines[:-1], object_lines[-1] + ","]
            summary.append(describe(entry, None))
    return body, summary


def _into_literal(
    lines: list[str], first: int, last: int, kind: str, group: list[CallEntry], taken: set[str], display: str,
) -> tuple[tuple[int, int, list[str]], list[str]]:
    opening_line = lines[first - 1].rstrip("\r\n")
    closing_line = lines[last - 1].rstrip("\r\n")
    indent = _indent(opening_line)
    taken_before = set(taken)
    body, summary = _entries_body(group, indent, taken)
    empty = "{}" if kind == "map" else "[]"
    if first == last and opening_line.rstrip().endswith(empty):
        # one line stays one line: opening it would make terraform fmt re-align the lines around it
        head = opening_line.rstrip()[:-2]
        return (first - 1, 1, [head + _one_line(group, kind, taken_before)]), summary
    if kind == "map" and _closes(closing_line, "}"):
        previous = lines[last - 2].rstrip()
        return (last - 1, 0, ([] if previous.endswith("{") else [""]) + body), summary
    if kind == "list" and re.search(r"\[\s*(#.*|//.*)?$", opening_line):
        return (first, 0, body), summary
    raise InputError(
        "cannot add an entry: the value does not have one item per line and its closing bracket on a line of its own",
        display, first,
    )


def _one_line(group: list[CallEntry], kind: str, taken: set[str]) -> str:
    """`{ key = { a = 1, b = 2 } }` or `[{ a = 1, b = 2 }]`: the entries on one line."""
    objects = ["{ " + ", ".join(f"{k} = {v}" for k, v in entry_fields(e)) + " }" for e in group]
    if kind == "list":
        return "[" + ", ".join(objects) + "]"
    return "{ " + ", ".join(f"{entry_key(e, taken)} = {o}" for e, o in zip(group, objects)) + " }"


def _count_edit(lines: list[str], block: Block, name: str, extra: int, indent: str, display: str) -> tuple[int, int, list[str]]:
    kind, attribute = current_value(block, name)
    if kind == "absent":
        return block.end_line - 1, 0, [f"{indent}{name} = {extra}"]
    if kind != "number" or attribute is None or attribute.line != attribute.end_line:
        raise InputError(f"{name} is not a literal number; raise it by {extra} by hand", display, block.line)
    line = lines[attribute.line - 1].rstrip("\r\n")
    updated = re.sub(r"=(\s*)([0-9]+)", lambda m: f"={m[1]}{int(m[2]) + extra}", line, count=1)
    return attribute.line - 1, 1, [updated]


def _closes(line: str, bracket: str) -> bool:
    """The line is `bracket` alone, or followed by a comment only."""
    return re.match(r"\s*" + re.escape(bracket) + r"\s*(#.*|//.*)?$", line.rstrip("\r\n")) is not None


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip(" \t"))]
