"""fix/write.py and files.py: one fix run writes every patch or none, only inside the repository.

A failure while staging (a full disk) or while renaming leaves every file byte-identical;
read-only files and directories are one-line errors (exit 2); a symlinked file is written
through to its target inside the repository and the link kept; a symlink (file or
directory) leading outside the repository is refused; `-o` reports are replaced atomically.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES

import calico_sglint.files as files
from calico_sglint.fix import write as fix_write
from calico_sglint.fix.patches import plan_fixes, render_patches
from calico_sglint.pipeline import CheckOptions, ReadOptions, check
from calico_sglint.source import InputError


def digest(root: Path) -> dict[str, tuple[str, bool]]:
    """Every entry under `root`: content hash (or link target) and whether it is a link."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            out[str(path.relative_to(root))] = (os.readlink(path), True)
        elif path.is_file():
            out[str(path.relative_to(root))] = (hashlib.sha256(path.read_bytes()).hexdigest(), False)
    return out


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (with .git) holding two modules that each need two rules."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    for name in ("a", "b"):
        shutil.copytree(EXAMPLES / "typha-blocked", root / name)
    monkeypatch.chdir(root)
    return root


def _patches(*paths: str) -> list:  # type: ignore[type-arg]
    return render_patches(plan_fixes(check(CheckOptions(ReadOptions(paths=paths)))))


