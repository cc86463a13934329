"""The output formats of `sglint check`: one name, one module with a `render(result, context)`.

Adding a format is one entry here plus its module and test; the CLI's `--format`/`--also`
choices and the config file's `format:` values come from this table. Modules are imported
when used, so the names cost nothing at start-up.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calico_sglint.render.context import ReportContext
    from calico_sglint.result import CheckResult

FORMATS: dict[str, str] = {
    "text": "calico_sglint.render.text",
    "compact": "calico_sglint.render.compact",
    "json": "calico_sglint.render.jsonreport",
    "sarif": "calico_sglint.render.sarif",
    "github": "calico_sglint.render.github",
    "junit": "calico_sglint.render.junit",
    "markdown": "calico_sglint.render.markdown",
}
CHECK_FORMATS = tuple(FORMATS)


def render(output_format: str, result: CheckResult, context: ReportContext) -> str:
    """The whole report of a check run in one of FORMATS, ending with a newline."""
    return import_module(FORMATS[output_format]).render(result, context)  # type: ignore[no-any-return]
