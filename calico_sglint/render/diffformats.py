"""The output formats of `sglint diff`: one name, one module with a `render(result, context)`."""

from __future__ import annotations

from typing import Callable

from calico_sglint.diff.run import DiffResult
from calico_sglint.render import diffgithub, diffjson, diffmarkdown, difftext
from calico_sglint.render.context import ReportContext

DiffRenderer = Callable[[DiffResult, ReportContext], str]

DIFF_FORMATS: dict[str, DiffRenderer] = {
    "text": difftext.render,
    "json": diffjson.render,
    "markdown": diffmarkdown.render,
    "github": diffgithub.render,
}


def render_diff(output_format: str, result: DiffResult, context: ReportContext) -> str:
    """The whole report of a diff run in one of DIFF_FORMATS, ending with a newline."""
    return DIFF_FORMATS[output_format](result, context)
