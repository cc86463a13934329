"""no-security-groups: a root in which sglint sees no security group at all."""

from __future__ import annotations

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.checks.structural.no_node_groups import root_location, unread_text
from calico_sglint.profile.rulepack import PackRule


def no_security_groups(rule: PackRule, context: CheckContext) -> list[Finding]:
    """A root in which sglint sees no security group at all."""
    model = context.model
    if model.security_groups:
        return []
    message = f"root module {model.root} has no security group sglint can see{unread_text(model)}: nothing was checked"
    hint = "Install the root's modules (`terraform init -backend=false`) or scan the module that creates the groups."
    return [Finding(rule.id, rule.severity, message, root_location(model), model.root, hint=hint,
                    key="no-security-groups")]


CHECK = StructuralCheck("no-security-groups", no_security_groups)
