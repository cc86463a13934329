"""pipeline.py: what the run takes from the environment. On CI, `TF_VAR_*` are not read: the
runner's environment may hold secrets, and a pull request's Terraform could print one."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write

MODULE = """
variable "office_cidr" {
  type = string
}

resource "aws_security_group" "nodes" {
  ingress {
    from_port   = 5473
    to_port     = 5473
    protocol    = "tcp"
    cidr_blocks = [var.office_cidr]
  }
}
"""

SECRET = "203.0.113.77/32"


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, {"main.tf": MODULE})
    monkeypatch.chdir(tmp_path)
    for name in ("CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TF_VAR_office_cidr", SECRET)
    return tmp_path


def _shown(sglint) -> dict[str, object]:  # type: ignore[no-untyped-def]
    result = sglint("show", ".", "-f", "json")
    assert result.code == 0, result.stderr
    (sg,) = result.json()["roots"][0]["security_groups"]
    return sg["rules"][0]["peers"][0]  # type: ignore[no-any-return]


def test_tf_var_values_are_read_off_ci(module: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    assert _shown(sglint) == {"kind": "cidr", "value": SECRET}


@pytest.mark.parametrize("variable", ["CI", "GITHUB_ACTIONS"])
def test_on_ci_tf_var_values_are_ignored_and_named(module: Path, sglint, monkeypatch, variable: str) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(variable, "true")
    peer = _shown(sglint)
    assert peer["kind"] == "unknown" and "var.office_cidr" in str(peer["value"])
    for output_format in ("text", "json", "sarif", "github", "markdown", "junit"):
        result = sglint("check", ".", "-f", output_format)
        assert SECRET not in result.stdout + result.stderr, output_format
    assert sglint("check", ".").stderr.splitlines() == [
        "sglint: warning: TF_VAR_office_cidr from the environment ignored on CI (a pull request could print their "
        "values); pass a value on purpose with --var NAME=VALUE"
    ]


def test_on_ci_a_value_passed_with_var_is_read(module: Path, sglint, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CI", "true")
    result = sglint("show", ".", "-f", "json", "--var", "office_cidr=10.0.0.0/8")
    (sg,) = result.json()["roots"][0]["security_groups"]
    assert sg["rules"][0]["peers"][0] == {"kind": "cidr", "value": "10.0.0.0/8"}


@pytest.fixture
def repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (with `.git`) holding the incident example's module, and a file beside it."""
    repo = write(tmp_path / "repo", {"main.tf": MODULE.replace("[var.office_cidr]", '["10.0.0.0/8"]')})
    (repo / ".git").mkdir()
    write(tmp_path, {"outside/pack.yaml": "rules: [\n  not: yaml: at all\n", "outside/report.json": "old\n"})
    monkeypatch.chdir(repo)
    for name in ("CI", "GITHUB_ACTIONS"):
        monkeypatch.delenv(name, raising=False)
    return repo


@pytest.mark.parametrize(("config", "message"), [
    ("rules: [../outside/pack.yaml]\n",
     ".sglint.yaml:1: rules: ../outside/pack.yaml is outside the repository; on CI the config may only name files "
     "inside it (use --rules)"),
    ("output: ../outside/report.json\n",
     ".sglint.yaml:1: output: ../outside/report.json is outside the repository; on CI the config may only name files "
     "inside it (use -o/--output)"),
    ("format: json\noutput: .git/config\n",
     ".sglint.yaml:2: output: on CI the config may not write into .git; use -o/--output"),
])
def test_on_ci_the_config_names_no_file_outside_the_repository(
    repository: Path, sglint, monkeypatch, config: str, message: str,  # type: ignore[no-untyped-def]
) -> None:
    write(repository, {".sglint.yaml": config})
    (repository / ".git" / "config").write_text("[core]\n")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    result = sglint("check", ".")
    assert (result.code, result.stderr.strip()) == (2, message)
    assert (repository.parent / "outside" / "report.json").read_text() == "old\n"
    assert (repository / ".git" / "config").read_text() == "[core]\n"


def test_off_ci_the_config_may_name_files_outside(repository: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    write(repository, {".sglint.yaml": "format: json\noutput: ../outside/report.json\n"})
    result = sglint("check", ".")
    assert result.code == 1
    assert '"schema_version"' in (repository.parent / "outside" / "report.json").read_text()
