"""sg-unknown-reference: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of

RULE = "sg-unknown-reference"

TYPO = """\
resource "aws_security_group" "master" {}
resource "aws_security_group" "worker" {}

resource "aws_security_group_rule" "master_typha" {
  type                     = "ingress"
  from_port                = 5473
  to_port                  = 5473
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.wroker.id
}
"""

DECLARED = """\
resource "aws_security_group" "master" {}
resource "aws_security_group" "worker" {}

resource "aws_security_group_rule" "master_typha" {
  type                     = "ingress"
  from_port                = 5473
  to_port                  = 5473
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "typo",  # wroker for worker
        {"main.tf": TYPO},
        [
            ("error", "main.tf:10",
             "aws_security_group_rule.master_typha names aws_security_group.wroker, which is not declared in "
             "this module"),
        ],
    ),
    Case(
        "declared",  # the group exists
        {"main.tf": DECLARED},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
