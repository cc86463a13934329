"""Checks stage: rule packs x profile x graph -> findings, for one root's cluster.

Path requirements are checked by `checks.paths`; structural checks (cycles, cross-references,
exposure, duplicates, mixed styles, unknown references, the source/destination check) by the
modules `checks.structural` lists.
"""

from __future__ import annotations

from calico_sglint.checks.findings import Finding, RequiredPath, finding_order
from calico_sglint.checks.paths import path_findings, required_paths
from calico_sglint.checks.reachability import SgGraph
from calico_sglint.checks.structural import STRUCTURAL_CHECKS, CheckContext
from calico_sglint.model.roles import Cluster
from calico_sglint.model.types import Model
from calico_sglint.profile.rulepack import RulePack
from calico_sglint.profile.settings import Profile


def run_checks(
    model: Model, cluster: Cluster, profile: Profile, pack: RulePack
) -> tuple[list[Finding], list[RequiredPath]]:
    """Every finding for one model, in file and line order, and every path the profile's
    requirements ask for with its state (the graph and the JUnit and Markdown reports draw
    them, so they are computed once, here)."""
    graph = SgGraph(model)
    findings: list[Finding] = []
    paths: list[RequiredPath] = []
    for rule in pack.enabled():
        if rule.kind == "path" and profile.matches(rule.when):
            required = required_paths(rule, graph, cluster, profile)
            paths.extend(required)
            findings.extend(path_findings(rule, required, graph, model.root))
    context = CheckContext(model, cluster, profile, graph)
    for check in STRUCTURAL_CHECKS:
        rule = pack.get(check.id)
        if rule is not None and rule.enabled and check.applies(profile):
            findings.extend(check.run(rule, context))
    return sorted(findings, key=finding_order), paths
