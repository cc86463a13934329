"""Model stage, node groups: one builder per resource type that defines nodes, each with the
attributes it reads (nothing else of those resources is evaluated).

Instances (`aws_instance`, spot requests) split into groups by the SGs they wear;
autoscaling groups and EKS node groups take their SGs and names from their launch template;
a launch template or configuration no group uses is a node group of its own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from calico_sglint.model.eks import EKS_CLUSTER, cluster_sg_address, control_plane_group
from calico_sglint.model.resources import (
    Resources,
    asg_tags,
    cluster_name,
    default_security_group,
    elements,
    freeze,
    node_names,
    node_tags,
    subnet_values,
    whole_number,
)
from calico_sglint.model.types import NodeGroup
from calico_sglint.terraform.configuration import ResourceInstance
from calico_sglint.terraform.values import Ref, Unknown, find_unknown

# What every builder reads: the SGs nodes wear, where their addresses come from, their names.
_WEARS = frozenset({"vpc_security_group_ids", "security_groups", "security_group_names",
                    "network_interface", "network_interfaces", "private_ip"})
_NAMED = frozenset({"name", "name_prefix", "node_group_name", "node_group_name_prefix", "tags", "tag_specifications"})


@dataclass
class Templates:
    """Launch templates and configurations by address, and the ones a node group launches from."""

    by_address: dict[str, ResourceInstance]
    used: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class NodeGroupBuilder:
    """How node groups come from one resource type, and the attributes that takes."""

    resource_type: str
    reads: frozenset[str]
    build: Callable[[Resources, str, Templates], list[NodeGroup]]


def _template_ref(value: Any, templates: Mapping[str, ResourceInstance]) -> ResourceInstance | None:
    if isinstance(value, Ref) and value.address in templates:
        return templates[value.address]
    return None


def _instance_groups(
    res: Resources, kind: str, templates: Mapping[str, ResourceInstance], used: set[str]
) -> list[NodeGroup]:
    by_resource: dict[str, list[ResourceInstance]] = defaultdict(list)
    for instance in res.by_type[kind]:
        by_resource[instance.resource].append(instance)
    groups = []
    for resource, instances in by_resource.items():
        split: dict[tuple[Any, ...], list[tuple[ResourceInstance, list[str | Unknown], Any, list[str | Unknown], list[Any]]]] = defaultdict(list)
        for instance in instances:
            body = instance.body
            sgs = res.security_groups_of(instance.address, body)
            template_block = body.blocks_of("launch_template")
            template = _template_ref(
                template_block[0].get("id", template_block[0].get("name")) if template_block else None,
                templates,
            )
            if template is not None:
                used.add(template.address)
                if not sgs:
                    sgs = res.security_groups_of(template.address, template.body)
            if not sgs:
                sgs = [default_security_group(instance.resource)]
                res.note(instance.resource, "vpc_security_group_ids", sgs[0])
            check = body.get("source_dest_check", True)
            subnets = subnet_values(body, "subnet_id")
            networks = res.networks(instance.resource, body, subnets)
            split[freeze(sgs) + (freeze([check]),)].append((instance, sgs, check, networks, subnets))
        for members in split.values():
            first, sgs, check, _, _ = members[0]
            # every instance sits in its own subnet: the group lives in all of them
            networks = list(dict.fromkeys(n for m in members for n in m[3]))
            ipv6_only = all(res.ipv6_only(m[4]) for m in members)
            whole = len(split) == 1
            size: int | None = None if first.expansion is not None else len(members)
            if first.expansion is not None:
                res.note(first.resource, "count/for_each", first.expansion)
            groups.append(
                NodeGroup(
                    address=resource if whole else first.address,
                    kind=kind,
                    instances=tuple(m[0].address for m in members),
                    security_groups=tuple(sgs),
                    size_min=size,
                    size_max=size,
                    source_dest_check=check if isinstance(check, (bool, Unknown)) else check != "false",
                    networks=tuple(networks),
                    names=node_names(first, first.body),
                    tags=node_tags(first.body),
                    location=first.body.location,
                    ipv6_only=ipv6_only,
                )
            )
    return groups

def _asg_group(
    res: Resources, asg: ResourceInstance, templates: Mapping[str, ResourceInstance], used: set[str]
) -> NodeGroup:
    body = asg.body
    refs: list[Any] = [body.get("launch_configuration")]
    for block in body.blocks_of("launch_template"):
        refs.extend([block.get("id"), block.get("name")])
    for policy in body.blocks_of("mixed_instances_policy"):
        for lt in policy.blocks_of("launch_template"):
            for spec in lt.blocks_of("launch_template_specification"):
                refs.extend([spec.get("launch_template_id"), spec.get("launch_template_name")])
    template = next((t for t in (_template_ref(r, templates) for r in refs) if t), None)
    sgs: list[str | Unknown]
    names = list(node_names(asg, body))
    tags = dict(asg_tags(body))
    check: bool | Unknown = True
    if template is not None:
        used.add(template.address)
        sgs = res.security_groups_of(asg.address, template.body)
        names.extend(n for n in node_names(template, template.body) if n not in names)
        tags = {**node_tags(template.body), **tags}
    else:
        ref = next((r for r in refs if r is not None), None)
        unknown = find_unknown(ref) if ref is not None else None
        sgs = [unknown or Unknown(f"{asg.address}.launch_template", "launch template is not created here")]
        res.note(asg.address, "launch_template", sgs[0])
    if not sgs:
        sgs = [default_security_group(template.address)]  # type: ignore[union-attr]
    size_min = whole_number(body.get("min_size"))
    size_max = whole_number(body.get("max_size"))
    res.note(asg.address, "max_size", body.get("max_size"))
    subnets = subnet_values(body, "vpc_zone_identifier")
    if template is not None:
        subnets += subnet_values(template.body)
    return NodeGroup(
        address=asg.address,
        kind="aws_autoscaling_group",
        instances=(asg.address,),
        security_groups=tuple(sgs),
        size_min=None if asg.expansion else size_min,
        size_max=None if asg.expansion else size_max,
        source_dest_check=check,
        networks=tuple(res.networks(asg.address, body, subnets)),
        names=tuple(names),
        tags=tags,
        location=body.location,
        launch_template=template.address if template else None,
        launch_template_location=template.body.location if template else None,
        ipv6_only=res.ipv6_only(subnets),
    )

def _eks_group(
    res: Resources, eks: ResourceInstance, templates: Mapping[str, ResourceInstance], used: set[str]
) -> NodeGroup:
    body = eks.body
    template = None
    for block in body.blocks_of("launch_template"):
        template = template or _template_ref(block.get("id", block.get("name")), templates)
    sgs: list[str | Unknown] = []
    names = list(node_names(eks, body))
    if template is not None:
        used.add(template.address)
        sgs = res.security_groups_of(eks.address, template.body)
        names.extend(n for n in node_names(template, template.body) if n not in names)
    if not sgs:
        cluster = body.get("cluster_name")
        if isinstance(cluster, Ref) and cluster.address in res.eks_clusters:
            sgs = [cluster_sg_address(cluster.address)]  # EKS attaches its cluster security group
        else:
            sgs = [Unknown(f"{eks.address}", "EKS attaches its cluster security group, which is not created here")]
            res.note(eks.address, "security groups", sgs[0])
    scaling = body.blocks_of("scaling_config")
    size_min = whole_number(scaling[0].get("min_size")) if scaling else None
    size_max = whole_number(scaling[0].get("max_size")) if scaling else None
    return NodeGroup(
        address=eks.address,
        kind="aws_eks_node_group",
        instances=(eks.address,),
        security_groups=tuple(sgs),
        size_min=None if eks.expansion else size_min,
        size_max=None if eks.expansion else size_max,
        source_dest_check=True,
        networks=tuple(res.networks(eks.address, body, subnet_values(body, "subnet_ids"))),
        names=tuple(names),
        tags=node_tags(body),
        location=body.location,
        launch_template=template.address if template else None,
        launch_template_location=template.body.location if template else None,
        cluster_name=cluster_name(body.get("cluster_name")),
        ipv6_only=res.ipv6_only(subnet_values(body, "subnet_ids")),
    )

def _template_group(res: Resources, template: ResourceInstance) -> NodeGroup:
    body = template.body
    sgs = res.security_groups_of(template.address, body)
    if not sgs:
        sgs = [default_security_group(template.address)]
    return NodeGroup(
        address=template.address,
        kind=template.type,
        instances=(template.address,),
        security_groups=tuple(sgs),
        size_min=None,
        size_max=None,
        source_dest_check=True,
        networks=tuple(res.networks(template.address, body, subnet_values(body))),
        names=node_names(template, body),
        tags=node_tags(body),
        location=body.location,
        launch_template=template.address,
        launch_template_location=body.location,
    )


def _asg_groups(res: Resources, kind: str, templates: Templates) -> list[NodeGroup]:
    return [_asg_group(res, asg, templates.by_address, templates.used) for asg in res.by_type[kind]]


def _eks_groups(res: Resources, kind: str, templates: Templates) -> list[NodeGroup]:
    return [_eks_group(res, eks, templates.by_address, templates.used) for eks in res.by_type[kind]]


def _instances(res: Resources, kind: str, templates: Templates) -> list[NodeGroup]:
    return _instance_groups(res, kind, templates.by_address, templates.used)


def _control_planes(res: Resources, kind: str, templates: Templates) -> list[NodeGroup]:
    """Each `aws_eks_cluster`'s control plane (model.eks)."""
    groups = []
    for cluster in res.by_type[kind]:
        vpc = cluster.body.blocks_of("vpc_config")
        additional: list[str | Unknown] = []
        subnets: list[Any] = []
        if vpc:
            additional = res.sg_list(cluster.address, "vpc_config.security_group_ids",
                                     vpc[0].get("security_group_ids"), vpc[0].location)
            subnets = elements(vpc[0].get("subnet_ids"))
        groups.append(control_plane_group(cluster, additional, res.networks(cluster.address, cluster.body, subnets)))
    return groups


