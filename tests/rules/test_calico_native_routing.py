"""calico-native-routing: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-native-routing"


@cases(
    Case(
        "tcp-only",  # only TCP between workers
        {"base.tf": BASE, "main.tf": page("calico-native-routing").example},
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
        {"base.tf": BASE, "main.tf": page("calico-native-routing").example_fixed},
        [],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "vxlan-always",  # VXLAN always encapsulates: not required
        {"base.tf": BASE, "main.tf": page("calico-native-routing").example},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
