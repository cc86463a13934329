"""The text report for people: findings first, grouped by root module, each with
`file:line`, the severity, the message and the fix hint; then each distinct profile (and
where each setting came from) with the requirements it switched on and the node groups it
checked, once for every root module that shares it (`verbose`: once per root module).

Lines carry their styling as data (`Line.marks`): only the severity word is coloured."""

from __future__ import annotations

import textwrap
from typing import NamedTuple

from calico_sglint.checks.findings import UNVERIFIED, Finding, summary
from calico_sglint.render.context import ReportContext
from calico_sglint.render.wording import summary_text
from calico_sglint.result import CheckResult, RootResult

MAX_NAMED_ROOTS = 5  # a shared profile block names this many root modules, then counts the rest


class Line(NamedTuple):
    """One line of the text report: its text, a rich style for the whole line, and spans
    `(start, end, style)` styled on their own."""

    text: str
    style: str = ""
    marks: tuple[tuple[int, int, str], ...] = ()


def render(result: CheckResult, context: ReportContext) -> str:
    return "\n".join(line.text for line in report_lines(result)) + "\n"


def wrap(text: str, width: int) -> str:
    """`text` broken at spaces to `width` columns, continuation lines indented four columns
    deeper than the first; a word longer than a line (an address, a path) is never split."""
    if len(text) <= width:
        return text
    indent = " " * (len(text) - len(text.lstrip(" ")) + 4)
    return textwrap.fill(text, width=width, subsequent_indent=indent, break_long_words=False,
                         break_on_hyphens=False, replace_whitespace=False)


def report_lines(result: CheckResult, verbose: bool = False, quiet: bool = False) -> list[Line]:
    """The text report as lines. `quiet`: the findings and the summary only."""
    lines: list[Line] = []
    by_root: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_root.setdefault(finding.root, []).append(finding)
    for root, findings in by_root.items():
        lines.append(Line(root or "(no root module)", "bold underline"))
        for finding in findings:
            lines.extend(finding_lines(finding, hint=not quiet))
        lines.append(Line(""))
    if not quiet:
        for roots in _blocks(result.roots, verbose):
            lines.extend(_root_lines(roots))
    counts = summary(result.findings, len(result.suppressed), result.baselined)
    lines.append(Line(summary_text(counts), "bold red" if counts["error"] else "bold"))
    return lines


def finding_lines(finding: Finding, hint: bool = True) -> list[Line]:
    """`  file:line: severity [rule] message`, with only the severity word coloured, then the
    fix hint."""
    where = f"{finding.location}" if finding.location else finding.root
    label = "unverified" if finding.status == UNVERIFIED else finding.severity
    head = f"  {where}: "
    text = f"{head}{label} [{finding.rule_id}] {finding.message}"
    lines = [Line(text, "", ((len(head), len(head) + len(label), _STYLES[finding.severity]),))]
    if hint and finding.hint:
        lines.append(Line(f"      fix: {finding.hint}", "dim"))
    return lines


_STYLES = {"error": "bold red", "warning": "bold yellow", "info": "bold cyan"}


def _blocks(roots: tuple[RootResult, ...], verbose: bool) -> list[list[RootResult]]:
    """Root modules grouped by profile (settings, their sources, the requirements switched
    on), first-seen order; each root alone when `verbose`."""
    if verbose:
        return [[root] for root in roots]
    groups: dict[tuple[str, ...], list[RootResult]] = {}
    for root in roots:
        groups.setdefault(tuple(line.text for line in _profile_lines(root)), []).append(root)
    return list(groups.values())


def _profile_lines(root: RootResult) -> list[Line]:
    shown = [f"{name}={_value_text(s.value)}" for name, s in root.profile.settings.items()]
    width = max(len(text) for text in shown)
    return [
        Line("  profile:"),
        *(Line(f"    {text:<{width}}  {s.source}" + (f"  {s.detail}" if s.detail else ""),
               "dim" if s.source == "default" else "")
          for text, s in zip(shown, root.profile.settings.values())),
        Line("  requirements: " + (", ".join(_switched_on(root)) or "no path requirements")),
    ]


def _switched_on(root: RootResult) -> list[str]:
    """The requirements the profile switched on: those that checked something, then those that
    checked nothing (listed with why, per root, by `_unchecked_lines`)."""
    return list(dict.fromkeys([*root.requirements, *(rule_id for rule_id, _ in root.not_checked)]))


def _unchecked_lines(roots: list[RootResult]) -> list[Line]:
    """`checked nothing: RULE (why)` for each requirement that checked nothing: once when every
    root of the block says the same, else naming each root. Never hidden: a requirement that
    checked nothing must not read as passed."""
    said = [root.not_checked for root in roots]
    if all(s == said[0] for s in said):
        return [Line(f"  checked nothing: {rule_id} ({why})", "yellow") for rule_id, why in said[0]]
    return [Line(f"  checked nothing in {root.model.root}: {rule_id} ({why})", "yellow")
            for root in roots for rule_id, why in root.not_checked]


def _node_lines(root: RootResult) -> list[Line]:
    nodes = [
        f"{n.group.address}: {'+'.join(sorted(n.roles))} ({n.reason})" for n in root.cluster.nodes
    ] or [root.cluster.note]
    lines = [
        *(Line(f"  cluster {m.name}: {', '.join(m.members)} ({m.reason})") for m in root.cluster.named_clusters()),
        Line("  nodes: " + "; ".join(nodes)),
    ]
    for group, why in root.cluster.excluded:
        lines.append(Line(f"  not a node: {group.address} ({why})", "dim"))
    return lines


def _root_lines(roots: list[RootResult]) -> list[Line]:
    """One profile block for `roots` (which share it), with their node groups when they are
    the same for all (else `--verbose` lists each root's)."""
    names = [r.model.root for r in roots]
    if len(names) == 1:
        heading = f"Root module {names[0]}"
    else:
        listed = ", ".join(names[:MAX_NAMED_ROOTS])
        more = f" and {len(names) - MAX_NAMED_ROOTS} more" if len(names) > MAX_NAMED_ROOTS else ""
        heading = f"Root modules {listed}{more} ({len(names)} with this profile)"
    nodes = [tuple(_node_lines(root)) for root in roots]
    if all(n == nodes[0] for n in nodes):
        shown_nodes = list(nodes[0])
    else:
        shown_nodes = [Line("  nodes: different in each root module (--verbose lists them)", "dim")]
    return [Line(heading, "bold"), *_profile_lines(roots[0]), *_unchecked_lines(roots), *shown_nodes, Line("")]


def _value_text(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)
