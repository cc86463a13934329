"""Clusters: which node groups of one root module must reach each other.

One root can build several Kubernetes clusters (two calls of one cluster module, blue and
green; the two EKS clusters of a published example). Requirements apply within a cluster,
never between two. Node groups are partitioned, strongest evidence first:

1. `.sglint.yaml` `clusters:` (name -> addresses of node groups, resources, security groups
   or module instances);
2. EKS membership: an `aws_eks_node_group`'s `cluster_name`;
3. tags: `kubernetes.io/cluster/<name>` or `KubernetesCluster = <name>`;
4. module instance: separate instances of one module (the same source directory) are separate
   clusters, unless their groups share a security group or a rule names one from the other.

Groups with no name from 1-3 join the named cluster whose groups they share a security group
or a rule with (links are followed before module instances are grouped). Two groups named for
different clusters are never merged. Everything else of a root module is one cluster. Every
cluster says why its members belong to it. (Module instances installed by `terraform init`
live in one directory each, so two installs of one registry module are not yet recognised as
the same module: EKS membership and tags still tell their clusters apart.)
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

from calico_sglint.model.types import Model, NodeGroup
from calico_sglint.terraform.values import Ref

CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/"
CLUSTER_TAG = "KubernetesCluster"
_MODULE_STEP = re.compile(r'module\.[^.\[]+(?:\[(?:"[^"]*"|[^\]]*)\])?')


@dataclass(frozen=True)
class Membership:
    """One cluster of a root module: its name, why its members belong together, and the
    addresses of its node groups (in model order)."""

    name: str
    reason: str
    members: tuple[str, ...]
    whole_root: bool = False  # nothing set it apart: every node group of the root module

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "reason": self.reason, "node_groups": list(self.members)}


@dataclass(frozen=True)
class _Label:
    name: str
    reason: str
    rank: int  # 0 config, 1 EKS membership, 2 tag: the strongest evidence is named first


def partition(
    groups: Sequence[NodeGroup],
    model: Model,
    configured: Mapping[str, tuple[tuple[str, ...], str]],
    default_name: str,
    names_a_role: Callable[[str], bool] = lambda name: False,
) -> tuple[Membership, ...]:
    """The clusters `groups` form (see the module docstring), in the order of their first
    group. A module call whose name names a role (`module.servers`, `module.agents`) holds one
    role of a cluster, not a cluster of its own."""
    labels = {g.address: _label(g, model, configured) for g in groups}
    sets = _UnionFind([g.address for g in groups])
    for first, second in _pairs(groups):
        one, other = labels[first.address], labels[second.address]
        if one is not None and other is not None and one.name == other.name:
            sets.union(first.address, second.address)
    veto = lambda a, b: _conflict(a, b, labels)  # noqa: E731 - two clusters named apart stay apart
    for first, second in _linked(groups, model):
        sets.union_unless(first, second, veto)
    buckets = _buckets(groups, model, names_a_role)
    for first, second in _pairs(groups):
        unlabelled = labels[first.address] is None and labels[second.address] is None
        if unlabelled and buckets[first.address] == buckets[second.address]:
            sets.union_unless(first.address, second.address, veto)
    clusters: dict[str, list[str]] = {}
    for group in groups:
        clusters.setdefault(sets.find(group.address), []).append(group.address)
    replicas = {buckets[a] for a in buckets if buckets[a]}
    return tuple(
        _membership(members, labels, buckets, len(clusters), replicas, default_name)
        for members in clusters.values()
    )


def _label(group: NodeGroup, model: Model, configured: Mapping[str, tuple[tuple[str, ...], str]]) -> _Label | None:
    """The cluster a group is named for, by config, EKS membership or tags."""
    for name, (addresses, source) in configured.items():
        if any(_names_group(address, group) for address in addresses):
            return _Label(name, f"config {source}", 0)
    if group.kind == "aws_eks_cluster":  # the EKS control plane: its own cluster
        cluster = next((c for c in model.eks_clusters if c.address == group.address), None)
        name = cluster.name if cluster is not None and isinstance(cluster.name, str) else group.address
        return _Label(name, f"the EKS control plane {group.address}", 1)
    eks = group.cluster_name
    if isinstance(eks, Ref):
        cluster = next((c for c in model.eks_clusters if c.address == eks.address), None)
        name = cluster.name if cluster is not None and isinstance(cluster.name, str) else eks.address
        return _Label(name, f"EKS node groups of {eks.address} (cluster_name)", 1)
    if isinstance(eks, str):
        cluster = next((c for c in model.eks_clusters if c.name == eks), None)
        return _Label(eks, f"EKS node groups of {cluster.address if cluster else eks} (cluster_name)", 1)
    for key, value in sorted(group.tags.items()):
        if key.startswith(CLUSTER_TAG_PREFIX) and len(key) > len(CLUSTER_TAG_PREFIX):
            return _Label(key[len(CLUSTER_TAG_PREFIX):], f"tag {key}", 2)
        if key == CLUSTER_TAG and value:
            return _Label(value, f"tag {CLUSTER_TAG}={value}", 2)
    return None


def _names_group(address: str, group: NodeGroup) -> bool:
    """Whether a configured address is the group, one of its resources or SGs, or a module
    instance that holds it."""
    own = (group.address, *group.instances, group.launch_template or "",
           *(s for s in group.security_groups if isinstance(s, str)))
    return any(a == address or a.startswith(address + ".") or a.startswith(address + "[") for a in own if a)


def module_path(address: str) -> tuple[str, ...]:
    """The module instances an address lies in, outermost first:
    `module.a["x"].module.b.aws_instance.n` -> ("module.a[\"x\"]", "module.a[\"x\"].module.b")."""
    steps: list[str] = []
    rest = address
    while rest.startswith("module."):
        match = _MODULE_STEP.match(rest)
        if match is None:
            break
        steps.append((steps[-1] + "." if steps else "") + match.group(0))
        rest = rest[match.end():].lstrip(".")
    return tuple(steps)


def _buckets(groups: Sequence[NodeGroup], model: Model, names_a_role: Callable[[str], bool]) -> dict[str, str]:
    """Per group, the outermost module instance around it of which the root holds another
    instance from the same directory (a replica), or "" when there is none."""
    directory = {m: d for m, d in model.modules if not names_a_role(call_name(m))}
    copies = Counter(directory.values())
    result = {}
    for group in groups:
        path = module_path(group.address)
        result[group.address] = next((m for m in path if m in directory and copies[directory[m]] > 1), "")
    return result


def call_name(instance: str) -> str:
    """`module.a.module.servers["x"]` -> "servers"."""
    return re.sub(r"\[.*\]$", "", instance.rsplit("module.", 1)[-1])


def _pairs(groups: Sequence[NodeGroup]) -> Iterable[tuple[NodeGroup, NodeGroup]]:
    for index, first in enumerate(groups):
        for second in groups[index + 1:]:
            yield first, second


def _linked(groups: Sequence[NodeGroup], model: Model) -> Iterable[tuple[str, str]]:
    """Pairs of groups that share a security group or whose security groups a rule links."""
    owners: dict[str, list[str]] = {}
    for group in groups:
        for sg in group.security_groups:
            if isinstance(sg, str):
                owners.setdefault(sg, []).append(group.address)
    for members in owners.values():
        for other in members[1:]:
            yield members[0], other
    for sg in model.security_groups:
        for rule in sg.rules:
            for peer in rule.peers:
                if peer.kind != "sg" or peer.value == sg.address:
                    continue
                for mine in owners.get(sg.address, []):
                    for theirs in owners.get(peer.value, []):
                        yield mine, theirs


def _conflict(first: Iterable[str], second: Iterable[str], labels: Mapping[str, _Label | None]) -> bool:
    named = {labels[a].name for a in (*first, *second) if labels[a] is not None}  # type: ignore[union-attr]
    return len(named) > 1


def _membership(
    members: list[str], labels: Mapping[str, _Label | None], buckets: Mapping[str, str], count: int,
    replicas: set[str], default_name: str,
) -> Membership:
    named = sorted((labels[m] for m in members if labels[m] is not None), key=lambda label: label.rank)  # type: ignore[union-attr]
    if named:
        reasons = "; ".join(dict.fromkeys(label.reason for label in named))  # type: ignore[union-attr]
        return Membership(named[0].name, reasons, tuple(members))  # type: ignore[union-attr]
    spanned = {buckets[m] for m in members}
    bucket = next(iter(spanned)) if len(spanned) == 1 else ""
    if bucket and len(replicas) > 1:
        others = sorted(replicas - {bucket})
        reason = (f"module instance {bucket}: it shares no security group and no rule with the other "
                  f"instance{'s' if len(others) > 1 else ''} of the same module ({', '.join(others[:3])})")
        return Membership(bucket, reason, tuple(members))
    if count == 1:
        return Membership(default_name, "every node group of the root module", tuple(members), whole_root=True)
    reason = "node groups of the root module linked by shared security groups or rules, apart from the other clusters"
    return Membership(default_name, reason, tuple(members))


class _UnionFind:
    """Disjoint sets of node-group addresses."""

    def __init__(self, items: Sequence[str]) -> None:
        self.parent = {item: item for item in items}
        self.members = {item: [item] for item in items}

    def find(self, item: str) -> str:
        while self.parent[item] != item:
            item = self.parent[item]
        return item

    def union(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            self.parent[b] = a
            self.members[a].extend(self.members.pop(b))

    def union_unless(self, first: str, second: str, veto: object) -> None:
        a, b = self.find(first), self.find(second)
        if a != b and not veto(self.members[a], self.members[b]):  # type: ignore[operator]
            self.union(a, b)
