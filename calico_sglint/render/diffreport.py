"""Reports of `sglint diff`: text, json, markdown and github, from one `DiffResult`.

Text is what a reviewer reads in ten seconds: the verdict first, then closed, opened, still
missing and unverified paths, exposures, cycles and other new or fixed findings, each one
line. JSON follows docs/diff.schema.json (versioned). Markdown is a pull-request comment or
job summary: the verdict, a table of the path changes, the structural changes, and a mermaid
graph of the node groups with the changed edges highlighted. GitHub annotations go on the
lines that closed a path (the rule that opened it, where it is now) and on new error-level
findings. What sglint could not read on either side is said in every format.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Iterable

from calico_sglint import __version__
from calico_sglint.checks.findings import Finding
from calico_sglint.diff.compare import (
    ADDED,
    BECAME_UNVERIFIED,
    CHANGES,
    CLOSED_CHANGE,
    OPENED,
    REMOVED,
    STILL_MISSING,
    STILL_UNVERIFIED,
    Comparison,
    FindingChange,
    PathChange,
)
from calico_sglint.diff.run import DiffResult, SideResult
from calico_sglint.render.diagram import mermaid_text, node_id
from calico_sglint.render.context import ReportContext
from calico_sglint.render.github import GITHUB_COMMANDS, workflow_command
from calico_sglint.render.jsonreport import finding_json
from calico_sglint.render.markdown import MAX_MARKDOWN_ROWS, MAX_MERMAID_EDGES, md_code, md_escape
from calico_sglint.render.wording import traffic_text
from calico_sglint.source import Diagnostic, diagnostic_lines

DIFF_FORMATS = ("text", "json", "markdown", "github")
DIFF_SCHEMA_VERSION = 1
HEADINGS = {
    CLOSED_CHANGE: "closed", OPENED: "opened", STILL_MISSING: "still missing",
    BECAME_UNVERIFIED: "became unverified", STILL_UNVERIFIED: "still unverified",
    ADDED: "newly required, open", REMOVED: "no longer required",
}
SHOWN_IN_TEXT = (CLOSED_CHANGE, OPENED, STILL_MISSING, BECAME_UNVERIFIED)  # the rest: counts only


def render_diff(output_format: str, result: DiffResult, context: ReportContext) -> str:
    """The whole report in one of DIFF_FORMATS, ending with a newline."""
    if output_format == "json":
        return json.dumps(diff_json(result), indent=2) + "\n"
    if output_format == "markdown":
        return diff_markdown(result)
    if output_format == "github":
        return diff_github(result, context)
    return "\n".join(diff_lines(result)) + "\n"


def verdict(comparison: Comparison) -> str:
    """One sentence: does the change break something, and what."""
    closed, errors = len(comparison.of(CLOSED_CHANGE)), len(comparison.new_errors)
    if closed:
        return f"FAIL: this change closes {_count(closed, 'required path')}" + (
            f" and adds {_count(errors, 'error-level finding')}" if errors else ""
        )
    if errors:
        return f"FAIL: this change adds {_count(errors, 'error-level finding')}"
    if not (comparison.paths or comparison.exposures or comparison.cycles or comparison.findings):
        return "OK: nothing sglint checks changed"
    return "OK: this change closes no required path and adds no error-level finding"


def path_text(change: PathChange, many_roots: bool) -> str:
    where = f"{change.root}: " if many_roots else ""
    return f"{where}{change.source} -> {change.target} {traffic_text(change.protocol, *change.ports)} [{change.rule_id}]"


def path_detail(change: PathChange) -> str:
    """Why, in a few words: the side now missing and the rules that opened it before."""
    parts = []
    if change.missing and change.head != "open":
        side = {"ingress": f"ingress on {change.target_sg}", "egress": f"egress on {change.source_sg}",
                "both": f"ingress on {change.target_sg} and egress on {change.source_sg}"}[change.missing]
        parts.append(f"{'not proven' if change.head == 'unverified' else 'missing'}: {side}"
                     + (f" ({change.location})" if change.location else ""))
    for opener in change.openers:
        now = f"now at {opener.head}" if opener.head else "removed"
        parts.append(f"was opened by {opener.address} ({opener.base}, {now})")
    if change.unknowns:
        parts.append("depends on " + ", ".join(change.unknowns[:3]))
    if change.base is None and change.change != ADDED:
        parts.append("newly required")
    return "; ".join(parts)


def diff_lines(result: DiffResult) -> list[str]:
    """The text report."""
    comparison = result.comparison
    many = len(comparison.roots) > 1
    lines = [f"sglint diff: {result.base.label} -> {result.head.label}", verdict(comparison)]
    lines += _side_notes(result.base, "base") + _side_notes(result.head, "head")
    for change in SHOWN_IN_TEXT:
        paths = comparison.of(change)
        if not paths:
            continue
        lines += ["", f"{HEADINGS[change]} ({len(paths)}):"]
        for path in paths:
            lines.append(f"  {path_text(path, many)}")
            detail = path_detail(path)
            if detail:
                lines.append(f"      {detail}")
    for title, changes in _structural_sections(comparison):
        lines += ["", f"{title} ({len(changes)}):"]
        lines += [f"  {_finding_line(c.finding)}" for c in changes]
    lines += ["", _counts_line(comparison)]
    return lines


def _structural_sections(comparison: Comparison) -> list[tuple[str, list[FindingChange]]]:
    sections = [
        ("exposures added", [c for c in comparison.exposures if c.change == ADDED]),
        ("exposures removed", [c for c in comparison.exposures if c.change == REMOVED]),
        ("cycles introduced", [c for c in comparison.cycles if c.change == ADDED]),
        ("cycles removed", [c for c in comparison.cycles if c.change == REMOVED]),
        ("new findings", [c for c in comparison.findings if c.change == ADDED]),
        ("fixed findings", [c for c in comparison.findings if c.change == REMOVED]),
    ]
    return [(title, changes) for title, changes in sections if changes]


def _finding_line(finding: Finding) -> str:
    where = f"{finding.location}: " if finding.location else ""
    return f"{where}{finding.severity}: {finding.message} [{finding.rule_id}]"


def _side_notes(side: SideResult, name: str) -> list[str]:
    """What sglint could not read on a side: the comparison is only as good as that side."""
    if not side.diagnostics:
        return []
    errors = [d for d in side.diagnostics if d.severity == "error"]
    lead = (f"note: the {name} ({side.label}) could not be read completely; paths there may be "
            "reported as changed" if errors else f"note: warnings on the {name} ({side.label}):")
    return [lead, *(f"  {line}" for line in diagnostic_lines(side.diagnostics))]


def _counts_line(comparison: Comparison) -> str:
    counts = summary_counts(comparison)
    shown = [f"{counts[c]} {HEADINGS[c]}" for c in CHANGES if counts[c]]
    roots = _count(len(comparison.roots), "root module")
    return f"{roots} compared" + (f": {', '.join(shown)}" if shown else "; no required path changed")


def summary_counts(comparison: Comparison) -> dict[str, int]:
    counts = {change: len(comparison.of(change)) for change in CHANGES}
    counts["exposures-added"] = sum(c.change == ADDED for c in comparison.exposures)
    counts["exposures-removed"] = sum(c.change == REMOVED for c in comparison.exposures)
    counts["cycles-introduced"] = sum(c.change == ADDED for c in comparison.cycles)
    counts["cycles-removed"] = sum(c.change == REMOVED for c in comparison.cycles)
    counts["findings-added"] = sum(c.change == ADDED for c in comparison.findings)
    counts["findings-removed"] = sum(c.change == REMOVED for c in comparison.findings)
    counts["new-errors"] = len(comparison.new_errors)
    return counts


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- JSON --------------------------------------------------------------------------------


def diff_json(result: DiffResult) -> dict[str, Any]:
    comparison = result.comparison
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "tool": {"name": "calico-sglint", "version": __version__},
        "base": _side_json(result.base),
        "head": _side_json(result.head),
        "fails": comparison.fails,
        "verdict": verdict(comparison),
        "changed_files": list(result.changed),
        "roots": list(comparison.roots),
        "renames": [{"from": old, "to": new} for old, new in comparison.renames.pairs],
        "summary": summary_counts(comparison),
        "paths": [path_json(p) for p in comparison.paths],
        "exposures": [_change_json(c) for c in comparison.exposures],
        "cycles": [_change_json(c) for c in comparison.cycles],
        "findings": [_change_json(c) for c in comparison.findings],
        "new_errors": [finding_json(f) for f in comparison.new_errors],
    }


def path_json(change: PathChange) -> dict[str, Any]:
    return {
        "root": change.root,
        "rule_id": change.rule_id,
        "severity": change.severity,
        "change": change.change,
        "base": change.base,
        "head": change.head,
        "source_node_group": change.source,
        "target_node_group": change.target,
        "protocol": change.protocol,
        "from_port": change.ports[0],
        "to_port": change.ports[1],
        "source_sg": change.source_sg,
        "target_sg": change.target_sg,
        "missing": change.missing,
        "location": change.location.to_json() if change.location else None,
        "opened_by": [
            {"address": o.address, "direction": o.direction, "base_location": o.base.to_json(),
             "head_location": o.head.to_json() if o.head else None}
            for o in change.openers
        ],
        "unknowns": list(change.unknowns),
    }


def _side_json(side: SideResult) -> dict[str, Any]:
    return {"label": side.label, "files_from_git": side.from_git, "diagnostics": [d.to_json() for d in side.diagnostics]}


def _change_json(change: FindingChange) -> dict[str, Any]:
    return {"change": change.change, "finding": finding_json(change.finding)}


# --- GitHub annotations ------------------------------------------------------------------


def diff_github(result: DiffResult, context: ReportContext) -> str:
    """Annotations on the lines that closed a path and on new error-level findings, the
    head's input problems, then the verdict."""
    lines = [_diagnostic_command(d, context) for d in result.head.diagnostics]
    many = len(result.comparison.roots) > 1
    for change in result.comparison.of(CLOSED_CHANGE):
        message = f"this change closes {path_text(change, many)}: {path_detail(change)}"
        title = f"{change.rule_id}: required path closed"
        spots = [o.head for o in change.openers if o.head] or [change.location]
        for spot in dict.fromkeys(spots):
            lines.append(workflow_command("error", message, spot, title, context))
    path_rules = {c.rule_id for c in result.comparison.paths}
    for finding in result.comparison.new_errors:
        if finding.path is not None and finding.rule_id in path_rules and _is_closed(finding, result.comparison):
            continue  # annotated above
        lines.append(workflow_command("error", f"new in this change: {finding.message}", finding.location,
                                      f"{finding.rule_id}: new error", context))
    for change in result.comparison.exposures:
        if change.change == ADDED and change.finding.severity != "error":
            lines.append(workflow_command(GITHUB_COMMANDS[change.finding.severity], change.finding.message,
                                          change.finding.location, f"{change.finding.rule_id}: new exposure", context))
    lines.append(f"sglint diff: {verdict(result.comparison)}")
    return "\n".join(lines) + "\n"


