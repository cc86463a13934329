"""The `sglint` command. Thin: parse flags, call the pipeline, print, choose the exit code.

Exit codes: 0 nothing at or above the fail level, 1 findings, 2 usage, input or config error.
Heavy modules are imported inside the commands so `sglint --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import List, Optional

import typer

from calico_sglint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

app = typer.Typer(
    name="sglint",
    help=(
        "Lint Terraform AWS security groups for the paths a Calico Kubernetes cluster needs.\n\n"
        "Examples:\n\n"
        "  sglint show examples/typha-blocked\n\n"
        "  sglint show infra/ --var-file prod.tfvars --format json"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PathsArg = typer.Argument(
    None, help="Directories (walked recursively) or files (their module is read). Default: .",
    show_default=False,
)
VarFileOpt = typer.Option(
    None, "--var-file", help="A .tfvars file with values for root-module variables (repeatable).",
    show_default=False,
)
VarOpt = typer.Option(
    None, "--var", help="NAME=VALUE for a root-module variable (repeatable); beats --var-file.",
    show_default=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"sglint {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Lint Terraform AWS security groups for the paths a Calico cluster needs."""


def _read(paths: Optional[List[str]], var_files: Optional[List[str]], variables: Optional[List[str]]):  # type: ignore[no-untyped-def]
    from calico_sglint.pipeline import ReadOptions, read

    options = ReadOptions(
        paths=tuple(paths or ["."]),
        var_files=tuple(var_files or ()),
        vars=tuple(variables or ()),
        env=dict(os.environ),
    )
    return read(options)


def _print_diagnostics(diagnostics) -> None:  # type: ignore[no-untyped-def]
    from calico_sglint.pipeline import errors_first

    for diagnostic in errors_first(diagnostics):
        where = f"{diagnostic.location}: " if diagnostic.location else "sglint: "
        label = "" if diagnostic.severity == "error" else "warning: "
        typer.echo(f"{where}{label}{diagnostic.message}", err=True)


@app.command()
def show(
    paths: Optional[List[str]] = PathsArg,
    output_format: str = typer.Option("text", "--format", "-f", help="text or json."),
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
) -> None:
    """Print what sglint understood: security groups, rules, node groups, unknowns.

    Examples:

      sglint show examples/typha-blocked

      sglint show infra/prod --var-file prod.tfvars --format json
    """
    from calico_sglint.show import show_json, show_text

    if output_format not in ("text", "json"):
        raise _usage(f"--format must be text or json, not {output_format!r}")
    result = _read(paths, var_files, variables)
    _print_diagnostics(result.diagnostics)
    if output_format == "json":
        typer.echo(json.dumps(show_json(result.models, list(result.diagnostics)), indent=2))
    else:
        typer.echo(show_text(result.models))
    raise typer.Exit(EXIT_ERROR if result.has_errors else EXIT_OK)


def _usage(message: str) -> typer.BadParameter:
    return typer.BadParameter(message)


def main(argv: Optional[List[str]] = None) -> int:
    """Run `sglint` with `argv` and return the exit code; never a traceback for the user."""
    from calico_sglint.source import InputError

    try:
        app(args=argv, prog_name="sglint", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_ERROR)
    except InputError as err:
        typer.echo(f"sglint: {err}" if not err.file else str(err), err=True)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except Exception as err:  # noqa: BLE001 - the last guard against tracebacks
        if os.environ.get("SGLINT_DEBUG"):
            raise
        typer.echo(
            f"sglint: internal error: {type(err).__name__}: {err} "
            "(set SGLINT_DEBUG=1 for a traceback, and please report it)",
            err=True,
        )
        return EXIT_ERROR
    return EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
