"""One line per finding, `file:line: severity [rule] message`, then the summary: the form
compilers, flake8 and `tflint --format compact` print, for editors' problem matchers and grep."""

from __future__ import annotations

from calico_sglint.checks.findings import summary
from calico_sglint.render.context import ReportContext
from calico_sglint.render.text import finding_lines
from calico_sglint.render.wording import summary_text
from calico_sglint.result import CheckResult


def render(result: CheckResult, context: ReportContext) -> str:
    lines = [finding_lines(finding, hint=False)[0].text.strip() for finding in result.findings]
    lines.append(summary_text(summary(result.findings, len(result.suppressed), result.baselined)))
    return "\n".join(lines) + "\n"
