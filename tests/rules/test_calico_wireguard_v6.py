"""calico-wireguard-v6: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "calico-wireguard-v6"

IPV4_CIDR = """\
# IPv4 addresses only: WireGuard's IPv6 packets do not match.
resource "aws_security_group_rule" "worker_wireguard_v6" {
  type              = "ingress"
  from_port         = 51821
  to_port           = 51821
  protocol          = "udp"
  security_group_id = aws_security_group.worker.id
  cidr_blocks       = ["10.0.0.0/16"]
}
"""

SG_REFERENCES = """\
# SG references admit both address families.
resource "aws_security_group_rule" "wireguard_v6_from_master" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 51821
  to_port                  = 51821
  protocol                 = "udp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "wireguard_v6_from_worker" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 51821
  to_port                  = 51821
  protocol                 = "udp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "ipv4-cidr",  # an IPv4 CIDR does not admit IPv6 packets
        {"base.tf": BASE, "main.tf": IPV4_CIDR},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on udp/51821: no ingress rule "
             "on aws_security_group.master admits udp/51821 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on udp/51821: no ingress rule "
             "on aws_security_group.master admits udp/51821 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on udp/51821: no ingress rule "
             "on aws_security_group.worker admits udp/51821 from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on udp/51821: no ingress rule "
             "on aws_security_group.worker admits udp/51821 from itself"),
        ],
        flags=('--wireguard-v6',),
    ),
    Case(
        "sg-references",  # SG references admit both families
        {"base.tf": BASE, "main.tf": SG_REFERENCES},
        [],
        flags=('--wireguard-v6',),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
