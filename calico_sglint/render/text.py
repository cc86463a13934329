"""The text report for people: findings grouped by file, each with `file:line`, the message
and the fix hint, then per root module the profile (and where each setting came from), the
requirements it switched on and the nodes it checked."""

from __future__ import annotations

from calico_sglint.checks.findings import UNVERIFIED, Finding, summary
from calico_sglint.render.context import ReportContext
from calico_sglint.render.wording import summary_text
from calico_sglint.result import CheckResult, RootResult


def render(result: CheckResult, context: ReportContext) -> str:
    return "\n".join(text for text, _ in report_lines(result)) + "\n"


def report_lines(result: CheckResult) -> list[tuple[str, str]]:
    """The text report as (line, style) pairs; style is a rich style or ""."""
    lines: list[tuple[str, str]] = []
    by_file: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_file.setdefault(finding.location.file if finding.location else "", []).append(finding)
    for file, findings in by_file.items():
        lines.append((file or "(no file)", "bold underline"))
        for finding in findings:
            where = f"{finding.location}" if finding.location else finding.root
            label = "unverified" if finding.status == UNVERIFIED else finding.severity
            lines.append((f"  {where}: {label} [{finding.rule_id}] {finding.message}", _STYLES[finding.severity]))
            if finding.hint:
                lines.append((f"      fix: {finding.hint}", "dim"))
        lines.append(("", ""))
    for root in result.roots:
        lines.extend(_root_lines(root))
    counts = summary(result.findings, len(result.suppressed), result.baselined)
    lines.append((summary_text(counts), "bold red" if counts["error"] else "bold"))
    return lines


_STYLES = {"error": "red", "warning": "yellow", "info": "cyan"}


def _root_lines(root: RootResult) -> list[tuple[str, str]]:
    shown = [f"{name}={_value_text(s.value)}" for name, s in root.profile.settings.items()]
    width = max(len(text) for text in shown)
    nodes = [
        f"{n.group.address}: {'+'.join(sorted(n.roles))} ({n.reason})" for n in root.cluster.nodes
    ] or [root.cluster.note]
    lines = [
        (f"Root module {root.model.root}", "bold"),
        ("  profile:", ""),
        *((f"    {text:<{width}}  {s.source}" + (f"  {s.detail}" if s.detail else ""),
           "dim" if s.source == "default" else "")
          for text, s in zip(shown, root.profile.settings.values())),
        ("  checked: " + (", ".join(root.requirements) or "no path requirements"), ""),
        ("  nodes: " + "; ".join(nodes), ""),
    ]
    for group, why in root.cluster.excluded:
        lines.append((f"  not a node: {group.address} ({why})", "dim"))
    lines.append(("", ""))
    return lines


def _value_text(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)
