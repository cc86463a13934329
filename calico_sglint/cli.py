"""The `sglint` command. Thin: parse flags, call the pipeline, print, choose the exit code.

Exit codes: 0 nothing at or above the fail level, 1 findings, 2 usage, input or config error.
Heavy modules are imported inside the commands so `sglint --help` stays fast.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, List, Optional

import typer

from calico_sglint import __version__
from calico_sglint.cliopts import (
    ALSO_HELP,
    BASE_HELP,
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    RULE_HELP,
    AllowReadOpt,
    Command,
    ConfigOpt,
    DisableRuleOpt,
    EnableRuleOpt,
    FailOnOpt,
    ModuleDirOpt,
    NoCacheOpt,
    PathsArg,
    PlanOpt,
    RequireTrackedOpt,
    RulesOpt,
    Selection,
    SkipPathOpt,
    VarFileOpt,
    VarOpt,
    _also_reports,
    _check_options,
    _choice,
    _emit,
    _print_diagnostics,
    _read_options,
    _stdout_errors,
    _untracked_fixes,
    _write_reports,
    say,
    with_profile_options,
)
from calico_sglint.fix import STYLES
from calico_sglint.render.formats import CHECK_FORMATS, DIFF_FORMAT_NAMES, GRAPH_FORMAT_NAMES
from calico_sglint.terminal import (
    GRAPH_EXTENSIONS,
    HelpGroup,
    TextOptions,
    output_warning,
    print_text,
    progress,
)

app = typer.Typer(
    name="sglint",
    cls=HelpGroup,
    help=(
        "Prove that every node of a Calico Kubernetes cluster can reach every other node on\n"
        "the ports Calico needs, in Terraform AWS security groups, before terraform apply.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  sglint check examples/typha-blocked\n"
        "  sglint check infra/ --encapsulation IPIP --format json\n"
        "  sglint fix examples/typha-blocked --diff\n"
        "  sglint diff origin/main --format markdown\n"
        "  sglint graph examples/typha-blocked --format mermaid\n"
        "  sglint show infra/prod --var-file prod.tfvars\n"
        "  sglint check infra/prod --plan tfplan.json\n"
        "  sglint explain calico-typha\n"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        say(f"sglint {__version__}")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Lint Terraform AWS security groups for the paths a Calico cluster needs."""


