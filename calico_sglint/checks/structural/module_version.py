"""module-version: an installed module whose version does not match the call's constraint."""

from __future__ import annotations

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.profile.rulepack import PackRule


def module_version(rule: PackRule, context: CheckContext) -> list[Finding]:
    """One finding per installed module whose version does not match the call's constraint."""
    model = context.model
    return [
        Finding(
            rule.id, rule.severity, f"{problem.address} (source \"{problem.source}\"): {problem.reason}",
            problem.location, model.root,
            hint=f"{problem.advice[0].upper()}{problem.advice[1:]} to install a matching version.",
            key=f"{problem.address}:{problem.source}",
        )
        for problem in model.module_problems
        if problem.kind == "version"
    ]


CHECK = StructuralCheck("module-version", module_version)
