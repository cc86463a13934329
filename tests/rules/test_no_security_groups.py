"""no-security-groups: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "no-security-groups"


@cases(
    Case(
        "nothing",
        {"main.tf": 'resource "aws_s3_bucket" "logs" {}\n'},
        [("warning", "main.tf:1", "root module . has no security group sglint can see: nothing was checked")],
    ),
    Case(
        "everything-in-a-module-not-installed",  # the page's example
        {"main.tf": page(RULE).example},
        [("warning", "main.tf:1",
          "root module . has no security group sglint can see (not read: module.cluster): nothing was checked")],
    ),
    Case("a-group", {"main.tf": page(RULE).example_fixed}, []),
    Case(
        "a-group-from-a-data-source",  # not created here, but named by the nodes: sglint sees it
        {"main.tf": 'data "aws_security_group" "nodes" {\n  name = "nodes"\n}\n'
                    'resource "aws_instance" "worker" {\n  count = 2\n'
                    '  vpc_security_group_ids = [data.aws_security_group.nodes.id]\n}\n'},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
