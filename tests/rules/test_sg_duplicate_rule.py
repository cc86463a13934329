"""sg-duplicate-rule: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "sg-duplicate-rule"

OTHER_PEER = """\
resource "aws_security_group" "master" {}
resource "aws_security_group" "worker" {}
resource "aws_security_group_rule" "typha_self" {
  type              = "ingress"
  from_port         = 5473
  to_port           = 5473
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
resource "aws_security_group_rule" "typha_master" {
  type                     = "ingress"
  from_port                = 5473
  to_port                  = 5473
  protocol                 = "tcp"
  security_group_id        = aws_security_group.worker.id
  source_security_group_id = aws_security_group.master.id
}
"""

SELF_AND_OWN_ID = """\
resource "aws_security_group" "worker" {}
resource "aws_security_group_rule" "typha_self" {
  type              = "ingress"
  from_port         = 5473
  to_port           = 5473
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
resource "aws_security_group_rule" "typha_own" {
  type                     = "ingress"
  from_port                = 5473
  to_port                  = 5473
  protocol                 = "tcp"
  security_group_id        = aws_security_group.worker.id
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "twice",  # the same rule twice
        {"main.tf": page("sg-duplicate-rule").example},
        [
            ("error", "main.tf:12",
             "ingress tcp/5473 from self on aws_security_group.worker is already granted at main.tf:3; AWS "
             "rejects the apply with InvalidPermission.Duplicate"),
        ],
    ),
    Case(
        "other-peer",  # same port, other peers
        {"main.tf": OTHER_PEER},
        [],
    ),
    Case(
        "self-and-own-id",  # self and the group's own id are the same peer
        {"main.tf": SELF_AND_OWN_ID},
        [
            ("error", "main.tf:10",
             "ingress tcp/5473 from aws_security_group.worker on aws_security_group.worker is already granted "
             "at main.tf:2; AWS rejects the apply with InvalidPermission.Duplicate"),
        ],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