def test_a_full_disk_on_the_second_file_leaves_every_file_byte_identical(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    patches = _patches("a", "b")
    assert [p.display for p in patches] == ["a/calico_sglint.tf", "b/calico_sglint.tf"]
    (repo / "b" / "calico_sglint.tf").write_text("# the user's own\n")
    patches = _patches("a", "b")
    before = digest(repo)
    real_stage, calls = files.stage, []

    def full_disk(path: str, data: bytes) -> str:
        calls.append(path)
        if len(calls) == 3:  # a's new file; b's backup; b's new content: no space left
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_stage(path, data)

    monkeypatch.setattr(fix_write, "stage", full_disk)
    with pytest.raises(InputError) as caught:
        fix_write.write_patches(patches, (str(repo),))
    assert str(caught.value) == "b/calico_sglint.tf: cannot write: No space left on device; nothing was written"
    assert digest(repo) == before


def test_a_failed_rename_puts_back_what_was_already_replaced(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "a" / "calico_sglint.tf").write_text("# kept\n")
    patches = _patches("a", "b")
    before = digest(repo)
    real_replace, calls = os.replace, []

    def failing_replace(source: str, target: str) -> None:
        calls.append(target)
        if len(calls) == 2:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_replace(source, target)

    monkeypatch.setattr(fix_write.os, "replace", failing_replace)
    with pytest.raises(InputError, match="b/calico_sglint.tf: cannot write: Input/output error; nothing was written"):
        fix_write.write_patches(patches, (str(repo),))
    monkeypatch.setattr(fix_write.os, "replace", real_replace)
    assert digest(repo) == before


@pytest.mark.slow
def test_a_real_full_disk_on_a_small_tmpfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mount = tmp_path / "small"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        root = mount / "repo"
        (root / ".git").mkdir(parents=True)
        only_tf = shutil.ignore_patterns("*.json", "*.md")
        shutil.copytree(EXAMPLES / "typha-blocked", root / "a", ignore=only_tf)
        shutil.copytree(EXAMPLES / "typha-blocked", root / "b", ignore=only_tf)
        (root / "b" / "calico_sglint.tf").write_text("# the user's own\n")
        monkeypatch.chdir(root)
        patches = _patches("a", "b")
        filler = os.open(root / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(filler, b"x" * 512):
                pass
        except OSError:
            pass
        finally:
            os.close(filler)
        os.truncate(root / "filler", os.path.getsize(root / "filler") - 4096)  # room for one file
        before = digest(root)
        with pytest.raises(InputError, match="^b/calico_sglint.tf: cannot write: No space left on device; nothing"):
            fix_write.write_patches(patches, (str(root),))
        assert digest(root) == before
    finally:
        os.chdir(tmp_path)
        subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_read_only_file_is_an_error_and_stays(repo: Path, run) -> None:  # type: ignore[no-untyped-def]
    generated = repo / "a" / "calico_sglint.tf"
    generated.write_text("# mine\n")
    generated.chmod(0o444)
    before = digest(repo)
    result = run(repo, "fix", "a", "b")
    assert result.code == 2
    assert result.stderr == "a/calico_sglint.tf: is read-only; nothing was written (make it writable or use --diff)\n"
    assert digest(repo) == before


def test_a_read_only_directory_is_a_one_line_error(repo: Path, run) -> None:  # type: ignore[no-untyped-def]
    (repo / "b").chmod(0o555)
    try:
        before = digest(repo)
        result = run(repo, "fix", "a", "b")
        assert result.code == 2
        assert result.stderr == "b/calico_sglint.tf: its directory is read-only; nothing was written (make it writable or use --diff)\n"
        assert digest(repo) == before
    finally:
        (repo / "b").chmod(0o755)


def test_a_symlinked_file_is_written_through_and_stays_a_link(repo: Path, run) -> None:  # type: ignore[no-untyped-def]
    shared = repo / "shared"
    shared.mkdir()
    (shared / "rules.tf").write_text("# shared rules\n")
    (repo / "a" / "calico_sglint.tf").symlink_to("../shared/rules.tf")
    result = run(repo, "fix", "a")
    assert result.code == 0, result.stderr
    assert os.readlink(repo / "a" / "calico_sglint.tf") == "../shared/rules.tf"
    text = (shared / "rules.tf").read_text()
    assert text.startswith("# shared rules\n\nresource \"aws_security_group_rule\"") and text.count("resource ") == 2
    assert run(repo, "check", "a").code == 0


def test_a_symlinked_file_leading_outside_the_repository_is_refused(repo: Path, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "outside.tf"
    outside.write_text("# not yours\n")
    (repo / "a" / "calico_sglint.tf").symlink_to(outside)
    before, outside_before = digest(repo), outside.read_bytes()
    result = run(repo, "fix", "a", "--allow-read", str(tmp_path))  # read, so fix would write it
    assert result.code == 2
    assert result.stderr == ("a/calico_sglint.tf: resolves through a symlink to a place outside the repository; "
                             "sglint fix writes nothing there\n")
    assert digest(repo) == before and outside.read_bytes() == outside_before


def test_a_directory_symlink_leading_outside_the_repository_is_refused(repo: Path, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "elsewhere"
    shutil.copytree(EXAMPLES / "typha-blocked", outside)
    (repo / "linked").symlink_to(outside, target_is_directory=True)
    before = digest(outside)
    result = run(repo, "fix", ".", "--allow-read", str(outside))  # read, so fix would write there
    assert result.code == 2
    assert "linked/calico_sglint.tf: resolves" in result.stderr or "outside the repository" in result.stderr
    assert result.stderr.count("\n") == 1
    assert digest(outside) == before
    assert not (repo / "a" / "calico_sglint.tf").exists(), "nothing is written when one patch is refused"


def test_a_directory_symlink_inside_the_repository_is_written_through(repo: Path, run) -> None:  # type: ignore[no-untyped-def]
    (repo / "linked").symlink_to(repo / "a", target_is_directory=True)
    result = run(repo, "fix", "linked")
    assert result.code == 0, result.stderr
    assert (repo / "a" / "calico_sglint.tf").is_file() and (repo / "linked").is_symlink()


def test_reports_written_with_o_are_atomic(repo: Path, run, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    report = repo / "report.json"
    report.write_text('{"previous": true}\n')
    real_fsync = os.fsync
    monkeypatch.setattr(files.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left on device")))
    result = run(repo, "check", "a", "--format", "json", "-o", "report.json")
    assert result.code == 2
    assert result.stderr == "report.json: cannot write the report: No space left on device\n"
    assert report.read_text() == '{"previous": true}\n'
    assert sorted(p.name for p in repo.iterdir()) == [".git", "a", "b", "report.json"]
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    assert run(repo, "check", "a", "--format", "json", "-o", "report.json").code == 1
    assert report.read_text().startswith("{")
