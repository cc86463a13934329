"""Reads confined to the repository (confine.py): a stranger's pull request cannot put a file
from outside the repository into any report, and no read blocks or fills memory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from calico_sglint.terraform.confine import OUTSIDE, Refused, boundary_for
from conftest import write

SECRET = "SUPERSECRET-4f1d"

# A worker group whose Typha rule names a CIDR, a description, a tag and a template read from
# outside the repository; the repository is `repo/` (it has `.git`), the secret is beside it.
LEAKY = {
    "repo/.git/HEAD": "ref: refs/heads/main\n",
    "repo/infra/main.tf": """\
resource "aws_security_group" "worker" {
  name        = "worker"
  description = file("../../outside/creds.txt")
  tags        = { Name = file("../../outside/creds.txt"), T = templatefile("../../outside/creds.txt", {}) }
  ingress {
    from_port   = 5473
    to_port     = 5473
    protocol    = "tcp"
    cidr_blocks = [trimspace(file("../../outside/creds.txt"))]
  }
  ingress {
    from_port   = 4789
    to_port     = 4789
    protocol    = "udp"
    cidr_blocks = fileexists("../../outside/creds.txt") ? ["10.0.0.0/8"] : ["10.1.0.0/16"]
  }
}

resource "aws_instance" "worker" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.worker.id]
  tags                   = { Role = "worker" }
}
""",
    "outside/creds.txt": SECRET + "\n",
}

CHECK_FORMATS = ["text", "json", "sarif", "github", "junit", "markdown"]


@pytest.fixture
def leaky_repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    write(tmp_path, LEAKY)
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "repo"


@pytest.mark.parametrize("output_format", CHECK_FORMATS)
def test_the_secret_never_reaches_a_check_report(leaky_repo: Path, sglint, output_format: str) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "infra", "--format", output_format, "--no-cache")
    assert result.code == 1  # the missing egress is still found: the rest stays checkable
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(("command", "output_format"), [
    ("show", "text"), ("show", "json"), ("graph", "mermaid"), ("graph", "dot"), ("graph", "json"),
])
def test_the_secret_never_reaches_show_or_graph(leaky_repo: Path, sglint, command: str, output_format: str) -> None:  # type: ignore[no-untyped-def]
    result = sglint(command, "infra", "--format", output_format, "--no-cache")
    assert result.code == 0
    assert SECRET not in result.stdout + result.stderr


def test_show_says_the_value_is_unknown_because_the_read_is_outside(leaky_repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    result = sglint("show", "infra", "--no-cache")
    expected = (
        'aws_security_group.worker.ingress cidr_blocks: file("../../outside/creds.txt") (infra/main.tf:9): '
        f"file not read: {OUTSIDE}"
    )
    assert expected in result.stdout
    assert 'fileexists("../../outside/creds.txt") (infra/main.tf:15): file not looked at: outside the repository' in result.stdout


def test_allow_read_widens_the_boundary_explicitly(leaky_repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    result = sglint("show", "infra", "--no-cache", "--allow-read", "../outside")
    assert f"from {SECRET}" in result.stdout


def test_config_allow_read_is_honoured_locally_and_ignored_on_ci(
    leaky_repo: Path, sglint, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    write(leaky_repo, {".sglint.yaml": "allow_read:\n  - ../outside\n"})
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert SECRET in sglint("check", "infra", "--no-cache", "--format", "json").stdout
    monkeypatch.setenv("CI", "true")
    result = sglint("check", "infra", "--no-cache")
    assert SECRET not in result.stdout + result.stderr
    assert ".sglint.yaml:1: warning: allow_read in the config is ignored on CI" in result.stderr


def test_config_module_dirs_do_not_widen_reads_on_ci(
    leaky_repo: Path, sglint, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    write(leaky_repo, {".sglint.yaml": "module_dirs:\n  - /\n"})  # a pull request's config naming every directory
    monkeypatch.setenv("CI", "true")
    result = sglint("check", "infra", "--no-cache", "--format", "json")
    assert SECRET not in result.stdout + result.stderr
    assert result.stderr == (".sglint.yaml:1: warning: module_dirs in the config outside the repository are not read "
                             "on CI (a pull request could widen what sglint reads); use --module-dir\n")
    monkeypatch.delenv("CI")
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert SECRET in sglint("check", "infra", "--no-cache", "--format", "json").stdout  # locally the config is yours


def test_a_symlink_inside_the_repository_to_a_file_outside_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"repo/.git/HEAD": "x", "outside/secret": SECRET})
    (tmp_path / "repo" / "link").symlink_to(tmp_path / "outside" / "secret")
    boundary = boundary_for([str(tmp_path / "repo")])
    assert boundary.read(str(tmp_path / "repo" / "link")) == Refused(OUTSIDE)
    assert boundary.read(str(tmp_path / "repo" / ".." / "outside" / "secret")) == Refused(OUTSIDE)
    assert boundary.read(str(tmp_path / "repo" / ".git" / "HEAD")) == b"x"


def test_without_a_repository_the_scanned_paths_are_the_boundary(tmp_path: Path) -> None:
    write(tmp_path, {"infra/main.tf": "", "infra/values.yaml": "a: 1", "elsewhere.yaml": SECRET})
    boundary = boundary_for([str(tmp_path / "infra")])
    assert boundary.read(str(tmp_path / "infra" / "values.yaml")) == b"a: 1"
    assert boundary.read(str(tmp_path / "elsewhere.yaml")) == Refused(OUTSIDE)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_a_device_is_unknown_and_never_blocks(tmp_path: Path) -> None:
    write(tmp_path, {"repo/.git/HEAD": "x"})
    os.mkfifo(tmp_path / "repo" / "pipe")
    (tmp_path / "repo" / "stdin").symlink_to("/dev/stdin")
    boundary = boundary_for([str(tmp_path / "repo")], [os.path.realpath("/dev")])
    assert boundary.read(str(tmp_path / "repo" / "pipe")) == Refused("not a regular file (a device, FIFO or socket)")
    assert boundary.read("/dev/zero") == Refused("not a regular file (a device, FIFO or socket)")


def test_a_file_over_the_size_cap_is_unknown(tmp_path: Path) -> None:
    write(tmp_path, {"repo/.git/HEAD": "x", "repo/big": "x" * 2048})
    boundary = boundary_for([str(tmp_path / "repo")])
    assert boundary.read(str(tmp_path / "repo" / "big"), limit=1024) == Refused("larger than 0 MB")
    assert boundary.read(str(tmp_path / "repo" / "big"), limit=4096) == b"x" * 2048


def test_file_of_dev_stdin_is_unknown_without_waiting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {".git/HEAD": "x", "infra/main.tf": 'resource "aws_security_group" "a" {\n  description = file("/dev/stdin")\n}\n'})
    monkeypatch.chdir(tmp_path)
    result = sglint("show", "infra", "--no-cache", "--format", "json")
    assert result.code == 0


def test_profile_detection_skips_a_manifest_linked_from_outside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint  # type: ignore[no-untyped-def]
) -> None:
    write(tmp_path, {
        "repo/.git/HEAD": "x",
        "repo/infra/main.tf": 'resource "aws_security_group" "worker" {\n  name = "worker"\n}\n',
        "outside/installation.yaml": (
            "apiVersion: operator.tigera.io/v1\nkind: Installation\nmetadata:\n  name: default\n"
            "spec:\n  calicoNetwork:\n    ipPools:\n    - cidr: 10.0.0.0/8\n      encapsulation: IPIP\n"
        ),
    })
    (tmp_path / "repo" / "infra" / "calico.yaml").symlink_to(tmp_path / "outside" / "installation.yaml")
    monkeypatch.chdir(tmp_path / "repo")
    result = sglint("check", "infra", "--no-cache", "--format", "json")
    assert "../outside/installation.yaml: warning: not read: outside the repository" in result.stderr
    assert result.json()["roots"][0]["profile"]["encapsulation"] == {"value": "VXLAN", "source": "default"}



# --- module calls and .tf files outside the repository --------------------------------------

MODULE_SECRET = "SUPERSECRET-module-7c2e"
CLEAN_WORKER = """\
resource "aws_security_group" "worker" {
  name = "worker"
  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }
  egress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }
}

