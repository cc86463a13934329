"""module-unreadable: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py).
Modules installed by `terraform init` are in tests/test_installed.py (they need .terraform/)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "module-unreadable"

CALLS = """\
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"
}

module "sg" {
  source = "git::https://git.example.com/platform/sg.git?ref=v1"
  vpc_id = "vpc-0abc"
}

variable "where" {
  default = "./modules/x"
}

module "computed" {
  source = var.where
}
"""
NOT_INSTALLED = "not installed (no .terraform/modules/modules.json: `terraform init` has not run)"
NOT_CHECKED = "the security groups and nodes it creates are not checked"


@cases(
    Case(
        "not-initialised",  # registry and git calls before `terraform init`, and a computed source
        {"main.tf": CALLS},
        [
            ("warning", "main.tf:2",
             f'module.eks (source "terraform-aws-modules/eks/aws") was not read: {NOT_INSTALLED}; {NOT_CHECKED}'),
            ("warning", "main.tf:7",
             f'module.sg (source "git::https://git.example.com/platform/sg.git?ref=v1") was not read: '
             f"{NOT_INSTALLED}; {NOT_CHECKED}"),
            ("warning", "main.tf:16",
             'module.computed (source "var.where") was not read: its source is an expression, not a literal string '
             f"(Terraform needs a literal); {NOT_CHECKED}"),
        ],
    ),
    Case(
        "the-page-example",
        {"main.tf": page(RULE).example},
        [("warning", "main.tf:3",
          f'module.eks (source "terraform-aws-modules/eks/aws") was not read: {NOT_INSTALLED}; {NOT_CHECKED}')],
    ),
    Case("no-module-calls", {"main.tf": page(RULE).example_fixed}, []),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
