"""`.pre-commit-hooks.yaml`, for real: a temporary git repository whose `.pre-commit-config.yaml`
points at this project runs `pre-commit run --all-files`. It fails on the Typha incident with
the 5473 finding in its output and passes on the cluster-SG module; the fix hook writes the
missing rules, after which the check hook passes.

pre-commit clones this repository at HEAD and installs it in its own environment (from the
package registry), so the hooks tested are the committed ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES, FIXTURES, REPO
from detecthelp import INSTALLATION as DETECT_INSTALLATION

GIT = shutil.which("git")


def _head() -> str | None:
    """HEAD of this project, if it is a git checkout whose HEAD has the hooks file."""
    if GIT is None:
        return None
    probe = subprocess.run([GIT, "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True)
    if probe.returncode != 0:
        return None
    head = probe.stdout.strip()
    listed = subprocess.run(
        [GIT, "-C", str(REPO), "cat-file", "-e", f"{head}:.pre-commit-hooks.yaml"], capture_output=True
    )
    return head if listed.returncode == 0 else None


HEAD = _head()
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(HEAD is None, reason="needs git and a committed .pre-commit-hooks.yaml"),
]

ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "sglint test", "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "sglint test", "GIT_COMMITTER_EMAIL": "test@example.com",
    "NO_COLOR": "1", "TERM": "dumb",
}


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One pre-commit cache for the module: the hook environment is built once."""
    return tmp_path_factory.mktemp("pre-commit-home")


def readme_config() -> str:
    """The README's `.pre-commit-config.yaml`, pointing at this checkout's HEAD."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("## In pre-commit", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "  - repo: https://github.com/calico-sglint/calico-sglint\n" in block
    assert "    rev: 0000000000000000000000000000000000000000" in block
    return (block.replace("https://github.com/calico-sglint/calico-sglint", str(REPO))
            .replace("0000000000000000000000000000000000000000", str(HEAD)))


def repository(root: Path, module: Path, hook_ids: list[str], config_text: str | None = None) -> Path:
    """A git repository holding `module` and a pre-commit config using this project's hooks."""
    shutil.copytree(module, root / "infra")
    config = {"repos": [{"repo": str(REPO), "rev": HEAD, "hooks": [{"id": h} for h in hook_ids]}]}
    (root / ".pre-commit-config.yaml").write_text(config_text or yaml.safe_dump(config, sort_keys=False))
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "infra"]):
        subprocess.run([GIT, *command], cwd=root, check=True, env=ENV, capture_output=True)  # type: ignore[list-item]
    return root


def pre_commit(root: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "run", "--all-files"],
        cwd=root, env={**ENV, "PRE_COMMIT_HOME": str(home)}, capture_output=True, text=True, timeout=900,
    )


def test_the_check_hook_fails_on_the_typha_incident(tmp_path: Path, pre_commit_home: Path) -> None:
    root = repository(tmp_path, EXAMPLES / "typha-blocked", ["calico-sglint"])
    result = pre_commit(root, pre_commit_home)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "calico-sglint" in result.stdout and "Failed" in result.stdout
    assert "infra/main.tf:21: error [calico-typha]" in result.stdout
    assert "on tcp/5473" in result.stdout


def test_the_check_hook_passes_on_one_cluster_security_group(tmp_path: Path, pre_commit_home: Path) -> None:
    root = repository(tmp_path, EXAMPLES / "cluster-sg", ["calico-sglint"])
    result = pre_commit(root, pre_commit_home)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Passed" in result.stdout


def test_the_fix_hook_writes_the_rules_then_everything_passes(tmp_path: Path, pre_commit_home: Path) -> None:
    root = repository(tmp_path, EXAMPLES / "typha-blocked", ["calico-sglint-fix", "calico-sglint"])
    first = pre_commit(root, pre_commit_home)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "calico-sglint fix" in first.stdout and "Failed" in first.stdout
    assert "sglint fix: added 2 rules in 1 file" in first.stdout
    generated = (root / "infra" / "calico_sglint.tf").read_text()
    assert generated.count('resource "aws_security_group_rule"') == 2
    subprocess.run([GIT, "add", "-A"], cwd=root, check=True, env=ENV)  # type: ignore[list-item]
    second = pre_commit(root, pre_commit_home)
    assert second.returncode == 0, second.stdout + second.stderr


