"""calico-wireguard-v6: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-wireguard-v6"


@cases(
    Case(
        "ipv4-cidr",  # an IPv4 CIDR does not admit IPv6 packets
        {"base.tf": BASE, "main.tf": page("calico-wireguard-v6").example},
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
        {"base.tf": BASE, "main.tf": page("calico-wireguard-v6").example_fixed},
        [],
        flags=('--wireguard-v6',),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
