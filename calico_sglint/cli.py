"""The `sglint` command. Thin: parse flags, call the pipeline, print, choose the exit code.

Exit codes: 0 nothing at or above the fail level, 1 findings, 2 usage, input or config error.
Heavy modules are imported inside the commands so `sglint --help` stays fast.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import sys
from typing import Any, Callable, List, Optional

import click
import typer

from calico_sglint import __version__
from calico_sglint.fix import STYLES
from calico_sglint.options import FAIL_LEVELS
from calico_sglint.profile.settings import SETTING_SPECS, SettingSpec
from calico_sglint.render.formats import CHECK_FORMATS

GRAPH_FORMATS = ("mermaid", "dot", "json")

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

app = typer.Typer(
    name="sglint",
    help=(
        "Prove that every node of a Calico Kubernetes cluster can reach every other node on\n"
        "the ports Calico needs, in Terraform AWS security groups, before terraform apply.\n\n"
        "Examples:\n\n"
        "  sglint check examples/typha-blocked\n\n"
        "  sglint check infra/ --encapsulation IPIP --format json\n\n"
        "  sglint fix examples/typha-blocked --diff\n\n"
        "  sglint graph examples/typha-blocked --format mermaid\n\n"
        "  sglint show infra/prod --var-file prod.tfvars\n\n"
        "  sglint explain calico-typha"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _choice(values: Any) -> Any:
    """A case-insensitive choice among a registry's names."""
    return click.Choice(list(values), case_sensitive=False)


PATHS_HELP = "Directories (walked recursively) or files (their module is read). Default: ."
VAR_FILE_HELP = "A .tfvars file with values for root-module variables (repeatable)."
VAR_HELP = "NAME=VALUE for a root-module variable (repeatable); beats --var-file."

# Options shared by `check` and `fix`: one definition, so both commands read the same profile.
PathsArg = typer.Argument(None, help=PATHS_HELP, show_default=False)
ConfigOpt = typer.Option(None, "--config", help="Config file (default: .sglint.yaml or pyproject.toml found upward).")
RulesOpt = typer.Option(None, "--rules", help="A rule pack file or directory to add (repeatable).")
VarFileOpt = typer.Option(None, "--var-file", help=VAR_FILE_HELP, show_default=False)
VarOpt = typer.Option(None, "--var", help=VAR_HELP, show_default=False)
NoCacheOpt = typer.Option(False, "--no-cache", help="Parse every file again, neither reading nor writing the cache (see `sglint cache`).")
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


def _read_options(
    paths: Optional[List[str]], var_files: Optional[List[str]], variables: Optional[List[str]],
    no_cache: bool = False,
) -> Any:
    """How to read: parsed files cached by content (unless --no-cache), parsed in worker
    processes when there are many (SGLINT_JOBS sets how many), blocks that cannot matter
    kept as declarations only."""
    from calico_sglint.pipeline import ReadOptions
    from calico_sglint.terraform.batch import jobs_from_env
    from calico_sglint.terraform.cache import default_cache_dir

    return ReadOptions(
        paths=tuple(paths or ["."]),
        var_files=tuple(var_files or ()),
        vars=tuple(variables or ()),
        env=dict(os.environ),
        cache_dir=None if no_cache else default_cache_dir(os.environ),
        jobs=jobs_from_env(os.environ),
        prune=True,
    )


def _print_diagnostics(diagnostics: Any) -> None:
    from calico_sglint.source import diagnostic_lines

    for line in diagnostic_lines(diagnostics):
        typer.echo(line, err=True)


def _emit(text: str, output: Optional[str]) -> None:
    """Print `text`, or write it to `output` (a file) when given."""
    if output:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text if text.endswith("\n") else text + "\n")
        except OSError as err:
            from calico_sglint.source import InputError

            raise InputError(f"cannot write the report: {err.strerror or err}", output) from None
    else:
        typer.echo(text, nl=not text.endswith("\n"))


ALSO_HELP = (
    "Also write the report in FORMAT to FILE, from the same run (repeatable), e.g. "
    "--also sarif=sglint.sarif --also markdown=summary.md."
)


def _also_reports(also: Optional[List[str]], output: Optional[str]) -> list[tuple[str, str]]:
    """Parse `--also FORMAT=FILE` pairs; a usage error (exit 2) when one is malformed."""
    from calico_sglint.render.formats import CHECK_FORMATS

    pairs: list[tuple[str, str]] = []
    for item in also or ():
        name, sep, file = item.partition("=")
        name = name.strip().lower()
        if not sep or name not in CHECK_FORMATS or not file:
            raise typer.BadParameter(
                f"{item!r}: expected FORMAT=FILE with FORMAT one of {', '.join(CHECK_FORMATS)}", param_hint="--also"
            )
        if file in [f for _, f in pairs] or file == output:
            raise typer.BadParameter(f"{file!r} is named twice", param_hint="--also")
        pairs.append((name, file))
    return pairs


