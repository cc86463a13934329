"""sg-unknown-reference: Rules naming an SG the module does not declare."""

from __future__ import annotations

from typing import Iterable

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.model.types import Model, Rule
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.source import Location
from calico_sglint.terraform.values import UndeclaredReference, Unknown


def sg_unknown_reference(rule: PackRule, context: CheckContext) -> list[Finding]:
    """Rules naming an aws_security_group that the module does not declare."""
    findings = []
    seen: set[tuple[str, Location | None]] = set()
    for item in _all_rules(context.model):
        candidates: list[Unknown] = [p.unknown for p in item.peers if p.unknown is not None]
        if isinstance(item.security_group, Unknown):
            candidates.append(item.security_group)
        for unknown in candidates:
            if not isinstance(unknown, UndeclaredReference) or (unknown.expr, unknown.location) in seen:
                continue
            seen.add((unknown.expr, unknown.location))
            message = f"{item.declared_by} names {unknown.expr}, which is not declared in this module"
            declared = sorted(sg.address for sg in context.model.security_groups if sg.managed)
            hint = "Correct the name" + (f"; declared security groups: {', '.join(declared[:6])}." if declared else ".")
            findings.append(Finding(rule.id, rule.severity, message, unknown.location or item.location,
                                    context.model.root, hint=hint, key=f"{item.declared_by}:{unknown.expr}"))
    return findings


def _all_rules(model: Model) -> Iterable[Rule]:
    for sg in model.security_groups:
        yield from sg.rules
    yield from model.unattached_rules


CHECK = StructuralCheck("sg-unknown-reference", sg_unknown_reference)
