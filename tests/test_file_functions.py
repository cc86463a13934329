"""The file functions beyond file()/templatefile()/fileexists(): filebase64, filemd5, filesha*,
filebase64sha*, fileset. Each reads through the run's ReadBoundary (confine.py): inside the
repository the value is Terraform's, outside it an Unknown saying so, never the content."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from calico_sglint.terraform import fileset as fileset_module
from calico_sglint.terraform.confine import OUTSIDE, Refused, boundary_for
from calico_sglint.terraform.evaluate import evaluate_root
from calico_sglint.terraform.fileset import PatternError, fileset
from calico_sglint.terraform.values import TfSet, Unknown
from calico_sglint.terraform.workspace import load_workspace
from conftest import write

SECRET = "SUPERSECRET-files-91ab"

# repo/ is the repository (.git); infra/ the root module; outside/ sits beside the repository.
LAYOUT = {
    "repo/.git/HEAD": "ref: refs/heads/main\n",
    "repo/infra/hello.txt": "hello\n",
    "repo/infra/vals/a.yaml": "a: 1\n",
    "repo/infra/vals/Z.yaml": "z: 1\n",
    "repo/infra/vals/.hidden.yaml": "h: 1\n",
    "repo/infra/vals/b.bin": "b",
    "repo/infra/vals/sub/c.yaml": "c: 1\n",
    "repo/infra/vals/sub/deeper/d.yaml": "d: 1\n",
    "repo/infra/vals/dir.yaml/e.txt": "a directory named like a file\n",
    "repo/shared/s.yaml": "s: 1\n",
    "outside/secret.txt": SECRET + "\n",
}


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write(tmp_path, LAYOUT)
    (tmp_path / "repo" / "infra" / "binary.dat").write_bytes(b"\x00\xff\xfe\n")
    return tmp_path / "repo"


def probe(repo: Path, expression: str) -> Any:
    """The value of `expression` in the root module repo/infra, reads confined like the CLI's."""
    infra = repo / "infra"
    (infra / "main.tf").write_text(f'resource "terraform_data" "probe" {{\n  input = {expression}\n}}\n')
    boundary = boundary_for([str(infra)])
    workspace = load_workspace([str(infra)], cwd=str(infra), boundary=boundary)
    assert not workspace.diagnostics, workspace.diagnostics
    config = evaluate_root(workspace, workspace.roots[0], boundary=boundary)
    (resource,) = config.resources
    return resource.body.get("input")


