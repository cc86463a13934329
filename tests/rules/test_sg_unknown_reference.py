"""sg-unknown-reference: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import Case, cases, findings_of, page

RULE = "sg-unknown-reference"


@cases(
    Case(
        "typo",  # wroker for worker
        {"main.tf": page("sg-unknown-reference").example},
        [
            ("error", "main.tf:10",
             "aws_security_group_rule.master_typha names aws_security_group.wroker, which is not declared in "
             "this module"),
        ],
    ),
    Case(
        "declared",  # the group exists
        {"main.tf": page("sg-unknown-reference").example_fixed},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
