"""sg-cross-reference: Pairs of SGs that admit each other through separate rules."""

from __future__ import annotations

from collections import defaultdict

from calico_sglint.checks.findings import Finding, Related
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.model.types import Rule
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.wording import describe_ports


def sg_cross_reference(rule: PackRule, context: CheckContext) -> list[Finding]:
    """Pairs of SGs admitting each other through separate rules: a layout that drifts."""
    grants: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    managed = {sg.address: sg for sg in context.model.security_groups if sg.managed}
    for sg in managed.values():
        for item in sg.rules:
            if item.direction != "ingress":
                continue
            for peer in item.peers:
                if peer.kind == "sg" and peer.value in managed and peer.value != sg.address:
                    grants[(sg.address, peer.value)].append(item)
    findings = []
    for (a, b), a_rules in sorted(grants.items()):
        b_rules = grants.get((b, a), [])
        if a > b or not b_rules:
            continue
        if all(r.style == "inline" for r in a_rules + b_rules):
            continue  # that is an sg-cycle
        count = len(a_rules) + len(b_rules)
        message = (
            f"{a} and {b} admit each other through {count} separate rules "
            f"({len(a_rules)} on {a.split('.')[-1]}, {len(b_rules)} on {b.split('.')[-1]}); "
            "every new port must be opened in both places, and one is easily forgotten"
        )
        related = tuple(Related(r.location, f"{r.declared_by}: {describe_ports(r)}") for r in (a_rules + b_rules)[:12])
        hint = "Put every node in one cluster security group with a self rule for all traffic (protocol -1, self = true)."
        findings.append(Finding(rule.id, rule.severity, message, managed[a].location, context.model.root,
                                hint=hint, related=related, key=f"{a}<>{b}"))
    return findings


CHECK = StructuralCheck("sg-cross-reference", sg_cross_reference)
