"""calico-wireguard: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "calico-wireguard"

TCP = """\
# WireGuard is UDP: a TCP rule does not carry it.
resource "aws_security_group_rule" "worker_wireguard_self" {
  type              = "ingress"
  from_port         = 51820
  to_port           = 51820
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
"""

UDP_EVERY_PAIR = """\
# Every node group admits UDP 51820 from every node group (itself included).
resource "aws_security_group_rule" "wireguard_from_master" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 51820
  to_port                  = 51820
  protocol                 = "udp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "wireguard_from_worker" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 51820
  to_port                  = 51820
  protocol                 = "udp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "tcp",  # WireGuard is UDP
        {"base.tf": BASE, "main.tf": TCP},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on udp/51820: no ingress rule "
             "on aws_security_group.master admits udp/51820 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on udp/51820: no ingress rule "
             "on aws_security_group.master admits udp/51820 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on udp/51820: no ingress rule "
             "on aws_security_group.worker admits udp/51820 from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on udp/51820: no ingress rule "
             "on aws_security_group.worker admits udp/51820 from itself"),
        ],
        flags=('--wireguard',),
    ),
    Case(
        "udp-every-pair",  # UDP 51820 between every pair
        {"base.tf": BASE, "main.tf": UDP_EVERY_PAIR},
        [],
        flags=('--wireguard',),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
