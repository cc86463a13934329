"""Model stage, security groups: evaluated resources -> security groups and their rules, and
what the node-group builders share (security-group references, the SGs and networks of nodes).

Follows the AWS provider's semantics: protocols normalised (`-1`/`all`, 6/17/1/58 become
tcp/udp/icmp/icmpv6, other numbers stay numbers), ports "all" where the protocol has none,
one rule per block or resource with every peer it names. Nothing here knows about Calico.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any, Callable, Iterable

from calico_sglint.model.eks import (
    CLUSTER_SG_ATTRIBUTE,
    EKS_CLUSTER,
    cluster_security_group,
    cluster_sg_address,
)
from calico_sglint.model.types import (
    EksCluster,
    Model,
    NodeGroup,
    Peer,
    Rule,
    SecurityGroup,
    UnknownUse,
)
from calico_sglint.source import Location
from calico_sglint.terraform.configuration import (
    Configuration,
    EvalBlock,
    ResourceInstance,
)
from calico_sglint.terraform.values import Ref, TfSet, Unknown, find_unknown

SECURITY_GROUP = "aws_security_group"
RULE = "aws_security_group_rule"
VPC_INGRESS = "aws_vpc_security_group_ingress_rule"
VPC_EGRESS = "aws_vpc_security_group_egress_rule"
ALL_PORTS = (0, 65535)
_PROTOCOL_NUMBERS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
_PORTED = {"tcp", "udp", "icmp", "icmpv6"}

# --- normalisation -----------------------------------------------------------------------


def normalize_protocol(value: Any) -> str | Unknown:
    """`-1`/`all` -> "all"; 6/17/1/58 -> tcp/udp/icmp/icmpv6; other numbers as strings."""
    if isinstance(value, (Unknown, Ref)):
        return find_unknown(value)  # type: ignore[return-value]
    if isinstance(value, bool) or value is None:
        return Unknown(str(value), "protocol is not set")
    text = str(value).strip().lower()
    if text in ("-1", "all"):
        return "all"
    if text.lstrip("-").isdigit():
        text = str(int(text))
        return _PROTOCOL_NUMBERS.get(text, text)
    return text


def port_range(protocol: str | Unknown, from_port: Any, to_port: Any) -> tuple[int | Unknown, int | Unknown]:
    """The port range a rule admits: all ports when the protocol has none."""
    if isinstance(protocol, str) and protocol not in _PORTED:
        return ALL_PORTS
    return _port(from_port), _port(to_port)


def _port(value: Any) -> int | Unknown:
    if isinstance(value, (Unknown, Ref)):
        return find_unknown(value)  # type: ignore[return-value]
    if value is None:
        return Unknown("null", "port is not set")
    try:
        return int(str(value))
    except ValueError:
        return Unknown(repr(value), "port is not a whole number")


# --- building ----------------------------------------------------------------------------


class Resources:
    """The evaluated resources of one root by type, and what building the model from them
    shares: notes of unknowns, security-group references, the SGs and networks nodes use."""

    def __init__(self, config: Configuration) -> None:
        self.config = config
        self.by_type: dict[str, list[ResourceInstance]] = defaultdict(list)
        for resource in config.resources:
            self.by_type[resource.type].append(resource)
        self.managed_sgs = {r.address: r for r in self.by_type[SECURITY_GROUP]}
        self.eks_clusters = {r.address: r for r in self.by_type[EKS_CLUSTER]}
        self.external: dict[str, Location] = {}
        self.unknowns: list[UnknownUse] = []
        self.subnets = {r.address: r for r in self.by_type["aws_subnet"]}

    def model(self, node_groups_of: Callable[[Resources], list[NodeGroup]]) -> Model:
        """The model: rules first, then node groups (`node_groups_of`), so unknowns are noted in that order."""
        rules: dict[str, list[Rule]] = defaultdict(list)
        unattached: list[Rule] = []
        for rule in self._all_rules():
            if isinstance(rule.security_group, Unknown):
                unattached.append(rule)
            else:
                rules[rule.security_group].append(rule)
        node_groups = node_groups_of(self)
        groups = [self._managed_sg(r, rules.pop(r.address, [])) for r in self.by_type[SECURITY_GROUP]]
        groups.extend(
            cluster_security_group(c, rules.pop(cluster_sg_address(c.address), [])) for c in self.by_type[EKS_CLUSTER]
        )
        for address in sorted(set(self.external) | set(rules)):
            # not created here: located where the scanned code names it (a node group, a rule)
            named_at = self.external.get(address) or next((r.location for r in rules.get(address, [])), None)
            groups.append(
                SecurityGroup(address, False, None, tuple(rules.get(address, [])), "", None, named_at)
            )
        return Model(
            self.config.root,
            tuple(sorted(groups, key=lambda g: g.address)),
            tuple(node_groups),
            tuple(unattached),
            tuple(dict.fromkeys([*self.unknowns, *_unread_modules(self.config)])),
            self.config.diagnostics,
            tuple(dict.fromkeys(d for _, d in self.config.modules)),
            self.config.modules,
            tuple(_eks_cluster(r) for r in self.by_type[EKS_CLUSTER]),
            self.config.module_problems,
            self.config.root_file,
            self.config.installed_modules,
        )

    def note(self, address: str, attribute: str, value: Any) -> None:
        found = find_unknown(value) if isinstance(value, Unknown) else None
        if found is not None:
            self.unknowns.append(UnknownUse(address, attribute, found))

    def _managed_sg(self, resource: ResourceInstance, rules: list[Rule]) -> SecurityGroup:
        name = resource.body.get("name", resource.body.get("name_prefix"))
        if resource.expansion is not None:
            self.note(resource.address, "count/for_each", resource.expansion)
        may_change = tuple(
            Unknown(f"{given.module}.{given.input}",
                    f"given {resource.address}.id to a module sglint did not read, which may add rules to it: "
                    f"{given.reason}",
                    given.location)
            for given in self.config.opaque_inputs if given.resource == resource.address
        )
        for unknown in may_change:
            self.unknowns.append(UnknownUse(resource.address, "rules", unknown))
        return SecurityGroup(
            resource.address,
            True,
            name if isinstance(name, (str, Unknown)) or name is None else str(name),
            tuple(rules),
            resource.module,
            resource.module_dir,
            resource.body.location,
            resource.expansion,
            may_change,
        )

    # --- security group references -------------------------------------------------------

    def sg_address(self, value: Any, at: Location | None) -> str | Unknown:
        """The SG a value names: a managed SG's id/name, a data source, or a literal id."""
        if isinstance(value, Ref):
            if value.attribute == CLUSTER_SG_ATTRIBUTE and value.address in self.eks_clusters:
                return value.expr()
            if value.attribute not in ("id", "name"):
                return Unknown(value.expr(), "not a security group id (use .id)")
            if value.address in self.managed_sgs:
                return value.address
            mode, type_ = resource_type(value.address)
            if type_ == SECURITY_GROUP and mode == "data" and value.attribute == "id":
                self.external.setdefault(value.address, at)  # type: ignore[arg-type]
                return value.address
            return Unknown(value.expr(), "not a security group created in the scanned code")
        if isinstance(value, str) and value.startswith("sg-"):
            self.external.setdefault(value, at)  # type: ignore[arg-type]
            return value
        if isinstance(value, Unknown):
            return value
        return Unknown(repr(value), "not a security group id")

    # --- rules ---------------------------------------------------------------------------

    def _all_rules(self) -> Iterable[Rule]:
        for resource in self.by_type[SECURITY_GROUP]:
            for block in resource.body.blocks:
                if block.type in ("ingress", "egress"):
                    yield self._inline_rule(resource, block)
        for resource in self.by_type[RULE]:
            yield self._rule_resource(resource)
        for resource in self.by_type[VPC_INGRESS] + self.by_type[VPC_EGRESS]:
            yield self._vpc_rule(resource)

    def _inline_rule(self, sg: ResourceInstance, block: EvalBlock) -> Rule:
        where = f"{sg.address}.{block.type}"
        peers = self._peers(
            where,
            block,
            sg.address,
            sg_list=block.get("security_groups"),
            self_flag=block.get("self"),
        )
        return self._rule(
            where, block.type, sg.address, block, "inline", sg.address, peers,
            block.expansion or sg.expansion,
        )

    def _rule_resource(self, resource: ResourceInstance) -> Rule:
        body = resource.body
        direction = body.get("type")
        target = self.sg_address(body.get("security_group_id"), body.location)
        self.note(resource.address, "security_group_id", target)
        source = body.get("source_security_group_id")
        peers = self._peers(
            resource.address,
            body,
            target if isinstance(target, str) else None,
            sg_list=[source] if source is not None else None,
            self_flag=body.get("self"),
        )
        if not isinstance(direction, str) or direction not in ("ingress", "egress"):
            unknown = direction if isinstance(direction, Unknown) else Unknown(repr(direction), "type must be ingress or egress")
            self.note(resource.address, "type", unknown)
            direction = "ingress"
        return self._rule(
            resource.address, direction, target, body, "rule", resource.address, peers,
            resource.expansion,
        )

    def _vpc_rule(self, resource: ResourceInstance) -> Rule:
        body = resource.body
        direction = "ingress" if resource.type == VPC_INGRESS else "egress"
        target = self.sg_address(body.get("security_group_id"), body.location)
        self.note(resource.address, "security_group_id", target)
        peers: list[Peer] = []
        for attr in ("cidr_ipv4", "cidr_ipv6"):
            if attr in body.attrs:
                peers.extend(self._cidr_peers(resource.address, attr, [body.get(attr)]))
        if "prefix_list_id" in body.attrs:
            peers.extend(self._simple_peers(resource.address, "prefix_list_id", [body.get("prefix_list_id")], "prefix_list"))
        if "referenced_security_group_id" in body.attrs:
            value = body.get("referenced_security_group_id")
            peers.append(self._sg_peer(resource.address, "referenced_security_group_id", value, body.location))
        protocol = normalize_protocol(body.get("ip_protocol"))
        self.note(resource.address, "ip_protocol", protocol)
        from_port, to_port = port_range(protocol, body.get("from_port"), body.get("to_port"))
        self.note(resource.address, "from_port", from_port)
        self.note(resource.address, "to_port", to_port)
        description = body.get("description")
        return Rule(
            direction, target, protocol, from_port, to_port, tuple(peers),
            description if isinstance(description, (str, Unknown)) else None,
            "vpc-rule", resource.address, body.location, resource.expansion,
        )

    def _rule(
        self,
        where: str,
        direction: str,
        target: str | Unknown,
        block: EvalBlock,
        style: str,
        declared_by: str,
        peers: list[Peer],
        multiplicity: Unknown | None,
    ) -> Rule:
        protocol = normalize_protocol(block.get("protocol"))
        self.note(where, "protocol", protocol)
        from_port, to_port = port_range(protocol, block.get("from_port"), block.get("to_port"))
        self.note(where, "from_port", from_port)
        self.note(where, "to_port", to_port)
        if multiplicity is not None:
            self.note(where, "for_each", multiplicity)
        description = block.get("description")
        return Rule(
            direction, target, protocol, from_port, to_port, tuple(peers),
            description if isinstance(description, (str, Unknown)) else None,
            style, declared_by, block.location, multiplicity,
        )

    def _peers(
        self, where: str, block: EvalBlock, self_sg: str | None, sg_list: Any, self_flag: Any
    ) -> list[Peer]:
        peers: list[Peer] = []
        peers.extend(self._cidr_peers(where, "cidr_blocks", block.get("cidr_blocks")))
        peers.extend(self._cidr_peers(where, "ipv6_cidr_blocks", block.get("ipv6_cidr_blocks")))
        peers.extend(self._simple_peers(where, "prefix_list_ids", block.get("prefix_list_ids"), "prefix_list"))
        for value in elements(sg_list):
            peers.append(self._sg_peer(where, "security_groups", value, block.location))
        if isinstance(self_flag, Unknown):
            self.note(where, "self", self_flag)
            peers.append(Peer("unknown", self_flag.expr, self_flag))
        elif self_flag is True or self_flag == "true":
            peers.append(Peer("self", self_sg or "self"))
        return peers

    def _sg_peer(self, where: str, attribute: str, value: Any, at: Location) -> Peer:
        address = self.sg_address(value, at)
        if isinstance(address, Unknown):
            self.note(where, attribute, address)
            return Peer("unknown", address.expr, address)
        return Peer("sg", address)

    def _cidr_peers(self, where: str, attribute: str, value: Any) -> list[Peer]:
        return self._simple_peers(where, attribute, value, "cidr")

    def _simple_peers(self, where: str, attribute: str, value: Any, kind: str) -> list[Peer]:
        peers = []
        for item in elements(value):
            if isinstance(item, (Unknown, Ref)):
                unknown = find_unknown(item)
                assert unknown is not None
                self.note(where, attribute, unknown)
                peers.append(Peer("unknown", unknown.expr, unknown))
            elif isinstance(item, str):
                peers.append(Peer(kind, item))
        return peers

    # --- what nodes use ----------------------------------------------------------------

    def security_groups_of(self, owner: str, body: EvalBlock) -> list[str | Unknown]:
        """SGs named by an instance or launch template (ids, names or network interfaces)."""
        result: list[str | Unknown] = []
        for attribute in ("vpc_security_group_ids", "security_groups", "security_group_names"):
            result.extend(self.sg_list(owner, attribute, body.get(attribute), body.location))
        for nic in body.blocks_of("network_interfaces") + body.blocks_of("network_interface"):
            result.extend(self.sg_list(owner, "network_interfaces.security_groups", nic.get("security_groups"), nic.location))
            interface = nic.get("network_interface_id")
            for eni in self.by_type["aws_network_interface"]:
                if isinstance(interface, Ref) and interface.address == eni.address:
                    result.extend(self.sg_list(owner, "network_interface.security_groups", eni.body.get("security_groups"), eni.body.location))
        return list(dict.fromkeys(result))

    def sg_list(self, owner: str, attribute: str, value: Any, at: Location) -> list[str | Unknown]:
        result: list[str | Unknown] = []
        if isinstance(value, Unknown):
            self.note(owner, attribute, value)
            return [value]
        for item in elements(value):
            address = self.sg_address(item, at)
            self.note(owner, attribute, address)
            result.append(address)
        return result

    def networks(self, owner: str, body: EvalBlock, subnets: list[Any]) -> list[str | Unknown]:
        """CIDRs that hold the nodes' addresses, one per placement: the private IP, else the
        CIDR of every subnet the nodes may be placed in."""
        ip = body.get("private_ip")
        if isinstance(ip, str):
            return [f"{ip}/32"]
        known = self.subnets
        networks: list[str | Unknown] = []
        for value in subnets:
            if isinstance(value, Ref) and value.address in known:
                cidr = known[value.address].body.get("cidr_block")
                if cidr is None and known[value.address].body.get("ipv6_native") is True:
                    cidr = Unknown(value.expr(), "an IPv6-only subnet (ipv6_native): the nodes have no IPv4 address")
                networks.append(cidr if isinstance(cidr, (str, Unknown)) else Unknown(value.expr(), "subnet has no cidr_block"))
            elif isinstance(value, Unknown):
                networks.append(value)
            else:
                networks.append(Unknown(describe(value), "subnet is not created in the scanned code"))
        if not networks:
            networks.append(Unknown(f"{owner}.subnet_id", "no subnet set: the nodes' addresses are unknown"))
        return list(dict.fromkeys(networks))


    def ipv6_only(self, subnets: list[Any]) -> bool:
        """Whether every subnet the nodes may be placed in is IPv6-only (`ipv6_native = true`)."""
        found = [self.subnets.get(v.address) if isinstance(v, Ref) else None for v in subnets]
        return bool(found) and all(r is not None and r.body.get("ipv6_native") is True for r in found)


