"""The model: security groups, their rules and peers, node groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from calico_sglint.source import Diagnostic, Location
from calico_sglint.terraform.configuration import ModuleProblem
from calico_sglint.terraform.values import Ref, Unknown


@dataclass(frozen=True)
class Peer:
    """Who a rule admits (ingress) or reaches (egress)."""

    kind: str  # "sg", "self", "cidr", "prefix_list" or "unknown"
    value: str  # SG address, CIDR, prefix list id, or the unevaluated expression
    unknown: Unknown | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "value": self.value}
        if self.unknown is not None:
            data["reason"] = self.unknown.reason
        return data


@dataclass(frozen=True)
class Rule:
    """One ingress or egress permission on one security group."""

    direction: str  # "ingress" or "egress"
    security_group: str | Unknown  # the SG it belongs to
    protocol: str | Unknown  # "all", "tcp", "udp", "icmp", "icmpv6" or a protocol number
    from_port: int | Unknown
    to_port: int | Unknown
    peers: tuple[Peer, ...]
    description: str | None | Unknown
    style: str  # "inline", "rule" (aws_security_group_rule) or "vpc-rule"
    declared_by: str  # address of the resource that declares it
    location: Location
    multiplicity: Unknown | None = None  # set when it stands for an unknown number of rules


@dataclass(frozen=True)
class SecurityGroup:
    address: str
    managed: bool  # False: a data source or literal id; its rules are not all known
    name: str | None | Unknown
    rules: tuple[Rule, ...]
    module: str  # module instance address ("" for the root module)
    module_dir: str | None
    location: Location | None
    expansion: Unknown | None = None  # its count/for_each is unknown
    may_change: tuple[Unknown, ...] = ()  # modules sglint cannot read that are given its id


@dataclass(frozen=True)
class NodeGroup:
    """EC2 nodes sharing the same security groups."""

    address: str
    kind: str  # the resource type that defines the nodes
    instances: tuple[str, ...]  # instance addresses (aws_instance), else the group's own address
    security_groups: tuple[str | Unknown, ...]
    size_min: int | None  # None: unknown
    size_max: int | None
    source_dest_check: bool | Unknown
    networks: tuple[str | Unknown, ...]  # CIDRs holding the nodes' addresses
    names: tuple[str, ...]  # resource name, Name tag, name/name_prefix: for roles
    tags: Mapping[str, str]
    location: Location
    launch_template: str | None = None
    launch_template_location: Location | None = None  # where the nodes' settings are declared
    cluster_name: str | Ref | Unknown | None = None  # an EKS node group's cluster_name
    ipv6_only: bool = False  # every placement is an IPv6-only subnet (ipv6_native)


@dataclass(frozen=True)
class EksCluster:
    """An `aws_eks_cluster`: node groups name it by `cluster_name`."""

    address: str
    name: str | Unknown | None
    ip_family: str | None  # kubernetes_network_config.ip_family: "ipv4", "ipv6" or None (unset)
    location: Location


@dataclass(frozen=True)
class UnknownUse:
    """Where an unknown value reached the model, and what could not be evaluated."""

    address: str
    attribute: str
    unknown: Unknown


@dataclass(frozen=True)
class Model:
    root: str
    security_groups: tuple[SecurityGroup, ...]
    node_groups: tuple[NodeGroup, ...]
    unattached_rules: tuple[Rule, ...]  # rules whose security_group_id is unknown
    unknowns: tuple[UnknownUse, ...]
    diagnostics: tuple[Diagnostic, ...] = field(default=())
    module_dirs: tuple[str, ...] = ()  # display paths of the modules this root instantiates
    modules: tuple[tuple[str, str], ...] = ()  # (module instance address, display dir)
    eks_clusters: tuple[EksCluster, ...] = ()
    module_problems: tuple[ModuleProblem, ...] = ()  # module calls not read, version mismatches
    root_file: str = ""  # the root module's first file, where findings about the root point
    installed_modules: tuple[str, ...] = ()  # module instances installed by `terraform init`

    def security_group(self, address: str) -> SecurityGroup | None:
        return next((sg for sg in self.security_groups if sg.address == address), None)
