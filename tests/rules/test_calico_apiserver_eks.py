"""calico-apiserver-eks: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-apiserver-eks"

ONLY_THE_CLUSTER_SG = """\
# No vpc_config.security_group_ids: the control plane wears only the group EKS creates, and
# the nodes wear it too: AWS's default rule on it (all traffic from itself) opens 5443.
resource "aws_eks_cluster" "this" {
  name     = "prod"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids = ["subnet-0a"]
  }
}

resource "aws_instance" "worker" {
  count                  = 2
  ami                    = "ami-0123456789abcdef0"
  vpc_security_group_ids = [aws_eks_cluster.this.vpc_config[0].cluster_security_group_id]
}
"""
@cases(
    Case(
        "closed",  # the page's example: the control plane wears master; nothing admits 5443 from it
        {"base.tf": BASE, "main.tf": page(RULE).example},
        [
            ("warning", "base.tf:5",
             "aws_eks_cluster.this (aws_security_group.master) cannot reach aws_security_group.master on tcp/5443: "
             "no ingress rule on aws_security_group.master admits tcp/5443 from itself"),
            ("warning", "base.tf:9",
             "aws_eks_cluster.this (aws_security_group.master) cannot reach aws_security_group.worker on tcp/5443: "
             "no ingress rule on aws_security_group.worker admits tcp/5443 from aws_security_group.master"),
        ],
    ),
    Case("open", {"base.tf": BASE, "main.tf": page(RULE).example_fixed}, []),
    Case("no-eks-cluster", {"base.tf": BASE}, []),  # not EKS: nothing to check
    Case("nodes-wear-the-cluster-sg", {"main.tf": ONLY_THE_CLUSTER_SG}, []),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
