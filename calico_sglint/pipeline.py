"""Run the stages in order: files -> parse -> evaluate -> model (`read`), then detect the Calico
profile -> graph -> checks (`check`), one model per root module.

The CLI calls this; nothing here prints. Problems with the Terraform come back as
diagnostics (errors and warnings with locations), not exceptions, so one bad module does not
hide the findings of the others. Bad flags, config or rule packs raise `InputError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Callable, Mapping

from calico_sglint.checks.findings import finding_order
from calico_sglint.checks.reachability import import_graph_library
from calico_sglint.checks.run import run_checks
from calico_sglint.checks.suppress import (
    Suppressed,
    collect,
    load_baseline,
    suppress,
    suppression_problems,
    without_baseline,
)
from calico_sglint.model.attrtypes import check_types
from calico_sglint.model.build import RESOURCE_TYPES, attributes_read, build_model
from calico_sglint.model.roles import assign_roles
from calico_sglint.model.types import Model
from calico_sglint.parallel import map_roots
from calico_sglint.profile.config import (
    Config,
    check_rule_ids,
    find_config,
    load_config,
)
from calico_sglint.profile.detect import detect_profile
from calico_sglint.profile.eks import eks_observations
from calico_sglint.profile.helm import helm_observations
from calico_sglint.profile.observations import Scan
from calico_sglint.profile.rulepack import RulePack, load_packs
from calico_sglint.profile.settings import SETTINGS, resolve_profile
from calico_sglint.profile.sources import scan
from calico_sglint.result import CheckResult, RootResult
from calico_sglint.source import Diagnostic, InputError, Location
from calico_sglint.terraform.configuration import Configuration
from calico_sglint.terraform.confine import ReadBoundary, boundary_for
from calico_sglint.terraform.evaluate import VarInputs, evaluate_root
from calico_sglint.terraform.parse import parse_file
from calico_sglint.terraform.syntax import File
from calico_sglint.terraform.workspace import (
    ParseMany,
    Workspace,
    load_workspace,
    parse_serially,
    roots_using,
)


@dataclass(frozen=True)
class ReadOptions:
    """How to read the Terraform: which paths and which values for root variables."""

    paths: tuple[str, ...]
    var_files: tuple[str, ...] = ()
    vars: tuple[str, ...] = ()  # NAME=VALUE
    env: Mapping[str, str] = field(default_factory=dict)  # the process environment
    extra_types: frozenset[str] = frozenset()  # resource types later stages also need
    cache_dir: str | None = None  # parsed-file cache (the CLI's default dir); None: no cache
    jobs: int | None = 1  # parse worker processes; None: one per core when it pays; 1: serial
    prune: bool = False  # keep only declarations of blocks that cannot matter (prune.py)
    skip_paths: tuple[tuple[str, str], ...] = ()  # (base directory, glob): modules not to scan
    module_dirs: tuple[str, ...] = ()  # --module-dir: directories of installed modules
    # (a copy's top, the working tree's top): roots in the copy use the working tree's
    # .terraform/modules (`sglint diff`'s side written from git has none)
    installed_mirror: tuple[str, str] | None = None
    plan: str | None = None  # `terraform show -json` of a plan: read it, the paths for locations
    # Read and evaluate only the root modules that read a module in one of these directories
    # (absolute, resolved), and parse only what may lead to them: `sglint diff` skips what a
    # change cannot touch. None: every root.
    touched: frozenset[str] | None = None
    allow_read: tuple[str, ...] = ()  # --allow-read: directories outside the repository to read
    # `module_dirs:` of the config: searched after `module_dirs`; read outside the repository
    # only off CI (on CI the config arrives with the pull request)
    config_module_dirs: tuple[str, ...] = ()

    def boundary(self) -> ReadBoundary:
        """Where `file()`, profile detection and module calls may read: the repository, and
        `allow_read`, the installed-module directories named (`module_dirs`, the config's off
        CI, an absolute `$TF_DATA_DIR/modules`: the runner's environment, not the pull
        request's) and, for a side `sglint diff` wrote from git, the working tree whose
        installed modules it reads."""
        mirror = self.installed_mirror or ()
        data_dir = self.env.get("TF_DATA_DIR", "")
        installed = (os.path.join(data_dir, "modules"),) if os.path.isabs(data_dir) else ()
        configured = () if on_ci(self.env) else self.config_module_dirs
        return boundary_for(self.paths, (*self.allow_read, *self.module_dirs, *configured, *mirror, *installed))


@dataclass(frozen=True)
class ReadResult:
    workspace: Workspace
    models: tuple[Model, ...]
    diagnostics: tuple[Diagnostic, ...]
    configurations: tuple[Configuration, ...] = ()  # one per root, like `models`
    roots: tuple[str, ...] | None = None  # root module paths, like `models` (None: workspace.roots)

    @property
    def root_paths(self) -> tuple[str, ...]:
        return self.workspace.roots if self.roots is None else self.roots

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


@dataclass(frozen=True)
class Loaded:
    """The parsed workspace, and what evaluating each of its root modules takes."""

    workspace: Workspace
    inputs: VarInputs
    wanted: Mapping[str, frozenset[str] | None]  # resource type -> the attributes read (None: all)
    boundary: ReadBoundary
    diagnostics: tuple[Diagnostic, ...]

    def evaluate(self, root: str) -> tuple[Model, Configuration]:
        """One root module evaluated and modelled."""
        config = check_types(evaluate_root(self.workspace, root, self.inputs, self.wanted, self.boundary))
        return build_model(config), config


def read(options: ReadOptions, parse_many: ParseMany | None = None) -> ReadResult:
    """Discover, parse, evaluate and model every root module under `options.paths` (or, with
    `options.plan`, the plan, with the paths' `.tf` files for locations)."""
    if options.plan is not None:
        return read_plan_file(options, parse_many)
    loaded = load(options, parse_many)
    models, configurations = [], []
    diagnostics = list(loaded.diagnostics)
    for root in loaded.workspace.roots:
        model, config = loaded.evaluate(root)
        models.append(model)
        configurations.append(config)
        diagnostics.extend(config.diagnostics)
    return ReadResult(loaded.workspace, tuple(models), tuple(dict.fromkeys(diagnostics)), tuple(configurations))


def load(options: ReadOptions, parse_many: ParseMany | None = None) -> Loaded:
    """Discover and parse the modules under `options.paths`: the workspace `read` evaluates."""
    inputs = var_inputs(options)
    boundary = options.boundary()
    env_note = environment_variables_note(options)
    for directory in options.module_dirs:
        if not os.path.isdir(directory):
            raise InputError("no such directory (--module-dir)", directory)
    workspace = load_workspace(
        list(options.paths), parse_many=parse_many or parser_for(options), only=options.touched, env=options.env,
        module_dirs=tuple(os.path.abspath(d) for d in (*options.module_dirs, *options.config_module_dirs)),
        installed_mirror=options.installed_mirror, skip=options.skip_paths, boundary=boundary,
    )
    if options.touched is not None:
        workspace = replace(workspace, roots=roots_using(workspace, options.touched))
    diagnostics = [*workspace.diagnostics, *env_note]
    if not workspace.modules and options.touched is None and not any(d.severity == "error" for d in diagnostics):
        shown = ", ".join(options.paths)
        diagnostics.append(Diagnostic("error", f"no Terraform files (*.tf) found in {shown}"))
    wanted = {t: attributes_read(t) for t in RESOURCE_TYPES} | {t: None for t in options.extra_types}
    return Loaded(workspace, inputs, wanted, boundary, tuple(diagnostics))


def read_plan_file(options: ReadOptions, parse_many: ParseMany | None = None) -> ReadResult:
    """Model the plan `options.plan`; the `.tf` files under the paths (when there are any)
    give locations, suppression comments and the modules `fix` writes to."""
    from calico_sglint.terraform.discover import display_path
    from calico_sglint.terraform.plan import read_plan
    from calico_sglint.terraform.planfile import load_plan
    from calico_sglint.terraform.plansource import SourceMap, choose_root

    if options.var_files or options.vars:
        raise InputError("--var and --var-file do not apply to --plan: the plan holds every variable's value")
    plan = load_plan(options.plan)  # type: ignore[arg-type]
    workspace = load_workspace(list(options.paths), parse_many=parse_many or parser_for(options), boundary=options.boundary())
    root = choose_root(plan, workspace)
    shown = display_path(os.path.abspath(plan.path))
    sources = SourceMap(plan, workspace, root, shown)
    root_display = workspace.modules[root].display if root is not None else shown
    wanted = {t: attributes_read(t) for t in RESOURCE_TYPES} | {t: None for t in options.extra_types}
    try:
        config = read_plan(plan, sources, root_display, wanted)
    except RecursionError:
        raise InputError("values nested too deeply to read", plan.path) from None
    diagnostics = [*workspace.diagnostics, *config.diagnostics]
    if root is None and workspace.modules:
        diagnostics.append(Diagnostic(
            "warning", "no root module under the given paths declares this plan's resources: findings point at the plan file",
            Location(shown, 1, 1),
        ))
    root_path = root if root is not None else os.path.abspath(options.paths[0] if options.paths else ".")
    return ReadResult(workspace, (build_model(config),), tuple(dict.fromkeys(diagnostics)), (config,), (root_path,))


def parser_for(options: ReadOptions) -> ParseMany:
    """How to parse files for `options`: serially, whole and uncached unless a cache, worker
    processes or pruning are asked for (the CLI asks for all three)."""
    if options.cache_dir is None and options.jobs == 1 and not options.prune:
        return parse_serially
    from calico_sglint.terraform.batch import make_parse_many
    from calico_sglint.terraform.cache import open_cache

    keep = (RESOURCE_TYPES | options.extra_types) if options.prune else None
    return make_parse_many(open_cache(options.cache_dir, keep), options.jobs, keep, import_graph_library)


def var_inputs(options: ReadOptions) -> VarInputs:
    """Parse `--var-file`s and `--var`s; raise `InputError` (exit 2) when they are malformed."""
    files = []
    for path in options.var_files:
        if not os.path.isfile(path):
            raise InputError("no such variables file (--var-file)", path)
        files.append(parse_file(path, path))
    pairs = []
    for item in options.vars:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f'--var "{item}": expected NAME=VALUE')
        pairs.append((name.strip(), value))
    env = {} if on_ci(options.env) else {k[len("TF_VAR_"):]: v for k, v in options.env.items() if k.startswith("TF_VAR_")}
    return VarInputs(tuple(files), tuple(pairs), env)


def on_ci(env: Mapping[str, str]) -> bool:
    """Whether sglint runs on CI, where the Terraform may come from a stranger's pull request."""
    return bool(env.get("CI") or env.get("GITHUB_ACTIONS"))


def environment_variables_note(options: ReadOptions) -> list[Diagnostic]:
    """On CI, `TF_VAR_*` from the environment are not read: the runner's environment may hold
    secrets, and a pull request's Terraform could put a variable's value into a report (a
    description, a CIDR). Say which were left out (names only); `--var` passes one on purpose."""
    names = sorted(k for k in options.env if k.startswith("TF_VAR_")) if on_ci(options.env) else []
    if not names:
        return []
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    return [Diagnostic("warning", f"{shown} from the environment ignored on CI (a pull request could print their values); "
                                  "pass a value on purpose with --var NAME=VALUE")]


@dataclass(frozen=True)
class CheckOptions:
    read: ReadOptions
    profile_flags: Mapping[str, object] = field(default_factory=dict)
    config_path: str | None = None  # --config; None: look for one upward from the first path
    rule_paths: tuple[str, ...] = ()  # --rules
    no_ignore: bool = False  # --no-ignore: report suppressed findings too
    baseline: str | None = None  # --baseline FILE: report only findings not in it
    enable_rules: tuple[str, ...] = ()  # --enable-rule: on, whatever packs and config say
    disable_rules: tuple[str, ...] = ()  # --disable-rule: off, whatever packs and config say


def settings(
    options: CheckOptions,
    start: str | None = None,
    memo: dict[str | None, tuple[Config, RulePack]] | None = None,
) -> tuple[Config, RulePack]:
    """The config and rule packs in force at `start` (default: the first path), or from
    `--config`; `InputError` if either is broken. `memo` shares work within one run."""
    path = options.config_path or find_config(start or (options.read.paths[0] if options.read.paths else "."))
    if memo is not None and path in memo:
        return memo[path]
    config = load_config(path, path if options.config_path else (path and _shown(path)))
    _refuse_outside_on_ci(options.read, config, "rules", config.rule_paths, "--rules")
    pack = load_packs([*config.rule_paths, *options.rule_paths])
    check_rule_ids(config, pack)
    for rule_id in (*options.enable_rules, *options.disable_rules):
        if pack.get(rule_id) is None:
            known = ", ".join(r.id for r in pack.rules)
            raise InputError(f"--enable-rule/--disable-rule: no rule {rule_id!r}; known rules: {known}")
    found = (config, pack.with_overrides(config.severity, config.disable)
             .with_selection(options.enable_rules, options.disable_rules))
    if memo is not None:
        memo[path] = found
    return found


def check(options: CheckOptions) -> CheckResult:
    """Read the Terraform and check every root module against the packs and the profile.

    Each root module uses the config nearest to it (or `--config` for all), so one run over
    a monorepo honours each environment's `.sglint.yaml`, and the Calico settings detected
    nearest to it (its own files and helm_releases first, then the directories above it).
    """
    memo: dict[str | None, tuple[Config, RulePack]] = {}
    config, pack = settings(options, memo=memo)
    baseline = load_baseline(options.baseline) if options.baseline else None
    for directory in config.module_dirs:
        if not os.path.isdir(directory):
            raise InputError(f"module_dirs: no such directory: {_shown(directory)}", config.file)
    read_options, notes = _with_config_reads(options.read, config)
    read_options = replace(
        read_options,
        extra_types=read_options.extra_types | {"helm_release"},
        skip_paths=(*read_options.skip_paths, *config.skip_paths),
    )
    workspace, read_diagnostics, root_paths, evaluate = _roots_to_check(read_options)
    found = scan(options.read.paths, boundary=read_options.boundary()) if root_paths else Scan()

    def check_root(root_path: str) -> _Checked:
        model, configuration = evaluate(root_path)
        root_config, root_pack = settings(options, root_path, memo)
        decided = [n for n in SETTINGS if options.profile_flags.get(n) is not None or n in root_config.profile]
        detection = detect_profile(
            root_path, root_paths, found.files,
            helm_observations(configuration) + eks_observations(configuration), decided,
        )
        profile = resolve_profile(options.profile_flags, root_config.profile, detection.settings)
        cluster = assign_roles(model, root_config.roles, root_config.clusters)
        checked = run_checks(model, cluster, profile, root_pack)
        # Without its packs (the same for every root: they stay in this process, `completed`).
        root = RootResult(model, cluster, profile, checked.findings, None, tuple(r.id for r in checked.paths.rules),
                          checked.requirements, checked.not_checked, configuration.id_outputs)
        evaluated = () if read_options.plan is not None else configuration.diagnostics  # a plan's are read's
        return _Checked(root, tuple(evaluated), tuple(detection.diagnostics))

    def completed(root_path: str, checked: _Checked) -> RootResult:
        return replace(checked.root, pack=settings(options, root_path, memo)[1])

    # Loaded here, before workers fork: they inherit them, and `completed` finds them too.
    import_graph_library()
    for root_path in root_paths:
        settings(options, root_path, memo)
    checked_roots = map_roots(check_root, list(root_paths), read_options.jobs)
    evaluated = dict.fromkeys([*read_diagnostics, *(d for c in checked_roots for d in c.evaluation)])
    diagnostics = [*notes, *evaluated, *found.diagnostics, *(d for c in checked_roots for d in c.detection)]
    roots = [completed(path, checked) for path, checked in zip(root_paths, checked_roots)]
    suppressed: list[Suppressed] = []
    if not options.no_ignore:
        roots, suppressed = _apply_suppressions(roots, workspace)
    baselined = 0
    if baseline is not None:
        kept = [without_baseline(list(root.findings), baseline) for root in roots]
        baselined = sum(count for _, count in kept)
        roots = [replace(root, findings=tuple(new)) for root, (new, _) in zip(roots, kept)]
    return CheckResult(
        tuple(roots), tuple(dict.fromkeys(diagnostics)), config, pack, workspace,
        tuple(suppressed), baselined,
    )


def _roots_to_check(
    options: ReadOptions,
) -> tuple[Workspace, tuple[Diagnostic, ...], tuple[str, ...], Callable[[str], tuple[Model, Configuration]]]:
    """The workspace, the diagnostics of reading it, its root modules, and how to evaluate
    one: a plan's one root is read (and modelled) at once; the Terraform's are evaluated
    each by the job that checks it."""
    if options.plan is not None:
        result = read_plan_file(options)
        modelled = dict(zip(result.root_paths, zip(result.models, result.configurations)))
        return result.workspace, result.diagnostics, result.root_paths, modelled.__getitem__
    loaded = load(options)
    return loaded.workspace, loaded.diagnostics, loaded.workspace.roots, loaded.evaluate


@dataclass(frozen=True)
class _Checked:
    """One root module checked, and the diagnostics of its evaluation and profile detection."""

    root: RootResult  # without `pack`
    evaluation: tuple[Diagnostic, ...]
    detection: tuple[Diagnostic, ...]


def _with_config_reads(options: ReadOptions, config: Config) -> tuple[ReadOptions, list[Diagnostic]]:
    """`allow_read` and `module_dirs` from the config widen reads, except on CI: there the
    config comes with the pull request, which must not grant itself `file("/proc/self/environ")`
    (`module_dirs:` are still searched on CI, inside the repository)."""
    options = replace(options, config_module_dirs=config.module_dirs)
    if not on_ci(options.env):
        return replace(options, allow_read=options.allow_read + config.allow_read), []
    notes = []
    if config.allow_read:
        notes.append(_config_note(config, "allow_read", "allow_read in the config is ignored on CI", "--allow-read"))
    boundary = options.boundary()
    if any(not boundary.contains(directory) for directory in config.module_dirs):
        notes.append(_config_note(config, "module_dirs", "module_dirs in the config outside the repository are not read on CI",
                                  "--module-dir"))
    return options, notes


def configured_output(options: ReadOptions, config: Config) -> str | None:
    """The report file the config's `output:` names. On CI it must lie inside the repository
    and outside `.git`: a pull request must not choose which file on the runner is written."""
    if config.output is not None:
        _refuse_outside_on_ci(options, config, "output", (config.output,), "-o/--output")
        if on_ci(options.env) and ".git" in os.path.normpath(os.path.abspath(config.output)).split(os.sep):
            raise InputError("output: on CI the config may not write into .git; use -o/--output",
                             config.file, config.key_lines.get("output") or None)
    return config.output


def _refuse_outside_on_ci(options: ReadOptions, config: Config, key: str, paths: tuple[str, ...], flag: str) -> None:
    """On CI the config comes with the pull request: the files it names (rule packs, the report)
    must lie inside the repository (`InputError`, exit 2, naming the config line)."""
    if not on_ci(options.env):
        return
    boundary = options.boundary()
    for path in paths:
        if not boundary.contains(path):
            raise InputError(f"{key}: {os.path.relpath(path)} is outside the repository; on CI the config may only name "
                             f"files inside it (use {flag})", config.file, config.key_lines.get(key) or None)


def _config_note(config: Config, key: str, what: str, flag: str) -> Diagnostic:
    """A warning at `key` of the config that it does not widen reads on CI, and which flag does."""
    message = f"{what} (a pull request could widen what sglint reads); use {flag}"
    return Diagnostic("warning", message, Location(config.file or "config", config.key_lines.get(key, 0), 0))


def _apply_suppressions(
    roots: list[RootResult], workspace: Workspace
) -> tuple[list[RootResult], list[Suppressed]]:
    """Hide suppressed findings; report bad or unused suppressions once, in the first root
    whose modules hold them (a module shared by two roots counts as used if either uses it)."""
    files_of = [_root_files(root.model.module_dirs, workspace) for root in roots]
    all_files = list({f.path: f for files in files_of for f in files}.values())
    suppressions, problems = collect(all_files)
    kept_roots, hidden, used = [], [], set()
    for root in roots:
        kept, hidden_here, used_here = suppress(root.findings, suppressions)
        kept_roots.append(list(kept))
        hidden.extend(hidden_here)
        used |= used_here
    owner = {}
    for index, files in enumerate(files_of):
        for file in files:
            owner.setdefault(file.path, index)
    for index, root in enumerate(roots):
        mine = [s for s in suppressions if owner.get(s.comment.file) == index]
        my_problems = [p for p in problems if owner.get(p[0].file) == index]
        assert root.pack is not None
        kept_roots[index].extend(suppression_problems(mine, my_problems, used, root.pack, root.model.root))
    result = [replace(root, findings=tuple(sorted(kept, key=finding_order))) for root, kept in zip(roots, kept_roots)]
    return result, hidden


def _root_files(module_dirs: tuple[str, ...], workspace: Workspace) -> list[File]:
    wanted = set(module_dirs)
    return [f for m in workspace.modules.values() if m.display in wanted for f in m.files]


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path