def _write_reports(
    result: Any, chosen: str, output: Optional[str], also: list[tuple[str, str]], context: Any
) -> None:
    """Write the `--also` reports, then the main one to `output` or stdout."""
    from calico_sglint.render.formats import render
    from calico_sglint.render.text import report_lines

    for name, file in also:
        _emit(render(name, result, context), file)
    if chosen == "text" and not output:
        _print_text(report_lines(result), None)
    else:
        _emit(render(chosen, result, context), output)


@app.command()
@with_profile_options
def check(
    paths: Optional[List[str]] = PathsArg,
    output_format: Optional[str] = typer.Option(None, "--format", "-f", click_type=_choice(CHECK_FORMATS), help="Report format (default text)."),
    fail_on: Optional[str] = FailOnOpt,
    config: Optional[str] = ConfigOpt,
    rules: Optional[List[str]] = RulesOpt,
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    no_ignore: bool = typer.Option(False, "--no-ignore", help="Report findings that `# sglint:ignore=...` comments suppress."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Report only findings not recorded in this baseline file."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline", help="Record today's findings in this file (to adopt sglint on an old repo) and exit 0."),
    also: Optional[List[str]] = typer.Option(None, "--also", metavar="FORMAT=FILE", help=ALSO_HELP, show_default=False),
    profile_flags: Any = None,
) -> None:
    """Check that every Calico path between node groups is open, and nothing is exposed.

    The Calico profile is detected from the YAML next to the Terraform (Installation, Helm
    values, helm_release, calico.yaml manifests, IPPool, FelixConfiguration, kubespray);
    flags and the config file override it. The report says where each setting came from.

    Formats: text (default), json, sarif (SARIF 2.1.0 for code scanning), github (workflow
    command annotations), junit (JUnit XML), markdown (findings table and mermaid graph, for
    job summaries). --output writes the report to a file; --also writes more reports from
    the same run.

    Examples:

      sglint check examples/typha-blocked

      sglint check infra/ --encapsulation IPIP --bgp --format json

      sglint check modules/security-groups --config .sglint.yaml --fail-on warning

      sglint check infra/ --format sarif -o sglint.sarif

      sglint check . -f github --also sarif=out.sarif --also markdown=out.md

      sglint check infra/ --write-baseline .sglint-baseline.json   (then: --baseline .sglint-baseline.json)
    """
    from dataclasses import replace

    from calico_sglint.checks.findings import fails
    from calico_sglint.pipeline import check as run_check
    from calico_sglint.render.context import report_context

    if baseline and write_baseline:
        raise typer.BadParameter("use --baseline or --write-baseline, not both")
    extra = _also_reports(also, output)
    options = replace(_check_options(paths, var_files, variables, profile_flags, config, rules, no_cache), no_ignore=no_ignore, baseline=baseline)
    result = run_check(options)
    _print_diagnostics(result.diagnostics)
    if write_baseline:
        from calico_sglint.checks.suppress import baseline_json

        if result.has_errors:
            raise typer.Exit(EXIT_ERROR)
        _emit(json.dumps(baseline_json(result.findings), indent=2), write_baseline)
        typer.echo(f"sglint: wrote {len(result.findings)} findings to the baseline {write_baseline}")
        raise typer.Exit(EXIT_OK)
    chosen = result.config.resolve("format", output_format)
    level = result.config.resolve("fail_on", fail_on)
    context = report_context(paths or ["."], level)
    _write_reports(result, chosen, output or result.config.output, extra, context)
    if result.has_errors:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_FINDINGS if fails(result.findings, level) else EXIT_OK)


def _check_options(
    paths: Optional[List[str]], var_files: Optional[List[str]], variables: Optional[List[str]],
    flags: dict[str, Any], config: Optional[str], rules: Optional[List[str]], no_cache: bool = False,
) -> Any:
    from calico_sglint.pipeline import CheckOptions

    return CheckOptions(_read_options(paths, var_files, variables, no_cache), flags, config, tuple(rules or ()))