resource "aws_instance" "worker" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.worker.id]
  tags                   = { Role = "worker" }
}
"""
LEAK_MODULE = f"""\
resource "aws_security_group" "leak" {{
  name        = "{MODULE_SECRET}"
  description = "{MODULE_SECRET}"
  ingress {{
    from_port   = 5473
    to_port     = 5473
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }}
}}

resource "aws_instance" "leak" {{
  vpc_security_group_ids = [aws_security_group.leak.id]
  tags                   = {{ Role = "worker" }}
}}
"""
OUTSIDE_CALL = CLEAN_WORKER + '\nmodule "extra" {\n  source = "../../outside/mod"\n}\n'  # `source` on line 24
REFUSED_CALL = (
    'module.extra (source "../../outside/mod") was not read: its source is outside the repository '
    "(sglint reads only files inside it; see --allow-read); the security groups and nodes it creates are not checked"
)
REFUSED_HINT = "Pass --allow-read DIR to read it, then run sglint again."


@pytest.fixture
def outside_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`repo/` (with .git) whose root calls `../../outside/mod`, a module beside the repository."""
    write(tmp_path, {
        "repo/.git/HEAD": "ref: refs/heads/main\n",
        "repo/infra/main.tf": OUTSIDE_CALL,
        "outside/mod/main.tf": LEAK_MODULE,
    })
    monkeypatch.chdir(tmp_path / "repo")
    return tmp_path / "repo"


