"""GitHub workflow commands (`::error file=...,line=...::...`) that annotate pull requests."""

from __future__ import annotations

from typing import Iterable

from calico_sglint.checks.findings import summary
from calico_sglint.render.context import ReportContext, anchor, repo_path, rule_pages
from calico_sglint.render.wording import summary_text
from calico_sglint.result import CheckResult
from calico_sglint.source import Diagnostic, Location

GITHUB_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file, title), escaped as the runner expects."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(level: str, message: str, location: Location | None, title: str, context: ReportContext) -> str:
    """`::error file=F,line=L,endLine=E,title=T::message`, with what is known."""
    props = []
    if location is not None:
        props.append(f"file={escape_property(repo_path(location.file, context.cwd, context.repo_root))}")
        if location.line >= 1:
            props.append(f"line={location.line}")
            props.append(f"endLine={max(location.end_line, location.line)}")
    props.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def render(result: CheckResult, context: ReportContext) -> str:
    """One annotation per input problem and per finding, then a one-line summary."""
    pages = rule_pages(result)
    lines = diagnostic_commands(result.diagnostics, context)
    for finding in result.findings:
        page = pages.get(finding.rule_id)
        title = f"{finding.rule_id}: {page.title}" if page else finding.rule_id
        message = finding.message + (f"\n\nHow to fix: {finding.hint}" if finding.hint else "")
        lines.append(workflow_command(GITHUB_COMMANDS[finding.severity], message, anchor(finding, result), title, context))
    for root in result.roots:  # a requirement that checked nothing must not read as passed
        if root.not_checked:
            message = "; ".join(f"{rule_id} ({why})" for rule_id, why in root.not_checked)
            lines.append(workflow_command("notice", f"checked nothing in {root.model.root}: {message}", None,
                                          "sglint: requirements that checked nothing", context))
    lines.append(f"sglint: {summary_text(summary(result.findings))}")
    return "\n".join(lines) + "\n"


def diagnostic_commands(diagnostics: Iterable[Diagnostic], context: ReportContext) -> list[str]:
    """One annotation per input problem, errors first."""
    return [
        workflow_command(GITHUB_COMMANDS[d.severity], d.message, d.location,
                         "sglint: input error" if d.severity == "error" else "sglint: input warning", context)
        for d in sorted(diagnostics, key=lambda d: 0 if d.severity == "error" else 1)
    ]
