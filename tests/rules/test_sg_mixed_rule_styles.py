"""sg-mixed-rule-styles: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "sg-mixed-rule-styles"

TWO_RESOURCE_KINDS = """\
resource "aws_security_group" "worker" {}
resource "aws_security_group_rule" "typha" {
  type              = "ingress"
  from_port         = 5473
  to_port           = 5473
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
resource "aws_vpc_security_group_ingress_rule" "kubelet" {
  security_group_id            = aws_security_group.worker.id
  ip_protocol                  = "tcp"
  from_port                    = 10250
  to_port                      = 10250
  referenced_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "inline-and-rule",  # inline blocks and a rule resource
        {"main.tf": page("sg-mixed-rule-styles").example},
        [
            ("error", "main.tf:1",
             "aws_security_group.worker is managed with inline ingress/egress blocks and "
             "aws_security_group_rule resources at once; each apply removes the rules the other added"),
        ],
    ),
    Case(
        "two-resource-kinds",  # both kinds of rule resource
        {"main.tf": TWO_RESOURCE_KINDS},
        [
            ("error", "main.tf:1",
             "aws_security_group.worker is managed with aws_security_group_rule resources and "
             "aws_vpc_security_group_*_rule resources at once; each apply removes the rules the other added"),
        ],
    ),
    Case(
        "one-style",  # rule resources only
        {"main.tf": page("sg-mixed-rule-styles").example_fixed},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
