"""Run the stages in order: files -> parse -> evaluate -> model (`read`), then detect the Calico
profile -> graph -> checks (`check`), one model per root module.

The CLI calls this; nothing here prints. Problems with the Terraform come back as
diagnostics (errors and warnings with locations), not exceptions, so one bad module does not
hide the findings of the others. Bad flags, config or rule packs raise `InputError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import Mapping

from calico_sglint.checks.findings import finding_order
from calico_sglint.checks.run import run_checks
from calico_sglint.checks.suppress import (
    Suppressed,
    collect,
    load_baseline,
    suppress,
    suppression_problems,
    without_baseline,
)
from calico_sglint.model.build import RESOURCE_TYPES, attributes_read, build_model
from calico_sglint.model.roles import assign_roles
from calico_sglint.model.types import Model
from calico_sglint.profile.config import (
    Config,
    check_rule_ids,
    find_config,
    load_config,
)
from calico_sglint.profile.detect import detect_profile
from calico_sglint.profile.helm import helm_observations
from calico_sglint.profile.observations import Scan
from calico_sglint.profile.rulepack import RulePack, load_packs
from calico_sglint.profile.settings import SETTINGS, resolve_profile
from calico_sglint.profile.sources import scan
from calico_sglint.result import CheckResult, RootResult
from calico_sglint.source import Diagnostic, InputError
from calico_sglint.terraform.configuration import Configuration
from calico_sglint.terraform.evaluate import VarInputs, evaluate_root
from calico_sglint.terraform.parse import parse_file
from calico_sglint.terraform.syntax import File
from calico_sglint.terraform.workspace import (
    ParseMany,
    Workspace,
    load_workspace,
    parse_serially,
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


@dataclass(frozen=True)
class ReadResult:
    workspace: Workspace
    models: tuple[Model, ...]
    diagnostics: tuple[Diagnostic, ...]
    configurations: tuple[Configuration, ...] = ()  # one per root, like `models`

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def read(options: ReadOptions, parse_many: ParseMany | None = None) -> ReadResult:
    """Discover, parse, evaluate and model every root module under `options.paths`."""
    inputs = var_inputs(options)
    workspace = load_workspace(list(options.paths), parse_many=parse_many or parser_for(options))
    diagnostics = list(workspace.diagnostics)
    if not workspace.modules and not any(d.severity == "error" for d in diagnostics):
        shown = ", ".join(options.paths)
        diagnostics.append(Diagnostic("error", f"no Terraform files (*.tf) found in {shown}"))
    wanted = {t: attributes_read(t) for t in RESOURCE_TYPES} | {t: None for t in options.extra_types}
    models, configurations = [], []
    for root in workspace.roots:
        config = evaluate_root(workspace, root, inputs, wanted)
        models.append(build_model(config))
        configurations.append(config)
        diagnostics.extend(config.diagnostics)
    return ReadResult(workspace, tuple(models), tuple(dict.fromkeys(diagnostics)), tuple(configurations))


def parser_for(options: ReadOptions) -> ParseMany:
    """How to parse files for `options`: serially, whole and uncached unless a cache, worker
    processes or pruning are asked for (the CLI asks for all three)."""
    if options.cache_dir is None and options.jobs == 1 and not options.prune:
        return parse_serially
    from calico_sglint.terraform.batch import make_parse_many
    from calico_sglint.terraform.cache import open_cache

    keep = (RESOURCE_TYPES | options.extra_types) if options.prune else None
    return make_parse_many(open_cache(options.cache_dir, keep), options.jobs, keep)


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
    env = {k[len("TF_VAR_"):]: v for k, v in options.env.items() if k.startswith("TF_VAR_")}
    return VarInputs(tuple(files), tuple(pairs), env)


@dataclass(frozen=True)
class CheckOptions:
    read: ReadOptions
    profile_flags: Mapping[str, object] = field(default_factory=dict)
    config_path: str | None = None  # --config; None: look for one upward from the first path
    rule_paths: tuple[str, ...] = ()  # --rules
    no_ignore: bool = False  # --no-ignore: report suppressed findings too
    baseline: str | None = None  # --baseline FILE: report only findings not in it


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
    pack = load_packs([*config.rule_paths, *options.rule_paths])
    check_rule_ids(config, pack)
    found = (config, pack.with_overrides(config.severity, config.disable))
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
    result = read(replace(options.read, extra_types=options.read.extra_types | {"helm_release"}))
    found = scan(options.read.paths) if result.workspace.roots else Scan()
    diagnostics = [*result.diagnostics, *found.diagnostics]
    roots = []
    for root_path, model, configuration in zip(result.workspace.roots, result.models, result.configurations):
        root_config, root_pack = settings(options, root_path, memo)
        decided = [n for n in SETTINGS if options.profile_flags.get(n) is not None or n in root_config.profile]
        detection = detect_profile(
            root_path, result.workspace.roots, found.files, helm_observations(configuration), decided
        )
        diagnostics.extend(detection.diagnostics)
        profile = resolve_profile(options.profile_flags, root_config.profile, detection.settings)
        cluster = assign_roles(model, root_config.roles)
        checked = run_checks(model, cluster, profile, root_pack)
        roots.append(RootResult(model, cluster, profile, checked.findings, root_pack, checked.paths,
                                checked.requirements))
    suppressed: list[Suppressed] = []
    if not options.no_ignore:
        roots, suppressed = _apply_suppressions(roots, result.workspace)
    baselined = 0
    if baseline is not None:
        kept = [without_baseline(list(root.findings), baseline) for root in roots]
        baselined = sum(count for _, count in kept)
        roots = [replace(root, findings=tuple(new)) for root, (new, _) in zip(roots, kept)]
    return CheckResult(
        tuple(roots), tuple(dict.fromkeys(diagnostics)), config, pack, result.workspace,
        tuple(suppressed), baselined,
    )


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
