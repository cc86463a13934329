"""sg-cycle: Inline rules that reference each other: `terraform plan` fails with Error: Cycle."""

from __future__ import annotations

from calico_sglint.checks.findings import Finding, Related
from calico_sglint.checks.reachability import inline_references
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.profile.rulepack import PackRule


def sg_cycle(rule: PackRule, context: CheckContext) -> list[Finding]:
    """SGs whose inline rules reference each other: `terraform plan` fails with Error: Cycle."""
    import networkx as nx

    managed = [sg.address for sg in context.model.security_groups if sg.managed]
    dependencies = inline_references(context.model.security_groups).subgraph(managed)
    findings = []
    for component in nx.strongly_connected_components(dependencies):
        members = sorted(component)
        if len(members) == 1 and not dependencies.has_edge(members[0], members[0]):
            continue
        cycle = nx.find_cycle(dependencies.subgraph(members), source=members[0])
        names = [a for a, _ in cycle] + [cycle[0][0]]
        blocks = [dependencies.edges[a, b]["rule"] for a, b in cycle]
        if len(members) == 1:
            message = (
                f"{members[0]} names itself in an inline rule; Terraform rejects a resource that "
                "refers to itself (use self = true)"
            )
        else:
            message = (
                "inline rules make these security groups depend on each other: "
                f"{' -> '.join(names)}; `terraform plan` fails with Error: Cycle"
            )
        related = tuple(
            Related(b.location, f"{a} inline {b.direction} names {c}") for (a, c), b in zip(cycle, blocks)
        )
        hint = (
            f"Move the rules of {members[-1]} (all of them) into aws_security_group_rule "
            "resources; standalone rules do not create dependencies between groups."
        )
        findings.append(Finding(rule.id, rule.severity, message, blocks[0].location, context.model.root,
                                hint=hint, related=related, key=",".join(members)))
    return findings


CHECK = StructuralCheck("sg-cycle", sg_cycle)
