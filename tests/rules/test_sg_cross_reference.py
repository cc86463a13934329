"""sg-cross-reference: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "sg-cross-reference"

ONE_WAY = """\
resource "aws_security_group" "master" {}
resource "aws_security_group" "worker" {}
resource "aws_security_group_rule" "master_from_worker" {
  type                     = "ingress"
  from_port                = 6443
  to_port                  = 6443
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "mutual",  # master and worker admit each other through two rules
        {"main.tf": page("sg-cross-reference").example},
        [
            ("warning", "main.tf:1",
             "aws_security_group.master and aws_security_group.worker admit each other through 2 separate "
             "rules (1 on master, 1 on worker); every new port must be opened in both places, and one is "
             "easily forgotten"),
        ],
    ),
    Case(
        "one-way",  # only one direction
        {"main.tf": ONE_WAY},
        [],
    ),
    Case(
        "cluster-group",  # one cluster group with a self rule
        {"main.tf": page("sg-cross-reference").example_fixed},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
