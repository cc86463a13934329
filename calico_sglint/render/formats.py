"""The output formats of `sglint check`: one name, one module with a `render(result, context)`.

Adding a format is one entry here plus its module and test; the CLI's `--format`/`--also`
choices and the config file's `format:` values come from this table.
"""

from __future__ import annotations

from typing import Callable

from calico_sglint.render import github, jsonreport, junit, markdown, sarif, text
from calico_sglint.render.context import ReportContext
from calico_sglint.result import CheckResult

Renderer = Callable[[CheckResult, ReportContext], str]

FORMATS: dict[str, Renderer] = {
    "text": text.render,
    "json": jsonreport.render,
    "sarif": sarif.render,
    "github": github.render,
    "junit": junit.render,
    "markdown": markdown.render,
}
CHECK_FORMATS = tuple(FORMATS)


def render(output_format: str, result: CheckResult, context: ReportContext) -> str:
    """The whole report of a check run in one of FORMATS, ending with a newline."""
    return FORMATS[output_format](result, context)
