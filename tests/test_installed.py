"""installed.py and the workspace walk: registry, git and S3 modules read from
`.terraform/modules` as `terraform init` lays it out (built here from
fixtures/installed-modules/modules), `$TF_DATA_DIR`, `--module-dir`, version constraints, and
every way a module call can be unreadable, reported at its `source` line in every format."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, REPO

from calico_sglint.terraform.installed import (
    InstalledModules,
    ResolvedModule,
    UnreadableModule,
    source_kind,
    version_matches,
)

sys.path.insert(0, str(REPO / "bench"))
from installed import Install, terraform_init  # noqa: E402

SCENARIO = FIXTURES / "installed-modules"
PACKAGES = SCENARIO / "modules"
REGISTRY = "registry.terraform.io/"
NODES_SOURCE = "example-corp/k8s-nodes/aws"
GIT_SOURCE = "git::https://git.example.com/platform/bastion-sg.git?ref=v1.4.0"
S3_SOURCE = "s3::https://s3-eu-west-1.amazonaws.com/example-modules/dns.zip"


def installs(packages: Path, nodes_version: str = "2.1.3", skip: tuple[str, ...] = ()) -> list[Install]:
    """What `terraform init` installs for fixtures/installed-modules/root."""
    every = [
        Install("nodes", REGISTRY + NODES_SOURCE, str(packages / "k8s-nodes"), nodes_version,
                (("rules", "./modules/rules"),)),
        Install("nodes.vxlan", REGISTRY + "example-corp/sg-rule/aws", str(packages / "sg-rule"), "1.2.0"),
        Install("bastion", GIT_SOURCE, str(packages / "bastion-sg")),
        Install("dns", S3_SOURCE, str(packages / "dns")),
    ]
    return [i for i in every if i.key not in skip]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """fixtures/installed-modules/root copied to a temp dir, not yet initialised."""
    target = tmp_path / "root"
    shutil.copytree(SCENARIO / "root", target)
    monkeypatch.chdir(tmp_path)
    return target


def check(sglint, *args: str) -> tuple[int, dict[str, Any]]:  # type: ignore[no-untyped-def]
    result = sglint("check", "root", "--format", "json", *args)
    return result.code, result.json()


def summary(report: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    return [(f["rule_id"], f["location"]["file"], f["location"]["line"], f["status"]) for f in report["findings"]]


def test_registry_git_s3_and_nested_modules_are_read_like_local_ones(sglint, root: Path) -> None:  # type: ignore[no-untyped-def]
    terraform_init(str(root), installs(PACKAGES))
    code, report = check(sglint)
    assert (code, report["findings"], report["diagnostics"]) == (0, [], [])
    (node,) = report["roots"][0]["nodes"]["groups"]
    assert (node["address"], node["security_groups"]) == (
        "module.nodes.aws_autoscaling_group.node", ["module.nodes.aws_security_group.node"],
    )
    show = sglint("show", "root", "--format", "json").json()["roots"][0]
    rules = {(sg["address"], r["declared_by"], r["location"]["file"], r["location"]["line"])
             for sg in show["security_groups"] for r in sg["rules"]}
    assert rules == {
        ("module.nodes.aws_security_group.node", "module.nodes.module.rules.aws_security_group_rule.typha",
         "root/.terraform/modules/nodes/modules/rules/main.tf", 7),
        ("module.nodes.aws_security_group.node", "module.nodes.module.rules.aws_security_group_rule.egress",
         "root/.terraform/modules/nodes/modules/rules/main.tf", 16),
        ("module.nodes.aws_security_group.node", "module.nodes.module.vxlan.aws_security_group_rule.this",
         "root/.terraform/modules/nodes.vxlan/main.tf", 15),
        ("module.nodes.aws_security_group.node", "module.bastion.aws_security_group_rule.ssh_to_nodes",
         "root/.terraform/modules/bastion/main.tf", 17),
    }
    assert [g["size"] for g in show["node_groups"]] == [{"min": 3, "max": 3}]
    assert show["unknowns"] == [] or all(u["attribute"] != "source" for u in show["unknowns"])


def test_a_nested_module_not_installed_is_a_warning_and_leaves_the_paths_it_may_open_unverified(sglint, root: Path) -> None:  # type: ignore[no-untyped-def]
    terraform_init(str(root), installs(PACKAGES, skip=("nodes.vxlan",)))
    code, report = check(sglint)
    assert summary(report) == [
        ("calico-vxlan", "root/.terraform/modules/nodes/main.tf", 19, "unverified"),
        ("module-unreadable", "root/.terraform/modules/nodes/main.tf", 49, "failed"),
    ]
    vxlan = report["findings"][0]
    assert vxlan["message"].endswith(
        "on udp/4789 unless unevaluated values open it: module.nodes.module.vxlan.security_group_id "
        "(root/.terraform/modules/nodes/main.tf:52): given module.nodes.aws_security_group.node.id to a module "
        'sglint did not read, which may add rules to it: not installed (.terraform/modules/modules.json has no '
        'module "nodes.vxlan")'
    )
    assert vxlan["hint"].startswith("Install the modules sglint could not read (`terraform init -backend=false`")
    unreadable = next(f for f in report["findings"] if f["rule_id"] == "module-unreadable")
    assert unreadable["message"] == (
        'module.nodes.module.vxlan (source "example-corp/sg-rule/aws") was not read: not installed '
        '(.terraform/modules/modules.json has no module "nodes.vxlan"); the security groups and nodes it '
        "creates are not checked"
    )
    assert (code, check(sglint, "--fail-on", "warning")[0]) == (0, 1)


def test_a_version_that_does_not_match_the_constraint_is_a_warning_and_still_read(sglint, root: Path) -> None:  # type: ignore[no-untyped-def]
    terraform_init(str(root), installs(PACKAGES, nodes_version="3.0.0"))
    code, report = check(sglint)
    assert (code, report["findings"]) == (0, [])
    assert report["diagnostics"] == [{
        "severity": "warning",
        "message": 'module.nodes (source "example-corp/k8s-nodes/aws"): the installed version 3.0.0 does not match '
                   'the constraint "~> 2.1" (sglint read 3.0.0; `terraform plan` would refuse it); run '
                   "`terraform init -backend=false -upgrade` to install a matching one",
        "location": {"file": "root/main.tf", "line": 8, "end_line": 8},
    }]
    assert report["roots"][0]["nodes"]["groups"][0]["address"] == "module.nodes.aws_autoscaling_group.node"
    github = sglint("check", "root", "--format", "github").stdout
    assert "::warning file=root/main.tf,line=8" in github and "does not match the constraint" in github


NOT_INITIALISED = "not installed (no .terraform/modules/modules.json: `terraform init` has not run)"


def test_without_modules_json_every_call_is_a_warning_and_the_root_says_it_saw_nothing(sglint, root: Path) -> None:  # type: ignore[no-untyped-def]
    code, report = check(sglint)
    assert [(f["rule_id"], f["location"]["line"]) for f in report["findings"]] == [
        ("no-security-groups", 1), ("module-unreadable", 7), ("module-unreadable", 17), ("module-unreadable", 24),
    ]
    messages = [f["message"] for f in report["findings"]]
    assert messages[1] == (
        f'module.nodes (source "example-corp/k8s-nodes/aws") was not read: {NOT_INITIALISED}; the security '
        "groups and nodes it creates are not checked"
    )
    assert f'module.bastion (source "{GIT_SOURCE}")' in messages[2]
    assert f'module.dns (source "{S3_SOURCE}")' in messages[3]
    assert messages[0] == (
        "root module root has no security group sglint can see (not read: module.nodes, module.bastion, "
        "module.dns): nothing was checked"
    )
    assert (code, check(sglint, "--fail-on", "warning")[0]) == (0, 1)


@pytest.mark.parametrize("fmt", ["text", "sarif", "github", "markdown", "junit"])
def test_unreadable_modules_reach_every_format(sglint, root: Path, fmt: str) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "root", "--format", fmt, "--fail-on", "warning")
    assert result.code == 1
    out = result.stdout
    assert out.count("example-corp/k8s-nodes/aws") >= 1 and "module-unreadable" in out
    if fmt == "sarif":
        results = json.loads(out)["runs"][0]["results"]
        lines = sorted(r["locations"][0]["physicalLocation"]["region"]["startLine"]
                       for r in results if r["ruleId"] == "module-unreadable")
        assert lines == [7, 17, 24]
    if fmt == "github":
        assert "::warning file=root/main.tf,line=7," in out


def test_show_lists_each_unreadable_module_among_the_unknowns(sglint, root: Path) -> None:  # type: ignore[no-untyped-def]
    unknowns = sglint("show", "root", "--format", "json").json()["roots"][0]["unknowns"]
    sources = [(u["address"], u["attribute"], u["expression"], u["location"]["line"]) for u in unknowns
               if u["attribute"] == "source"]
    assert sources == [
        ("module.nodes", "source", NODES_SOURCE, 7),
        ("module.bastion", "source", GIT_SOURCE, 17),
        ("module.dns", "source", S3_SOURCE, 24),
    ]
    assert all(u["reason"] == f"module not read: {NOT_INITIALISED}" for u in unknowns if u["attribute"] == "source")
    text = sglint("show", "root").stdout
    assert f"module.nodes source: {NODES_SOURCE} (root/main.tf:7): module not read" in text


def test_a_key_whose_dir_is_gone(sglint, root: Path) -> None:  # type: ignore[no-untyped-def]
    terraform_init(str(root), installs(PACKAGES))
    shutil.rmtree(root / ".terraform" / "modules" / "bastion")
    _, report = check(sglint)
    (finding,) = report["findings"]
    assert (finding["rule_id"], finding["location"]["line"]) == ("module-unreadable", 17)
    assert "was not read: installed in .terraform/modules/bastion, which no longer exists" in finding["message"]


def test_a_source_changed_since_init_is_not_read(sglint, root: Path) -> None:  # type: ignore[no-untyped-def]
    terraform_init(str(root), installs(PACKAGES))
    main = root / "main.tf"
    main.write_text(main.read_text().replace("bastion-sg.git?ref=v1.4.0", "bastion-sg.git?ref=v2.0.0"))
    _, report = check(sglint)
    (finding,) = report["findings"]
    assert "the source changed since `terraform init` installed" in finding["message"]


def test_tf_data_dir_is_honoured(sglint, root: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    terraform_init(str(root), installs(PACKAGES), data_dir="tfdata")
    assert check(sglint)[1]["findings"][0]["rule_id"] == "no-security-groups"  # .terraform/ is what it reads
    monkeypatch.setenv("TF_DATA_DIR", "tfdata")
    code, report = check(sglint)
    assert (code, report["findings"]) == (0, [])


def test_an_absolute_tf_data_dir_outside_the_repository_is_read(
    sglint, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    """Reads are confined to the repository, but `$TF_DATA_DIR` is the runner's, not the pull
    request's: what `terraform init` installed there is read."""
    (root / ".git").mkdir()
    data_dir = tmp_path / "runner" / "tfdata"
    terraform_init(str(root), installs(PACKAGES), data_dir=str(data_dir))
    monkeypatch.setenv("TF_DATA_DIR", str(data_dir))
    code, report = check(sglint)
    assert (code, report["findings"]) == (0, [])


