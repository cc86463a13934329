"""`sglint show`: the model as the user should see it, in JSON (for tests and tools) or text.

This is how a user learns what the tool understood: every SG with its rules and where they
are, every node group with its size and SGs, and every value it could not evaluate.
"""

from __future__ import annotations

from typing import Any

from calico_sglint import __version__
from calico_sglint.model.types import Model, NodeGroup, Rule, SecurityGroup, UnknownUse
from calico_sglint.render.wording import (
    describe_peer,
    describe_ports,
    maybe,
    text_value,
)
from calico_sglint.source import Diagnostic

SHOW_SCHEMA_VERSION = 1


def rule_json(rule: Rule) -> dict[str, Any]:
    return {
        "direction": rule.direction,
        "protocol": maybe(rule.protocol),
        "from_port": maybe(rule.from_port),
        "to_port": maybe(rule.to_port),
        "peers": [p.to_json() for p in rule.peers],
        "description": maybe(rule.description),
        "style": rule.style,
        "declared_by": rule.declared_by,
        "location": rule.location.to_json(),
        "multiplicity": maybe(rule.multiplicity),
    }


def security_group_json(sg: SecurityGroup) -> dict[str, Any]:
    return {
        "address": sg.address,
        "managed": sg.managed,
        "name": maybe(sg.name),
        "module_dir": sg.module_dir,
        "location": sg.location.to_json() if sg.location else None,
        "expansion": maybe(sg.expansion),
        "rules": [rule_json(r) for r in sg.rules],
    }


def node_group_json(group: NodeGroup) -> dict[str, Any]:
    return {
        "address": group.address,
        "kind": group.kind,
        "instances": list(group.instances),
        "security_groups": [maybe(s) for s in group.security_groups],
        "size": {"min": group.size_min, "max": group.size_max},
        "source_dest_check": maybe(group.source_dest_check),
        "networks": [maybe(n) for n in group.networks],
        "names": list(group.names),
        "tags": dict(sorted(group.tags.items())),
        "launch_template": group.launch_template,
        "location": group.location.to_json(),
    }


def unknown_json(use: UnknownUse) -> dict[str, Any]:
    return {
        "address": use.address,
        "attribute": use.attribute,
        "expression": use.unknown.expr,
        "reason": use.unknown.reason,
        "location": use.unknown.location.to_json() if use.unknown.location else None,
    }


def model_json(model: Model) -> dict[str, Any]:
    return {
        "root": model.root,
        "security_groups": [security_group_json(sg) for sg in model.security_groups],
        "node_groups": [node_group_json(g) for g in model.node_groups],
        "unattached_rules": [rule_json(r) for r in model.unattached_rules],
        "unknowns": [unknown_json(u) for u in model.unknowns],
    }


def show_json(models: tuple[Model, ...], diagnostics: list[Diagnostic]) -> dict[str, Any]:
    """The whole `sglint show --format json` document."""
    return {
        "schema_version": SHOW_SCHEMA_VERSION,
        "tool": {"name": "calico-sglint", "version": __version__},
        "roots": [model_json(m) for m in models],
        "diagnostics": [d.to_json() for d in diagnostics],
    }


# --- text --------------------------------------------------------------------------------


def show_text(models: tuple[Model, ...]) -> str:
    """A readable outline of every model."""
    lines: list[str] = []
    for model in models:
        lines.append(f"Root module {model.root}")
        lines.append("")
        lines.append("  Security groups")
        if not model.security_groups:
            lines.append("    (none)")
        for sg in model.security_groups:
            if any(r.style == "aws-default" for r in sg.rules):
                lines.append(f"    {sg.address}  {sg.location}  (created by AWS with the default rules below; "
                             "rules added outside Terraform unknown)")
            elif sg.managed:
                lines.append(f"    {sg.address}" + (f"  {sg.location}" if sg.location else ""))
            else:
                named = f"; named at {sg.location}" if sg.location else ""
                lines.append(f"    {sg.address}  (not created here: rules unknown{named})")
            for rule in sg.rules:
                lines.append("      " + _rule_line(rule))
        for rule in model.unattached_rules:
            lines.append("    rule on an unknown security group: " + _rule_line(rule))
        lines.append("")
        lines.append("  Node groups")
        if not model.node_groups:
            lines.append("    (none)")
        for group in model.node_groups:
            size = _size_text(group)
            sgs = ", ".join(text_value(s) for s in group.security_groups)
            lines.append(f"    {group.address}  {size}  {group.location}")
            lines.append(f"      security groups: {sgs}")
        if model.unknowns:
            lines.append("")
            lines.append("  Could not evaluate")
            for use in model.unknowns:
                where = f" ({use.unknown.location})" if use.unknown.location else ""
                lines.append(
                    f"    {use.address} {use.attribute}: {use.unknown.expr}{where}: {use.unknown.reason}"
                )
        lines.append("")
    return "\n".join(lines)


def _rule_line(rule: Rule) -> str:
    arrow = "from" if rule.direction == "ingress" else "to"
    peers = ", ".join(describe_peer(p) for p in rule.peers) or "nobody"
    many = f"  (x unknown: {rule.multiplicity.expr})" if rule.multiplicity else ""
    return f"{rule.direction:<7} {describe_ports(rule)} {arrow} {peers}  {rule.location} [{rule.style}]{many}"


def _size_text(group: NodeGroup) -> str:
    if group.kind == "aws_eks_cluster":
        return "EKS control plane (run by AWS)"
    if group.size_max is None:
        return "size unknown"
    if group.size_min == group.size_max:
        return f"{group.size_max} node{'s' if group.size_max != 1 else ''}"
    return f"{group.size_min}-{group.size_max} nodes"
