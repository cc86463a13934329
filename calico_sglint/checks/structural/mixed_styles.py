"""sg-mixed-rule-styles: Inline rules and rule resources on one SG."""

from __future__ import annotations

from calico_sglint.checks.findings import Finding, Related
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.model.types import Rule
from calico_sglint.profile.rulepack import PackRule


def sg_mixed_rule_styles(rule: PackRule, context: CheckContext) -> list[Finding]:
    """Inline rules and rule resources on one SG overwrite each other."""
    findings = []
    for sg in context.model.security_groups:
        if not sg.managed:
            continue
        by_style: dict[str, Rule] = {}
        for item in sg.rules:
            by_style.setdefault(item.style, item)
        if len(by_style) < 2:
            continue
        styles = " and ".join(_STYLE_NAMES[s] for s in sorted(by_style))
        message = f"{sg.address} is managed with {styles} at once; each apply removes the rules the other added"
        related = tuple(Related(r.location, f"{_STYLE_NAMES[s]}: {r.declared_by}") for s, r in sorted(by_style.items()))
        hint = "Keep one style per security group; prefer aws_security_group_rule resources (no cycles)."
        findings.append(Finding(rule.id, rule.severity, message, sg.location, context.model.root, hint=hint,
                                related=related, key=sg.address))
    return findings


_STYLE_NAMES = {
    "inline": "inline ingress/egress blocks",
    "rule": "aws_security_group_rule resources",
    "vpc-rule": "aws_vpc_security_group_*_rule resources",
}


CHECK = StructuralCheck("sg-mixed-rule-styles", sg_mixed_rule_styles)
