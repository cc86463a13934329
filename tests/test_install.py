"""Install and pin the way the docs say (issue 15): the version is written once, the docs name
only tags that exist, and the README's install commands work for this repository, run for real
into fresh virtual environments (offline: `git+file://` stands for the GitHub URL, and the
dependencies come from the test's environment)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from conftest import REPO
from test_action import OFFLINE_PIP, offline_venv

from calico_sglint import __version__

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

GIT = shutil.which("git")
URL = "https://github.com/calico-sglint/calico-sglint"
DOCS = [REPO / "README.md", REPO / "CHANGELOG.md", *sorted((REPO / "docs").glob("*.md"))]


def test_the_version_is_written_once(sglint) -> None:  # type: ignore[no-untyped-def]
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "calico_sglint.__version__"}
    assert version("calico-sglint") == __version__
    assert re.search(r"^## (\S+)", (REPO / "CHANGELOG.md").read_text(), re.M).group(1) == __version__  # type: ignore[union-attr]
    for flag in ("--version", "-V"):
        result = sglint(flag)
        assert (result.code, result.stdout) == (0, f"sglint {__version__}\n")


def tags() -> set[str]:
    if GIT is None:
        return set()
    listed = subprocess.run([GIT, "-C", str(REPO), "tag", "--list"], capture_output=True, text=True)
    return set(listed.stdout.split())


def test_the_docs_pin_only_tags_that_exist_and_install_only_from_git() -> None:
    named = {m.group(1) for doc in DOCS for m in re.finditer(r"(?:@|rev: )(v\d+\.\d+\.\d+)", doc.read_text())}
    assert named <= tags(), f"the docs pin tags this repository does not have: {sorted(named - tags())}"
    for doc in DOCS:
        for line in doc.read_text().splitlines():
            assert not re.match(r"\s*pip install calico-sglint\b", line), f"{doc.name}: {line}"
    readme = (REPO / "README.md").read_text()
    assert f'pip install "git+{URL}@<commit SHA or tag>"' in readme


def readme_install_commands() -> list[str]:
    section = (REPO / "README.md").read_text().split("### Install and pin", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block is not None
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.slow
@pytest.mark.skipif(GIT is None, reason="needs git")
def test_the_readme_install_commands_work(tmp_path: Path) -> None:
    head = subprocess.run([GIT, "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    clone = tmp_path / "calico-sglint"
    for command in (["init", "-q", str(clone)], ["-C", str(clone), "fetch", "-q", str(REPO), head],
                    ["-C", str(clone), "checkout", "-q", "FETCH_HEAD"],
                    ["-C", str(clone), "tag", f"v{__version__}"]):
        subprocess.run([GIT, *command], check=True, capture_output=True)  # type: ignore[list-item]
    commands = readme_install_commands()
    assert commands == [
        f'pip install "git+{URL}@<commit SHA or tag>"',
        "pip install /path/to/a/clone/of/calico-sglint",
        "pip install -c constraints.txt .",
    ]
    runs = [commands[0].replace(URL, clone.as_uri()).replace("<commit SHA or tag>", head),
            commands[0].replace(URL, clone.as_uri()).replace("<commit SHA or tag>", f"v{__version__}"),
            commands[1].replace("/path/to/a/clone/of/calico-sglint", str(clone)),
            commands[2]]
    for index, command in enumerate(runs):
        venv = tmp_path / f"venv{index}"
        offline_venv(venv)
        pip = f"{venv}/bin/python -m pip"
        install = subprocess.run(f"{command.replace('pip', pip, 1)} --quiet {OFFLINE_PIP}", shell=True, cwd=clone,
                                 capture_output=True, text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert install.returncode == 0, (command, install.stderr)
        installed = subprocess.run([str(venv / "bin" / "sglint"), "--version"], capture_output=True, text=True)
        assert (installed.returncode, installed.stdout) == (0, f"sglint {__version__}\n"), command
    assert subprocess.run([GIT, "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True).stdout == ""