def _unused_templates(res: Resources, kind: str, templates: Templates) -> list[NodeGroup]:
    return [_template_group(res, t) for t in res.by_type[kind] if t.address not in templates.used]


# In order: templates come last, so that only the ones no group launches from are groups.
NODE_GROUP_BUILDERS: tuple[NodeGroupBuilder, ...] = (
    NodeGroupBuilder("aws_instance", _WEARS | _NAMED | {"launch_template", "source_dest_check", "subnet_id"}, _instances),
    NodeGroupBuilder("aws_spot_instance_request", _WEARS | _NAMED | {"launch_template", "source_dest_check", "subnet_id"},
                     _instances),
    NodeGroupBuilder("aws_autoscaling_group", _WEARS | _NAMED | {
        "launch_template", "launch_configuration", "mixed_instances_policy", "min_size", "max_size",
        "vpc_zone_identifier", "tag"}, _asg_groups),
    NodeGroupBuilder("aws_eks_node_group",
                     _WEARS | _NAMED | {"launch_template", "scaling_config", "subnet_ids", "cluster_name"}, _eks_groups),
    NodeGroupBuilder("aws_launch_template", _WEARS | _NAMED, _unused_templates),
    NodeGroupBuilder("aws_launch_configuration", _WEARS | _NAMED, _unused_templates),
    NodeGroupBuilder(EKS_CLUSTER, frozenset({"vpc_config", "name", "kubernetes_network_config"}), _control_planes),
)
# Resources node groups refer to: network interfaces (their SGs) and subnets (their CIDRs, and
# whether they are IPv6-only).
NETWORK_READS: Mapping[str, frozenset[str]] = {
    "aws_network_interface": frozenset({"security_groups"}),
    "aws_subnet": frozenset({"cidr_block", "ipv6_native"}),
}


def build_node_groups(res: Resources) -> list[NodeGroup]:
    """Every node group of one root, builder by builder."""
    templates = Templates({r.address: r for r in res.by_type["aws_launch_template"] + res.by_type["aws_launch_configuration"]})
    return [group for builder in NODE_GROUP_BUILDERS for group in builder.build(res, builder.resource_type, templates)]
