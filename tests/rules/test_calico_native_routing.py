"""calico-native-routing: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "calico-native-routing"

TCP_ONLY = """\
# Only TCP is admitted between nodes; UDP pod traffic (DNS!) is dropped.
resource "aws_security_group_rule" "worker_tcp_self" {
  type              = "ingress"
  from_port         = 0
  to_port           = 65535
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
"""

ALL_TRAFFIC = """\
# Every node group admits all traffic from every node group (itself included).
resource "aws_security_group_rule" "all_from_master" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 0
  to_port                  = 0
  protocol                 = "-1"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "all_from_worker" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 0
  to_port                  = 0
  protocol                 = "-1"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "tcp-only",  # only TCP between workers
        {"base.tf": BASE, "main.tf": TCP_ONLY},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on all traffic: no ingress rule"
             " on aws_security_group.master admits all traffic from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on all traffic: no ingress rule"
             " on aws_security_group.master admits all traffic from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on all traffic: no ingress rule"
             " on aws_security_group.worker admits all traffic from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on all traffic: no ingress rule"
             " on aws_security_group.worker admits all traffic from itself"),
        ],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "all-traffic",  # all traffic between every pair
        {"base.tf": BASE, "main.tf": ALL_TRAFFIC},
        [],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "vxlan-always",  # VXLAN always encapsulates: not required
        {"base.tf": BASE, "main.tf": TCP_ONLY},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
