"""The options `sglint` commands share, declared once, and the helpers that turn them into
pipeline options and written reports (`cli.py` keeps the commands themselves)."""

from __future__ import annotations

import functools
import inspect
import os
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, NamedTuple, Optional

import click
import typer

from calico_sglint.options import FAIL_LEVELS
from calico_sglint.profile.settings import SETTING_SPECS, SettingSpec
from calico_sglint.render.formats import CHECK_FORMATS
from calico_sglint.terminal import (
    HelpCommand,
    TextOptions,
    output_warning,
    print_text,
)

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _choice(values: Any) -> Any:
    """A case-insensitive choice among a registry's names."""
    return click.Choice(list(values), case_sensitive=False)
PATHS_HELP = "Directories (walked recursively) or files (their module is read); default: . (the working directory)."
RULE_HELP = "A rule id, e.g. calico-typha (`sglint rules` lists them)."
BASE_HELP = "The git revision to compare with: a branch, tag or commit (e.g. origin/main)."
ARGUMENT_HELP = {"paths": PATHS_HELP, "rule_id": RULE_HELP, "base": BASE_HELP}


class Command(HelpCommand):
    argument_help = ARGUMENT_HELP
VAR_FILE_HELP = "A .tfvars file with values for root-module variables (repeatable)."
VAR_HELP = "NAME=VALUE for a root-module variable (repeatable); beats --var-file. On CI the way to pass a value: TF_VAR_* from the environment are not read there."
# Options shared by `check` and `fix`: one definition, so both commands read the same profile.
PathsArg = typer.Argument(None, help=PATHS_HELP, show_default=False)
ConfigOpt = typer.Option(None, "--config", "-c", help="Config file (default: .sglint.yaml or pyproject.toml found upward).")
RulesOpt = typer.Option(None, "--rules", help="A rule pack file or directory to add (repeatable).")
VarFileOpt = typer.Option(None, "--var-file", help=VAR_FILE_HELP, show_default=False)
VarOpt = typer.Option(None, "--var", help=VAR_HELP, show_default=False)
AllowReadOpt = typer.Option(
    None, "--allow-read", metavar="DIR",
    help="Let file functions, module calls and linked *.tf files read this directory outside the repository (repeatable; local use: reads are confined to the repository otherwise).",
    show_default=False,
)
ModuleDirOpt = typer.Option(
    None, "--module-dir", metavar="DIR", show_default=False,
    help="A directory of modules already installed, laid out like .terraform/modules (a modules.json, "
    "or one directory per module call key such as eks or eks.kms); searched after each root's "
    ".terraform/modules ($TF_DATA_DIR/modules). Repeatable.",
)
NoCacheOpt = typer.Option(False, "--no-cache", help="Parse every file again, neither reading nor writing the cache (see `sglint cache`).")
SkipPathOpt = typer.Option(None, "--skip-path", metavar="GLOB", show_default=False, help="Do not scan modules whose path (from the working directory) or a directory above it matches GLOB, e.g. 'legacy/*' (repeatable; also skip_paths: in the config).")
EnableRuleOpt = typer.Option(None, "--enable-rule", metavar="RULE", show_default=False, help="Turn a rule on, whatever packs and config say (repeatable).")
DisableRuleOpt = typer.Option(None, "--disable-rule", metavar="RULE", show_default=False, help="Turn a rule off, whatever packs and config say (repeatable).")
RequireTrackedOpt = typer.Option(False, "--require-tracked", help="Exit 1 while a file `sglint fix` created is not added to git (the pre-commit hooks use it: a commit cannot leave the fix out).")
PlanOpt = typer.Option(None, "--plan", metavar="PLAN.json", help="Read `terraform show -json PLANFILE` output instead of evaluating the Terraform; the .tf files under PATHS still give locations, suppressions and fix targets.")
FailOnOpt = typer.Option(None, "--fail-on", click_type=_choice(FAIL_LEVELS), help="Exit 1 when a finding is at or above this level (default error).")


