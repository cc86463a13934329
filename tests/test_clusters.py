"""clusters.py: which node groups form a cluster, on real Terraform in temp dirs: config
`clusters:`, EKS membership, cluster tags, module instances, and what merges or never merges."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from conftest import write

from calico_sglint.model.build import build_model
from calico_sglint.model.clusters import module_path
from calico_sglint.model.roles import Cluster, assign_roles
from calico_sglint.terraform.evaluate import evaluate_root
from calico_sglint.terraform.workspace import load_workspace

CLUSTER_MODULE = '''
variable "shared_sg" {
  type    = string
  default = null
}
resource "aws_security_group" "nodes" {}
resource "aws_instance" "master" {
  vpc_security_group_ids = compact([aws_security_group.nodes.id, var.shared_sg])
}
resource "aws_instance" "worker" {
  count                  = 2
  vpc_security_group_ids = compact([aws_security_group.nodes.id, var.shared_sg])
}
'''


def clusters_of(root: Path, files: dict[str, str], config: Mapping[str, tuple[tuple[str, ...], str]] | None = None) -> Cluster:
    write(root, files)
    workspace = load_workspace([str(root)], cwd=str(root))
    model = build_model(evaluate_root(workspace, workspace.roots[0]))
    return assign_roles(model, {}, config or {})


def table(cluster: Cluster) -> list[tuple[str, tuple[str, ...]]]:
    return [(m.name, m.members) for m in cluster.memberships]


def test_two_instances_of_one_module_that_share_nothing_are_two_clusters(tmp_path: Path) -> None:
    cluster = clusters_of(tmp_path, {
        "modules/cluster/main.tf": CLUSTER_MODULE,
        "main.tf": 'module "blue" {\n  source = "./modules/cluster"\n}\nmodule "green" {\n  source = "./modules/cluster"\n}\n',
    })
    assert table(cluster) == [
        ("module.blue", ("module.blue.aws_instance.master", "module.blue.aws_instance.worker")),
        ("module.green", ("module.green.aws_instance.master", "module.green.aws_instance.worker")),
    ]
    assert cluster.memberships[0].reason == (
        "module instance module.blue: it shares no security group and no rule with the other instance "
        "of the same module (module.green)"
    )
    assert {n.cluster for n in cluster.nodes if n.group.address.startswith("module.green.")} == {"module.green"}


def test_module_instances_sharing_a_security_group_are_one_cluster(tmp_path: Path) -> None:
    cluster = clusters_of(tmp_path, {
        "modules/cluster/main.tf": CLUSTER_MODULE,
        "main.tf": '''
resource "aws_security_group" "shared" {}
module "blue" {
  source    = "./modules/cluster"
  shared_sg = aws_security_group.shared.id
}
module "green" {
  source    = "./modules/cluster"
  shared_sg = aws_security_group.shared.id
}
''',
    })
    assert len(cluster.memberships) == 1
    assert cluster.memberships[0].reason == "every node group of the root module"


def test_a_rule_between_two_module_instances_joins_them(tmp_path: Path) -> None:
    cluster = clusters_of(tmp_path, {
        "modules/pool/main.tf": 'resource "aws_security_group" "this" {}\nresource "aws_instance" "this" {\n'
                                '  vpc_security_group_ids = [aws_security_group.this.id]\n}\n'
                                'output "sg" {\n  value = aws_security_group.this.id\n}\n',
        "main.tf": '''
module "a" {
  source = "./modules/pool"
}
module "b" {
  source = "./modules/pool"
}
resource "aws_security_group_rule" "a_from_b" {
  type                     = "ingress"
  from_port                = 5473
  to_port                  = 5473
  protocol                 = "tcp"
  security_group_id        = module.a.sg
  source_security_group_id = module.b.sg
}
''',
    })
    assert len(cluster.memberships) == 1


def test_role_named_module_calls_are_parts_of_one_cluster(tmp_path: Path) -> None:
    # RKE2: module.servers and module.agents from one pool module form one cluster.
    cluster = clusters_of(tmp_path, {
        "modules/pool/main.tf": 'resource "aws_instance" "this" {\n  count = 2\n}\n',
        "main.tf": 'module "servers" {\n  source = "./modules/pool"\n}\nmodule "agents" {\n  source = "./modules/pool"\n}\n',
    })
    assert len(cluster.memberships) == 1
    assert [(n.group.address, sorted(n.roles)) for n in cluster.nodes] == [
        ("module.servers.aws_instance.this", ["control-plane"]),
        ("module.agents.aws_instance.this", ["worker"]),
    ]


def test_config_clusters_name_module_instances_and_resources(tmp_path: Path) -> None:
    cluster = clusters_of(tmp_path, {"main.tf": '''
resource "aws_security_group" "all" {}
resource "aws_instance" "a" {
  vpc_security_group_ids = [aws_security_group.all.id]
}
resource "aws_instance" "b" {
  vpc_security_group_ids = [aws_security_group.all.id]
}
resource "aws_instance" "c" {
  vpc_security_group_ids = [aws_security_group.all.id]
}
'''}, {"prod": (("aws_instance.a", "aws_instance.c"), ".sglint.yaml:3"), "stage": (("aws_instance.b",), ".sglint.yaml:4")})
    # The shared security group does not merge clusters the config keeps apart.
    assert table(cluster) == [("prod", ("aws_instance.a", "aws_instance.c")), ("stage", ("aws_instance.b",))]
    assert cluster.memberships[0].reason == "config .sglint.yaml:3"


def test_cluster_tags_and_unlabelled_groups_that_share_a_group_join(tmp_path: Path) -> None:
    cluster = clusters_of(tmp_path, {"main.tf": '''
resource "aws_security_group" "one" {}
resource "aws_security_group" "two" {}
resource "aws_instance" "a" {
  vpc_security_group_ids = [aws_security_group.one.id]
  tags                   = { "kubernetes.io/cluster/one" = "owned" }
}
resource "aws_instance" "b" {
  vpc_security_group_ids = [aws_security_group.two.id]
  tags                   = { KubernetesCluster = "two" }
}
resource "aws_instance" "c" {
  vpc_security_group_ids = [aws_security_group.two.id]
}
'''})
    assert table(cluster) == [("one", ("aws_instance.a",)), ("two", ("aws_instance.b", "aws_instance.c"))]
    assert [m.reason for m in cluster.memberships] == ["tag kubernetes.io/cluster/one", "tag KubernetesCluster=two"]


def test_module_path() -> None:
    assert module_path('module.a["x"].module.b.aws_instance.n[0]') == ('module.a["x"]', 'module.a["x"].module.b')
    assert module_path("aws_instance.n") == ()
