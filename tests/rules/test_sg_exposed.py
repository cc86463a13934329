"""sg-exposed: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "sg-exposed"

ALL_TRAFFIC_IPV6 = """\
resource "aws_security_group" "worker" {
  ingress {
    from_port        = 0
    to_port          = 0
    protocol         = "-1"
    ipv6_cidr_blocks = ["::/0"]
  }
}
"""

SSH_IS_NOT_CALICO = """\
resource "aws_security_group" "worker" {
  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""


@cases(
    Case(
        "bgp-to-the-world",  # BGP from 0.0.0.0/0
        {"main.tf": page("sg-exposed").example},
        [
            ("error", "main.tf:2",
             "aws_security_group.worker admits tcp/179 from 0.0.0.0/0, exposing BGP to the internet"),
        ],
    ),
    Case(
        "all-traffic-ipv6",  # all traffic from ::/0
        {"main.tf": ALL_TRAFFIC_IPV6},
        [
            ("error", "main.tf:2",
             "aws_security_group.worker admits all traffic from ::/0, exposing every Calico, kubelet and etcd "
             "port to the internet"),
        ],
    ),
    Case(
        "ssh-is-not-calico",  # SSH from anywhere is not this rule's business
        {"main.tf": SSH_IS_NOT_CALICO},
        [],
    ),
    Case(
        "self",  # BGP from the group itself
        {"main.tf": page("sg-exposed").example_fixed},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
