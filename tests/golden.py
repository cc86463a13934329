"""Golden files: the reviewed expected output of a fixture, compared exactly.

A golden check report (`fixtures/NAME/expected/check.json`) keeps what the scenario is about:
the summary, the findings, the suppressed findings, the diagnostics and, per root module, its
requirements, its nodes and the profile settings that do not come from a default (the same
eight defaults would otherwise repeat in every file). The tool name and version are left out.

After a change of behaviour, regenerate the files, then review every changed line:

    SGLINT_UPDATE_GOLDEN=1 pytest tests/test_check.py
    git diff fixtures/
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

UPDATE = os.environ.get("SGLINT_UPDATE_GOLDEN") == "1"


def check_view(report: dict[str, Any]) -> dict[str, Any]:
    """The part of a `--format json` report that a golden file holds."""
    view = {key: value for key, value in report.items() if key != "tool"}
    view["roots"] = [
        {**root, "profile": {name: s for name, s in root["profile"].items() if s["source"] != "default"}}
        for root in report["roots"]
    ]
    return view


def assert_golden(path: Path, actual: dict[str, Any]) -> None:
    """`actual` equals the golden file at `path`; with SGLINT_UPDATE_GOLDEN=1, it becomes it."""
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(actual, indent=2) + "\n")
        return
    assert actual == json.loads(path.read_text())
