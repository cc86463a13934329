"""Roles: which node groups are the control plane, which are workers, which are not nodes.

From the config's `roles:` first, then names and tags (master, control-plane, controller, cp,
and RKE2/k3s server -> control plane; worker, node(s), agent -> worker), then the names of the
module calls around the group (`module.servers`). Groups named or tagged bastion, jump, NAT,
VPN or load balancer are never Kubernetes nodes. Node groups are partitioned into clusters
(clusters.py) first; in a cluster where no node group has a role, every node group is a
worker. A module with security groups but no compute takes its nodes from security groups
named by config or by those words. Every assignment says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Iterable, Mapping

from calico_sglint.model.clusters import Membership, call_name, module_path, partition
from calico_sglint.model.types import Model, NodeGroup, SecurityGroup

CONTROL_PLANE = "control-plane"
WORKER = "worker"
EKS_CONTROL_PLANE = "eks-control-plane"  # AWS runs it: no kubelet, no calico-node
_CONTROL_WORDS = {
    "master", "masters", "controller", "controllers", "cp", "controlplane", "control-plane",
    "server", "servers",  # RKE2 / k3s
}
_WORKER_WORDS = {"worker", "workers", "node", "nodes", "agent", "agents"}
_CONTROL_PAIRS = {("control", "plane")}
# Hosts beside a cluster that are never Kubernetes nodes, whatever else their names say.
_NOT_NODE_WORDS = {
    "bastion", "bastions", "jump", "jumphost", "jumpbox", "nat", "vpn", "lb", "elb", "alb", "nlb",
    "loadbalancer", "haproxy",
}
_NOT_NODE_PAIRS = {("load", "balancer")}


@dataclass(frozen=True)
class ClusterNode:
    """A node group of a cluster and its roles."""

    group: NodeGroup
    roles: frozenset[str]
    reason: str  # "config .sglint.yaml:3", "name 'k8s-master'", "tag Role=worker", ...
    cluster: str = ""  # the name of its cluster (clusters.Membership)

    @property
    def needs_self_path(self) -> bool:
        """A group of exactly one node needs no path to itself; unknown sizes do. The EKS
        control plane is AWS's: it needs no path to itself."""
        if self.hosted:
            return False
        return self.group.size_max is None or self.group.size_max >= 2

    @property
    def hosted(self) -> bool:
        """A control plane AWS runs (EKS): only rules naming the control plane apply to it."""
        return EKS_CONTROL_PLANE in self.roles


@dataclass(frozen=True)
class Cluster:
    """The Kubernetes nodes of one root module: every node group with its roles and cluster,
    the clusters they form, and the groups that are not nodes."""

    nodes: tuple[ClusterNode, ...]
    excluded: tuple[tuple[NodeGroup, str], ...]  # groups that are not cluster nodes, and why
    origin: str  # "compute", "security groups" or "none"
    note: str  # how the roles were decided, for the report
    memberships: tuple[Membership, ...] = ()  # the clusters, each with why its members belong

    def same_cluster(self, first: ClusterNode, second: ClusterNode) -> bool:
        return first.cluster == second.cluster

    def named_clusters(self) -> tuple[Membership, ...]:
        """The clusters a report names: all of them, unless the root module is one cluster
        that nothing set apart (then there is nothing to say)."""
        if len(self.memberships) == 1 and self.memberships[0].whole_root:
            return ()
        return self.memberships

    def has_roles(self, *roles: str) -> bool:
        """False when a role only some clusters have (the EKS control plane) is missing: a
        requirement naming it does not apply here."""
        return all(role != EKS_CONTROL_PLANE or any(n.hosted for n in self.nodes) for role in roles)