def _profile_option(spec: SettingSpec) -> tuple[Any, Any]:
    """The annotation and typer option of one profile setting."""
    if spec.kind == "switch":
        return Optional[bool], typer.Option(None, f"{spec.flag}/--no-{spec.flag[2:]}", help=spec.help)
    if spec.kind == "port":
        return Optional[int], typer.Option(None, spec.flag, min=1, max=65535, help=spec.help)
    return Optional[str], typer.Option(None, spec.flag, click_type=_choice(spec.choices), help=spec.help)


def with_profile_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give `command` one option per profile setting (SETTING_SPECS), passed to it together as
    `profile_flags`: the settings are declared once, for check, fix and graph alike."""
    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "profile_flags"]
    options = {spec.name: _profile_option(spec) for spec in SETTING_SPECS}
    added = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=annotation)
        for name, (annotation, option) in options.items()
    ]

    @functools.wraps(command)
    def wrapper(**values: Any) -> None:
        flags = {name: values.pop(name) for name in options}
        command(profile_flags=flags, **values)

    wrapper.__signature__ = signature.replace(parameters=[*kept, *added])  # type: ignore[attr-defined]
    wrapper.__annotations__ = {
        **{k: v for k, v in command.__annotations__.items() if k != "profile_flags"},
        **{name: annotation for name, (annotation, _) in options.items()},
    }
    return wrapper


def _read_options(
    paths: Optional[List[str]], var_files: Optional[List[str]], variables: Optional[List[str]],
    no_cache: bool = False, plan: Optional[str] = None, module_dirs: Optional[List[str]] = None,
    skip_path: Optional[List[str]] = None,
    allow_read: Optional[List[str]] = None,
) -> Any:
    """How to read: parsed files cached by content (unless --no-cache), parsed in worker
    processes when there are many (SGLINT_JOBS sets how many), blocks that cannot matter
    kept as declarations only."""
    from calico_sglint.pipeline import ReadOptions
    from calico_sglint.source import InputError
    from calico_sglint.terraform.batch import jobs_from_env
    from calico_sglint.terraform.cache import default_cache_dir

    for path in paths or ():
        if not os.path.exists(path):  # only the error, no empty report after it (exit 2)
            raise InputError("no such file or directory", path)
    if paths:
        paths = _affected(paths)
    return ReadOptions(
        paths=tuple(paths or ["."]),
        var_files=tuple(var_files or ()),
        vars=tuple(variables or ()),
        env=dict(os.environ),
        cache_dir=None if no_cache else default_cache_dir(os.environ),
        jobs=jobs_from_env(os.environ),
        prune=True,
        skip_paths=tuple((os.getcwd(), glob) for glob in skip_path or ()),
        plan=plan,
        module_dirs=tuple(module_dirs or ()),
        allow_read=tuple(allow_read or ()),
    )


def _affected(paths: List[str]) -> List[str]:
    """Changed files (pre-commit) as the paths whose modules they affect: a Calico YAML,
    `.sglint.yaml` or tfvars file means the modules under its directory (`changes`)."""
    from calico_sglint.changes import affected_paths

    affected = affected_paths(paths)
    if not affected.paths:
        typer.echo(f"sglint: nothing to check: no Terraform module is affected by {', '.join(affected.unaffecting)}", err=True)
        raise typer.Exit(EXIT_OK)
    return list(affected.paths)


def _print_diagnostics(diagnostics: Any) -> None:
    from calico_sglint.source import diagnostic_lines

    for line in diagnostic_lines(diagnostics):
        typer.echo(line, err=True)


def _emit(text: str, output: Optional[str]) -> None:
    """Print `text`, or write it to `output` (a file) when given."""
    if output:
        from calico_sglint.files import write_atomically

        try:
            write_atomically(output, (text if text.endswith("\n") else text + "\n").encode("utf-8"))
        except OSError as err:
            from calico_sglint.source import InputError

            raise InputError(f"cannot write the report: {err.strerror or err}", output) from None
    else:
        say(text, nl=not text.endswith("\n"))


def say(text: str, nl: bool = True) -> None:
    """Print `text` on stdout (`typer.echo`); a failed write is a one-line error (exit 2)."""
    with _stdout_errors():
        typer.echo(text, nl=nl)


@contextmanager
def _stdout_errors() -> Iterator[None]:
    """A failed write to stdout as a one-line input error (exit 2); a reader that went away
    (`sglint check | head`) is left to click, which ends the run quietly."""
    try:
        yield
    except BrokenPipeError:
        raise
    except OSError as err:
        from calico_sglint.source import InputError

        raise InputError(f"cannot write to standard output: {err.strerror or err}") from None


ALSO_HELP = (
    "Also write the report in FORMAT to FILE, from the same run (repeatable), e.g. "
    "--also sarif=sglint.sarif --also markdown=summary.md."
)


def _also_reports(
    also: Optional[List[str]], output: Optional[str], formats: tuple[str, ...] | None = None
) -> list[tuple[str, str]]:
    """Parse `--also FORMAT=FILE` pairs (FORMAT one of `formats`, default check's); a usage
    error (exit 2) when one is malformed."""

    formats = formats or CHECK_FORMATS
    pairs: list[tuple[str, str]] = []
    for item in also or ():
        name, sep, file = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in formats or not file:
            raise typer.BadParameter(
                f"{item!r}: expected FORMAT=FILE with FORMAT one of {', '.join(formats)}", param_hint="--also"
            )
        if file in [f for _, f in pairs] or file == output:
            raise typer.BadParameter(f"{file!r} is named twice", param_hint="--also")
        pairs.append((name, file))
    return pairs


def _write_reports(
    result: Any, chosen: str, output: Optional[str], also: list[tuple[str, str]], context: Any,
    text: TextOptions = TextOptions(),
) -> None:
    """Write the `--also` reports, then the main one to `output` or stdout."""
    from calico_sglint.render.formats import render
    from calico_sglint.render.text import report_lines

    for name, file in [*also, *([(chosen, output)] if output else [])]:
        warning = output_warning(name, file)
        if warning:
            typer.echo(warning, err=True)
    for name, file in also:
        _emit(render(name, result, context), file)
    if chosen == "text" and output:
        _emit("\n".join(line.text for line in report_lines(result, text.verbose, text.quiet)), output)
    elif chosen == "text":
        with _stdout_errors():
            print_text(report_lines(result, text.verbose, text.quiet), text.color)
    else:
        _emit(render(chosen, result, context), output)


def _untracked_fixes(result: Any) -> bool:
    """Say which files `sglint fix` created are not added to git; whether there are any."""
    from calico_sglint.changes import untracked_fixes
    from calico_sglint.terraform.discover import display_path

    files = [f.path for module in result.workspace.modules.values() for f in module.files]
    untracked = untracked_fixes(files, os.getcwd())
    if untracked is None:
        typer.echo("sglint: --require-tracked: git cannot tell which files are tracked here; not checked", err=True)
        return False
    for path in untracked:
        shown = display_path(path)
        typer.echo(f"{shown}: written by `sglint fix` and not added to git: run `git add {shown}`, "
                   "or the commit leaves these rules out", err=True)
    return bool(untracked)


class Selection(NamedTuple):
    """What to leave out or add: --skip-path globs, --enable-rule and --disable-rule ids."""

    skip_path: Optional[List[str]] = None
    enable_rule: Optional[List[str]] = None
    disable_rule: Optional[List[str]] = None


def _check_options(
    paths: Optional[List[str]], var_files: Optional[List[str]], variables: Optional[List[str]],
    flags: dict[str, Any], config: Optional[str], rules: Optional[List[str]], no_cache: bool = False,
    plan: Optional[str] = None, module_dirs: Optional[List[str]] = None, selection: Selection = Selection(),
    allow_read: Optional[List[str]] = None,
) -> Any:
    from calico_sglint.pipeline import CheckOptions

    read = _read_options(paths, var_files, variables, no_cache, plan, module_dirs, selection.skip_path, allow_read)
    return CheckOptions(read, flags, config, tuple(rules or ()), enable_rules=tuple(selection.enable_rule or ()),
                        disable_rules=tuple(selection.disable_rule or ()))