EXPECTED_CALL_REPORT = {
    "text": f"  infra/main.tf:24: warning [module-unreadable] {REFUSED_CALL}\n      fix: {REFUSED_HINT}\n",
    "compact": f"infra/main.tf:24: warning [module-unreadable] {REFUSED_CALL}\n",
    "github": (
        "::warning file=infra/main.tf,line=24,endLine=24,title=module-unreadable%3A A module call sglint cannot read::"
        f"{REFUSED_CALL}%0A%0AHow to fix: {REFUSED_HINT}\n"
    ),
    "markdown": f"| warning | `module-unreadable` | `infra/main.tf:24` | {REFUSED_CALL} |\n",
    "junit": f"warning (below the fail level error): infra/main.tf:24: [module-unreadable] {REFUSED_CALL}\n",
}


@pytest.mark.parametrize("output_format", sorted(EXPECTED_CALL_REPORT))
def test_a_module_call_outside_the_repository_is_a_module_unreadable_warning(
    outside_module: Path, sglint, output_format: str  # type: ignore[no-untyped-def]
) -> None:
    result = sglint("check", "infra", "--format", output_format, "--no-cache")
    assert result.code == 0  # a warning, like any module-unreadable; --fail-on warning makes it fail
    assert EXPECTED_CALL_REPORT[output_format] in result.stdout
    assert MODULE_SECRET not in result.stdout + result.stderr
    assert "aws_security_group.leak" not in result.stdout and "aws_instance.leak" not in result.stdout
    assert sglint("check", "infra", "--format", output_format, "--no-cache", "--fail-on", "warning").code == 1