@app.command(cls=Command)
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
    skip_path: Optional[List[str]] = SkipPathOpt,
    enable_rule: Optional[List[str]] = EnableRuleOpt,
    disable_rule: Optional[List[str]] = DisableRuleOpt,
    allow_read: Optional[List[str]] = AllowReadOpt,
    plan_file: Optional[str] = PlanOpt,
    module_dirs: Optional[List[str]] = ModuleDirOpt,
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    no_ignore: bool = typer.Option(False, "--no-ignore", help="Report findings that `# sglint:ignore=...` comments suppress."),
    baseline: Optional[str] = typer.Option(None, "--baseline", help="Report only findings not recorded in this baseline file."),
    write_baseline: Optional[str] = typer.Option(None, "--write-baseline", help="Record today's findings in this file (to adopt sglint on an old repo) and exit 0."),
    also: Optional[List[str]] = typer.Option(None, "--also", metavar="FORMAT=FILE", help=ALSO_HELP, show_default=False),
    require_tracked: bool = RequireTrackedOpt,
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Text report: the profile and node groups of every root module, not once per distinct profile."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Text report: the findings and the summary only (no fix hints, profiles or node groups)."),
    no_color: bool = typer.Option(False, "--no-color", help="No colours on a terminal (as with the NO_COLOR environment variable)."),
    profile_flags: Any = None,
) -> None:
    """Check that every Calico path between node groups is open, and nothing is exposed.

    The Calico profile is detected from the YAML next to the Terraform (Installation, Helm
    values, helm_release, calico.yaml manifests, IPPool, FelixConfiguration, kubespray);
    flags and the config file override it. The report says where each setting came from.

    Formats: text (default), compact (one line per finding), json, sarif (SARIF 2.1.0 for
    code scanning), github (workflow command annotations), junit (JUnit XML), markdown
    (findings table and mermaid graph, for job summaries). --output writes the report to a
    file; --also writes more reports from the same run.

    Examples:

    \b
      sglint check examples/typha-blocked
      sglint check infra/ --encapsulation IPIP --bgp --format json
      sglint check modules/security-groups --config .sglint.yaml --fail-on warning
      sglint check infra/ --format sarif -o sglint.sarif
      sglint check . -f github --also sarif=out.sarif --also markdown=out.md
      sglint check infra/ -q --skip-path 'legacy/*' --disable-rule sg-cross-reference
      sglint check infra/ --write-baseline .sglint-baseline.json
      sglint check infra/ --baseline .sglint-baseline.json
      sglint check infra/prod --plan tfplan.json   (terraform show -json tfplan > tfplan.json)

    Registry, git, S3 and HTTP modules are read from where `terraform init` installed them
    (.terraform/modules, $TF_DATA_DIR); run `terraform init -backend=false` first, or give
    --module-dir. A module call sglint cannot read is a module-unreadable warning.

      terraform -chdir=infra/prod init -backend=false && sglint check infra/prod --fail-on warning
    """
    from dataclasses import replace

    from calico_sglint.checks.findings import fails
    from calico_sglint.pipeline import check as run_check
    from calico_sglint.pipeline import configured_output
    from calico_sglint.render.context import report_context

    if baseline and write_baseline:
        raise typer.BadParameter("use --baseline or --write-baseline, not both")
    extra = _also_reports(also, output)
    selection = Selection(skip_path, enable_rule, disable_rule)
    options = replace(_check_options(paths, var_files, variables, profile_flags, config, rules, no_cache, plan_file, module_dirs, selection, allow_read=allow_read), no_ignore=no_ignore, baseline=baseline)
    with progress(output_format in (None, "text") and not quiet, options.read.paths):
        result = run_check(options)
    _print_diagnostics(result.diagnostics)
    if write_baseline:
        from calico_sglint.checks.suppress import baseline_json

        if result.has_errors:
            raise typer.Exit(EXIT_ERROR)
        _emit(json.dumps(baseline_json(result.findings), indent=2), write_baseline)
        say(f"sglint: wrote {len(result.findings)} findings to the baseline {write_baseline}")
        raise typer.Exit(EXIT_OK)
    chosen = result.config.resolve("format", output_format)
    level = result.config.resolve("fail_on", fail_on)
    context = report_context(paths or ["."], level)
    _write_reports(result, chosen, output or configured_output(options.read, result.config), extra, context,
                   text=TextOptions(verbose, quiet, not no_color and not os.environ.get("NO_COLOR")))
    if result.has_errors:
        raise typer.Exit(EXIT_ERROR)
    untracked = require_tracked and _untracked_fixes(result)
    raise typer.Exit(EXIT_FINDINGS if fails(result.findings, level) or untracked else EXIT_OK)


