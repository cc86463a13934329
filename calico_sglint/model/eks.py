"""The EKS control plane as the model sees it: a node group whose nodes are AWS's.

On EKS the control plane runs in AWS's account and reaches the cluster's VPC through network
interfaces that wear the cluster security group EKS creates plus `vpc_config.security_group_ids`.
Nodes must reach it on 443 and it must reach the nodes' kubelets (10250), so `aws_eks_cluster`
becomes a node group wearing those groups. The group EKS creates is not in the Terraform: it is
modelled with the rules AWS gives it (all traffic from itself, all traffic out), and, because
rules can be added to it outside Terraform, as a group sglint does not fully know.
"""

from __future__ import annotations

from calico_sglint.model.types import NodeGroup, Peer, Rule, SecurityGroup
from calico_sglint.terraform.configuration import ResourceInstance
from calico_sglint.terraform.objects import COMPUTED_SECURITY_GROUPS
from calico_sglint.terraform.values import Unknown

EKS_CLUSTER = "aws_eks_cluster"
_BLOCK, _ATTRIBUTE = COMPUTED_SECURITY_GROUPS[EKS_CLUSTER]
CLUSTER_SG_ATTRIBUTE = f"{_BLOCK}[0].{_ATTRIBUTE}"


def cluster_sg_address(cluster: str) -> str:
    """The Terraform expression naming the cluster security group EKS creates for `cluster`."""
    return f"{cluster}.{CLUSTER_SG_ATTRIBUTE}"


def cluster_security_group(cluster: ResourceInstance, rules: list[Rule]) -> SecurityGroup:
    """The group EKS creates, with AWS's default rules and any `rules` the code adds to it."""
    address = cluster_sg_address(cluster.address)
    location = cluster.body.location
    defaults = [
        Rule("ingress", address, "all", 0, 65535, (Peer("self", address),),
             "EKS default: all traffic from the cluster security group", "aws-default", cluster.address, location),
        Rule("egress", address, "all", 0, 65535, (Peer("cidr", "0.0.0.0/0"),),
             "EKS default: all traffic out", "aws-default", cluster.address, location),
    ]
    return SecurityGroup(address, False, None, (*defaults, *rules), cluster.module, cluster.module_dir, location)


def control_plane_group(
    cluster: ResourceInstance, additional: list[str | Unknown], networks: list[str | Unknown]
) -> NodeGroup:
    """The EKS control plane of `cluster`: it wears the cluster security group and
    `vpc_config.security_group_ids` (`additional`, evaluated); its interfaces live in the
    `vpc_config` subnets (`networks`)."""
    return NodeGroup(
        address=cluster.address,
        kind=EKS_CLUSTER,
        instances=(cluster.address,),
        security_groups=tuple(dict.fromkeys([cluster_sg_address(cluster.address), *additional])),
        size_min=None,
        size_max=None,
        source_dest_check=True,
        networks=tuple(networks),
        names=(cluster.name,),
        tags={},
        location=cluster.body.location,
    )
