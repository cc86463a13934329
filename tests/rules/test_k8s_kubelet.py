"""k8s-kubelet: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "k8s-kubelet"

WORKERS_ONLY = """\
# kubelet reachable only from the worker group itself.
resource "aws_security_group_rule" "kubelet" {
  type              = "ingress"
  from_port         = 10250
  to_port           = 10250
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}
"""

FROM_CONTROL_PLANE = """\
# Every node group admits TCP 10250 from the control plane.
resource "aws_security_group_rule" "kubelet_from_master" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 10250
  to_port                  = 10250
  protocol                 = "tcp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}
"""


@cases(
    Case(
        "workers-only",  # kubelet reachable from workers only
        {"base.tf": BASE, "main.tf": WORKERS_ONLY},
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
        {"base.tf": BASE, "main.tf": FROM_CONTROL_PLANE},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
