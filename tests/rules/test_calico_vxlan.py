"""calico-vxlan: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-vxlan"

ONE_WAY = """\
# VXLAN open from workers to masters only; nothing back, nothing within a group.
resource "aws_security_group_rule" "master_vxlan_from_worker" {
  type              = "ingress"
  from_port         = 4789
  to_port           = 4789
  protocol          = "udp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "one-way",  # open from workers to masters only
        {"base.tf": BASE, "main.tf": ONE_WAY},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on udp/4789: no ingress rule on"
             " aws_security_group.master admits udp/4789 from itself"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on udp/4789: no ingress rule on"
             " aws_security_group.worker admits udp/4789 from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on udp/4789: no ingress rule on"
             " aws_security_group.worker admits udp/4789 from itself"),
        ],
    ),
    Case(
        "every-pair",  # open between every pair of groups
        {"base.tf": BASE, "main.tf": page("calico-vxlan").example_fixed},
        [],
    ),
    Case(
        "other-vxlan-port",  # rules for 4789 do not open the configured port 8472
        {"base.tf": BASE, "main.tf": page("calico-vxlan").example_fixed},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on udp/8472: no ingress rule on"
             " aws_security_group.master admits udp/8472 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on udp/8472: no ingress rule on"
             " aws_security_group.master admits udp/8472 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on udp/8472: no ingress rule on"
             " aws_security_group.worker admits udp/8472 from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on udp/8472: no ingress rule on"
             " aws_security_group.worker admits udp/8472 from itself"),
        ],
        flags=('--vxlan-port', '8472'),
    ),
    Case(
        "ipip-profile",  # not required with IP-in-IP
        {"base.tf": BASE, "main.tf": ONE_WAY},
        [],
        flags=('--encapsulation', 'IPIP'),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
