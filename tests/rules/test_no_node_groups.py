"""no-node-groups: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of

RULE = "no-node-groups"

GROUPS = 'resource "aws_security_group" "k8s" {}\nresource "aws_security_group" "lb" {}\n'
INSTANCES = """\
resource "aws_instance" "node" {
  count                  = 3
  ami                    = "ami-0123456789abcdef0"
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
"""


@cases(
    Case(
        "groups-without-nodes",  # reported at the first group (by address)
        {"main.tf": GROUPS},
        [("warning", "main.tf:1",
          "root module . has 2 security groups but no node group sglint can see: no Calico path was checked")],
    ),
    Case("instances", {"main.tf": GROUPS + INSTANCES}, []),
    Case("a-group-named-for-a-role", {"main.tf": 'resource "aws_security_group" "workers" {}\n'}, []),
    Case("configured-roles", {"main.tf": GROUPS, ".sglint.yaml": "roles:\n  aws_security_group.k8s: worker\n"}, []),
    Case("no-groups-at-all", {"main.tf": 'resource "aws_s3_bucket" "logs" {}\n'}, []),  # no-security-groups says it
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
