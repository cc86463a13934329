"""calico-ipip: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "calico-ipip"

TCP_IS_NOT_IPIP = """\
# TCP between workers is not IP-in-IP: protocol 4 is its own IP protocol.
resource "aws_security_group_rule" "nodes_tcp_self" {
  type              = "ingress"
  from_port         = 0
  to_port           = 65535
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
"""

PROTOCOL_4 = """\
# Every node group admits IP protocol 4 from every node group (itself included).
resource "aws_security_group_rule" "ipip_from_master" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 0
  to_port                  = 0
  protocol                 = "4"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "ipip_from_worker" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 0
  to_port                  = 0
  protocol                 = "4"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.worker.id
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
        "tcp-is-not-ipip",  # a TCP rule does not carry IP protocol 4
        {"base.tf": BASE, "main.tf": TCP_IS_NOT_IPIP},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on protocol 4: no ingress rule "
             "on aws_security_group.master admits protocol 4 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on protocol 4: no ingress rule "
             "on aws_security_group.master admits protocol 4 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on protocol 4: no ingress rule "
             "on aws_security_group.worker admits protocol 4 from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on protocol 4: no ingress rule "
             "on aws_security_group.worker admits protocol 4 from itself"),
        ],
        flags=('--encapsulation', 'IPIP'),
    ),
    Case(
        "protocol-4",  # protocol 4 between every pair
        {"base.tf": BASE, "main.tf": PROTOCOL_4},
        [],
        flags=('--encapsulation', 'IPIP'),
    ),
    Case(
        "all-traffic",  # protocol -1 carries IP-in-IP
        {"base.tf": BASE, "main.tf": ALL_TRAFFIC},
        [],
        flags=('--encapsulation', 'IPIPCrossSubnet'),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
