"""calico-bgp: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-bgp"


@cases(
    Case(
        "within-groups",  # BGP only within the worker group
        {"base.tf": BASE, "main.tf": page("calico-bgp").example},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on tcp/179: no ingress rule on "
             "aws_security_group.master admits tcp/179 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on tcp/179: no ingress rule on "
             "aws_security_group.master admits tcp/179 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on tcp/179: no ingress rule on "
             "aws_security_group.worker admits tcp/179 from aws_security_group.master"),
        ],
        flags=('--bgp',),
    ),
    Case(
        "every-pair",  # open between every pair of groups
        {"base.tf": BASE, "main.tf": page("calico-bgp").example_fixed},
        [],
        flags=('--bgp',),
    ),
    Case(
        "bgp-off",  # BGP is off by default with VXLAN
        {"base.tf": BASE, "main.tf": page("calico-bgp").example},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
