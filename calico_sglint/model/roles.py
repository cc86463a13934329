"""Roles: which node groups are the control plane, which are workers, which are not nodes.

From the config's `roles:` first, then names and tags (master, control-plane, controller, cp
-> control plane; worker, node(s) -> worker). When no node group has a role, every node group
is a worker. A module with security groups but no compute takes its nodes from security
groups named by config or by those words. Every assignment says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Mapping

from calico_sglint.model.types import Model, NodeGroup, SecurityGroup

CONTROL_PLANE = "control-plane"
WORKER = "worker"
EKS_CONTROL_PLANE = "eks-control-plane"  # AWS runs it: no kubelet, no calico-node
_CONTROL_WORDS = {"master", "masters", "controller", "controllers", "cp", "controlplane", "control-plane"}
_WORKER_WORDS = {"worker", "workers", "node", "nodes"}
_CONTROL_PAIRS = {("control", "plane")}


@dataclass(frozen=True)
class ClusterNode:
    """A node group of the cluster and its roles."""

    group: NodeGroup
    roles: frozenset[str]
    reason: str  # "config .sglint.yaml:3", "name 'k8s-master'", "tag Role=worker", ...

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
    nodes: tuple[ClusterNode, ...]
    excluded: tuple[tuple[NodeGroup, str], ...]  # groups that are not cluster nodes, and why
    origin: str  # "compute", "security groups" or "none"
    note: str  # how the roles were decided, for the report

    def has_roles(self, *roles: str) -> bool:
        """False when a role only some clusters have (the EKS control plane) is missing: a
        requirement naming it does not apply here."""
        return all(role != EKS_CONTROL_PLANE or any(n.hosted for n in self.nodes) for role in roles)


def assign_roles(model: Model, config_roles: Mapping[str, tuple[str, str]]) -> Cluster:
    """The cluster nodes of `model`, with roles from config, names and tags; an EKS cluster's
    control plane (AWS's) is the control plane, whatever the other groups are."""
    hosted = [
        ClusterNode(g, frozenset({CONTROL_PLANE, EKS_CONTROL_PLANE}), "EKS control plane (aws_eks_cluster)")
        for g in model.node_groups if g.kind == "aws_eks_cluster"
    ]
    groups = [g for g in model.node_groups if g.kind != "aws_eks_cluster"]
    if groups:
        cluster = _from_groups(groups, config_roles, "compute")
    else:
        pseudo = [_sg_group(sg) for sg in model.security_groups if sg.managed]
        cluster = _from_groups(pseudo, config_roles, "security groups", require_role=True)
        if not cluster.nodes:
            return Cluster(tuple(hosted), cluster.excluded, "none", "no compute resources and no security group "
                           "named for a role; declare `roles:` in .sglint.yaml to check paths")
    return Cluster((*hosted, *cluster.nodes), cluster.excluded, cluster.origin, cluster.note)


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
    assigned: list[ClusterNode] = []
    unassigned: list[NodeGroup] = []
    excluded: list[tuple[NodeGroup, str]] = []
    for group in groups:
        configured = _configured(group, config_roles)
        if configured is not None:
            role, reason = configured
            if role == "none":
                excluded.append((group, f"config {reason}: none"))
            else:
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
    key mentions a role (`Role = "worker"`, `kubernetes.io/role/master = "1"`)."""
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