def _eks_cluster(resource: ResourceInstance) -> EksCluster:
    """An EKS cluster: its name (node groups name it) and its IP family."""
    name = resource.body.get("name")
    family = None
    for block in resource.body.blocks_of("kubernetes_network_config"):
        value = block.get("ip_family")
        family = value.lower() if isinstance(value, str) else family
    return EksCluster(
        resource.address, name if isinstance(name, (str, Unknown)) else None, family, resource.body.location
    )


def cluster_name(value: Any) -> str | Ref | Unknown | None:
    """An EKS node group's cluster: a name, or the `aws_eks_cluster` it references."""
    if isinstance(value, (str, Ref, Unknown)) or value is None:
        return value
    return Unknown(repr(value), "cluster_name is not a string")


def _unread_modules(config: Configuration) -> list[UnknownUse]:
    """Each module call not read, as an unknown: everything it creates is unknown."""
    return [
        UnknownUse(p.address, "source", Unknown(p.source or p.address, f"module not read: {p.reason}", p.location))
        for p in config.module_problems
        if p.kind == "unreadable"
    ]


def default_security_group(owner: str) -> Unknown:
    """What nodes wear when their resource names no security group: the VPC's default one."""
    return Unknown(f"{owner}.vpc_security_group_ids", "no security groups set: AWS attaches the VPC's default security group")


