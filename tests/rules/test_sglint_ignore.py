"""sglint-ignore: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "sglint-ignore"

UNKNOWN_RULE = """\
resource "aws_security_group" "worker" {}

# sglint:ignore=sg-exposd BGP peering with the datacenter routers, filtered upstream
resource "aws_security_group_rule" "bgp_from_datacenter" {
  type              = "ingress"
  from_port         = 179
  to_port           = 179
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  cidr_blocks       = ["0.0.0.0/0"]
}
"""


@cases(
    Case(
        "no-reason",  # a suppression without a reason is not applied
        {"main.tf": page("sglint-ignore").example},
        [
            ("warning", "main.tf:3",
             "the suppression of sg-exposed has no reason, so it suppresses nothing: write why after the rule "
             "ids"),
        ],
    ),
    Case(
        "unknown-rule",  # a rule that does not exist
        {"main.tf": UNKNOWN_RULE},
        [
            ("warning", "main.tf:3",
             "no rule 'sg-exposd' (see `sglint rules`)"),
        ],
    ),
    Case(
        "with-reason",  # a reason: the suppression applies
        {"main.tf": page("sglint-ignore").example_fixed},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
