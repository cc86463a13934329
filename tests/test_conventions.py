"""The command line as platform engineers expect it from checkov, tflint and trivy (issue
#15): each test runs the exact command and asserts the exact output and exit code."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write


@pytest.mark.parametrize("command", ["check", "fix", "show", "graph"])
@pytest.mark.parametrize("extra", [[], ["--format", "json"]])
def test_a_wrong_path_prints_only_the_error(command: str, extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {"real/main.tf": 'resource "aws_security_group" "a" {}\n'})
    monkeypatch.chdir(tmp_path)
    if command == "fix" and extra:
        extra = ["--diff"]
    result = sglint(command, "real", "nowhere", *extra)
    assert (result.code, result.stdout, result.stderr) == (2, "", "nowhere: no such file or directory\n")