def test_module_dir_flag_and_config(sglint, root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("CI", raising=False)  # on CI the config's module_dirs stay inside the repository (below)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    cache = tmp_path / "module-cache"
    for install in installs(PACKAGES):
        assert install.copy_from is not None
        shutil.copytree(install.copy_from, cache / install.key)
    code, report = check(sglint, "--module-dir", str(cache))
    assert (code, report["findings"]) == (0, [])
    (root / ".sglint.yaml").write_text("module_dirs: [../module-cache]\n")
    code, report = check(sglint)
    assert (code, report["findings"]) == (0, [])
    monkeypatch.setenv("CI", "true")  # the config comes with the pull request: it cannot widen reads
    on_ci = sglint("check", "root", "--format", "compact")
    assert on_ci.stderr == ("root/.sglint.yaml:1: warning: module_dirs in the config outside the repository are not "
                            "read on CI (a pull request could widen what sglint reads); use --module-dir\n")
    assert 'module.nodes (source "example-corp/k8s-nodes/aws") was not read: its installed copy is outside the repository' in on_ci.stdout
    code, report = check(sglint, "--module-dir", str(cache))  # the runner's own flag does
    assert (code, report["findings"]) == (0, [])
    monkeypatch.delenv("CI")
    missing = sglint("check", "root", "--module-dir", str(tmp_path / "nowhere"))
    assert (missing.code, missing.stderr.strip()) == (2, f"{tmp_path / 'nowhere'}: no such directory (--module-dir)")
    (root / ".sglint.yaml").write_text("module_dirs: [../nowhere]\n")
    missing = sglint("check", "root")
    assert (missing.code, missing.stderr.strip()) == (2, "root/.sglint.yaml: module_dirs: no such directory: nowhere")


def test_a_dir_outside_the_root_is_never_read(sglint, root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    outside = tmp_path / "elsewhere"
    shutil.copytree(PACKAGES / "k8s-nodes", outside)
    manifest = root / ".terraform" / "modules" / "modules.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"Modules": [
        {"Key": "nodes", "Source": REGISTRY + NODES_SOURCE, "Version": "2.1.3", "Dir": "../elsewhere"},
    ]}))
    _, report = check(sglint)
    first = next(f for f in report["findings"] if f["rule_id"] == "module-unreadable")
    assert "installed outside the root module's directory and --module-dir; not read" in first["message"]


