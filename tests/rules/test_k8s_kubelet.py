"""k8s-kubelet: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "k8s-kubelet"


@cases(
    Case(
        "workers-only",  # kubelet reachable from workers only
        {"base.tf": BASE, "main.tf": page("k8s-kubelet").example},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on tcp/10250: no ingress rule "
             "on aws_security_group.master admits tcp/10250 from itself"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on tcp/10250: no ingress rule "
             "on aws_security_group.worker admits tcp/10250 from aws_security_group.master"),
        ],
    ),
    Case(
        "from-control-plane",  # open from the control plane to every group
        {"base.tf": BASE, "main.tf": page("k8s-kubelet").example_fixed},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