@app.command(cls=Command)
@with_profile_options
def fix(
    paths: Optional[List[str]] = PathsArg,
    style: Optional[str] = typer.Option(None, "--style", click_type=_choice(STYLES), help="Rule style for groups without rules yet (default auto: aws_security_group_rule). Groups with rules keep their style."),
    file_name: Optional[str] = typer.Option(None, "--file", help="Name of the generated file in each module (default calico_sglint.tf)."),
    diff: bool = typer.Option(False, "--diff", help="Print a unified diff and write nothing; exit 1 if a required path is missing."),
    check_only: bool = typer.Option(False, "--check", help="Write nothing; exit 1 if a required path is missing (whether or not sglint can add its rule)."),
    exit_on_fix: bool = typer.Option(False, "--exit-non-zero-on-fix", help="Exit 1 when rules were written (pre-commit: new files are not 'modified' files)."),
    fail_on: Optional[str] = FailOnOpt,
    config: Optional[str] = ConfigOpt,
    rules: Optional[List[str]] = RulesOpt,
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
    skip_path: Optional[List[str]] = SkipPathOpt,
    enable_rule: Optional[List[str]] = EnableRuleOpt,
    disable_rule: Optional[List[str]] = DisableRuleOpt,
    require_tracked: bool = RequireTrackedOpt,
    allow_read: Optional[List[str]] = AllowReadOpt,
    plan_file: Optional[str] = PlanOpt,
    module_dirs: Optional[List[str]] = ModuleDirOpt,
    profile_flags: Any = None,
) -> None:
    """Write the missing security-group rules, in the style each group already uses.

    New rules go to calico_sglint.tf in the module of the security group they belong to;
    inline rules are added inside the group's resource. A group inside a module you do not
    edit (registry, git, or outside the scanned paths) gets its rule through the module
    call: the module's input for extra rules, or a rule on its id output. Nothing else in
    your files changes; all files are written or none.

    Examples:

    \b
      sglint fix examples/typha-blocked
      sglint fix infra/ --diff
      sglint fix infra/ --check    (for CI and pre-commit: exit 1 if rules are missing)
      sglint fix infra/prod --plan tfplan.json --diff

    --check and --diff write nothing and exit 1 whenever a required path is missing:
    when sglint would add a rule, and when it cannot (it then says why, per finding).
    """
    from dataclasses import replace

    from calico_sglint.checks.findings import fails, summary
    from calico_sglint.fix.patches import (
        paths_stay_missing,
        plan_fixes,
        render_patches,
        still_missing_lines,
        summary_lines,
        unified_diff,
    )
    from calico_sglint.fix.write import allowed_roots, write_patches
    from calico_sglint.pipeline import check as run_check

    options = _check_options(paths, var_files, variables, profile_flags, config, rules, no_cache, plan_file, module_dirs,
                             Selection(skip_path, enable_rule, disable_rule), allow_read=allow_read)
    with progress(True, options.read.paths):
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
            say(unified_diff(patches), nl=False)
        for line in summary_lines(plan, patches, written=False):
            if diff:
                typer.echo(line, err=True)
            else:
                say(line)
        raise typer.Exit(EXIT_FINDINGS if paths_stay_missing(plan, patches) else EXIT_OK)
    write_patches(patches, allowed_roots(options.read.paths))
    for line in summary_lines(plan, patches, written=True):
        say(line)
    # The plan does not hold the rules just written: check the .tf files again instead.
    recheck = replace(options, read=replace(options.read, plan=None)) if plan_file else options
    after = run_check(recheck) if patches else result
    for line in still_missing_lines(after, plan) if patches else []:
        say(line)
    counts = summary(after.findings)
    source = " (the .tf files; run terraform plan again for a new plan)" if plan_file and patches else ""
    from calico_sglint.render.wording import count_text

    say(f"after fix{source}: {count_text(counts['error'], 'error')}, {count_text(counts['warning'], 'warning')}")
    wrote_and_should_say_so = exit_on_fix and bool(patches)
    untracked = require_tracked and not patches and _untracked_fixes(after)
    raise typer.Exit(EXIT_FINDINGS if wrote_and_should_say_so or untracked or fails(after.findings, level) else EXIT_OK)


