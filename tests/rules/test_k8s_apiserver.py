"""k8s-apiserver: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "k8s-apiserver"

CONTROL_PLANE_ONLY = """\
# The API server admits only the control plane itself.
resource "aws_security_group_rule" "apiserver" {
  type              = "ingress"
  from_port         = 6443
  to_port           = 6443
  protocol          = "tcp"
  security_group_id = aws_security_group.master.id
  self              = true
}
"""

FROM_EVERY_GROUP = """\
# The control plane admits TCP 6443 from every node group.
resource "aws_security_group_rule" "apiserver_from_master" {
  type                     = "ingress"
  from_port                = 6443
  to_port                  = 6443
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "apiserver_from_worker" {
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
        "control-plane-only",  # the API server admits only the control plane
        {"base.tf": BASE, "main.tf": CONTROL_PLANE_ONLY},
        [
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on tcp/6443: no ingress rule on"
             " aws_security_group.master admits tcp/6443 from aws_security_group.worker"),
        ],
    ),
    Case(
        "from-every-group",  # open from both groups
        {"base.tf": BASE, "main.tf": FROM_EVERY_GROUP},
        [],
    ),
    Case(
        "other-port",  # rules for 6443 do not open port 443
        {"base.tf": BASE, "main.tf": FROM_EVERY_GROUP},
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
