"""no-node-groups: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "no-node-groups"

@cases(
    Case(
        "groups-without-nodes",  # the page's example, reported at the first group (by address)
        {"main.tf": page(RULE).example},
        [("warning", "main.tf:2",
          "root module . has 2 security groups but no node group sglint can see: no Calico path was checked")],
    ),
    Case("instances", {"main.tf": page(RULE).example_fixed}, []),
    Case("a-group-named-for-a-role", {"main.tf": 'resource "aws_security_group" "workers" {}\n'}, []),
    Case("configured-roles",
         {"main.tf": page(RULE).example, ".sglint.yaml": "roles:\n  aws_security_group.k8s: worker\n"}, []),
    Case("no-groups-at-all", {"main.tf": 'resource "aws_s3_bucket" "logs" {}\n'}, []),  # no-security-groups says it
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
