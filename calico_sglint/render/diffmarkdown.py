"""`sglint diff --format markdown`: a pull-request comment or job summary. The verdict, a
table of the path changes, the structural changes, and a mermaid graph of the node groups
with the edges this change touched drawn thick (red closed, green opened, orange
unverified)."""

from __future__ import annotations

from collections import defaultdict
from typing import Sequence

from calico_sglint.checks.reachability import OPEN
from calico_sglint.diff.compare import (
    ADDED,
    BECAME_UNVERIFIED,
    CLOSED_CHANGE,
    OPENED,
    REMOVED,
    STILL_MISSING,
    STILL_UNVERIFIED,
    Comparison,
)
from calico_sglint.diff.run import DiffResult, SideResult
from calico_sglint.render.context import ReportContext
from calico_sglint.render.diagram import mermaid_text, node_id
from calico_sglint.render.difftext import (
    HEADINGS,
    SHOWN_IN_TEXT,
    counts_line,
    finding_line,
    path_detail,
    side_notes,
    structural_sections,
    verdict,
)
from calico_sglint.render.markdown import (
    MAX_MARKDOWN_ROWS,
    MAX_MERMAID_EDGES,
    md_code,
    md_escape,
)
from calico_sglint.render.wording import traffic_text
from calico_sglint.result import RootResult

_MARKS = {CLOSED_CHANGE: "🔴 closed", OPENED: "🟢 opened", STILL_MISSING: "⚪ still missing",
          BECAME_UNVERIFIED: "🟠 became unverified", STILL_UNVERIFIED: "still unverified",
          ADDED: "newly required (open)", REMOVED: "no longer required"}


def render(result: DiffResult, context: ReportContext) -> str:
    comparison = result.comparison
    lines = [
        "## calico-sglint diff",
        "",
        f"**{md_escape(verdict(comparison))}**",
        "",
        f"{md_code(result.base.label)} → {md_code(result.head.label)}: {md_escape(counts_line(comparison))}.",
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
    for title, changes in structural_sections(comparison):
        lines += [f"**{title.capitalize()}**", ""]
        lines += [f"- {md_escape(finding_line(c.finding))}" for c in changes[:MAX_MARKDOWN_ROWS]]
        lines.append("")
    graph = diff_mermaid(comparison, result.head.roots)
    if graph:
        lines += ["```mermaid", graph.rstrip("\n"), "```"]
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_notes(side: SideResult, name: str) -> list[str]:
    notes = side_notes(side, name)
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
    "unchanged": ("-->", "stroke:#bbb,stroke-width:1px"),
}


UNCHANGED = "unchanged"


def diff_mermaid(comparison: Comparison, head: Sequence[RootResult] = ()) -> str:
    """The node groups of the changed paths, one edge per (source, target, change): thick
    for closed, opened and became-unverified paths, thin for the rest, and thin grey for the
    paths between those groups that are open on both sides. Empty when no path changed."""
    grouped: dict[tuple[str, str, str, str], list[tuple[str, int, int]]] = defaultdict(list)
    for path in comparison.paths:
        grouped[(path.root, path.source, path.target, path.change)].append((path.protocol, *path.ports))
    if not grouped:
        return ""
    shown = {(root, address) for root, source, target, _ in grouped for address in (source, target)}
    changed = {p.key for p in comparison.paths}
    for head_root in head:
        for required in head_root.paths:
            edge = (head_root.model.root, required.source.group.address, required.target.group.address)
            key = (*edge, required.rule.id, *required.ports)
            if required.state.state == OPEN and {edge[:2], (edge[0], edge[2])} <= shown and _change_key(key) not in changed:
                grouped[(*edge, UNCHANGED)].append((required.protocol, *required.ports))
    ids: dict[tuple[str, str], str] = {}
    lines = ["flowchart LR", "  %% thick: what this change did (red closed, green opened, orange unverified); grey: open before and after"]
    for root, source, target, _ in grouped:
        for address in (source, target):
            if (root, address) not in ids:
                ids[(root, address)] = node_id(f"{root}/{address}", ids.values())
                label = f"{root}: {address}" if len(comparison.roots) > 1 else address
                lines.append(f'  {ids[(root, address)]}["{mermaid_text(label)}"]')
    styles: dict[str, list[str]] = defaultdict(list)
    for index, ((root, source, target, change), traffic) in enumerate(list(grouped.items())[:MAX_MERMAID_EDGES]):
        arrow, _ = _EDGE_STYLE[change]
        names = dict.fromkeys(traffic_text(*t) for t in traffic)
        label = f"{HEADINGS.get(change, 'open')}: " + ", ".join(names)
        lines.append(f'  {ids[(root, source)]} {arrow}|"{mermaid_text(label)}"| {ids[(root, target)]}')
        styles[change].append(str(index))
    for change, indexes in styles.items():
        lines.append(f"  linkStyle {','.join(indexes)} {_EDGE_STYLE[change][1]}")
    return "\n".join(lines) + "\n"


def _change_key(key: tuple[str, str, str, str, int, int]) -> tuple[str, str, str, str, int, int]:
    """(root, source, target, rule, low, high) as `PathChange.key` orders it."""
    root, source, target, rule, low, high = key
    return (root, rule, source, target, low, high)