def assign_roles(
    model: Model,
    config_roles: Mapping[str, tuple[str, str]],
    config_clusters: Mapping[str, tuple[tuple[str, ...], str]] | None = None,
) -> Cluster:
    """The Kubernetes nodes of `model`, partitioned into clusters, with roles from config,
    names and tags; an EKS cluster's control plane (AWS's) is the control plane of its
    cluster, whatever the other groups are."""
    hosted = [g for g in model.node_groups if g.kind == "aws_eks_cluster"]
    groups = [g for g in model.node_groups if g.kind != "aws_eks_cluster"]
    if groups:
        return _clustered([*hosted, *groups], model, config_roles, config_clusters or {}, "compute")
    pseudo = [_sg_group(sg) for sg in model.security_groups if sg.managed]
    cluster = _clustered([*hosted, *pseudo], model, config_roles, config_clusters or {}, "security groups",
                         require_role=True)
    if not any(not n.hosted for n in cluster.nodes):
        return Cluster(cluster.nodes, cluster.excluded, "none", "no compute resources and no security group "
                       "named for a role; declare `roles:` in .sglint.yaml to check paths", cluster.memberships)
    return cluster


def _clustered(
    groups: list[NodeGroup],
    model: Model,
    config_roles: Mapping[str, tuple[str, str]],
    config_clusters: Mapping[str, tuple[tuple[str, ...], str]],
    origin: str,
    require_role: bool = False,
) -> Cluster:
    """Leave out the groups that are not nodes, partition the rest into clusters, then decide
    the roles within each cluster."""
    excluded: list[tuple[NodeGroup, str]] = []
    candidates = []
    for group in groups:
        if group.kind == "aws_eks_cluster":
            candidates.append(group)
            continue
        configured = _configured(group, config_roles)
        not_node = None if configured is not None else _not_a_node(group)
        if configured is not None and configured[0] == "none":
            excluded.append((group, f"config {configured[1]}: none"))
        elif not_node is not None:
            excluded.append((group, not_node))
        else:
            candidates.append(group)
    memberships = partition(candidates, model, config_clusters, model.root, lambda name: role_of_text(name) is not None)
    by_address = {g.address: g for g in candidates}
    nodes: list[ClusterNode] = []
    notes: list[str] = []
    for membership in memberships:
        members = [by_address[a] for a in membership.members]
        hosted = [ClusterNode(g, frozenset({CONTROL_PLANE, EKS_CONTROL_PLANE}), "EKS control plane (aws_eks_cluster)")
                  for g in members if g.kind == "aws_eks_cluster"]
        rest = [g for g in members if g.kind != "aws_eks_cluster"]
        part = _from_groups(rest, config_roles, origin, require_role) if rest else Cluster((), (), origin, "")
        nodes.extend(replace(n, cluster=membership.name) for n in (*hosted, *part.nodes))
        excluded.extend(part.excluded)
        if part.note:
            notes.append(part.note if len(memberships) == 1 else f"{membership.name}: {part.note}")
    kept = tuple(m for m in memberships if any(n.cluster == m.name for n in nodes))
    kept = tuple(replace(m, members=tuple(n.group.address for n in nodes if n.cluster == m.name)) for m in kept)
    order = {g.address: i for i, g in enumerate(groups)}
    excluded.sort(key=lambda item: order.get(item[0].address, 0))
    note = "; ".join(dict.fromkeys(notes)) if notes else "no Kubernetes node groups"
    return Cluster(tuple(nodes), tuple(excluded), origin, note, kept)


