"""profile/sources.py: where detection looks for files, and which files it reads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write
from detecthelp import said

from calico_sglint.profile import sources
from calico_sglint.profile.observations import Found

# --- where files are searched ------------------------------------------------------------------


def test_candidate_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {
        ".git/HEAD": "ref: refs/heads/main\n",
        "top.yaml": "", "README.md": "", "calico/deep.yaml": "",
        "group_vars/all": "", "inventory/prod/group_vars/k8s_cluster/calico.yml": "",
        "inventory/prod/hosts.yaml": "",
        "envs/shared.yml": "", "envs/other/x.yaml": "",
        "envs/prod/main.tf": "", "envs/prod/a.yaml": "", "envs/prod/b.YML": "", "envs/prod/c.json": "",
        "envs/prod/group_vars/all": "", "envs/prod/host_vars/n1.json": "", "envs/prod/.hidden.yaml": "",
        "envs/prod/.terraform/m.yaml": "", "envs/prod/node_modules/m.yaml": "", "envs/prod/.github/w.yaml": "",
        "envs/prod/charts/tigera-operator/Chart.yaml": "", "envs/prod/charts/tigera-operator/values.yaml": "",
    })
    (tmp_path / "above-the-repo.yaml").write_text("")
    found = [os.path.relpath(p, repo) for p in sources.candidate_files([str(repo / "envs" / "prod")])]
    assert sorted(found) == sorted([
        "envs/prod/a.yaml", "envs/prod/b.YML", "envs/prod/group_vars/all", "envs/prod/host_vars/n1.json",
        "envs/shared.yml", "top.yaml", "group_vars/all", "inventory/prod/group_vars/k8s_cluster/calico.yml",
    ])


def test_without_a_repository_only_the_parent_is_searched(tmp_path: Path) -> None:
    write(tmp_path, {"a/b/c/main.tf": "", "a/b/parent.yaml": "", "a/grandparent.yaml": ""})
    found = [os.path.relpath(p, tmp_path) for p in sources.candidate_files([str(tmp_path / "a/b/c/main.tf")])]
    assert found == ["a/b/parent.yaml"]


def test_scan_reads_only_files_that_mention_calico(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"m/main.tf": "", "m/ci.yaml": "jobs: [broken\n", "m/calico.yaml": "kind: ConfigMap\nmetadata:\n  name: calico-config\ndata: [\n",
                     "m/felix.yaml": "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nspec:\n  vxlanPort: 1\n"})
    monkeypatch.chdir(tmp_path)
    scan = sources.scan(["m"])
    assert [(Path(f.path).name, said(Found(f.observations)), [str(d.location) for d in f.diagnostics])
            for f in scan.files] == [
        ("calico.yaml", [], ["m/calico.yaml:5"]),
        ("felix.yaml", [("vxlan_port", 1, 4, "FelixConfiguration", "spec.vxlanPort")], []),
    ]  # ci.yaml is never parsed
    assert scan.diagnostics == ()


