"""calico-bgp: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "calico-bgp"

WITHIN_GROUPS = """\
# BGP allowed only within the worker group.
resource "aws_security_group_rule" "worker_bgp_self" {
  type              = "ingress"
  from_port         = 179
  to_port           = 179
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
"""

EVERY_PAIR = """\
# Every node group admits TCP 179 from every node group (itself included).
resource "aws_security_group_rule" "bgp_from_master" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 179
  to_port                  = 179
  protocol                 = "tcp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "bgp_from_worker" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 179
  to_port                  = 179
  protocol                 = "tcp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.worker.id
}
"""


@cases(
    Case(
        "within-groups",  # BGP only within the worker group
        {"base.tf": BASE, "main.tf": WITHIN_GROUPS},
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
        {"base.tf": BASE, "main.tf": EVERY_PAIR},
        [],
        flags=('--bgp',),
    ),
    Case(
        "bgp-off",  # BGP is off by default with VXLAN
        {"base.tf": BASE, "main.tf": WITHIN_GROUPS},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
