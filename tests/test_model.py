"""model.py: AWS semantics of rules and node groups, on real Terraform in temp directories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write

from calico_sglint.model.build import attributes_read, build_model
from calico_sglint.model.resources import (
    ALL_PORTS,
    normalize_protocol,
    port_range,
    resource_type,
)
from calico_sglint.model.types import Model, Peer
from calico_sglint.terraform.evaluate import evaluate_root
from calico_sglint.terraform.values import Unknown
from calico_sglint.terraform.workspace import load_workspace


def model_of(root: Path, source: str) -> Model:
    write(root, {"main.tf": source})
    workspace = load_workspace([str(root)], cwd=str(root))
    config = evaluate_root(workspace, workspace.roots[0])
    return build_model(config)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("-1", "all"), (-1, "all"), ("all", "all"), ("ALL", "all"),
        ("tcp", "tcp"), ("TCP", "tcp"), ("6", "tcp"), (6, "tcp"),
        ("udp", "udp"), ("17", "udp"), ("1", "icmp"), ("icmp", "icmp"),
        ("58", "icmpv6"), ("icmpv6", "icmpv6"), ("4", "4"), (4, "4"), ("04", "4"), ("50", "50"),
    ],
)
def test_normalize_protocol(raw: Any, expected: str) -> None:
    assert normalize_protocol(raw) == expected


@pytest.mark.parametrize(
    ("protocol", "from_port", "to_port", "expected"),
    [
        ("tcp", 5473, 5473, (5473, 5473)),
        ("udp", "4789", "4789", (4789, 4789)),
        ("tcp", 1, 2379, (1, 2379)),
        ("all", 0, 0, ALL_PORTS),
        ("4", 0, 0, ALL_PORTS),
        ("4", 1, 1, ALL_PORTS),
        ("icmp", -1, -1, (-1, -1)),
    ],
)
def test_port_range(protocol: str, from_port: Any, to_port: Any, expected: tuple[int, int]) -> None:
    assert port_range(protocol, from_port, to_port) == expected


def test_unknown_ports_stay_unknown() -> None:
    low, high = port_range("tcp", Unknown("var.p", "no value"), 10)
    assert low == Unknown("var.p", "no value") and high == 10


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("aws_security_group.a", ("managed", "aws_security_group")),
        ('module.x["a.b"].aws_security_group.a[0]', ("managed", "aws_security_group")),
        ("module.x.data.aws_security_group.a", ("data", "aws_security_group")),
    ],
)
def test_resource_type(address: str, expected: tuple[str, str]) -> None:
    assert resource_type(address) == expected


def test_peers_of_every_kind(tmp_path: Path) -> None:
    model = model_of(tmp_path, '''
variable "unknown_sg" {}
data "aws_security_group" "eks" {}
resource "aws_security_group" "a" {
  ingress {
    from_port        = 179
    to_port          = 179
    protocol         = "tcp"
    self             = true
    cidr_blocks      = ["10.0.0.0/16"]
    ipv6_cidr_blocks = ["fd00::/8"]
    prefix_list_ids  = ["pl-1"]
    security_groups  = [data.aws_security_group.eks.id, "sg-0123", var.unknown_sg]
  }
}
''')
    (rule,) = model.security_group("aws_security_group.a").rules  # type: ignore[union-attr]
    assert [(p.kind, p.value) for p in rule.peers] == [
        ("cidr", "10.0.0.0/16"), ("cidr", "fd00::/8"), ("prefix_list", "pl-1"),
        ("sg", "data.aws_security_group.eks"), ("sg", "sg-0123"), ("unknown", "var.unknown_sg"),
        ("self", "aws_security_group.a"),
    ]
    external = [sg.address for sg in model.security_groups if not sg.managed]
    assert external == ["data.aws_security_group.eks", "sg-0123"]


def test_rules_on_an_unknown_security_group_are_kept_unattached(tmp_path: Path) -> None:
    model = model_of(tmp_path, '''
variable "sg_id" {}
resource "aws_security_group_rule" "r" {
  type              = "ingress"
  from_port         = 5473
  to_port           = 5473
  protocol          = "tcp"
  cidr_blocks       = ["10.0.0.0/8"]
  security_group_id = var.sg_id
}
''')
    (rule,) = model.unattached_rules
    assert isinstance(rule.security_group, Unknown) and rule.security_group.expr == "var.sg_id"
    assert [(u.address, u.attribute) for u in model.unknowns] == [
        ("aws_security_group_rule.r", "security_group_id"),
    ]


def test_a_dynamic_block_with_unknown_for_each_is_one_rule_of_unknown_multiplicity(tmp_path: Path) -> None:
    model = model_of(tmp_path, '''
variable "ports" {}
resource "aws_security_group" "a" {
  dynamic "ingress" {
    for_each = var.ports
    content {
      from_port = ingress.value
      to_port   = ingress.value
      protocol  = "tcp"
      self      = true
    }
  }
}
''')
    (rule,) = model.security_groups[0].rules
    assert rule.multiplicity is not None and rule.multiplicity.expr == "var.ports"
    assert isinstance(rule.from_port, Unknown) and rule.from_port.expr == "ingress.value"
    assert rule.peers == (Peer("self", "aws_security_group.a"),)


def test_vpc_rule_self_reference_and_all_protocols(tmp_path: Path) -> None:
    model = model_of(tmp_path, '''
resource "aws_security_group" "a" {}
resource "aws_vpc_security_group_ingress_rule" "self" {
  security_group_id            = aws_security_group.a.id
  referenced_security_group_id = aws_security_group.a.id
  ip_protocol                  = "-1"
}
''')
    (rule,) = model.security_groups[0].rules
    assert (rule.protocol, rule.from_port, rule.to_port, rule.style) == ("all", 0, 65535, "vpc-rule")
    assert rule.peers == (Peer("sg", "aws_security_group.a"),)


class TestNodeGroups:
    def test_instances_split_by_security_groups(self, tmp_path: Path) -> None:
        model = model_of(tmp_path, '''
resource "aws_security_group" "master" {}
resource "aws_security_group" "worker" {}
resource "aws_instance" "node" {
  count                  = 4
  vpc_security_group_ids = [count.index == 0 ? aws_security_group.master.id : aws_security_group.worker.id]
}
''')
        assert [(g.address, g.instances, g.security_groups, g.size_max) for g in model.node_groups] == [
            ("aws_instance.node[0]", ("aws_instance.node[0]",), ("aws_security_group.master",), 1),
            (
                "aws_instance.node[1]",
                ("aws_instance.node[1]", "aws_instance.node[2]", "aws_instance.node[3]"),
                ("aws_security_group.worker",),
                3,
            ),
        ]

    def test_an_instance_without_security_groups_gets_the_default_one(self, tmp_path: Path) -> None:
        model = model_of(tmp_path, 'resource "aws_instance" "lonely" {}\n')
        (group,) = model.node_groups
        (sg,) = group.security_groups
        assert isinstance(sg, Unknown) and "default security group" in sg.reason

    def test_security_groups_through_a_network_interface_and_launch_template(self, tmp_path: Path) -> None:
        model = model_of(tmp_path, '''
resource "aws_security_group" "a" {}
resource "aws_security_group" "b" {}
resource "aws_network_interface" "eni" {
  subnet_id       = "subnet-1"
  security_groups = [aws_security_group.a.id]
}
resource "aws_instance" "with_eni" {
  network_interface {
    network_interface_id = aws_network_interface.eni.id
    device_index         = 0
  }
}
resource "aws_launch_template" "lt" {
  vpc_security_group_ids = [aws_security_group.b.id]
}
resource "aws_instance" "from_template" {
  launch_template {
    id = aws_launch_template.lt.id
  }
}
''')
        assert {g.address: g.security_groups for g in model.node_groups} == {
            "aws_instance.with_eni": ("aws_security_group.a",),
            "aws_instance.from_template": ("aws_security_group.b",),
        }

    def test_eks_node_groups(self, tmp_path: Path) -> None:
        model = model_of(tmp_path, '''
resource "aws_security_group" "nodes" {}
resource "aws_launch_template" "lt" {
  vpc_security_group_ids = [aws_security_group.nodes.id]
}
resource "aws_eks_node_group" "custom" {
  node_group_name = "custom"
  launch_template {
    id      = aws_launch_template.lt.id
    version = "1"
  }
  scaling_config {
    min_size     = 1
    max_size     = 5
    desired_size = 2
  }
}
resource "aws_eks_node_group" "managed" {
  scaling_config {
    min_size     = 1
    max_size     = 1
    desired_size = 1
  }
}
''')
        custom, managed = model.node_groups
        assert (custom.security_groups, custom.size_min, custom.size_max) == (("aws_security_group.nodes",), 1, 5)
        (cluster_sg,) = managed.security_groups
        assert isinstance(cluster_sg, Unknown) and "cluster security group" in cluster_sg.reason
        assert (managed.size_min, managed.size_max) == (1, 1)

    def test_spot_requests_and_unused_launch_templates(self, tmp_path: Path) -> None:
        model = model_of(tmp_path, '''
resource "aws_security_group" "a" {}
resource "aws_spot_instance_request" "spot" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.a.id]
  source_dest_check      = false
}
resource "aws_launch_template" "elsewhere" {
  vpc_security_group_ids = [aws_security_group.a.id]
}
''')
        spot, template = model.node_groups
        assert (spot.kind, spot.size_max, spot.source_dest_check) == ("aws_spot_instance_request", 2, False)
        assert (template.kind, template.size_max) == ("aws_launch_template", None)

    def test_networks_from_private_ip_and_subnets(self, tmp_path: Path) -> None:
        model = model_of(tmp_path, '''
resource "aws_subnet" "a" {
  cidr_block = cidrsubnet("10.0.0.0/16", 8, 3)
}
resource "aws_instance" "fixed" {
  private_ip = "10.0.3.88"
}
resource "aws_instance" "subnet" {
  subnet_id = aws_subnet.a.id
}
''')
        assert {g.address: g.networks for g in model.node_groups} == {
            "aws_instance.fixed": ("10.0.3.88/32",),
            "aws_instance.subnet": ("10.0.3.0/24",),
        }


def test_each_node_group_builder_declares_what_it_reads() -> None:
    """Only the declared attributes of compute resources are evaluated; security groups and
    their rules are read whole."""
    assert attributes_read("aws_security_group_rule") is None
    assert "vpc_zone_identifier" in attributes_read("aws_autoscaling_group")
    assert "vpc_zone_identifier" not in attributes_read("aws_instance")
    assert attributes_read("aws_subnet") == frozenset({"cidr_block", "ipv6_native"})
    assert {"name", "kubernetes_network_config", "vpc_config"} <= attributes_read("aws_eks_cluster")
    assert "cluster_name" in attributes_read("aws_eks_node_group")
    assert "user_data" not in attributes_read("aws_launch_template")


METADATA_SOURCES = '''
data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.${data.aws_partition.current.dns_suffix}"]
    }
  }
}
locals {
  account = data.aws_caller_identity.current.account_id
  prefix  = "${var.name}-${data.aws_region.current.name}"
}
variable "name" {
  default = "prod"
}
resource "aws_iam_role" "node" {
  name               = "${local.prefix}-node"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}
resource "aws_security_group" "node" {
  name_prefix = "${local.prefix}-node-"
  description = "nodes of ${local.account} in ${data.aws_partition.current.partition}"
  tags        = { Owner = local.account }
}
resource "aws_security_group_rule" "vxlan" {
  count             = var.name != "" ? 1 : 0
  type              = "ingress"
  from_port         = 4789
  to_port           = 4789
  protocol          = "udp"
  description       = "VXLAN in ${data.aws_region.current.name}"
  security_group_id = aws_security_group.node.id
  self              = true
}
'''


def test_metadata_data_sources_leave_rules_that_do_not_use_them_known(tmp_path: Path) -> None:
    """aws_partition, aws_caller_identity, aws_region and IAM policy documents feed names,
    tags and descriptions in real modules (terraform-aws-eks): the rules stay known."""
    model = model_of(tmp_path, METADATA_SOURCES)
    (group,) = model.security_groups
    (rule,) = group.rules
    assert (rule.direction, rule.protocol, rule.from_port, rule.to_port, rule.peers, rule.multiplicity) == (
        "ingress", "udp", 4789, 4789, (Peer("self", "aws_security_group.node"),), None,
    )
    assert isinstance(rule.description, Unknown) and rule.description.expr == "data.aws_region.current.name"
    assert [u.attribute for u in model.unknowns] == []
