"""sg-cycle: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "sg-cycle"

SELF_REFERENCE = """\
resource "aws_security_group" "worker" {
  ingress {
    from_port       = 5473
    to_port         = 5473
    protocol        = "tcp"
    security_groups = [aws_security_group.worker.id]
  }
}
"""


@cases(
    Case(
        "two-groups",  # master and worker name each other inline
        {"main.tf": page("sg-cycle").example},
        [
            ("error", "main.tf:2",
             "inline rules make these security groups depend on each other: aws_security_group.master -> "
             "aws_security_group.worker -> aws_security_group.master; `terraform plan` fails with Error: Cycle"),
        ],
    ),
    Case(
        "self-reference",  # a group naming itself inline
        {"main.tf": SELF_REFERENCE},
        [
            ("error", "main.tf:2",
             "aws_security_group.worker names itself in an inline rule; Terraform rejects a resource that "
             "refers to itself (use self = true)"),
        ],
    ),
    Case(
        "rule-resources",  # one side as rule resources: no cycle
        {"main.tf": page("sg-cycle").example_fixed},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
