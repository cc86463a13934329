"""The output formats of `sglint diff`: one name, one module with a `render(result, context)`.

Modules are imported when used, so the names cost nothing at start-up (`--help`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from calico_sglint.diff.run import DiffResult
    from calico_sglint.render.context import ReportContext

DIFF_FORMATS: dict[str, str] = {
    "text": "calico_sglint.render.difftext",
    "json": "calico_sglint.render.diffjson",
    "markdown": "calico_sglint.render.diffmarkdown",
    "github": "calico_sglint.render.diffgithub",
}
DIFF_FORMAT_NAMES = tuple(DIFF_FORMATS)


def render_diff(output_format: str, result: DiffResult, context: ReportContext) -> str:
    """The whole report of a diff run in one of DIFF_FORMATS, ending with a newline."""
    return import_module(DIFF_FORMATS[output_format]).render(result, context)  # type: ignore[no-any-return]
