"""calico-src-dst-check: Nodes that drop unencapsulated pod traffic: the EC2 source/destination check is on."""

from __future__ import annotations

from calico_sglint.checks.findings import UNVERIFIED, Finding
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.model.types import NodeGroup
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.wording import unknown_text
from calico_sglint.source import Location
from calico_sglint.terraform.values import Unknown

_LAUNCHED = {  # node groups whose instances Terraform cannot create with the check off
    "aws_autoscaling_group": "an autoscaling group",
    "aws_launch_template": "a launch template",
    "aws_launch_configuration": "a launch configuration",
    "aws_eks_node_group": "an EKS node group",
}
_FELIX_DISABLE = (
    "Felix's awsSrcDstCheck: Disable (FelixConfiguration `default`, or FELIX_AWSSRCDSTCHECK=Disable "
    "on calico-node; calico-node then needs IAM permission to modify the nodes' network interfaces)"
)


def calico_src_dst_check(rule: PackRule, context: CheckContext) -> list[Finding]:
    """Nodes that drop unencapsulated pod traffic: the EC2 source/destination check is on."""
    encapsulation = context.profile.settings["encapsulation"]
    felix = context.profile.settings["aws_src_dst_check"]
    if not context.profile.routes_unencapsulated() or felix.value == "Disable" or context.cluster.origin != "compute":
        return []
    if len(context.cluster.nodes) == 1 and not context.cluster.nodes[0].needs_self_path:
        return []  # a single node: no pod traffic between nodes
    why = (f"drop the pod traffic Calico routes unencapsulated "
           f"(encapsulation={encapsulation.value} from {encapsulation.source})")
    if felix.value == "Enable":
        message = (f"Felix's awsSrcDstCheck is Enable (from {felix.source}): calico-node turns the EC2 "
                   f"source/destination check on for every node, so the nodes {why}")
        hint = "Set awsSrcDstCheck to Disable, or to DoNothing with source_dest_check = false on the instances."
        return [Finding(rule.id, rule.severity, message, _source_location(felix.source) or context.cluster.nodes[0].group.location,
                        context.model.root, hint=hint)]
    findings = []
    for node in context.cluster.nodes:
        finding = _src_dst_finding(rule, node.group, context.model.root, why)
        if finding is not None:
            findings.append(finding)
    return findings


def _src_dst_finding(rule: PackRule, group: NodeGroup, root: str, why: str) -> Finding | None:
    check = group.source_dest_check
    if check is False:
        return None
    if isinstance(check, Unknown):
        message = (f"unverified: the nodes of {group.address} {why} unless source_dest_check is false, "
                   f"and sglint cannot evaluate it: {unknown_text(check)}")
        hint = f"Give the value (--var, --var-file, tfvars), or set {_FELIX_DISABLE}."
        return Finding(rule.id, "warning", message, group.location, root, UNVERIFIED, hint, unknowns=(check,))
    launched = _LAUNCHED.get(group.kind)
    if launched is None:
        message = (f"{group.address} keeps the EC2 source/destination check on (source_dest_check is not false), "
                   f"so its nodes {why}")
        hint = f"Set source_dest_check = false on {group.address}, or set {_FELIX_DISABLE}."
        return Finding(rule.id, rule.severity, message, group.location, root, hint=hint)
    message = (f"{group.address} launches its nodes from {launched}, which cannot turn the EC2 "
               f"source/destination check off, so its nodes {why}")
    hint = f"Set {_FELIX_DISABLE}; or choose an encapsulation that always encapsulates (IPIP, VXLAN)."
    return Finding(rule.id, rule.severity, message, group.launch_template_location or group.location, root, hint=hint)


def _source_location(source: str) -> Location | None:
    """A profile setting's source as a location, when it is a `file:line`."""
    file, _, line = source.rpartition(":")
    return Location(file, int(line), int(line)) if file and line.isdigit() else None


CHECK = StructuralCheck("calico-src-dst-check", calico_src_dst_check)