@pytest.mark.parametrize(("expression", "expected"), [
    ('filemd5("hello.txt")', "b1946ac92492d2347c6235b4d2611184"),
    ('filesha1("hello.txt")', "f572d396fae9206628714fb2ce00f72e94f2258f"),
    ('filesha256("hello.txt")', "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
    ('filesha512("${path.module}/hello.txt")', (
        "e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931"
        "f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629"
    )),
    ('filebase64sha256("hello.txt")', "WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM="),
    ('filebase64sha512("hello.txt")', "58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+VIePWzFufOO2vAGWKQ=="),
    ('filebase64("hello.txt")', "aGVsbG8K"),
    ('filebase64("binary.dat")', "AP/+Cg=="),  # any bytes, not only UTF-8
    ('filemd5("../shared/s.yaml")', "58799fdac4c8c10b961eb820fef37d70"),  # inside the repository, outside the root
])
def test_file_digests_inside_the_repository(repo: Path, expression: str, expected: str) -> None:
    assert probe(repo, expression) == expected


@pytest.mark.parametrize("function", [
    "filebase64", "filemd5", "filesha1", "filesha256", "filesha512", "filebase64sha256", "filebase64sha512",
])
@pytest.mark.parametrize(("path", "reason"), [
    ("../../outside/secret.txt", OUTSIDE),
    ("/etc/hostname", OUTSIDE),
    ("missing.txt", "no such file"),
    ("vals", "is a directory, not a file"),
])
def test_file_digests_that_cannot_read_are_unknown(repo: Path, function: str, path: str, reason: str) -> None:
    value = probe(repo, f'{function}("{path}")')
    assert isinstance(value, Unknown)
    assert (value.expr, value.reason, value.location.line) == (f'{function}("{path}")', f"file not read: {reason}", 2)


def test_a_link_inside_the_repository_to_a_file_outside_is_not_hashed(repo: Path, tmp_path: Path) -> None:
    (repo / "infra" / "link.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    value = probe(repo, 'filesha256("link.txt")')
    assert isinstance(value, Unknown) and value.reason == f"file not read: {OUTSIDE}"


@pytest.mark.parametrize(("expression", "expected"), [
    # sorted like Terraform's set of strings: bytewise, so `.` and upper case first; dotfiles match `*`
    ('fileset(path.module, "vals/*.yaml")', ["vals/.hidden.yaml", "vals/Z.yaml", "vals/a.yaml"]),
    ('fileset("${path.module}/vals", "*.yaml")', [".hidden.yaml", "Z.yaml", "a.yaml"]),
    ('fileset(path.module, "vals/**/*.yaml")', [
        "vals/.hidden.yaml", "vals/Z.yaml", "vals/a.yaml", "vals/sub/c.yaml", "vals/sub/deeper/d.yaml",
    ]),
    ('fileset(path.module, "vals/**")', [
        "vals/.hidden.yaml", "vals/Z.yaml", "vals/a.yaml", "vals/b.bin", "vals/dir.yaml/e.txt", "vals/sub/c.yaml",
        "vals/sub/deeper/d.yaml",
    ]),
    ('fileset(path.module, "vals/**/**/d.yaml")', ["vals/sub/deeper/d.yaml"]),
    ('fileset(path.module, "vals/?.yaml")', ["vals/Z.yaml", "vals/a.yaml"]),
    ('fileset(path.module, "vals/[ab].*")', ["vals/a.yaml", "vals/b.bin"]),
    ('fileset(path.module, "vals/[^a.]*")', ["vals/Z.yaml", "vals/b.bin"]),
    ('fileset(path.module, "vals/{a,b}.{yaml,bin}")', ["vals/a.yaml", "vals/b.bin"]),
    ('fileset(path.module, "vals/*/*.yaml")', ["vals/sub/c.yaml"]),
    ('fileset(path.module, "vals/{a.yaml,sub/c.yaml}")', ["vals/a.yaml", "vals/sub/c.yaml"]),
    ('fileset(path.module, "{vals/sub,../shared}/*.yaml")', ["../shared/s.yaml", "vals/sub/c.yaml"]),
    ('fileset(path.module, "vals/{sub/{c,x},[a]}.yaml")', ["vals/a.yaml", "vals/sub/c.yaml"]),
    ('fileset(path.module, "vals/\\\\*.yaml")', []),
    ('fileset(path.module, "nothing/*")', []),
    ('fileset(path.module, "hello.txt")', ["hello.txt"]),
    ('fileset(path.module, "../shared/*")', ["../shared/s.yaml"]),
    ('fileset(path.module, "vals/./sub/../a.yaml")', ["vals/a.yaml"]),
])
def test_fileset_inside_the_repository(repo: Path, expression: str, expected: list[str]) -> None:
    assert probe(repo, expression) == TfSet(expected)


@pytest.mark.parametrize(("expression", "reason"), [
    ('fileset(path.module, "../../outside/*")', OUTSIDE),
    ('fileset("../../outside", "*")', OUTSIDE),
    ('fileset(path.module, "/etc/*")', OUTSIDE),
    ('fileset(path.module, "vals/../../../*")', OUTSIDE),
    ('fileset(path.module, "{vals/*.yaml,../../outside/*}")', OUTSIDE),  # one alternative outside: all unknown
])
def test_fileset_outside_the_repository_is_unknown(repo: Path, expression: str, reason: str) -> None:
    value = probe(repo, expression)
    assert isinstance(value, Unknown)
    assert (value.expr, value.reason) == (expression, f"files not listed: {reason}")


def test_fileset_through_a_link_leading_outside_is_unknown(repo: Path, tmp_path: Path) -> None:
    (repo / "infra" / "vals" / "out").symlink_to(tmp_path / "outside", target_is_directory=True)
    (repo / "infra" / "vals" / "leak.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    reason = f"files not listed: a link under it leads {OUTSIDE}"
    for pattern in ("vals/**", "vals/*/secret.txt", "vals/*.txt"):
        value = probe(repo, f'fileset(path.module, "{pattern}")')
        assert isinstance(value, Unknown) and value.reason == reason, pattern
    assert probe(repo, 'fileset(path.module, "vals/*.yaml")') == TfSet(["vals/.hidden.yaml", "vals/Z.yaml", "vals/a.yaml"])


def test_fileset_follows_links_inside_the_repository_and_ends_on_a_loop(repo: Path) -> None:
    (repo / "infra" / "vals" / "shared").symlink_to(repo / "shared", target_is_directory=True)
    (repo / "infra" / "vals" / "sub" / "loop").symlink_to(repo / "infra" / "vals", target_is_directory=True)
    # a directory already on the way (vals/sub/loop is vals) is not entered again
    assert probe(repo, 'fileset(path.module, "vals/**/s.yaml")') == TfSet(["vals/shared/s.yaml"])


def test_fileset_is_bounded(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    boundary = boundary_for([str(repo)])
    base = str(repo / "infra")
    monkeypatch.setattr(fileset_module, "MAX_ENTRIES", 5)
    assert fileset(base, "vals/**", boundary) == Refused("more than 5 directory entries to search")
    monkeypatch.setattr(fileset_module, "MAX_ENTRIES", 10_000)
    monkeypatch.setattr(fileset_module, "MAX_MATCHES", 2)
    assert fileset(base, "vals/**", boundary) == Refused("more than 2 files match")
    assert fileset(base, "/".join(["*"] * 65), boundary) == Refused("the pattern has more than 64 path components")
    assert fileset(base, "{a/,b/}" * 7 + "x", boundary) == Refused("the pattern has more than 64 alternatives")
    assert fileset(base, "{a/}" * 2000 + "x", boundary) == Refused("the pattern is longer than 4096 characters")
    assert fileset(base, "{*/}" * 65 + "x", boundary) == Refused("the pattern has more than 64 {...} groups")
    assert fileset(base, "{*/}" * 64 + "x", boundary) == Refused("the pattern has more than 64 path components")


def test_fileset_deep_trees_end_at_the_depth_limit(repo: Path) -> None:
    deep = repo / "infra" / "deep"
    deep.joinpath(*(["d"] * 70)).mkdir(parents=True)
    assert fileset(str(repo / "infra"), "deep/**", boundary_for([str(repo)])) == Refused("more than 64 directories deep")


@pytest.mark.parametrize(("pattern", "message"), [
    ("vals/[ab", "a pattern has an unclosed ["),
    ("vals/{a,b", "a pattern has an unclosed {"),
    ("vals/a\\", "a pattern cannot end with a backslash"),
    ("vals/[z-a]", '"[z-a]" is not a valid pattern'),
])
def test_a_malformed_fileset_pattern_is_an_error(repo: Path, pattern: str, message: str) -> None:
    with pytest.raises(PatternError, match=f"^{re.escape(message)}$"):
        fileset(str(repo / "infra"), pattern, boundary_for([str(repo)]))


def test_a_malformed_fileset_pattern_is_a_warning_with_the_line(repo: Path) -> None:
    infra = repo / "infra"
    (infra / "main.tf").write_text('resource "terraform_data" "probe" {\n  input = fileset(".", "[")\n}\n')
    boundary = boundary_for([str(infra)])
    workspace = load_workspace([str(infra)], cwd=str(infra), boundary=boundary)
    config = evaluate_root(workspace, workspace.roots[0], boundary=boundary)
    assert [(d.severity, d.message, d.location.line if d.location else None) for d in config.diagnostics] == [
        ("warning", "input: fileset(): a pattern has an unclosed [", 2),
    ]


def test_the_secret_is_in_no_value(repo: Path, tmp_path: Path) -> None:
    values = [probe(repo, f'{name}("../../outside/secret.txt")') for name in ("filebase64", "filemd5", "filesha256")]
    values.append(probe(repo, 'fileset("../../outside", "*")'))
    assert all(isinstance(v, Unknown) for v in values)
    assert SECRET not in repr(values) and "secret.txt\"" not in os.linesep.join(v.reason for v in values)
