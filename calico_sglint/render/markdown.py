"""Markdown for job summaries: counts, the findings table, and per root module the profile,
the nodes and the mermaid graph."""

from __future__ import annotations

import re

from calico_sglint.checks.findings import UNVERIFIED, Finding, summary
from calico_sglint.render.context import ReportContext, anchor, shown
from calico_sglint.render.diagram import mermaid, root_graph
from calico_sglint.render.wording import count_text, summary_text
from calico_sglint.result import CheckResult, RootResult
from calico_sglint.source import Diagnostic

MAX_MARKDOWN_ROWS = 200
MAX_SUMMARY_BYTES = 1_000_000  # GitHub refuses a step summary over 1 MiB (1,048,576 bytes)
_SUMMARY_RESERVE = 400  # room for the line that counts the root modules left out
MAX_MERMAID_CHARS = 40_000  # GitHub's mermaid refuses diagrams above 50,000 characters
MAX_MERMAID_EDGES = 400  # ... and above 500 edges


def md_escape(text: str) -> str:
    """Inline Markdown text that renders as written, also inside a table cell."""
    text = " ".join(text.split())
    text = re.sub(r"([\\`*\[\]|~])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)  # intraword _ is never emphasis
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_code(text: str) -> str:
    """A code span safe inside a table cell."""
    text = " ".join(text.split()).replace("|", "\\|")
    if "`" not in text:
        return f"`{text}`"
    return f"`` {text} ``"


def render(result: CheckResult, context: ReportContext, limit: int = MAX_SUMMARY_BYTES) -> str:
    """A job summary: counts, the findings table, how to fix them, and per root module the
    profile, the nodes and the mermaid graph of the required paths; at most `limit` bytes of
    UTF-8 (GitHub refuses a step summary over 1 MiB), root sections that do not fit counted."""
    findings = result.findings
    roots = ", ".join(md_code(r.model.root) for r in result.roots) or "none"
    lines = [
        "## calico-sglint",
        "",
        f"**{summary_text(summary(findings))}** in {count_text(len(result.roots), 'root module')} ({roots}).",
        "",
    ]
    lines += _markdown_diagnostics(result.diagnostics, context)
    if findings:
        lines += _markdown_table(findings, result, context)
    else:
        lines += ["No findings: every required path is open and nothing is exposed.", ""]
    size = len("\n".join(lines).encode("utf-8")) + _SUMMARY_RESERVE
    for index, root in enumerate(result.roots):
        section = _markdown_root(root, result)
        grown = size + len("\n".join(section).encode("utf-8")) + 1
        if grown > limit:
            left = len(result.roots) - index
            lines += [f"… and {count_text(left, 'more root module')} not shown: GitHub limits a job summary to "
                      "1 MiB. The SARIF report and `sglint check` have every finding; `sglint graph` draws them.", ""]
            break
        lines += section
        size = grown
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_diagnostics(diagnostics: tuple[Diagnostic, ...], context: ReportContext) -> list[str]:
    if not diagnostics:
        return []
    lines = ["### Input problems", ""]
    for d in sorted(diagnostics, key=lambda d: 0 if d.severity == "error" else 1):
        where = f"{md_code(shown(d.location, context))} " if d.location else ""
        lines.append(f"- {d.severity}: {where}{md_escape(d.message)}")
    return lines + [""]


def _markdown_table(findings: list[Finding], result: CheckResult, context: ReportContext) -> list[str]:
    lines = ["| Severity | Rule | Location | Message |", "|---|---|---|---|"]
    rows = findings[:MAX_MARKDOWN_ROWS]
    for finding in rows:
        label = "unverified" if finding.status == UNVERIFIED else finding.severity
        where = anchor(finding, result)
        location = md_code(shown(where, context)) if where else md_escape(finding.root)
        lines.append(f"| {label} | {md_code(finding.rule_id)} | {location} | {md_escape(finding.message)} |")
    if len(findings) > len(rows):
        lines.append(f"\n… and {len(findings) - len(rows)} more: see the annotations or the SARIF report.")
    hints = [f for f in rows if f.hint]
    if hints:
        lines += ["", "<details><summary>How to fix</summary>", ""]
        for finding in hints:
            where = anchor(finding, result)
            at = f"{md_code(shown(where, context))} " if where else ""
            lines.append(f"- {at}{md_code(finding.rule_id)}: {md_escape(finding.hint)}")
        lines += ["", "</details>"]
    return lines + [""]


def _markdown_root(root: RootResult, result: CheckResult) -> list[str]:
    settings = []
    for name, setting in root.profile.settings.items():
        value = setting.value
        shown = ("on" if value else "off") if isinstance(value, bool) else str(value)
        settings.append(f"{name} {md_code(shown)} ({md_escape(setting.source)})")
    checked = ", ".join(md_code(r) for r in root.requirements) or "no path requirements"
    nodes = "; ".join(
        f"{md_code(n.group.address)} ({md_escape('+'.join(sorted(n.roles)))})" for n in root.cluster.nodes
    ) or md_escape(root.cluster.note)
    lines = [
        f"### {md_code(root.model.root)}",
        "",
        f"- **Profile:** {', '.join(settings)}",
        f"- **Checked:** {checked}",
        *(f"- **Checked nothing:** {md_code(rule_id)} ({md_escape(why)})" for rule_id, why in root.not_checked),
        *(f"- **Cluster {md_code(m.name)}:** {', '.join(md_code(a) for a in m.members)} ({md_escape(m.reason)})"
          for m in root.cluster.named_clusters()),
        f"- **Nodes:** {nodes}",
        "",
    ]
    graph = root_graph(root)
    text = mermaid([graph])
    if len(text) > MAX_MERMAID_CHARS or len(graph.edges) > MAX_MERMAID_EDGES:
        return lines + [f"The graph has {len(graph.edges)} edges, too many to draw here: run `sglint graph`.", ""]
    return lines + ["```mermaid", text.rstrip("\n"), "```", ""]
