"""terraform-aws-eks from the corpus (../shared/corpus beside the clone; skipped without it):
the module root, and the published self-managed example with `.terraform/modules` laid out
the way `terraform init` would (bench/installed.py), and without it.

Separating the example's two clusters (no path demanded between them) is issue #12: these
tests assert the findings within each cluster exactly and leave the paths between the two
clusters alone until then."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import REPO

from calico_sglint.checks.reachability import OPEN
from calico_sglint.pipeline import CheckOptions, ReadOptions, check

sys.path.insert(0, str(REPO / "bench"))
from installed import (  # noqa: E402
    EKS_LOCAL_CALLS,
    EKS_SOURCE,
    REGISTRY_HOST,
    Install,
    eks_example,
    eks_module_copy,
    terraform_init,
)

CORPUS = REPO.parent / "shared" / "corpus"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CORPUS / "terraform-aws-eks").is_dir(), reason="the corpus is not beside the clone"),
]
CLUSTERS = ("module.eks_al2023", "module.eks_bottlerocket")


def cluster_of(address: str) -> str:
    return next((c for c in CLUSTERS if address.startswith(c + ".")), "")


def within(finding: dict[str, Any]) -> bool:
    path = finding["path"]
    return path is None or cluster_of(path["source_sg"]) == cluster_of(path["target_sg"])


def brief(finding: dict[str, Any]) -> tuple[Any, ...]:
    path = finding["path"] or {}
    return (finding["rule_id"], finding["severity"], finding["location"]["file"], finding["location"]["line"],
            path.get("protocol"), path.get("from_port"), path.get("source_sg"), path.get("target_sg"))


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return Path(eks_example(str(CORPUS), str(tmp_path))).relative_to(tmp_path)


def test_the_example_with_its_modules_installed_misses_vxlan_inside_each_cluster(sglint, example: Path) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", str(example), "--format", "json")
    report = result.json()
    assert (result.code, report["diagnostics"]) == (1, [])
    found = [brief(f) for f in report["findings"] if within(f)]
    expected = []
    for cluster in ("eks_al2023", "eks_bottlerocket"):
        module = f"self-managed-node-group/.terraform/modules/{cluster}"
        node, cp = f"module.{cluster}.aws_security_group.node[0]", f"module.{cluster}.aws_security_group.cluster[0]"
        expected += [
            ("module-unreadable", "warning", f"{module}/main.tf", 339, None, None, None, None),  # the KMS module
            ("sg-cross-reference", "warning", f"{module}/main.tf", 397, None, None, None, None),
            ("calico-apiserver-eks", "warning", f"{module}/node_groups.tf", 177, "tcp", 5443, cp, node),
            ("calico-vxlan", "error", f"{module}/node_groups.tf", 177, "udp", 4789, node, node),
        ]
    expected.append(("module-unreadable", "warning", "self-managed-node-group/main.tf", 32, None, None, None, None))
    assert found == expected
    vxlan = next(f for f in report["findings"] if f["rule_id"] == "calico-vxlan" and within(f))
    assert vxlan["message"].endswith("no ingress rule on module.eks_al2023.aws_security_group.node[0] admits udp/4789 from itself")
    assert vxlan["hint"].startswith(
        "Add an ingress rule on module.eks_al2023.aws_security_group.node[0] for udp/4789 from itself (self = true): "
        "module.eks_al2023 is installed by `terraform init`, so add it through the module's inputs for extra rules, "
        "or as a rule resource on the module's security-group output."
    )
    groups = [(g["address"], g["security_groups"]) for g in report["roots"][0]["nodes"]["groups"]]
    assert groups == [
        (f"module.{cluster}.aws_eks_cluster.this[0]", [
            f"module.{cluster}.aws_eks_cluster.this[0].vpc_config[0].cluster_security_group_id",
            f"module.{cluster}.aws_security_group.cluster[0]",
        ]) if kind == "cp" else
        (f'module.{cluster}.module.self_managed_node_group["example"].aws_autoscaling_group.this[0]',
         [f"module.{cluster}.aws_security_group.node[0]"])
        for cluster in ("eks_al2023", "eks_bottlerocket") for kind in ("cp", "nodes")
    ]
    # Two separate clusters (#12): no path is demanded between them.
    assert [(c["name"], len(c["node_groups"])) for c in report["roots"][0]["clusters"]] == [
        ("ex-self-mng-al2023", 2), ("ex-self-mng-bottlerocket", 2)]
    assert all(within(f) for f in report["findings"])
    jsonschema.validate(report, json.loads((REPO / "docs" / "report.schema.json").read_text()))
    graph = sglint("graph", str(example), "--format", "json")
    jsonschema.validate(graph.json(), json.loads((REPO / "docs" / "graph.schema.json").read_text()))


def test_the_example_without_terraform_init_says_what_it_cannot_read(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(CORPUS / "terraform-aws-eks" / "examples" / "self-managed-node-group", tmp_path / "example")
    monkeypatch.chdir(tmp_path)
    result = sglint("check", "example", "--format", "json")
    report = result.json()
    assert [brief(f)[:4] for f in report["findings"]] == [
        ("no-security-groups", "warning", "example/eks-al2023.tf", 1),
        ("module-unreadable", "warning", "example/eks-al2023.tf", 2),
        ("module-unreadable", "warning", "example/eks-bottlerocket.tf", 2),
        ("module-unreadable", "warning", "example/main.tf", 32),
    ]
    assert 'module.eks_al2023 (source "terraform-aws-modules/eks/aws") was not read' in report["findings"][1]["message"]
    assert "terraform init -backend=false" in report["findings"][1]["hint"]
    assert result.code == 0
    assert sglint("check", "example", "--fail-on", "warning").code == 1


def test_the_module_root_misses_vxlan_and_opens_typha_through_its_ephemeral_range(tmp_path: Path) -> None:
    root = eks_module_copy(str(CORPUS), str(tmp_path / "terraform-aws-eks"))
    result = check(CheckOptions(ReadOptions(paths=(root,))))
    (eks,) = [r for r in result.roots if r.model.root.endswith("terraform-aws-eks")]
    node = "aws_security_group.node[0]"
    errors = [(f.rule_id, f.path.source_sg, f.path.target_sg, f.path.protocol, f.path.from_port)
              for f in eks.findings if f.severity == "error" and f.path]
    assert errors == [("calico-vxlan", node, node, "udp", 4789)]
    typha = [p for p in eks.paths if p.rule.id == "calico-typha"]
    assert [p.state.state for p in typha] == [OPEN]
    (opening,) = typha[0].state.ingress.opening
    assert (opening.protocol, opening.from_port, opening.to_port, opening.peers[0].kind) == ("tcp", 1025, 65535, "self")
    apiserver = [(p.source.group.address, p.target.group.address, p.ports, p.state.state)
                 for p in eks.paths if p.rule.id in ("k8s-apiserver", "k8s-kubelet")]
    assert apiserver == [
        (node, "aws_eks_cluster.this[0]", (443, 443), OPEN),
        ("aws_eks_cluster.this[0]", node, (10250, 10250), OPEN),
    ]
    assert eks.profile.settings["apiserver_port"].value == 443


MANAGED_ROOT = '''
module "eks" {
  source  = "terraform-aws-modules/eks/aws"
  version = "~> 21.0"

  name               = "prod"
  kubernetes_version = "1.33"
  vpc_id             = "vpc-0abc"
  subnet_ids         = ["subnet-0a", "subnet-0b"]

  eks_managed_node_groups = {
    default = {
      instance_types         = ["m6i.large"]
      min_size               = 2
      max_size               = 4
      vpc_security_group_ids = NODE_SGS
    }
  }
}

module "node_sg" {
  source  = "terraform-aws-modules/security-group/aws"
  version = "~> 5.0"

  name              = "calico"
  vpc_id            = "vpc-0abc"
  ingress_with_self = [{ rule = "all-all" }]
  egress_rules      = ["all-all"]
}
'''


@pytest.mark.parametrize(("node_sgs", "errors"), [
    ("[]", [("calico-vxlan", "udp", 4789)]),
    ("[module.node_sg.security_group_id]", []),
])
def test_a_managed_node_group_with_the_security_group_module(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, node_sgs: str, errors: list[tuple[str, str, int]]) -> None:  # type: ignore[no-untyped-def]
    """The EKS module's aws_eks_node_group wears the node SG through its launch template, and
    terraform-aws-security-group's named rules (`all-all`) evaluate from its rules.tf."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "main.tf").write_text(MANAGED_ROOT.replace("NODE_SGS", node_sgs))
    package = eks_module_copy(str(CORPUS), str(tmp_path / "eks-package"))
    terraform_init(str(root), [
        Install("eks", REGISTRY_HOST + EKS_SOURCE, package, "21.3.1", EKS_LOCAL_CALLS),
        Install("node_sg", REGISTRY_HOST + "terraform-aws-modules/security-group/aws",
                str(CORPUS / "terraform-aws-security-group"), "5.3.0"),
    ])
    monkeypatch.chdir(tmp_path)
    report = sglint("check", "root", "--format", "json").json()
    groups = {g["address"]: g["security_groups"] for g in report["roots"][0]["nodes"]["groups"]}
    node_group = 'module.eks.module.eks_managed_node_group["default"].aws_eks_node_group.this[0]'
    extra = ["module.node_sg.aws_security_group.this_name_prefix[0]"] if node_sgs != "[]" else []
    assert groups[node_group] == ["module.eks.aws_security_group.node[0]", *extra]
    found = [(f["rule_id"], f["path"]["protocol"], f["path"]["from_port"]) for f in report["findings"]
             if f["severity"] == "error"]
    assert found == errors
    assert report["summary"]["unverified"] == 0