@pytest.mark.parametrize("text", ["{not json", '{"Modules": 3}', '[]'])
def test_a_broken_modules_json_is_a_warning_not_a_traceback(sglint, root: Path, text: str) -> None:  # type: ignore[no-untyped-def]
    manifest = root / ".terraform" / "modules" / "modules.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(text)
    code, report = check(sglint)
    assert code == 0
    assert [f["rule_id"] for f in report["findings"]].count("module-unreadable") == 3
    assert all("modules.json" in f["message"] for f in report["findings"] if f["rule_id"] == "module-unreadable")


def test_resolve_reports_each_case(tmp_path: Path) -> None:
    terraform_init(str(tmp_path), installs(PACKAGES))
    installed = InstalledModules.load(str(tmp_path))
    found = installed.resolve("nodes", NODES_SOURCE, "~> 2.1")
    assert found == ResolvedModule(str((tmp_path / ".terraform/modules/nodes").resolve()), "2.1.3", None)
    nested = installed.resolve("nodes.rules", "./modules/rules")
    assert isinstance(nested, ResolvedModule) and nested.path.endswith("/nodes/modules/rules")
    assert installed.resolve("nodes.kms", "terraform-aws-modules/kms/aws") == UnreadableModule(
        'not installed (.terraform/modules/modules.json has no module "nodes.kms")'
    )


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("~> 21.0", "21.3.1", True), ("~> 21.0", "22.0.0", False), ("~> 21.0", "20.9.9", False),
        ("~> 2.1.0", "2.1.9", True), ("~> 2.1.0", "2.2.0", False), ("~> 2", "2.9.0", True), ("~> 2", "3.0.0", False),
        (">= 1.0, < 2.0", "1.2.0", True), (">= 1.0, < 2.0", "2.0.0", False), ("= 1.2.3", "1.2.3", True),
        ("1.2.3", "1.2.4", False), ("!= 1.2.3", "1.2.3", False), ("> 1.2", "1.2.1", True), ("<= 1.2", "1.2.1", False),
        ("nonsense", "1.0.0", True), ("~> 1.0", "not-a-version", True),
    ],
)
def test_version_constraints(constraint: str, version: str, expected: bool) -> None:
    assert version_matches(constraint, version) is expected


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("./modules/x", "local"), ("../x", "local"), ("terraform-aws-modules/eks/aws", "registry"),
        ("app.terraform.io/corp/eks/aws", "registry"), ("terraform-aws-modules/iam/aws//modules/role", "registry"),
        (GIT_SOURCE, "git"), ("github.com/org/repo", "git"), ("git@github.com:org/repo.git", "git"),
        (S3_SOURCE, "s3"), ("https://example.com/m.zip", "http"), ("gcs::https://x/y.zip", "gcs"),
    ],
)
def test_source_kinds(source: str, kind: str) -> None:
    assert source_kind(source) == kind


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_reads_the_old_side_with_the_modules_terraform_init_installed(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """`.terraform/` is not in git: the side written from git uses the working tree's, so a
    change that touches no module does not make every path inside them look new."""
    from test_diff import Repo

    repo = Repo(tmp_path / "repo")
    shutil.copytree(SCENARIO / "root", repo.root / "infra")
    repo.commit({".gitignore": ".terraform/\n"}, "infra")
    terraform_init(str(repo.root / "infra"), installs(PACKAGES, skip=("nodes.vxlan",)))
    main = repo.root / "infra" / "main.tf"
    main.write_text(main.read_text() + "# a comment\n")
    monkeypatch.chdir(repo.root)
    result = sglint("diff", "HEAD", "--format", "json")
    report = result.json()
    summary = report["summary"]
    assert (result.code, summary["findings-added"], summary["findings-removed"], summary["still-unverified"]) == (0, 0, 0, 1)
    assert report["base"]["diagnostics"] == [] and report["head"]["diagnostics"] == []
