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


@cases(
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