def _is_closed(finding: Finding, comparison: Comparison) -> bool:
    info = finding.path
    assert info is not None
    return any(
        c.rule_id == finding.rule_id and c.root == finding.root and c.source in info.source_groups
        and c.target in info.target_groups and c.ports == (info.from_port, info.to_port)
        for c in comparison.of(CLOSED_CHANGE)
    )


def _diagnostic_command(diagnostic: Diagnostic, context: ReportContext) -> str:
    title = "sglint: input error" if diagnostic.severity == "error" else "sglint: input warning"
    return workflow_command(GITHUB_COMMANDS[diagnostic.severity], diagnostic.message, diagnostic.location, title, context)


# --- Markdown ----------------------------------------------------------------------------

_MARKS = {CLOSED_CHANGE: "🔴 closed", OPENED: "🟢 opened", STILL_MISSING: "⚪ still missing",
          BECAME_UNVERIFIED: "🟠 became unverified", STILL_UNVERIFIED: "still unverified",
          ADDED: "newly required (open)", REMOVED: "no longer required"}


def diff_markdown(result: DiffResult) -> str:
    comparison = result.comparison
    lines = [
        "## calico-sglint diff",
        "",
        f"**{md_escape(verdict(comparison))}**",
        "",
        f"{md_code(result.base.label)} → {md_code(result.head.label)}: {md_escape(_counts_line(comparison))}.",
        "",
    ]
    lines += _markdown_notes(result.base, "base") + _markdown_notes(result.head, "head")
    shown = [p for p in comparison.paths if p.change in SHOWN_IN_TEXT]
    if shown:
        lines += ["| Change | Rule | From | To | Traffic | Details |", "|---|---|---|---|---|---|"]
        many = len(comparison.roots) > 1
        for path in shown[:MAX_MARKDOWN_ROWS]:
            source = f"{path.root}: {path.source}" if many else path.source
            lines.append(
                f"| {_MARKS[path.change]} | {md_code(path.rule_id)} | {md_code(source)} | {md_code(path.target)} "
                f"| {md_escape(traffic_text(path.protocol, *path.ports))} | {md_escape(path_detail(path))} |"
            )
        if len(shown) > MAX_MARKDOWN_ROWS:
            lines.append(f"\n{len(shown) - MAX_MARKDOWN_ROWS} more path changes: see `sglint diff --format json`.")
        lines.append("")
    for title, changes in _structural_sections(comparison):
        lines += [f"**{title.capitalize()}**", ""]
        lines += [f"- {md_escape(_finding_line(c.finding))}" for c in changes[:MAX_MARKDOWN_ROWS]]
        lines.append("")
    graph = diff_mermaid(comparison)
    if graph:
        lines += ["```mermaid", graph.rstrip("\n"), "```"]
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_notes(side: SideResult, name: str) -> list[str]:
    notes = _side_notes(side, name)
    if not notes:
        return []
    return [f"> {md_escape(notes[0])}", ">", *(f"> - {md_escape(n.strip())}" for n in notes[1:]), ""]


