"""sg-exposed: Calico, kubelet or etcd ports open to the internet."""

from __future__ import annotations

import ipaddress

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.reachability import carries
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.wording import describe_ports
from calico_sglint.terraform.values import Unknown


def sg_exposed(rule: PackRule, context: CheckContext) -> list[Finding]:
    """Calico, kubelet or etcd ports (or all traffic) admitted from 0.0.0.0/0 or ::/0."""
    findings = []
    node_sgs = context.node_security_groups()
    for sg in context.model.security_groups:
        if sg.address not in node_sgs:
            continue
        for item in sg.rules:
            if item.direction != "ingress" or isinstance(item.protocol, Unknown):
                continue
            world = [p.value for p in item.peers if p.kind == "cidr" and _is_everywhere(p.value)]
            if not world:
                continue
            exposed = [e for e in rule.exposed if any(carries(item, e.protocol, span) for span in e.ports)]
            if not exposed:
                continue
            if item.protocol == "all":
                names = "every Calico, kubelet and etcd port"
            else:
                names = ", ".join(e.name for e in exposed)
            message = (
                f"{sg.address} admits {describe_ports(item)} from {' and '.join(world)}, "
                f"exposing {names} to the internet"
            )
            hint = "Admit these ports only from the node security groups (or self), never from the internet."
            key = f"{sg.address}:{item.declared_by}:{describe_ports(item)}:{','.join(world)}"
            findings.append(Finding(rule.id, rule.severity, message, item.location, context.model.root, hint=hint, key=key))
    return findings


def _is_everywhere(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


CHECK = StructuralCheck("sg-exposed", sg_exposed)
