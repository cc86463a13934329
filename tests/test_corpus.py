"""The verdicts on real public Terraform (../shared/corpus beside the clone; see its README's
truth column), each with the Calico profile the project really deploys. Skipped cleanly where
the corpus is absent. Nothing here is copied from the corpus: it is read in place."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

CORPUS = REPO.parent / "shared" / "corpus"

sys.path.insert(0, str(REPO / "bench"))
from installed import eks_example  # noqa: E402  (lays out .terraform/modules as terraform init does)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CORPUS.is_dir(), reason="the shared corpus is not beside this clone"),
]


@pytest.fixture
def in_corpus(monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(CORPUS)
    return CORPUS


def check(sglint: Any, *args: str) -> dict[str, Any]:  # type: ignore[misc]
    result = sglint("check", *args, "--format", "json")
    assert result.code in (0, 1), result.stderr
    return result.json()  # type: ignore[no-any-return]


def errors(report: dict[str, Any]) -> list[tuple[str, str, str, str, int, int]]:
    return [
        (f["rule_id"], f["path"]["source_sg"], f["path"]["target_sg"], f["path"]["protocol"],
         f["path"]["from_port"], f["path"]["to_port"])
        for f in report["findings"] if f["severity"] == "error"
    ]


def excluded(report: dict[str, Any]) -> list[str]:
    return [g["address"] for root in report["roots"] for g in root["nodes"]["excluded"]]


def test_terraform_aws_eks_misses_only_vxlan_between_nodes(sglint, in_corpus) -> None:  # type: ignore[no-untyped-def]
    # EKS + Calico VXLAN with Typha: the node SG admits TCP 1025-65535 from itself (Typha
    # open) but no UDP 4789.
    report = check(sglint, "terraform-aws-eks/main.tf", "--encapsulation", "VXLAN", "--typha", "--no-bgp")
    assert errors(report) == [
        ("calico-vxlan", "aws_security_group.node[0]", "aws_security_group.node[0]", "udp", 4789, 4789),
    ]
    root = report["roots"][0]
    # the EKS control plane (aws_eks_cluster) is the control plane the k8s requirements need
    assert root["requirements"] == ["calico-typha", "calico-vxlan", "calico-apiserver-eks", "k8s-apiserver", "k8s-kubelet"]
    assert root["not_checked"] == []


def test_kops_calico_passes_with_etcd_closed_to_the_masters(sglint, in_corpus) -> None:  # type: ignore[no-untyped-def]
    # kops' defaults: IP-in-IP CrossSubnet, BGP, no Typha, awsSrcDstCheck Disable. Nodes reach
    # the masters on everything but TCP 2380-2381 and 4001-4002 (etcd), on purpose.
    report = check(sglint, "kops-privatecalico", "--encapsulation", "IPIPCrossSubnet", "--bgp", "--no-typha",
                   "--aws-src-dst-check", "Disable")
    assert errors(report) == []
    assert report["roots"][0]["requirements"] == [
        "calico-bgp", "calico-ipip", "calico-native-routing", "calico-src-dst-check", "k8s-apiserver", "k8s-kubelet",
    ]
    assert excluded(report) == ["aws_autoscaling_group.bastion-privatecalico-example-com"]


def test_kops_with_existing_groups_is_never_a_false_missing(sglint, in_corpus) -> None:  # type: ignore[no-untyped-def]
    report = check(sglint, "kops-existing_sg")
    assert errors(report) == []


def test_kops_flannel_bastion_is_not_a_node(sglint, in_corpus) -> None:  # type: ignore[no-untyped-def]
    report = check(sglint, "kops-privateflannel")
    assert excluded(report) == ["aws_autoscaling_group.bastion-privateflannel-example-com"]


def test_typhoon_calico_opens_every_path(sglint, in_corpus) -> None:  # type: ignore[no-untyped-def]
    # Typhoon's bootstrap: IP-in-IP always, BGP, no Typha; networking = "calico" and its four
    # required variables given.
    report = check(
        sglint, "typhoon-aws-fcos-calico", "--var", "cluster_name=demo", "--var", "dns_zone=example.com",
        "--var", "dns_zone_id=Z0123456789", "--var", "ssh_authorized_key=ssh-ed25519 AAAA", "--var",
        "networking=calico", "--encapsulation", "IPIP", "--bgp", "--no-typha",
    )
    assert errors(report) == []
    assert [f for f in report["findings"] if f["status"] == "unverified"] == []
    assert report["roots"][0]["requirements"] == ["calico-bgp", "calico-ipip", "k8s-apiserver", "k8s-kubelet"]


def test_kubespray_opens_every_path_and_its_bastion_and_etcd_hosts_are_not_nodes(
    sglint, in_corpus  # type: ignore[no-untyped-def]
) -> None:
    # kubespray's defaults: VXLAN always, typha_enabled false (detected from its inventory).
    report = check(sglint, "kubespray-aws", "--var", "aws_etcd_num=3")
    root = report["roots"][0]
    assert (root["profile"]["encapsulation"]["value"], root["profile"]["typha"]["value"]) == ("VXLAN", False)
    assert errors(report) == []
    assert [g["address"] for g in root["nodes"]["groups"]] == ["aws_instance.k8s-master", "aws_instance.k8s-worker"]
    assert excluded(report) == ["aws_instance.bastion-server", "aws_instance.k8s-etcd"]


def test_the_eks_example_builds_two_clusters_that_need_no_path_between_them(
    sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    # The published example calls the EKS module from the registry twice (al2023 and
    # bottlerocket), laid out in .terraform/modules as `terraform init` leaves it. Each
    # cluster (its EKS control plane and its self-managed nodes) misses UDP 4789 between its
    # own nodes, and nothing is required between the two.
    example = Path(eks_example(str(CORPUS), str(tmp_path)))
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)  # copied from the read-only corpus
    monkeypatch.chdir(example)
    report = check(sglint, ".", "--encapsulation", "VXLAN", "--typha", "--no-bgp")
    group = 'module.eks_{}.module.self_managed_node_group["example"].aws_autoscaling_group.this[0]'
    assert [(c["name"], c["node_groups"]) for c in report["roots"][0]["clusters"]] == [
        (f"ex-self-mng-{name}", [f"module.eks_{name}.aws_eks_cluster.this[0]", group.format(name)])
        for name in ("al2023", "bottlerocket")
    ]
    assert errors(report) == [
        ("calico-vxlan", f"module.eks_{name}.aws_security_group.node[0]", f"module.eks_{name}.aws_security_group.node[0]",
         "udp", 4789, 4789)
        for name in ("al2023", "bottlerocket")
    ]
