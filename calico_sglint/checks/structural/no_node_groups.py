"""no-node-groups: a root with security groups but no node group, so no path was checked."""

from __future__ import annotations

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.model.types import Model
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.source import Location


def no_node_groups(rule: PackRule, context: CheckContext) -> list[Finding]:
    """A root with security groups but no node group: no path can be checked."""
    model, cluster = context.model, context.cluster
    if any(not n.hosted for n in cluster.nodes) or not model.security_groups:
        return []
    first = next((sg.location for sg in model.security_groups if sg.location), None)
    count = len(model.security_groups)
    message = (
        f"root module {model.root} has {count} security group{'s' if count != 1 else ''} but no node group "
        f"sglint can see{unread_text(model)}: no Calico path was checked"
    )
    hint = "Install the root's modules, scan the root that creates the nodes, or name the node groups in `roles:`."
    return [Finding(rule.id, rule.severity, message, first or root_location(model), model.root, hint=hint,
                    key="no-node-groups")]


def unread_text(model: Model) -> str:
    """` (not read: module.a, module.b)` when the root has module calls sglint cannot read."""
    unread = [p.address for p in model.module_problems if p.kind == "unreadable"]
    if not unread:
        return ""
    names = ", ".join(unread[:3]) + (f" and {len(unread) - 3} more" if len(unread) > 3 else "")
    return f" (not read: {names})"


def root_location(model: Model) -> Location | None:
    """The root module's first file, line 1: where findings about the whole root point."""
    return Location(model.root_file, 1, 1) if model.root_file else None


CHECK = StructuralCheck("no-node-groups", no_node_groups)