def resource_type(address: str) -> tuple[str, str]:
    """("managed" | "data", type) of a resource address, module path and keys ignored."""
    parts = re.sub(r"\[[^\]]*\]", "", address).split(".")
    while len(parts) > 2 and parts[0] == "module":
        parts = parts[2:]
    if parts[0] == "data" and len(parts) > 1:
        return "data", parts[1]
    return "managed", parts[0]


def subnet_values(body: EvalBlock, *attributes: str) -> list[Any]:
    """Subnet ids named by the attributes and by `network_interfaces` blocks."""
    values: list[Any] = []
    for attribute in attributes:
        values.extend(elements(body.get(attribute)))
    for nic in body.blocks_of("network_interfaces"):
        values.extend(elements(nic.get("subnet_id")))
    return values


def elements(value: Any) -> list[Any]:
    """A list attribute's elements; a lone value counts as one; null as none."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, TfSet)):
        return list(value)
    return [value]


def describe(value: Any) -> str:
    if isinstance(value, Ref):
        return value.expr()
    return repr(value)


def freeze(values: list[Any]) -> tuple[Any, ...]:
    return tuple(v.expr if isinstance(v, Unknown) else v for v in values)


def whole_number(value: Any) -> int | None:
    if isinstance(value, bool) or value is None or isinstance(value, (Unknown, Ref)):
        return None
    try:
        return int(str(value))
    except ValueError:
        return None


def node_names(resource: ResourceInstance, body: EvalBlock) -> tuple[str, ...]:
    """Strings that may say what a node is: resource name, Name tag, name attributes."""
    names = [resource.name]
    for attribute in ("name", "name_prefix", "node_group_name", "node_group_name_prefix"):
        value = body.get(attribute)
        if isinstance(value, str):
            names.append(value)
    name_tag = node_tags(body).get("Name")
    if name_tag:
        names.append(name_tag)
    return tuple(dict.fromkeys(names))


def node_tags(body: EvalBlock) -> dict[str, str]:
    tags: dict[str, str] = {}
    for source in (body.get("tags"),):
        if isinstance(source, dict):
            tags.update({k: v for k, v in source.items() if isinstance(v, str)})
    for spec in body.blocks_of("tag_specifications"):
        value = spec.get("tags")
        if isinstance(value, dict):
            tags.update({k: v for k, v in value.items() if isinstance(v, str)})
    return tags


def asg_tags(body: EvalBlock) -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in body.blocks_of("tag"):
        key, value = tag.get("key"), tag.get("value")
        if isinstance(key, str) and isinstance(value, str):
            tags[key] = value
    return tags
