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


def test_a_baseline_matches_from_every_directory_of_the_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    """Fingerprints key on the root's path in the repository and on files relative to the
    root, so a baseline written at the repository root matches in the module directory."""
    import json
    import shutil

    from conftest import EXAMPLES

    (tmp_path / ".git").mkdir()
    shutil.copytree(EXAMPLES / "typha-blocked", tmp_path / "envs" / "prod")
    main = tmp_path / "envs" / "prod" / "main.tf"
    main.write_text("# sglint:ignore=calico-typha\n" + main.read_text())  # no reason: a finding in a file
    monkeypatch.chdir(tmp_path)
    wrote = sglint("check", "envs/prod", "--write-baseline", "baseline.json")
    assert (wrote.code, wrote.stdout) == (0, "sglint: wrote 4 findings to the baseline baseline.json\n")
    prints = sorted(f["fingerprint"] for f in json.loads((tmp_path / "baseline.json").read_text())["findings"])
    sarif_prints = {}
    for cwd, path, baseline in [(".", "envs/prod", "baseline.json"), ("envs", "prod", "../baseline.json"),
                                ("envs/prod", ".", "../../baseline.json")]:
        monkeypatch.chdir(tmp_path / cwd)
        result = sglint("check", path, "--baseline", baseline)
        assert (result.code, result.stdout.splitlines()[-1]) == (0, "0 errors, 0 warnings (4 in the baseline)"), cwd
        report = sglint("check", path, "--format", "json").json()
        assert sorted(f["fingerprint"] for f in report["findings"]) == prints, cwd
        sarif = sglint("check", path, "--format", "sarif").json()
        sarif_prints[cwd] = sorted(r["partialFingerprints"]["calicoSglint/v1"] for r in sarif["runs"][0]["results"])
    assert sarif_prints["."] == sarif_prints["envs"] == sarif_prints["envs/prod"] == prints


def test_changed_files_mean_the_modules_they_affect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    """What pre-commit passes (changed files) -> the paths checked (calico_sglint.changes)."""
    from calico_sglint.changes import affected_paths

    (tmp_path / ".git").mkdir()
    sg = 'resource "aws_security_group" "a" {}\n'
    write(tmp_path, {
        "envs/prod/main.tf": sg, "envs/prod/prod.tfvars": "x = 1\n", "envs/prod/calico/pool.yaml": "kind: IPPool # calico\n",
        "envs/stage/main.tf": sg, "envs/.sglint.yaml": "fail_on: warning\n", "vars/prod.tfvars": "x = 1\n",
        "group_vars/k8s_cluster/k8s-net-calico.yml": "calico_network_backend: vxlan\n",
        "inventory/prod/group_vars/all": "calico_ipip_mode: Always\n",
        "app/deploy.yaml": "kind: Deployment\n", "calico.yaml": "kind: ConfigMap # calico-config\n",
    })
    monkeypatch.chdir(tmp_path)

    def paths(*changed: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        found = affected_paths(list(changed))
        return found.paths, found.unaffecting

    assert paths("envs/prod/main.tf", "envs/prod/prod.tfvars") == (("envs/prod/main.tf", "envs/prod/prod.tfvars"), ())
    assert paths("envs/.sglint.yaml") == (("envs",), ())
    assert paths("envs/prod/calico/pool.yaml") == (("envs/prod/main.tf",), ())  # the module above reads it
    assert paths("group_vars/k8s_cluster/k8s-net-calico.yml") == ((".",), ())
    assert paths("inventory/prod/group_vars/all") == ((".",), ())
    assert paths("calico.yaml", "envs/stage/main.tf") == ((".", "envs/stage/main.tf"), ())
    assert paths("app/deploy.yaml", "vars/prod.tfvars") == ((), ("app/deploy.yaml", "vars/prod.tfvars"))
    result = sglint("check", "app/deploy.yaml")
    assert (result.code, result.stdout, result.stderr) == (
        0, "", "sglint: nothing to check: no Terraform module is affected by app/deploy.yaml\n")


def test_the_job_summary_counts_the_root_modules_it_leaves_out(in_repo) -> None:  # type: ignore[no-untyped-def]
    """GitHub refuses a step summary over 1 MiB: root sections that do not fit are counted."""
    from calico_sglint.pipeline import CheckOptions, ReadOptions, check
    from calico_sglint.render.context import report_context
    from calico_sglint.render.markdown import render as markdown

    result = check(CheckOptions(ReadOptions(paths=("examples/typha-blocked", "examples/cluster-sg", "fixtures/check-exposed")), {}, None, ()))
    context = report_context(["examples", "fixtures/check-exposed"])
    whole = markdown(result, context)
    first = whole.index("### `examples/cluster-sg`")
    cut = markdown(result, context, limit=first + 400 + 10)
    assert cut.encode() == whole[:first].encode() + (
        "… and 2 more root modules not shown: GitHub limits a job summary to 1 MiB. The SARIF report "
        "and `sglint check` have every finding; `sglint graph` draws them.\n").encode()
    assert len(cut.encode()) <= first + 410

