"""`sglint diff --format github`: annotations on the lines that closed a path (where the
rule that opened it is now, else the group that lost it), warnings where a path became
unverified, annotations on new error-level findings and the new side's input problems, then
the verdict."""

from __future__ import annotations

from calico_sglint.checks.findings import Finding
from calico_sglint.diff.compare import (
    ADDED,
    BECAME_UNVERIFIED,
    CLOSED_CHANGE,
    Comparison,
)
from calico_sglint.diff.run import DiffResult
from calico_sglint.render.context import ReportContext
from calico_sglint.render.difftext import path_detail, path_text, verdict
from calico_sglint.render.github import (
    GITHUB_COMMANDS,
    diagnostic_commands,
    workflow_command,
)
from calico_sglint.source import Location


def render(result: DiffResult, context: ReportContext) -> str:
    """Annotations on the lines that closed a path and on new error-level findings, the
    head's input problems, then the verdict."""
    lines = diagnostic_commands(result.head.diagnostics, context)
    many = len(result.comparison.roots) > 1
    for change in result.comparison.of(CLOSED_CHANGE):
        message = f"this change closes {path_text(change, many)}: {path_detail(change)}"
        title = f"{change.rule_id}: required path closed"
        spots: list[Location | None] = [o.head for o in change.openers if o.head] or [change.location]
        for spot in dict.fromkeys(spots):
            lines.append(workflow_command("error", message, spot, title, context))
    for change in result.comparison.of(BECAME_UNVERIFIED):
        message = f"this change makes {path_text(change, many)} unverified: {path_detail(change)}"
        lines.append(workflow_command("warning", message, change.location, f"{change.rule_id}: path unverified", context))
    path_rules = {c.rule_id for c in result.comparison.paths}
    for finding in result.comparison.new_errors:
        if finding.path is not None and finding.rule_id in path_rules and _is_closed(finding, result.comparison):
            continue  # annotated above
        lines.append(workflow_command("error", f"new in this change: {finding.message}", finding.location,
                                      f"{finding.rule_id}: new error", context))
    for exposure in result.comparison.exposures:
        added = exposure.finding
        if exposure.change == ADDED and added.severity != "error":  # errors are among new_errors
            lines.append(workflow_command(GITHUB_COMMANDS[added.severity], added.message, added.location,
                                          f"{added.rule_id}: new exposure", context))
    lines.append(f"sglint diff: {verdict(result.comparison)}")
    return "\n".join(lines) + "\n"


def _is_closed(finding: Finding, comparison: Comparison) -> bool:
    info = finding.path
    assert info is not None
    return any(
        c.rule_id == finding.rule_id and c.root == finding.root and c.source in info.source_groups
        and c.target in info.target_groups and c.protocol == info.protocol
        and info.from_port <= c.ports[0] and c.ports[1] <= info.to_port  # a finding may list several ranges
        for c in comparison.of(CLOSED_CHANGE)
    )
