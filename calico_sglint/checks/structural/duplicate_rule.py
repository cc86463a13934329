"""sg-duplicate-rule: The same permission twice on one SG."""

from __future__ import annotations

import ipaddress

from calico_sglint.checks.findings import Finding, Related
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.model.types import Peer, Rule, SecurityGroup
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.wording import describe_peer, describe_ports
from calico_sglint.source import Location
from calico_sglint.terraform.values import Unknown


def sg_duplicate_rule(rule: PackRule, context: CheckContext) -> list[Finding]:
    """The same permission twice on one SG: AWS fails the apply with InvalidPermission.Duplicate."""
    findings = []
    for sg in context.model.security_groups:
        seen: dict[tuple[object, ...], Rule] = {}
        reported: set[tuple[Location, Location]] = set()
        for item in sorted(sg.rules, key=lambda r: (r.location.file, r.location.line)):
            if item.multiplicity is not None or any(isinstance(v, Unknown) for v in (item.protocol, item.from_port, item.to_port)):
                continue
            for peer in item.peers:
                key = (item.direction, item.protocol, item.from_port, item.to_port, *_peer_key(peer, sg))
                first = seen.setdefault(key, item)
                if first is item or (first.location, item.location) in reported:
                    continue
                if first.location == item.location and first.declared_by == item.declared_by:
                    continue
                reported.add((first.location, item.location))
                message = (
                    f"{item.direction} {describe_ports(item)} {'from' if item.direction == 'ingress' else 'to'} "
                    f"{describe_peer(peer)} on {sg.address} is already granted at {first.location}; "
                    "AWS rejects the apply with InvalidPermission.Duplicate"
                )
                findings.append(Finding(
                    rule.id, rule.severity, message, item.location, context.model.root,
                    hint="Delete one of the two rules.",
                    related=(Related(first.location, f"first granted by {first.declared_by}"),),
                    key=f"{sg.address}:{first.declared_by}={item.declared_by}:{key}",
                ))
    return findings


def _peer_key(peer: Peer, sg: SecurityGroup) -> tuple[str, str]:
    if peer.kind == "self" or (peer.kind == "sg" and peer.value == sg.address):
        return ("sg", sg.address)
    if peer.kind == "cidr":
        try:
            return ("cidr", str(ipaddress.ip_network(peer.value, strict=False)))
        except ValueError:
            return ("cidr", peer.value)
    return (peer.kind, peer.value)


CHECK = StructuralCheck("sg-duplicate-rule", sg_duplicate_rule)
