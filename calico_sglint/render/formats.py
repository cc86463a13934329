"""The output formats of `sglint check`, `sglint diff` and `sglint graph`: one table each,
name -> the function that renders it ("module" for its `render`, or "module:function").

Adding a format is one entry here plus its module and test; the CLI's `--format`/`--also`
choices and the config file's `format:` values come from these tables. Modules are imported
when used, so the names cost nothing at start-up (`--help`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from calico_sglint.render.context import ReportContext
    from calico_sglint.result import CheckResult

FORMATS: dict[str, str] = {  # render(result: CheckResult, context) -> str
    "text": "calico_sglint.render.text",
    "compact": "calico_sglint.render.compact",
    "json": "calico_sglint.render.jsonreport",
    "sarif": "calico_sglint.render.sarif",
    "github": "calico_sglint.render.github",
    "junit": "calico_sglint.render.junit",
    "markdown": "calico_sglint.render.markdown",
}
CHECK_FORMATS = tuple(FORMATS)

DIFF_FORMATS: dict[str, str] = {  # render(result: DiffResult, context) -> str
    "text": "calico_sglint.render.difftext",
    "json": "calico_sglint.render.diffjson",
    "markdown": "calico_sglint.render.diffmarkdown",
    "github": "calico_sglint.render.diffgithub",
}
DIFF_FORMAT_NAMES = tuple(DIFF_FORMATS)

GRAPH_FORMATS: dict[str, str] = {  # function(graphs: list[RootGraph]) -> str
    "mermaid": "calico_sglint.render.diagram:mermaid",
    "dot": "calico_sglint.render.diagram:dot",
    "json": "calico_sglint.render.diagram:json_text",
}
GRAPH_FORMAT_NAMES = tuple(GRAPH_FORMATS)


def renderer(table: dict[str, str], name: str) -> Callable[..., str]:
    """The function `table` names for the format `name`, its module imported now."""
    module, _, function = table[name].partition(":")
    found: Any = getattr(import_module(module), function or "render")
    return found  # type: ignore[no-any-return]


def render(output_format: str, result: CheckResult, context: ReportContext) -> str:
    """The whole report of a check run in one of FORMATS, ending with a newline."""
    return renderer(FORMATS, output_format)(result, context)
