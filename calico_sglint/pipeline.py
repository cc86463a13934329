"""Run the stages in order: files -> parse -> evaluate -> model (`read`), then graph ->
checks (`check`), one model per root module.

The CLI calls this; nothing here prints. Problems with the Terraform come back as
diagnostics (errors and warnings with locations), not exceptions, so one bad module does not
hide the findings of the others. Bad flags, config or rule packs raise `InputError`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from calico_sglint.checks import Finding, run_checks
from calico_sglint.config import Config, check_rule_ids, find_config, load_config
from calico_sglint.evaluate import VarInputs, evaluate_root
from calico_sglint.model import RESOURCE_TYPES, Model, build_model
from calico_sglint.parse import parse_file
from calico_sglint.profile import Profile, resolve_profile
from calico_sglint.roles import Cluster, assign_roles
from calico_sglint.rulepack import RulePack, load_packs
from calico_sglint.source import Diagnostic, InputError
from calico_sglint.workspace import ParseMany, Workspace, load_workspace, parse_serially


@dataclass(frozen=True)
class ReadOptions:
    """How to read the Terraform: which paths and which values for root variables."""

    paths: tuple[str, ...]
    var_files: tuple[str, ...] = ()
    vars: tuple[str, ...] = ()  # NAME=VALUE
    env: Mapping[str, str] = field(default_factory=dict)  # the process environment
    extra_types: frozenset[str] = frozenset()  # resource types later stages also need


@dataclass(frozen=True)
class ReadResult:
    workspace: Workspace
    models: tuple[Model, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def read(options: ReadOptions, parse_many: ParseMany = parse_serially) -> ReadResult:
    """Discover, parse, evaluate and model every root module under `options.paths`."""
    inputs = var_inputs(options)
    workspace = load_workspace(list(options.paths), parse_many=parse_many)
    diagnostics = list(workspace.diagnostics)
    if not workspace.modules and not any(d.severity == "error" for d in diagnostics):
        shown = ", ".join(options.paths)
        diagnostics.append(Diagnostic("error", f"no Terraform files (*.tf) found in {shown}"))
    wanted = RESOURCE_TYPES | options.extra_types
    models = []
    for root in workspace.roots:
        config = evaluate_root(workspace, root, inputs, wanted.__contains__)
        models.append(build_model(config))
        diagnostics.extend(config.diagnostics)
    return ReadResult(workspace, tuple(models), tuple(dict.fromkeys(diagnostics)))


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


@dataclass(frozen=True)
class RootResult:
    model: Model
    cluster: Cluster
    profile: Profile
    findings: tuple[Finding, ...]
    pack: RulePack | None = None  # the packs in force for this root (its nearest config)


@dataclass(frozen=True)
class CheckResult:
    roots: tuple[RootResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    config: Config
    pack: RulePack
    workspace: Workspace

    @property
    def findings(self) -> list[Finding]:
        return [f for root in self.roots for f in root.findings]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


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
    a monorepo honours each environment's `.sglint.yaml`.
    """
    memo: dict[str | None, tuple[Config, RulePack]] = {}
    config, pack = settings(options, memo=memo)
    result = read(options.read)
    roots = []
    for root_path, model in zip(result.workspace.roots, result.models):
        root_config, root_pack = settings(options, root_path, memo)
        profile = resolve_profile(options.profile_flags, root_config.profile)
        cluster = assign_roles(model, root_config.roles)
        findings = run_checks(model, cluster, profile, root_pack)
        roots.append(RootResult(model, cluster, profile, tuple(findings), root_pack))
    return CheckResult(tuple(roots), result.diagnostics, config, pack, result.workspace)


def _shown(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith("..") else path
