"""Coverage checks: what sglint could not see in a root module, as findings.

A safety check must never pass silently. Module calls it cannot read, installed modules of
the wrong version, and roots in which it finds no node group or no security group at all
become warnings (by default) that every report format carries, so `--fail-on warning` fails
the build and a reviewer sees why nothing was checked.
"""

from __future__ import annotations

from calico_sglint.checks.findings import Finding
from calico_sglint.model.roles import Cluster
from calico_sglint.model.types import Model
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.source import Location


def module_unreadable(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """One finding per module call sglint cannot read, at the call's `source` line."""
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


def module_version(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """One finding per installed module whose version does not match the call's constraint."""
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


def no_node_groups(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """A root with security groups but no node group: no path can be checked."""
    if any(not n.hosted for n in cluster.nodes) or not model.security_groups:
        return []
    first = next((sg.location for sg in model.security_groups if sg.location), None)
    unread = _unread_text(model)
    message = (
        f"root module {model.root} has {len(model.security_groups)} security group"
        f"{'s' if len(model.security_groups) != 1 else ''} but no node group sglint can see{unread}: "
        "no Calico path was checked"
    )
    hint = "Install the root's modules, scan the root that creates the nodes, or name the node groups in `roles:`."
    return [Finding(rule.id, rule.severity, message, first or _root_location(model), model.root, hint=hint,
                    key="no-node-groups")]


def no_security_groups(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """A root in which sglint sees no security group at all."""
    if model.security_groups:
        return []
    unread = _unread_text(model)
    message = f"root module {model.root} has no security group sglint can see{unread}: nothing was checked"
    hint = "Install the root's modules (`terraform init -backend=false`) or scan the module that creates the groups."
    return [Finding(rule.id, rule.severity, message, _root_location(model), model.root, hint=hint,
                    key="no-security-groups")]


def _unread_text(model: Model) -> str:
    unread = [p.address for p in model.module_problems if p.kind == "unreadable"]
    if not unread:
        return ""
    names = ", ".join(unread[:3]) + (f" and {len(unread) - 3} more" if len(unread) > 3 else "")
    return f" (not read: {names})"


def _root_location(model: Model) -> Location | None:
    return Location(model.root_file, 1, 1) if model.root_file else None
