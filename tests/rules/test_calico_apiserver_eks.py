"""calico-apiserver-eks: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of

RULE = "calico-apiserver-eks"

CLUSTER = """\
resource "aws_eks_cluster" "this" {
  name     = "prod"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids         = ["subnet-0a", "subnet-0b"]
    security_group_ids = [aws_security_group.master.id]
  }
}
"""

FROM_CONTROL_PLANE = """\
resource "aws_security_group_rule" "calico_apiserver" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 5443
  to_port                  = 5443
  protocol                 = "tcp"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}
"""

THROUGH_THE_CLUSTER_SG = """\
# Rules on the cluster security group EKS creates are read too: here the nodes wear it.
resource "aws_security_group_rule" "calico_apiserver" {
  type              = "ingress"
  from_port         = 5443
  to_port           = 5443
  protocol          = "tcp"
  security_group_id = aws_eks_cluster.this.vpc_config[0].cluster_security_group_id
  self              = true
}

resource "aws_instance" "worker" {
  count                  = 2
  ami                    = "ami-0123456789abcdef0"
  vpc_security_group_ids = [aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]
}
"""


@cases(
    Case(
        "closed",  # the control plane wears master; nothing admits 5443 from it
        {"base.tf": BASE, "main.tf": CLUSTER},
        [
            ("warning", "base.tf:5",
             "aws_eks_cluster.this (aws_security_group.master) cannot reach aws_security_group.master on tcp/5443: "
             "no ingress rule on aws_security_group.master admits tcp/5443 from itself"),
            ("warning", "base.tf:9",
             "aws_eks_cluster.this (aws_security_group.master) cannot reach aws_security_group.worker on tcp/5443: "
             "no ingress rule on aws_security_group.worker admits tcp/5443 from aws_security_group.master"),
        ],
    ),
    Case("open", {"base.tf": BASE, "main.tf": CLUSTER + FROM_CONTROL_PLANE}, []),
    Case("no-eks-cluster", {"base.tf": BASE, "main.tf": FROM_CONTROL_PLANE}, []),  # not EKS: nothing to check
    Case("through-the-cluster-security-group", {"main.tf": CLUSTER + THROUGH_THE_CLUSTER_SG}, []),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
