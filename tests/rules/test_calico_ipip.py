"""calico-ipip: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-ipip"


@cases(
    Case(
        "tcp-is-not-ipip",  # a TCP rule does not carry IP protocol 4
        {"base.tf": BASE, "main.tf": page("calico-ipip").example},
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
        {"base.tf": BASE, "main.tf": page("calico-ipip").example_fixed},
        [],
        flags=('--encapsulation', 'IPIP'),
    ),
    Case(
        "all-traffic",  # protocol -1 carries IP-in-IP
        {"base.tf": BASE, "main.tf": page("calico-native-routing").example_fixed},
        [],
        flags=('--encapsulation', 'IPIPCrossSubnet'),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
