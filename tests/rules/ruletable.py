"""The table-test harness for rules, in the style of tflint-ruleset-aws: each test module is
one rule, each case a small module (HCL files) and profile flags, and the exact findings of
that rule: (severity, file:line, message)."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from calico_sglint.cli import main
from calico_sglint.profile.rulepack import PackRule, load_packs

REPO = Path(__file__).resolve().parents[2]
BASE = (REPO / "rules" / "examples" / "base.tf").read_text()


@dataclass(frozen=True)
class Case:
    """One row of a rule's table: input files, flags, and the rule's findings."""

    name: str
    files: dict[str, str]
    expected: list[tuple[str, str, str]]  # (severity, "file:line", message)
    flags: tuple[str, ...] = field(default=())


@functools.cache
def page(rule_id: str) -> PackRule:
    """A built-in rule: its documented `example` and `example_fixed` are table rows too."""
    rule = load_packs().get(rule_id)
    assert rule is not None
    return rule


def cases(*rows: Case) -> Any:
    return pytest.mark.parametrize("case", rows, ids=[row.name for row in rows])


def findings_of(rule_id: str, case: Case, directory: Path) -> list[tuple[str, str, str]]:
    """Check `case` written to `directory`; the findings of `rule_id` as (severity, file:line, message)."""
    for name, text in case.files.items():
        (directory / name).write_text(text)
    out = io.StringIO()
    previous = os.getcwd()
    os.chdir(directory)
    try:
        with contextlib.redirect_stdout(out):
            code = main(["check", ".", "--format", "json", *case.flags])
    finally:
        os.chdir(previous)
    assert code in (0, 1)
    return [
        (f["severity"], f"{f['location']['file']}:{f['location']['line']}" if f["location"] else "", f["message"])
        for f in json.loads(out.getvalue())["findings"] if f["rule_id"] == rule_id
    ]
