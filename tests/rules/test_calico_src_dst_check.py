"""calico-src-dst-check: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "calico-src-dst-check"

AUTOSCALING_GROUP = """\
resource "aws_security_group" "nodes" {}
resource "aws_launch_template" "node" {
  vpc_security_group_ids = [aws_security_group.nodes.id]
}
resource "aws_autoscaling_group" "node" {
  min_size = 3
  max_size = 3
  launch_template {
    id = aws_launch_template.node.id
  }
}
"""


IPV6_SUBNETS = """\
resource "aws_subnet" "v6" {
  vpc_id          = "vpc-0a1b2c3d4e5f60789"
  ipv6_native     = true
  ipv6_cidr_block = "2600:1f18:1234:5601::/64"
}

resource "aws_security_group" "nodes" {
  name = "nodes"
}

resource "aws_instance" "node" {
  count                  = 3
  subnet_id              = aws_subnet.v6.id
  vpc_security_group_ids = [aws_security_group.nodes.id]
}
"""

TWO_CLUSTERS = """\
resource "aws_security_group" "nodes" {
  name = "nodes"
}

resource "aws_instance" "big" {
  count                  = 3
  vpc_security_group_ids = [aws_security_group.nodes.id]
  source_dest_check      = false
  tags                   = { KubernetesCluster = "big" }
}

resource "aws_instance" "solo" {
  vpc_security_group_ids = [aws_security_group.nodes.id]
  tags                   = { KubernetesCluster = "solo" }
}
"""


@cases(
    Case(
        "ipv6-only-profile",  # IPv6-only pods: the check does not drop them
        {"main.tf": page("calico-src-dst-check").example},
        [],
        flags=('--encapsulation', 'None', '--ipv6-only'),
    ),
    Case(
        "ipv6-only-subnets",  # every node in an IPv6-only subnet
        {"main.tf": IPV6_SUBNETS},
        [],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "single-node-cluster",  # a cluster of one node has no pod traffic between nodes
        {"main.tf": TWO_CLUSTERS},
        [],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "instances",  # instances keep the check on
        {"main.tf": page("calico-src-dst-check").example},
        [
            ("error", "main.tf:5",
             "aws_instance.node keeps the EC2 source/destination check on (source_dest_check is not false), so"
             " its nodes drop the pod traffic Calico routes unencapsulated (encapsulation=None from "
             "--encapsulation)"),
        ],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "turned-off",  # source_dest_check = false
        {"main.tf": page("calico-src-dst-check").example_fixed},
        [],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "autoscaling-group",  # an ASG cannot turn the check off
        {"main.tf": AUTOSCALING_GROUP},
        [
            ("error", "main.tf:2",
             "aws_autoscaling_group.node launches its nodes from an autoscaling group, which cannot turn the "
             "EC2 source/destination check off, so its nodes drop the pod traffic Calico routes unencapsulated"
             " (encapsulation=IPIPCrossSubnet from --encapsulation)"),
        ],
        flags=('--encapsulation', 'IPIPCrossSubnet'),
    ),
    Case(
        "felix-disables-it",  # Felix turns it off
        {"main.tf": AUTOSCALING_GROUP},
        [],
        flags=('--encapsulation', 'None', '--aws-src-dst-check', 'Disable'),
    ),
    Case(
        "vxlan",  # VXLAN always encapsulates
        {"main.tf": page("calico-src-dst-check").example},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