def test_a_module_call_outside_the_repository_in_json_and_sarif(outside_module: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    report = sglint("check", "infra", "--format", "json", "--no-cache")
    (finding,) = report.json()["findings"]
    assert (finding["rule_id"], finding["severity"], finding["message"], finding["location"], finding["hint"]) == (
        "module-unreadable", "warning", REFUSED_CALL, {"file": "infra/main.tf", "line": 24, "end_line": 24}, REFUSED_HINT,
    )
    sarif = sglint("check", "infra", "--format", "sarif", "--no-cache")
    (result,) = sarif.json()["runs"][0]["results"]
    assert (result["ruleId"], result["level"], result["message"]["text"]) == (
        "module-unreadable", "warning", f"{REFUSED_CALL}\n\nHow to fix: {REFUSED_HINT}",
    )
    assert result["locations"][0]["physicalLocation"]["region"] == {"startLine": 24, "endLine": 24}
    assert MODULE_SECRET not in report.stdout + sarif.stdout + report.stderr + sarif.stderr


@pytest.mark.parametrize(("command", "output_format"), [
    ("show", "text"), ("show", "json"), ("graph", "mermaid"), ("graph", "dot"), ("graph", "json"),
    ("fix", "text"),
])
def test_a_module_outside_the_repository_never_reaches_show_graph_or_fix(
    outside_module: Path, sglint, command: str, output_format: str  # type: ignore[no-untyped-def]
) -> None:
    flags = ("--diff",) if command == "fix" else ("--format", output_format)
    result = sglint(command, "infra", *flags, "--no-cache")
    assert result.code == 0
    assert MODULE_SECRET not in result.stdout + result.stderr
    assert "aws_security_group.leak" not in result.stdout


def test_show_says_the_module_is_not_read_because_it_is_outside(outside_module: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    result = sglint("show", "infra", "--no-cache")
    assert result.stdout.endswith(
        "  Could not evaluate\n    module.extra source: ../../outside/mod (infra/main.tf:24): module not read: "
        f"its source is {OUTSIDE}\n\n"
    )


def test_allow_read_reads_a_module_outside_the_repository(outside_module: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "infra", "--format", "json", "--no-cache", "--allow-read", "../outside")
    assert result.code == 1  # the module is read: its Typha port open to the internet is found
    assert ("sg-exposed", "../outside/mod/main.tf", 4) in _found(result.json())
    shown = sglint("show", "infra", "--no-cache", "--allow-read", "../outside")
    assert "module.extra.aws_security_group.leak  ../outside/mod/main.tf:1" in shown.stdout


def test_without_a_repository_the_scanned_path_is_the_boundary_for_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint  # type: ignore[no-untyped-def]
) -> None:
    write(tmp_path, {"infra/main.tf": CLEAN_WORKER + '\nmodule "extra" {\n  source = "../mod"\n}\n', "mod/main.tf": LEAK_MODULE})
    monkeypatch.chdir(tmp_path)
    result = sglint("check", "infra", "--format", "compact", "--no-cache")
    assert result.stdout == (
        'infra/main.tf:24: warning [module-unreadable] module.extra (source "../mod") was not read: its source is '
        f"{OUTSIDE}; the security groups and nodes it creates are not checked\n0 errors, 1 warning\n"
    )
    assert sglint("check", ".", "--format", "compact", "--no-cache").code == 1  # scanned from the common parent: read


def test_a_tf_file_linked_from_outside_is_skipped_with_a_warning(outside_module: Path, tmp_path: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    (outside_module / "infra" / "main.tf").write_text(CLEAN_WORKER)
    (outside_module / "infra" / "extra.tf").symlink_to(tmp_path / "outside" / "mod" / "main.tf")
    message = f"not read: a link to a file {OUTSIDE}"
    in_report = {
        "text": "", "json": '"file": "infra/extra.tf"', "sarif": '"uri": "infra/extra.tf"',
        "github": f"::warning file=infra/extra.tf,title=sglint%3A input warning::{message}\n",
        "markdown": f"- warning: `infra/extra.tf` {message}\n",
    }
    for output_format, expected in in_report.items():
        result = sglint("check", "infra", "--format", output_format, "--no-cache")
        assert result.code == 0
        assert MODULE_SECRET not in result.stdout + result.stderr
        assert result.stderr == f"infra/extra.tf: warning: {message}\n"
        assert expected in result.stdout and (output_format == "text" or message in result.stdout), output_format
    shown = sglint("show", "infra", "--no-cache")
    assert "aws_security_group.leak" not in shown.stdout and MODULE_SECRET not in shown.stdout + shown.stderr


def test_a_directory_linked_from_outside_is_one_warning(outside_module: Path, tmp_path: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    (outside_module / "infra" / "main.tf").write_text(CLEAN_WORKER)
    (outside_module / "infra" / "linked").symlink_to(tmp_path / "outside" / "mod", target_is_directory=True)
    result = sglint("check", "infra", "--format", "json", "--no-cache")
    assert (result.code, result.json()["findings"]) == (0, [])
    assert result.stderr == f"infra/linked: warning: not read: a link to a directory {OUTSIDE}\n"
    assert MODULE_SECRET not in result.stdout


def test_a_module_directory_linked_inside_the_repository_is_read(outside_module: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    write(outside_module, {"shared/mod/main.tf": LEAK_MODULE})
    (outside_module / "infra" / "mod").symlink_to(outside_module / "shared" / "mod", target_is_directory=True)
    (outside_module / "infra" / "main.tf").write_text(CLEAN_WORKER + 'module "extra" {\n  source = "./mod"\n}\n')
    result = sglint("check", "infra", "--format", "json", "--no-cache")
    assert (result.code, result.stderr) == (1, "")
    assert ("sg-exposed", "infra/mod/main.tf", 4) in _found(result.json())


def _found(report: dict) -> list[tuple[str, str, int]]:  # type: ignore[type-arg]
    """(rule, file, line) of every finding of a JSON report."""
    return [(f["rule_id"], f["location"]["file"], f["location"]["line"]) for f in report["findings"]]
