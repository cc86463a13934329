"""Shared test helpers: the repository layout and running `sglint` for real, in process."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from calico_sglint.cli import main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "fixtures"
EXAMPLES = REPO / "examples"


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


@pytest.fixture(scope="session", autouse=True)
def _private_cache_dir(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """The CLI caches parsed files; tests use their own cache, never the user's."""
    previous = os.environ.get("SGLINT_CACHE_DIR")
    os.environ["SGLINT_CACHE_DIR"] = str(tmp_path_factory.mktemp("sglint-cache"))
    yield
    if previous is None:
        os.environ.pop("SGLINT_CACHE_DIR", None)
    else:
        os.environ["SGLINT_CACHE_DIR"] = previous


@pytest.fixture
def sglint(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """Run the real `sglint` entry point with arguments; return exit code and output."""

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work from the repository root, so reported paths look like `fixtures/x/main.tf`."""
    monkeypatch.chdir(REPO)
    return REPO


@pytest.fixture
def copy_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Copy a fixture or example into a temp dir and work from there."""

    def copy(source: Path, name: str | None = None) -> Path:
        target = tmp_path / (name or source.name)
        shutil.copytree(source, target)
        monkeypatch.chdir(tmp_path)
        return target

    return copy


def write(root: Path, files: dict[str, str]) -> Path:
    """Create `files` (relative path -> text) under `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def run(sglint, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """`run(cwd, *args)`: the real `sglint` entry point, run from `cwd`."""

    def go(cwd: Path, *args: str) -> CliResult:
        monkeypatch.chdir(cwd)
        return sglint(*args)

    return go


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path) with the sha256 of its bytes."""
    import hashlib

    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*")) if p.is_file()
    }
