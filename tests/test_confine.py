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


def test_terraform_files_and_modules_outside_the_repository_are_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint  # type: ignore[no-untyped-def]
) -> None:
    write(tmp_path, {
        "repo/.git/HEAD": "x",
        "repo/infra/main.tf": (
            'module "m" {\n  source = "../../shared"\n}\n'
            'resource "aws_security_group" "a" {\n  name = "a"\n  description = module.m.x\n}\n'
        ),
        "shared/main.tf": f'output "x" {{\n  value = "{SECRET}"\n}}\n',
        "outside.tfvars": f'v = "{SECRET}"\n',
    })
    (tmp_path / "repo" / "infra" / "terraform.tfvars").symlink_to(tmp_path / "outside.tfvars")
    monkeypatch.chdir(tmp_path / "repo")
    result = sglint("show", "infra", "--no-cache", "--format", "json")
    assert SECRET not in result.stdout + result.stderr
    assert result.stderr.splitlines() == [
        "infra/terraform.tfvars: warning: not read: a link to a file outside the repository "
        "(sglint reads only files inside it; see --allow-read)",
    ]
    [unknown] = [u for u in result.json()["roots"][0]["unknowns"] if u["address"] == "module.m"]
    assert "module not read: its source is outside the repository" in unknown["reason"]
    checked = sglint("check", "infra", "--no-cache")
    assert "warning [module-unreadable] module.m (source \"../../shared\") was not read: its source is outside the repository" in checked.stdout
    widened = sglint("show", "infra", "--no-cache", "--allow-read", "..")
    assert widened.stderr == ""