def words(text: str) -> list[str]:
    """Lowercase words of a name: `k8s-controlPlane_1` -> ["k8s", "control", "plane", "1"]."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    return [w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w]


def role_of_text(text: str) -> str | None:
    """control-plane, worker or None, from the words in a name or tag."""
    tokens = words(text)
    pairs = set(zip(tokens, tokens[1:]))
    if _CONTROL_WORDS & set(tokens) or _CONTROL_PAIRS & pairs:
        return CONTROL_PLANE
    if _WORKER_WORDS & set(tokens):
        return WORKER
    return None


def _from_groups(
    groups: list[NodeGroup],
    config_roles: Mapping[str, tuple[str, str]],
    origin: str,
    require_role: bool = False,
) -> Cluster:
    """Roles within one cluster (its groups are nodes unless none has a role and one is
    required)."""
    assigned: list[ClusterNode] = []
    unassigned: list[NodeGroup] = []
    excluded: list[tuple[NodeGroup, str]] = []
    for group in groups:
        configured = _configured(group, config_roles)
        if configured is not None:
            role, reason = configured
            roles = frozenset({CONTROL_PLANE, WORKER} if role == "both" else {role})
            assigned.append(ClusterNode(group, roles, f"config {reason}"))
            continue
        named = _named_role(group)
        if named is None:
            unassigned.append(group)
        else:
            role, reason = named
            assigned.append(ClusterNode(group, frozenset({role}), reason))
    if assigned or require_role:
        excluded.extend((g, "no name, tag or config says it is a Kubernetes node") for g in unassigned)
        note = "roles from " + ("config, names and tags" if assigned else "nothing")
        if origin == "security groups":
            note = "no compute resources: nodes are the security groups named for a role or in config"
        return Cluster(tuple(assigned), tuple(excluded), origin, note)
    nodes = tuple(ClusterNode(g, frozenset({WORKER}), "no roles found: every node group is a worker") for g in unassigned)
    return Cluster(nodes, tuple(excluded), origin, "no names, tags or config mention roles: every node group is a worker")


def _configured(group: NodeGroup, config_roles: Mapping[str, tuple[str, str]]) -> tuple[str, str] | None:
    """The configured role of a group: by its address, an instance's, the resource the
    instances come from, its launch template, or one of its SGs."""
    resources = [re.sub(r"\[[^\]]*\]$", "", i) for i in group.instances]
    for address in (group.address, *group.instances, *resources, group.launch_template or "", *[
        s for s in group.security_groups if isinstance(s, str)
    ]):
        if address in config_roles:
            return config_roles[address]
    return None


def _named_role(group: NodeGroup) -> tuple[str, str] | None:
    """The role the names or tags give: names (resource, Name tag, name) first, then tags whose
    key mentions a role (`Role = "worker"`, `kubernetes.io/role/master = "1"`), then the
    module calls around the group, innermost first (`module.servers`)."""
    for name in group.names:
        role = role_of_text(name)
        if role is not None:
            return role, f"name {name!r}"
    for key, value in sorted(group.tags.items()):
        if "role" not in key.lower():
            continue
        role = role_of_text(key) or role_of_text(value)
        if role is not None:
            return role, f"tag {key}={value}"
    for call in reversed(module_path(group.address)):
        role = role_of_text(call_name(call))
        if role is not None:
            return role, f"module {call}"
    return None


def is_not_a_node(text: str) -> bool:
    """Whether a name or tag value says bastion, jump host, NAT, VPN or load balancer."""
    tokens = words(text)
    return bool(_NOT_NODE_WORDS & set(tokens) or _NOT_NODE_PAIRS & set(zip(tokens, tokens[1:])))


def _not_a_node(group: NodeGroup) -> str | None:
    """Why a group is not a Kubernetes node, when its names or role/Name tags say so."""
    for name in group.names:
        if is_not_a_node(name):
            return f"name {name!r}: a bastion, jump, NAT, VPN or load-balancer host is not a Kubernetes node"
    for key, value in sorted(group.tags.items()):
        if ("role" in key.lower() or key == "Name") and (is_not_a_node(value) or is_not_a_node(key)):
            return f"tag {key}={value}: a bastion, jump, NAT, VPN or load-balancer host is not a Kubernetes node"
    return None


def _sg_group(sg: SecurityGroup) -> NodeGroup:
    """A stand-in node group for a security group in a module with no compute."""
    from calico_sglint.terraform.values import Unknown

    names: Iterable[str] = [sg.address.split(".")[-1].split("[")[0]]
    if isinstance(sg.name, str):
        names = [*names, sg.name]
    return NodeGroup(
        address=sg.address,
        kind="aws_security_group",
        instances=(sg.address,),
        security_groups=(sg.address,),
        size_min=None,
        size_max=None,
        source_dest_check=Unknown(sg.address, "no compute resources in the scanned code"),
        networks=(Unknown(sg.address, "no compute resources in the scanned code"),),
        names=tuple(dict.fromkeys(names)),
        tags={},
        location=sg.location,  # type: ignore[arg-type]
    )
