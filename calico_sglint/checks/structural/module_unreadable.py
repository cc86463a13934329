"""module-unreadable: one finding per module call sglint cannot read, at its `source` line.

A safety check must never pass silently: whatever an unread module creates is not checked,
and this finding (in every format) says so and what to do.
"""

from __future__ import annotations

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.profile.rulepack import PackRule


def module_unreadable(rule: PackRule, context: CheckContext) -> list[Finding]:
    """One finding per module call sglint cannot read, at the call's `source` line."""
    model = context.model
    return [
        Finding(
            rule.id, rule.severity,
            f"{problem.address} (source \"{problem.source}\") was not read: {problem.reason}; "
            "the security groups and nodes it creates are not checked",
            problem.location, model.root,
            hint=f"{problem.advice[0].upper()}{problem.advice[1:]}, then run sglint again.",
            key=f"{problem.address}:{problem.source}",
        )
        for problem in model.module_problems
        if problem.kind == "unreadable"
    ]


CHECK = StructuralCheck("module-unreadable", module_unreadable)