_EDGE_STYLE = {
    CLOSED_CHANGE: ("-.->", "stroke:#d00,stroke-width:4px,stroke-dasharray:6 4"),
    OPENED: ("==>", "stroke:#2a2,stroke-width:4px"),
    BECAME_UNVERIFIED: ("-.->", "stroke:#d80,stroke-width:3px,stroke-dasharray:2 4"),
    STILL_MISSING: ("-.->", "stroke:#d00,stroke-width:1px,stroke-dasharray:5 5"),
    STILL_UNVERIFIED: ("-.->", "stroke:#d80,stroke-width:1px,stroke-dasharray:2 4"),
    ADDED: ("-->", "stroke:#2a2,stroke-width:1px"),
    REMOVED: ("-.->", "stroke:#999,stroke-width:1px,stroke-dasharray:3 3"),
}


def diff_mermaid(comparison: Comparison) -> str:
    """The node groups of the changed paths; one edge per (source, target, change), thick
    for closed, opened and became-unverified ones. Empty when no path changed."""
    grouped: dict[tuple[str, str, str, str], list[PathChange]] = defaultdict(list)
    for path in comparison.paths:
        grouped[(path.root, path.source, path.target, path.change)].append(path)
    if not grouped:
        return ""
    ids: dict[tuple[str, str], str] = {}
    lines = ["flowchart LR", "  %% thick: changed by this change (red closed, green opened, orange unverified); thin: unchanged"]
    for root, source, target, _ in grouped:
        for address in (source, target):
            if (root, address) not in ids:
                ids[(root, address)] = node_id(f"{root}/{address}", ids.values())
                label = f"{root}: {address}" if len(comparison.roots) > 1 else address
                lines.append(f'  {ids[(root, address)]}["{mermaid_text(label)}"]')
    styles: dict[str, list[str]] = defaultdict(list)
    for index, ((root, source, target, change), paths) in enumerate(list(grouped.items())[:MAX_MERMAID_EDGES]):
        arrow, _ = _EDGE_STYLE[change]
        label = f"{HEADINGS[change]}: " + ", ".join(_traffic_labels(paths))
        lines.append(f'  {ids[(root, source)]} {arrow}|"{mermaid_text(label)}"| {ids[(root, target)]}')
        styles[change].append(str(index))
    for change, indexes in styles.items():
        lines.append(f"  linkStyle {','.join(indexes)} {_EDGE_STYLE[change][1]}")
    return "\n".join(lines) + "\n"


def _traffic_labels(paths: Iterable[PathChange]) -> list[str]:
    return list(dict.fromkeys(traffic_text(p.protocol, *p.ports) for p in paths))