@app.command(cls=Command)
@with_profile_options
def diff(
    base: str = typer.Argument(..., metavar="BASE", help=BASE_HELP),
    paths: Optional[List[str]] = PathsArg,
    head: Optional[str] = typer.Option(None, "--head", metavar="REF", help="Compare with this revision instead of the working tree."),
    merge_base: bool = typer.Option(False, "--merge-base", help="Compare with where HEAD (or --head) forked from BASE, as a pull request does: changes made on BASE since are not counted."),
    output_format: Optional[str] = typer.Option(None, "--format", "-f", click_type=_choice(DIFF_FORMAT_NAMES), help="text (default), json, markdown or github."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    also: Optional[List[str]] = typer.Option(None, "--also", metavar="FORMAT=FILE", help="Also write the report in FORMAT to FILE, from the same run (repeatable), e.g. --also markdown=diff.md.", show_default=False),
    config: Optional[str] = ConfigOpt,
    rules: Optional[List[str]] = RulesOpt,
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
    allow_read: Optional[List[str]] = AllowReadOpt,
    profile_flags: Any = None,
) -> None:
    """Say what a change does to the paths Calico needs: closed, opened, still missing.

    Checks BASE (read from git objects, nothing is checked out) and the working tree (or
    --head REF), with the profile detected on each side, and compares every required path,
    exposure and cycle. Node groups and security groups are matched by Terraform address
    (a rename is a removal and an addition unless a `moved` block says where it went).
    Only root modules that read a changed directory are evaluated.

    Exit 1 when the change closes a required path or adds an error-level finding; 0
    otherwise, whatever was already broken on BASE (see `check` and --baseline for that);
    2 on usage or input errors.

    Formats: text (default), json (docs/diff.schema.json), markdown (a table and a mermaid
    graph for a pull-request comment or job summary), github (annotations on the lines that
    closed a path).

    Examples:

    \b
      sglint diff origin/main --merge-base     (on a branch: what the branch changes)
      sglint diff main infra/ --format markdown -o diff.md
      sglint diff HEAD~1 --head HEAD --format json
      sglint diff "origin/$GITHUB_BASE_REF" --format github --also markdown=diff.md
    """
    from calico_sglint.diff.run import DiffOptions, run_diff
    from calico_sglint.render.context import report_context
    from calico_sglint.render.formats import DIFF_FORMATS, renderer

    extra = _also_reports(also, output, DIFF_FORMAT_NAMES)
    options = _check_options(paths, var_files, variables, profile_flags, config, rules, no_cache, allow_read=allow_read)
    result = run_diff(DiffOptions(options, base, head, merge_base))
    _print_diagnostics(result.head.diagnostics)
    if result.head.has_errors:
        raise typer.Exit(EXIT_ERROR)
    context = report_context(paths or ["."])
    for name, file in extra:
        _emit(renderer(DIFF_FORMATS, name)(result, context), file)
    chosen = output_format or "text"
    text = renderer(DIFF_FORMATS, chosen)(result, context)
    if chosen == "text" and not output:
        from calico_sglint.render.difftext import styled

        with _stdout_errors():
            print_text(styled(text))
    else:
        _emit(text, output)
    raise typer.Exit(EXIT_FINDINGS if result.comparison.fails else EXIT_OK)


@app.command(cls=Command)
def show(
    paths: Optional[List[str]] = PathsArg,
    output_format: str = typer.Option("text", "--format", "-f", click_type=_choice(("text", "json")), help="text or json."),
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
    skip_path: Optional[List[str]] = SkipPathOpt,
    allow_read: Optional[List[str]] = AllowReadOpt,
    plan_file: Optional[str] = PlanOpt,
    module_dirs: Optional[List[str]] = ModuleDirOpt,
) -> None:
    """Print what sglint understood: security groups, rules, node groups, unknowns.

    Examples:

    \b
      sglint show examples/typha-blocked
      sglint show infra/prod --var-file prod.tfvars --format json
      sglint show infra/prod --plan tfplan.json
    """
    from calico_sglint.pipeline import read
    from calico_sglint.render.show import show_json, show_text

    result = read(_read_options(paths, var_files, variables, no_cache, plan_file, module_dirs, skip_path, allow_read))
    _print_diagnostics(result.diagnostics)
    if output_format == "json":
        say(json.dumps(show_json(result.models, list(result.diagnostics)), indent=2))
    else:
        say(show_text(result.models))
    raise typer.Exit(EXIT_ERROR if result.has_errors else EXIT_OK)


@app.command(cls=Command)
@with_profile_options
def graph(
    paths: Optional[List[str]] = PathsArg,
    output_format: str = typer.Option("mermaid", "--format", "-f", click_type=_choice(GRAPH_FORMAT_NAMES), help="mermaid (renders on GitHub), dot (Graphviz) or json."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the graph to this file instead of stdout."),
    config: Optional[str] = ConfigOpt,
    rules: Optional[List[str]] = RulesOpt,
    var_files: Optional[List[str]] = VarFileOpt,
    variables: Optional[List[str]] = VarOpt,
    no_cache: bool = NoCacheOpt,
    skip_path: Optional[List[str]] = SkipPathOpt,
    enable_rule: Optional[List[str]] = EnableRuleOpt,
    disable_rule: Optional[List[str]] = DisableRuleOpt,
    allow_read: Optional[List[str]] = AllowReadOpt,
    plan_file: Optional[str] = PlanOpt,
    module_dirs: Optional[List[str]] = ModuleDirOpt,
    profile_flags: Any = None,
) -> None:
    """Draw the node groups and the paths Calico needs between them.

    Each node group is a node (with its roles, size and security groups); each required
    path is an edge labelled with its protocol and ports: green when open, red dashed when
    missing, orange dotted when unverified. An internet node points at the groups whose
    Calico, kubelet or etcd ports are open to 0.0.0.0/0 or ::/0. Exit 0, or 2 on input errors.

    Examples:

    \b
      sglint graph examples/typha-blocked
      sglint graph infra/ --format dot | dot -Tsvg > sg.svg
      sglint graph infra/ --encapsulation IPIP --format json -o graph.json
      sglint graph infra/prod --plan tfplan.json
    """
    from calico_sglint.pipeline import check as run_check
    from calico_sglint.render.diagram import build_graphs
    from calico_sglint.render.formats import GRAPH_FORMATS, renderer

    result = run_check(_check_options(paths, var_files, variables, profile_flags, config, rules, no_cache, plan_file,
                                      module_dirs, Selection(skip_path, enable_rule, disable_rule), allow_read=allow_read))
    _print_diagnostics(result.diagnostics)
    if result.roots or not result.has_errors:
        warning = output_warning(output_format.lower(), output, GRAPH_FORMAT_NAMES, GRAPH_EXTENSIONS) if output else None
        if warning:
            typer.echo(warning, err=True)
        _emit(renderer(GRAPH_FORMATS, output_format.lower())(build_graphs(result)), output)
    raise typer.Exit(EXIT_ERROR if result.has_errors else EXIT_OK)


@app.command("rules", cls=Command)
def list_rules(
    rules: Optional[List[str]] = typer.Option(None, "--rules", help="Include a rule pack file or directory."),
    config: Optional[str] = typer.Option(None, "--config", "-c", help="Config file whose severities and packs apply."),
) -> None:
    """List every rule: path requirements and structural checks.

    Examples:

    \b
      sglint rules
      sglint rules --rules my-packs/
    """
    from calico_sglint.pipeline import CheckOptions, ReadOptions, settings
    from calico_sglint.render.rulepage import applies_text

    _, pack = settings(CheckOptions(ReadOptions(paths=(".",)), {}, config, tuple(rules or ())))
    width = max(len(r.id) for r in pack.rules)
    for rule in pack.rules:
        state = "" if rule.enabled else "  (disabled)"
        say(f"{rule.id:<{width}}  {rule.severity:<7}  {rule.title}{state}")
        say(f"{'':<{width}}  {'':<7}  {applies_text(rule)}")


@app.command(cls=Command)
def explain(
    rule_id: str = typer.Argument(..., metavar="RULE", help=RULE_HELP),
    rules: Optional[List[str]] = typer.Option(None, "--rules", help="Include a rule pack file or directory."),
) -> None:
    """Explain one rule: what it checks, why it matters, an example, how to fix it.

    Examples:

    \b
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

    say(rule_page(rule))


cache_app = typer.Typer(
    name="cache",
    cls=HelpGroup,
    help=(
        "The cache of parsed Terraform files, which makes repeated runs fast.\n\n"
        "Files are cached by content in $SGLINT_CACHE_DIR, else $XDG_CACHE_HOME/calico-sglint,\n"
        "else the user cache directory (~/.cache/calico-sglint on Linux). A changed file is\n"
        "simply parsed again; --no-cache on check, fix, show and graph bypasses the cache.\n"
        "An entry is used only when it proves it was written for that content by this\n"
        "sglint (a regular file, under a size cap, of the right shape): anything else is\n"
        "parsed again, so a stale, copied or damaged entry cannot change an answer.\n\n"
        "Examples:\n\n"
        "\b\n"
        "  sglint cache dir\n"
        "  sglint cache clear\n"
    ),
    no_args_is_help=True,
)
app.add_typer(cache_app)


@cache_app.command("dir", cls=Command)
def cache_dir() -> None:
    """Print the cache directory.

    Examples:

    \b
      sglint cache dir
      SGLINT_CACHE_DIR=/tmp/sglint-cache sglint cache dir
    """
    from calico_sglint.terraform.cache import default_cache_dir

    say(default_cache_dir(os.environ))


@cache_app.command("clear", cls=Command)
def cache_clear() -> None:
    """Delete what sglint wrote in the cache directory (files that start with its header,
    and its cache tag); anything else there is kept.

    Examples:

    \b
      sglint cache clear
    """
    from calico_sglint.terraform.cache import clear_cache, default_cache_dir

    directory = default_cache_dir(os.environ)
    files, size = clear_cache(directory)
    say(f"removed {files} cached files ({size / 1024:.0f} KiB) from {directory}")


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
    """Console-script entry point. On Linux, once the output is flushed, the process ends at
    once: the operating system frees the heap in one go, where Python's shutdown would free
    every parsed node one by one (0.12 s after a 100-module check). Every file sglint writes
    is closed before `main` returns, and forked workers leave no semaphores behind; where
    workers are spawned (macOS, Windows), Python's shutdown releases theirs."""
    code = flushed(main())
    if sys.platform.startswith("linux"):
        os._exit(code)
    sys.exit(code)


def flushed(code: int) -> int:
    """Flush stdout and stderr; `code`, or the exit code of an output that was not written
    (1 when the reader went away, as in `sglint check | head`; 2, said on stderr, when it
    could not be written)."""
    from calico_sglint.source import InputError

    try:
        with _stdout_errors():
            if sys.stdout is not None:  # None: started with stdout closed, nothing was written
                sys.stdout.flush()
    except BrokenPipeError:
        code = 1  # as click ends a run whose reader went away
    except InputError as err:
        typer.echo(f"sglint: {err}", err=True)
        code = EXIT_ERROR
    try:
        if sys.stderr is not None:
            sys.stderr.flush()
    except OSError:
        pass  # nowhere left to say so
    return code


if __name__ == "__main__":
    run()
