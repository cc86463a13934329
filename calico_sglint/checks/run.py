"""Checks stage: rule packs x profile x graph -> findings, for one root's cluster.

Path requirements are checked by `checks.paths`; structural checks (cycles, cross-references,
exposure, duplicates, mixed styles, unknown references, the source/destination check) by the
modules `checks.structural` lists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from calico_sglint.checks.findings import Finding, RequiredPath, finding_order
from calico_sglint.checks.paths import RequiredPaths, not_checked, path_findings, required_paths
from calico_sglint.checks.reachability import SgGraph
from calico_sglint.checks.structural import STRUCTURAL_CHECKS, CheckContext
from calico_sglint.model.roles import Cluster
from calico_sglint.model.types import Model
from calico_sglint.profile.rulepack import RulePack
from calico_sglint.profile.settings import Profile


@dataclass(frozen=True)
class RootChecks:
    """What the checks found for one root: findings in file and line order, every path the
    profile's requirements ask for with its state (open ones too: the graph, JUnit and
    `sglint diff` read them; computed again when read), and the ids of the requirements the
    profile switched on."""

    findings: tuple[Finding, ...]
    paths: RequiredPaths
    requirements: tuple[str, ...]  # switched on and checked something
    not_checked: tuple[tuple[str, str], ...] = ()  # (rule id, why) of requirements switched on that checked nothing


def run_checks(model: Model, cluster: Cluster, profile: Profile, pack: RulePack) -> RootChecks:
    """Run every enabled requirement and structural check on one root's cluster."""
    graph = SgGraph(model)
    findings: list[Finding] = []
    path_rules = tuple(r for r in pack.enabled() if r.kind == "path" and profile.matches(r.when))
    checked: set[tuple[str, str]] = set()  # (rule id, cluster) that required a path
    for rule in path_rules:
        required = _noting(required_paths(rule, graph, cluster, profile), checked)
        findings.extend(path_findings(rule, required, graph, model.root))
    context = CheckContext(model, cluster, profile, graph)
    for check in STRUCTURAL_CHECKS:
        rule = pack.get(check.id)
        if rule is not None and rule.enabled and profile.matches(rule.when):
            findings.extend(check.run(rule, context))
    unchecked = not_checked(pack, profile, cluster, checked)
    checked_ids = {rule_id for rule_id, _ in checked}
    requirements = tuple(
        rule.id for rule in pack.enabled()
        if (rule.id in checked_ids if rule.kind == "path" else bool(rule.when)) and profile.matches(rule.when)
        and cluster.has_roles(rule.from_role, rule.to_role)
    )
    paths = RequiredPaths(path_rules, model, cluster, profile)
    return RootChecks(tuple(sorted(findings, key=finding_order)), paths, requirements, unchecked)


def _noting(paths: Iterable[RequiredPath], checked: set[tuple[str, str]]) -> Iterator[RequiredPath]:
    """`paths` unchanged, adding each one's (rule id, cluster) to `checked` as it passes."""
    for path in paths:
        checked.add((path.rule.id, path.source.cluster))
        yield path
