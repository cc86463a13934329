"""calico-typha: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-typha"

WIDE_RANGE = """\
resource "aws_security_group_rule" "all_tcp_from_master" {
  type                     = "ingress"
  from_port                = 1025
  to_port                  = 65535
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.master.id
}
resource "aws_security_group_rule" "all_tcp_from_worker" {
  type                     = "ingress"
  from_port                = 1025
  to_port                  = 65535
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}
resource "aws_security_group_rule" "w_from_master" {
  type                     = "ingress"
  from_port                = 1025
  to_port                  = 65535
  protocol                 = "tcp"
  security_group_id        = aws_security_group.worker.id
  source_security_group_id = aws_security_group.master.id
}
resource "aws_security_group_rule" "w_from_worker" {
  type                     = "ingress"
  from_port                = 1025
  to_port                  = 65535
  protocol                 = "tcp"
  security_group_id        = aws_security_group.worker.id
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "workers-only",  # 5473 open among workers only: masters cannot reach Typha and workers cannot reach it on masters
        {"base.tf": BASE, "main.tf": page("calico-typha").example},
        [
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on tcp/5473: no ingress rule on"
             " aws_security_group.master admits tcp/5473 from itself"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on tcp/5473: no ingress rule on"
             " aws_security_group.master admits tcp/5473 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on tcp/5473: no ingress rule on"
             " aws_security_group.worker admits tcp/5473 from aws_security_group.master"),
        ],
    ),
    Case(
        "every-pair",  # open between every pair of groups
        {"base.tf": BASE, "main.tf": page("calico-typha").example_fixed},
        [],
    ),
    Case(
        "typha-off",  # no Typha: nothing to check
        {"base.tf": BASE, "main.tf": page("calico-typha").example},
        [],
        flags=('--no-typha',),
    ),
    Case(
        "wide-range",  # TCP 1025-65535 everywhere covers 5473
        {"base.tf": BASE, "main.tf": WIDE_RANGE},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