@app.command()
@with_profile_options
def fix(
    paths: Optional[List[str]] = PathsArg,
    style: Optional[str] = typer.Option(None, "--style", click_type=_choice(STYLES), help="Rule style for groups without rules yet (default auto: aws_security_group_rule). Groups with rules keep their style."),
    file_name: Optional[str] = typer.Option(None, "--file", help="Name of the generated file in each module (default calico_sglint.tf)."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff and write nothing."),
    check_only: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if a fix would change something."),
    exit_on_fix: bool = typer.Option(False, "--exit-non-zero-on-fix", help="Exit 1 when rules were written (pre-commit: new files are not 'modified' files)."),
    fail_on: Optional[str] = FailOnOpt,
    config: Optional[str] = ConfigOpt,
    rules: Optional[List[str]] = RulesOpt,
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
    profile_flags: Any = None,
) -> None:
    """Write the missing security-group rules, in the style each group already uses.

    New rules go to calico_sglint.tf in the module of the security group they belong to;
    inline rules are added inside the group's resource. Nothing else in your files changes.

    Examples:

      sglint fix examples/typha-blocked

      sglint fix infra/ --diff

      sglint fix infra/ --check    (for CI and pre-commit: exit 1 if rules are missing)
    """
    from calico_sglint.checks.findings import fails, summary
    from calico_sglint.fix.patches import (
        plan_fixes,
        render_patches,
        summary_lines,
        unified_diff,
        write_patches,
    )
    from calico_sglint.pipeline import check as run_check

    options = _check_options(paths, var_files, variables, profile_flags, config, rules, no_cache)
    result = run_check(options)
    _print_diagnostics(result.diagnostics)
    if result.has_errors:
        typer.echo("sglint fix: nothing written because the input has errors", err=True)
        raise typer.Exit(EXIT_ERROR)
    chosen_style = result.config.resolve("fix_style", style)
    chosen_file = result.config.resolve("fix_file", file_name)
    if not chosen_file.endswith(".tf") or "/" in chosen_file or os.sep in chosen_file:
        raise typer.BadParameter("--file must be a file name ending in .tf")
    plan = plan_fixes(result, chosen_style)
    patches = render_patches(plan, chosen_file)
    level = result.config.resolve("fail_on", fail_on)
    if diff or check_only:
        if diff:
            typer.echo(unified_diff(patches), nl=False)
        for line in summary_lines(plan, patches, written=False):
            typer.echo(line, err=diff)
        raise typer.Exit(EXIT_FINDINGS if check_only and patches else EXIT_OK)
    write_patches(patches)
    for line in summary_lines(plan, patches, written=True):
        typer.echo(line)
    after = run_check(options) if patches else result
    counts = summary(after.findings)
    typer.echo(f"after fix: {counts['error']} error{'s' if counts['error'] != 1 else ''}, "
               f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}")
    wrote_and_should_say_so = exit_on_fix and bool(patches)
    raise typer.Exit(EXIT_FINDINGS if wrote_and_should_say_so or fails(after.findings, level) else EXIT_OK)


def _print_text(lines: list[tuple[str, str]], output: Optional[str]) -> None:
    """Styled with rich on a terminal; plain text otherwise, without importing rich."""
    if output:
        _emit("\n".join(text for text, _ in lines), output)
        return
    if not sys.stdout.isatty():
        sys.stdout.write("".join(text + "\n" for text, _ in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(highlight=False, soft_wrap=True)
    for text, style in lines:
        console.print(Text(text, style=style or ""))


@app.command()
def show(
    paths: Optional[List[str]] = PathsArg,
    output_format: str = typer.Option("text", "--format", "-f", click_type=_choice(("text", "json")), help="text or json."),
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
) -> None:
    """Print what sglint understood: security groups, rules, node groups, unknowns.

    Examples:

      sglint show examples/typha-blocked

      sglint show infra/prod --var-file prod.tfvars --format json
    """
    from calico_sglint.pipeline import read
    from calico_sglint.render.show import show_json, show_text

    result = read(_read_options(paths, var_files, variables, no_cache))
    _print_diagnostics(result.diagnostics)
    if output_format == "json":
        typer.echo(json.dumps(show_json(result.models, list(result.diagnostics)), indent=2))
    else:
        typer.echo(show_text(result.models))
    raise typer.Exit(EXIT_ERROR if result.has_errors else EXIT_OK)


@app.command()
@with_profile_options
def graph(
    paths: Optional[List[str]] = PathsArg,
    output_format: str = typer.Option("mermaid", "--format", "-f", click_type=_choice(GRAPH_FORMATS), help="mermaid (renders on GitHub), dot (Graphviz) or json."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the graph to this file instead of stdout."),
    config: Optional[str] = ConfigOpt,
    rules: Optional[List[str]] = RulesOpt,
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
    profile_flags: Any = None,
) -> None:
    """Draw the node groups and the paths Calico needs between them.

    Each node group is a node (with its roles, size and security groups); each required
    path is an edge labelled with its protocol and ports: green when open, red dashed when
    missing, orange dotted when unverified. An internet node points at the groups whose
    Calico, kubelet or etcd ports are open to 0.0.0.0/0 or ::/0. Exit 0, or 2 on input errors.

    Examples:

      sglint graph examples/typha-blocked

      sglint graph infra/ --format dot | dot -Tsvg > sg.svg

      sglint graph infra/ --encapsulation IPIP --format json -o graph.json
    """
    from calico_sglint.pipeline import check as run_check
    from calico_sglint.render.diagram import build_graphs, render_graph

    result = run_check(_check_options(paths, var_files, variables, profile_flags, config, rules, no_cache))
    _print_diagnostics(result.diagnostics)
    if result.roots or not result.has_errors:
        _emit(render_graph(build_graphs(result), output_format), output)
    raise typer.Exit(EXIT_ERROR if result.has_errors else EXIT_OK)


@app.command("rules")
def list_rules(
    rules: Optional[List[str]] = typer.Option(None, "--rules", help="Include a rule pack file or directory."),
    config: Optional[str] = typer.Option(None, "--config", help="Config file whose severities and packs apply."),
) -> None:
    """List every rule: path requirements and structural checks.

    Examples:

      sglint rules

      sglint rules --rules my-packs/
    """
    from calico_sglint.pipeline import CheckOptions, ReadOptions, settings
    from calico_sglint.render.rulepage import applies_text

    _, pack = settings(CheckOptions(ReadOptions(paths=(".",)), {}, config, tuple(rules or ())))
    width = max(len(r.id) for r in pack.rules)
    for rule in pack.rules:
        state = "" if rule.enabled else "  (disabled)"
        typer.echo(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.title}{state}")
        typer.echo(f"{'':<{width}}  {'':<7}  {applies_text(rule)}")


@app.command()
def explain(
    rule_id: str = typer.Argument(..., metavar="RULE", help="A rule id, e.g. calico-typha."),
    rules: Optional[List[str]] = typer.Option(None, "--rules", help="Include a rule pack file or directory."),
) -> None:
    """Explain one rule: what it checks, why it matters, an example, how to fix it.

    Examples:

      sglint explain calico-typha

      sglint explain sg-cycle
    """
    from calico_sglint.pipeline import CheckOptions, ReadOptions, settings

    _, pack = settings(CheckOptions(ReadOptions(paths=(".",)), {}, None, tuple(rules or ())))
    rule = pack.get(rule_id)
    if rule is None:
        known = ", ".join(r.id for r in pack.rules)
        typer.echo(f"sglint: no rule {rule_id!r}; known rules: {known}", err=True)
        raise typer.Exit(EXIT_ERROR)
    from calico_sglint.render.rulepage import rule_page

    typer.echo(rule_page(rule))


cache_app = typer.Typer(
    name="cache",
    help=(
        "The cache of parsed Terraform files, which makes repeated runs fast.\n\n"
        "Files are cached by content in $SGLINT_CACHE_DIR, else $XDG_CACHE_HOME/calico-sglint,\n"
        "else the user cache directory (~/.cache/calico-sglint on Linux). A changed file is\n"
        "simply parsed again; --no-cache on check, fix, show and graph bypasses the cache.\n"
        "An entry is used only when it proves it was written for that content by this\n"
        "sglint (a regular file, under a size cap, of the right shape): anything else is\n"
        "parsed again, so a stale, copied or damaged entry cannot change an answer.\n\n"
        "Examples:\n\n"
        "  sglint cache dir\n\n"
        "  sglint cache clear"
    ),
    no_args_is_help=True,
)
app.add_typer(cache_app)


@cache_app.command("dir")
def cache_dir() -> None:
    """Print the cache directory.

    Examples:

      sglint cache dir

      SGLINT_CACHE_DIR=/tmp/sglint-cache sglint cache dir
    """
    from calico_sglint.terraform.cache import default_cache_dir

    typer.echo(default_cache_dir(os.environ))


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete what sglint wrote in the cache directory (files that start with its header,
    and its cache tag); anything else there is kept.

    Examples:

      sglint cache clear
    """
    from calico_sglint.terraform.cache import clear_cache, default_cache_dir

    directory = default_cache_dir(os.environ)
    files, size = clear_cache(directory)
    typer.echo(f"removed {files} cached files ({size / 1024:.0f} KiB) from {directory}")


def main(argv: Optional[List[str]] = None) -> int:
    """Run `sglint` with `argv` and return the exit code; never a traceback for the user."""
    import gc

    from calico_sglint.source import InputError

    # Parsing allocates many small objects that live until the run ends: collect far less
    # often than Python's default (one of the measured wins, see bench/).
    gc.set_threshold(100_000, 50, 100)
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
