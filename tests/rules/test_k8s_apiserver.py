"""k8s-apiserver: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "k8s-apiserver"


@cases(
    Case(
        "control-plane-only",  # the API server admits only the control plane
        {"base.tf": BASE, "main.tf": page("k8s-apiserver").example},
        [
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on tcp/6443: no ingress rule on"
             " aws_security_group.master admits tcp/6443 from aws_security_group.worker"),
        ],
    ),
    Case(
        "from-every-group",  # open from both groups
        {"base.tf": BASE, "main.tf": page("k8s-apiserver").example_fixed},
        [],
    ),
    Case(
        "other-port",  # rules for 6443 do not open port 443
        {"base.tf": BASE, "main.tf": page("k8s-apiserver").example_fixed},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on tcp/443: no ingress rule on "
             "aws_security_group.master admits tcp/443 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on tcp/443: no ingress rule on "
             "aws_security_group.master admits tcp/443 from aws_security_group.worker"),
        ],
        flags=('--apiserver-port', '443'),
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