def git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([GIT, *args], cwd=root, env=ENV, capture_output=True, text=True)  # type: ignore[list-item]


def commit(root: Path, home: Path, message: str) -> tuple[int, str]:
    """A real `git commit` with the hooks `pre-commit install` put in place: its exit code and
    what it printed (git shows the hooks' output on stderr)."""
    done = subprocess.run([GIT, "commit", "-m", message], cwd=root, env={**ENV, "PRE_COMMIT_HOME": str(home)},  # type: ignore[list-item]
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
    return done.returncode, done.stdout


INSTALLATION = DETECT_INSTALLATION + """\
  calicoNetwork:
    ipPools:
      - cidr: 10.244.0.0/16
        encapsulation: IPIP
"""


@pytest.mark.parametrize(("changed", "text"), [
    ("installation.yaml", INSTALLATION),
    ("cluster/calico/installation.yaml", INSTALLATION),
    (".sglint.yaml", "profile:\n  encapsulation: IPIP\n"),
])
def test_a_calico_yaml_or_config_change_checks_the_modules_it_affects(changed: str, text: str, tmp_path: Path, pre_commit_home: Path) -> None:
    """IPIP needs BGP (TCP 179) and protocol 4, which the module opens not: the commit that
    switches Calico to IPIP, touching no .tf file, must fail."""
    root = repository(tmp_path, FIXTURES / "profile-vxlan", ["calico-sglint"])  # VXLAN ports only
    assert pre_commit(root, pre_commit_home).returncode == 0
    assert git(root, "mv", "infra", "cluster").returncode == 0
    git(root, "commit", "-q", "-m", "move")
    (root / changed).parent.mkdir(exist_ok=True)
    (root / changed).write_text(text)
    git(root, "add", changed)
    result = subprocess.run([sys.executable, "-m", "pre_commit", "run"], cwd=root,
                            env={**ENV, "PRE_COMMIT_HOME": str(pre_commit_home)}, capture_output=True, text=True, timeout=900)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "(no files to check)" not in result.stdout
    assert "cluster/main.tf" in result.stdout and "error [calico-bgp]" in result.stdout
    assert "error [calico-ipip]" in result.stdout


def test_an_unrelated_yaml_change_checks_nothing_and_says_so(tmp_path: Path, pre_commit_home: Path) -> None:
    root = repository(tmp_path, EXAMPLES / "typha-blocked", ["calico-sglint"])
    (root / "app.yaml").write_text("kind: Deployment\nmetadata:\n  name: web\n")
    git(root, "add", "app.yaml")
    result = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--verbose"], cwd=root,
                            env={**ENV, "PRE_COMMIT_HOME": str(pre_commit_home)}, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sglint: nothing to check: no Terraform module is affected by app.yaml" in result.stdout


def test_the_fix_cannot_be_left_out_of_the_commit(tmp_path: Path, pre_commit_home: Path) -> None:
    """The flow the README documents, with its .pre-commit-config.yaml and real `git commit`s:
    the fix hook writes the rules and stops the commit; committing again without `git add` is
    stopped too; after `git add` the commit goes through with the rules in it."""
    root = repository(tmp_path, EXAMPLES / "typha-blocked", [], readme_config())
    install = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=root,
                             env={**ENV, "PRE_COMMIT_HOME": str(pre_commit_home)}, capture_output=True, text=True)
    assert install.returncode == 0, install.stderr
    main = root / "infra" / "main.tf"
    main.write_text(main.read_text() + "\n# a change\n")
    git(root, "add", "infra/main.tf")
    code, output = commit(root, pre_commit_home, "change")
    assert code == 1 and "sglint fix: added 2 rules in 1 file" in output, output
    assert git(root, "status", "--porcelain").stdout == "M  infra/main.tf\n?? infra/calico_sglint.tf\n"
    code, output = commit(root, pre_commit_home, "change")
    assert code == 1, output
    note = ("infra/calico_sglint.tf: written by `sglint fix` and not added to git: "
            "run `git add infra/calico_sglint.tf`, or the commit leaves these rules out")
    assert note in output
    assert "sglint fix: no missing rule to add" in output
    git(root, "add", "infra/calico_sglint.tf")
    code, output = commit(root, pre_commit_home, "change")
    assert code == 0, output
    assert git(root, "show", "--name-status", "--format=", "HEAD").stdout == "A\tinfra/calico_sglint.tf\nM\tinfra/main.tf\n"
