"""What sglint shows a person at a terminal, apart from the reports themselves: styled and
wrapped text, a progress spinner on stderr, warnings about output files named for another
format, and help that reads finished. Nothing here runs in pipes, CI logs or machine formats; rich is imported
only when a terminal will show it."""

from __future__ import annotations

import os
import sys
from typing import Any, Mapping, NamedTuple

import click
import typer

from calico_sglint.render.formats import CHECK_FORMATS

# The formats a file extension suits, the first named in the warning.
EXTENSIONS = {".txt": ("text", "compact"), ".json": ("json",), ".sarif": ("sarif",), ".xml": ("junit",),
              ".md": ("markdown",)}
GRAPH_EXTENSIONS = {".mmd": ("mermaid",), ".mermaid": ("mermaid",), ".dot": ("dot",), ".gv": ("dot",),
                    ".json": ("json",)}


def output_warning(chosen: str, file: str, formats: Any = CHECK_FORMATS, extensions: Any = None) -> str | None:
    """What looks wrong about writing the `chosen` format to `file`: a file named like a
    format (`-o sarif` writes text to a file called sarif), or an extension of another one."""
    name = os.path.basename(file)
    if name.lower() in formats and name.lower() != chosen:
        return (f"sglint: warning: {file!r} is a file name, not a format: writing the {chosen} report to it "
                f"(for {name.lower()}, use --format {name.lower()} -o FILE)")
    suited = (EXTENSIONS if extensions is None else extensions).get(os.path.splitext(name)[1].lower())
    if suited is not None and chosen not in suited:
        named = suited[0]
        also = f", or --also {named}={file}" if formats is CHECK_FORMATS else ""
        return (f"sglint: warning: {file} has the extension of {named}, but the report written to it is "
                f"{chosen} (add --format {named}{also})")
    return None


class TextOptions(NamedTuple):
    """How to show the text report: every root's block, findings only, colours."""

    verbose: bool = False
    quiet: bool = False
    color: bool = True


def progress(wanted: bool, paths: Any) -> Any:
    """A spinner with the elapsed time on stderr while a long run reads and checks, only on
    a terminal: never in pipes, CI logs (CI set) or machine formats (`wanted` False)."""
    import contextlib

    if not wanted or sys.stderr is None or not sys.stderr.isatty() or os.environ.get("CI"):
        return contextlib.nullcontext()
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    shown = ", ".join(paths) if len(paths) <= 3 else f"{', '.join(paths[:3])} and {len(paths) - 3} more"
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    progress.add_task(f"sglint: reading and checking {shown}", total=None)
    return progress


def print_text(lines: list[Any], color: bool = True) -> None:
    """Styled with rich on a terminal (wrapped at word boundaries, only the severity word
    coloured; no colour with --no-color or NO_COLOR); plain text otherwise, without importing rich."""
    if sys.stdout is None:
        return  # started with stdout closed: nowhere to print, as click does
    if not sys.stdout.isatty():
        sys.stdout.write("".join(line[0] + "\n" for line in lines))
        return
    from rich.console import Console
    from rich.text import Text

    from calico_sglint.render.text import wrap

    console = Console(highlight=False, soft_wrap=True, no_color=not color or None)
    for line in lines:
        text, style, marks = (*line, ())[:3]
        shown = Text(wrap(text, console.width), style=style or "")
        for start, end, mark in marks:
            shown.stylize(mark, start, end)
        console.print(shown)


class HelpCommand(typer.core.TyperCommand):
    """Help that reads finished with typer 0.19 on click 8.2+: arguments keep their help
    (click's Argument now resets it to None), and `[default: x]` / `[required]` lose the
    backslash typer escapes them with for rich even when rich formatting is off."""

    argument_help: Mapping[str, str] = {}  # argument name -> help; a subclass names its own

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, click.Argument) and not getattr(param, "help", None):
                param.help = self.argument_help.get(param.name or "")  # type: ignore[attr-defined]

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        formatter.buffer[:] = [part.replace("\\[", "[") for part in formatter.buffer]

    def format_arguments(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Nothing: typer's own "Arguments" section lists them (click 8.5 would add a second)."""


class HelpGroup(typer.core.TyperGroup):
    """The same for `sglint --help` and `sglint cache --help`."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_help(ctx, formatter)
        formatter.buffer[:] = [part.replace("\\[", "[") for part in formatter.buffer]
