"""calico-src-dst-check: Nodes that drop unencapsulated pod traffic: the EC2 source/destination check is on."""

from __future__ import annotations

from calico_sglint.checks.findings import UNVERIFIED, Finding
from calico_sglint.checks.structural.base import CheckContext, StructuralCheck
from calico_sglint.model.roles import ClusterNode
from calico_sglint.model.types import Model, NodeGroup
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.wording import unknown_text
from calico_sglint.source import Location
from calico_sglint.terraform.values import Ref, Unknown

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
    """Nodes that drop unencapsulated pod traffic: the EC2 source/destination check is on.
    Per cluster: a cluster of one node has no pod traffic between nodes, and an IPv6-only
    cluster's pods use addresses delegated to the node's interface, which the check passes.
    Keyed on the group, not the message: the message names cwd-relative sources."""
    encapsulation = context.profile.settings["encapsulation"]
    felix = context.profile.settings["aws_src_dst_check"]
    if not context.profile.routes_unencapsulated() or felix.value == "Disable" or context.cluster.origin != "compute":
        return []
    nodes = [n for part in _clusters(context) if not _exempt(part, context.model) for n in part]
    if not nodes:
        return []
    why = (f"drop the pod traffic Calico routes unencapsulated "
           f"(encapsulation={encapsulation.value} from {encapsulation.source})")
    if felix.value == "Enable":
        message = (f"Felix's awsSrcDstCheck is Enable (from {felix.source}): calico-node turns the EC2 "
                   f"source/destination check on for every node, so the nodes {why}")
        hint = "Set awsSrcDstCheck to Disable, or to DoNothing with source_dest_check = false on the instances."
        return [Finding(rule.id, rule.severity, message, _source_location(felix.source) or nodes[0].group.location,
                        context.model.root, hint=hint, key="awsSrcDstCheck=Enable")]
    findings = []
    for node in nodes:
        finding = _src_dst_finding(rule, node.group, context.model.root, why)
        if finding is not None:
            findings.append(finding)
    return findings


def _clusters(context: CheckContext) -> list[list[ClusterNode]]:
    """The nodes of each cluster that Calico runs on (not AWS's EKS control plane)."""
    names = [m.name for m in context.cluster.memberships] or [""]
    return [[n for n in context.cluster.nodes if n.cluster == name and not n.hosted] for name in names]


def _exempt(nodes: list[ClusterNode], model: Model) -> bool:
    """A cluster of a single node, or an IPv6-only one: every group in IPv6-only subnets, or
    an EKS cluster with ip_family ipv6."""
    if not nodes or (len(nodes) == 1 and not nodes[0].needs_self_path):
        return True
    ipv6_eks = {c.address for c in model.eks_clusters if c.ip_family == "ipv6"}
    return all(
        n.group.ipv6_only or (isinstance(n.group.cluster_name, Ref) and n.group.cluster_name.address in ipv6_eks)
        for n in nodes
    )


def _src_dst_finding(rule: PackRule, group: NodeGroup, root: str, why: str) -> Finding | None:
    check = group.source_dest_check
    if check is False:
        return None
    if isinstance(check, Unknown):
        message = (f"unverified: the nodes of {group.address} {why} unless source_dest_check is false, "
                   f"and sglint cannot evaluate it: {unknown_text(check)}")
        hint = f"Give the value (--var, --var-file, tfvars), or set {_FELIX_DISABLE}."
        return Finding(rule.id, "warning", message, group.location, root, UNVERIFIED, hint, unknowns=(check,),
                       key=f"{group.address}:unverified")
    launched = _LAUNCHED.get(group.kind)
    if launched is None:
        message = (f"{group.address} keeps the EC2 source/destination check on (source_dest_check is not false), "
                   f"so its nodes {why}")
        hint = f"Set source_dest_check = false on {group.address}, or set {_FELIX_DISABLE}."
        return Finding(rule.id, rule.severity, message, group.location, root, hint=hint, key=f"{group.address}:on")
    message = (f"{group.address} launches its nodes from {launched}, which cannot turn the EC2 "
               f"source/destination check off, so its nodes {why}")
    hint = f"Set {_FELIX_DISABLE}; or choose an encapsulation that always encapsulates (IPIP, VXLAN)."
    return Finding(rule.id, rule.severity, message, group.launch_template_location or group.location, root, hint=hint,
                   key=f"{group.address}:launched")


def _source_location(source: str) -> Location | None:
    """A profile setting's source as a location, when it is a `file:line`."""
    file, _, line = source.rpartition(":")
    return Location(file, int(line), int(line)) if file and line.isdigit() else None


CHECK = StructuralCheck("calico-src-dst-check", calico_src_dst_check)
