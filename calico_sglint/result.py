"""The check result: per root module its model, cluster, profile, findings and paths."""

from __future__ import annotations

from dataclasses import dataclass

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.paths import RequiredPaths
from calico_sglint.checks.suppress import Suppressed
from calico_sglint.model.roles import Cluster
from calico_sglint.model.types import Model
from calico_sglint.profile.config import Config
from calico_sglint.profile.rulepack import RulePack
from calico_sglint.profile.settings import Profile
from calico_sglint.source import Diagnostic
from calico_sglint.terraform.workspace import Workspace


@dataclass(frozen=True)
class RootResult:
    model: Model
    cluster: Cluster
    profile: Profile
    findings: tuple[Finding, ...]
    pack: RulePack | None = None  # the packs in force for this root (its nearest config)
    path_rules: tuple[str, ...] = ()  # ids of the path requirements it checked (see `paths`)
    requirements: tuple[str, ...] = ()  # ids of the requirements the profile switched on that checked something
    not_checked: tuple[tuple[str, str], ...] = ()  # (rule id, why) of requirements switched on that checked nothing
    # (module instance, output, resource address): ids that called modules expose, so `fix`
    # can refer to a group in a module from the calling module
    id_outputs: tuple[tuple[str, str, str], ...] = ()

    @property
    def paths(self) -> RequiredPaths:
        """Every path its requirements ask for, with its state, open ones too: computed when
        read (never kept: they are quadratic in the node groups)."""
        rules = tuple(r for r in (self.pack.get(i) for i in self.path_rules) if r is not None) if self.pack else ()
        return RequiredPaths(rules, self.model, self.cluster, self.profile)


@dataclass(frozen=True)
class CheckResult:
    roots: tuple[RootResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    config: Config
    pack: RulePack
    workspace: Workspace
    suppressed: tuple[Suppressed, ...] = ()
    baselined: int = 0  # findings left out because the baseline has them

    @property
    def findings(self) -> list[Finding]:
        return [f for root in self.roots for f in root.findings]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)
