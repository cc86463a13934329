"""roles.py: roles from names and tags (`words`, `role_of_text`), and `assign_roles` on real
Terraform: config over names over tags, excluded groups, all-workers, self paths by group size,
and node groups taken from security groups when the module has no compute."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import pytest
from conftest import write

from calico_sglint.model.build import build_model
from calico_sglint.model.roles import Cluster, assign_roles, role_of_text, words
from calico_sglint.model.types import Model
from calico_sglint.terraform.evaluate import evaluate_root
from calico_sglint.terraform.workspace import load_workspace

CP, W = "control-plane", "worker"


def model_of(root: Path, source: str) -> Model:
    write(root, {"main.tf": source})
    workspace = load_workspace([str(root)], cwd=str(root))
    return build_model(evaluate_root(workspace, workspace.roots[0]))


def cluster_of(root: Path, source: str, config_roles: Mapping[str, tuple[str, str]] | None = None) -> Cluster:
    return assign_roles(model_of(root, source), config_roles or {})


def nodes(cluster: Cluster) -> list[tuple[str, list[str], str]]:
    return [(n.group.address, sorted(n.roles), n.reason) for n in cluster.nodes]


def excluded(cluster: Cluster) -> list[tuple[str, str]]:
    return [(g.address, reason) for g, reason in cluster.excluded]


NOT_A_NODE = "no name, tag or config says it is a Kubernetes node"


# --- words and role_of_text -----------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k8s-ControlPlane_1", ["k8s", "control", "plane", "1"]),
        ("controlplane", ["controlplane"]),
        ("kubernetes.io/role/master", ["kubernetes", "io", "role", "master"]),
        ("  Worker  Nodes ", ["worker", "nodes"]),
        # camelCase words are split.
        ("k8sMaster", ["k8s", "master"]),
        ("HTTPServer", ["httpserver"]),
        ("", []),
        ("--", []),
    ],
)
def test_words(text: str, expected: list[str]) -> None:
    assert words(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("k8s-master", CP),
        ("masters", CP),
        ("master-node", CP),  # control-plane words win over worker words in one name
        ("worker-masters", CP),
        ("control_plane", CP),
        ("control-plane", CP),
        ("Control Plane", CP),
        ("ControlPlane", CP),  # only because "controlplane" is itself a control-plane word
        ("k8s-ControlPlane_1", CP),
        ("k8s-controller", CP),
        ("controllers", CP),
        ("cp-1", CP),
        ("CP", CP),
        ("node-role.kubernetes.io/control-plane", CP),
        ("kubernetes.io/role/master", CP),
        ("worker", W),
        ("workers", W),
        ("node-pool", W),
        ("k8s_nodes", W),
        ("node-role.kubernetes.io/worker", W),
        ("bastion", None),
        ("etcd", None),
        ("control", None),
        ("plane-control", None),  # the pair must be in order
        ("cp1", None),  # "cp" must be a word of its own
        ("masterful", None),
        ("nodepool", None),
        ("", None),
        # camelCase names are split into words.
        ("k8sMaster", CP),
        ("workerNode", W),
        ("controlPlaneNodes", CP),
    ],
)
def test_role_of_text(text: str, expected: str | None) -> None:
    assert role_of_text(text) == expected


# --- names, tags and config -----------------------------------------------------------------

def test_roles_from_names_tags_and_name_attributes(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "k8s" {}
resource "aws_instance" "master" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { Role = "worker" }  # the resource name comes first
}
resource "aws_instance" "pool" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { Role = "worker" }
}
resource "aws_instance" "one" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { "kubernetes.io/role/master" = "1" }
}
resource "aws_instance" "two" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { Team = "platform", "k8s-role" = "control-plane" }
}
resource "aws_instance" "three" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { Name = "k8s-node-3" }
}
resource "aws_launch_template" "lt" {
  name_prefix            = "k8s-controller-"
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_autoscaling_group" "asg" {
  min_size = 1
  max_size = 3
  launch_template {
    id = aws_launch_template.lt.id
  }
}
''')
    assert nodes(cluster) == [
        ("aws_instance.master", [CP], "name 'master'"),
        ("aws_instance.pool", [W], "tag Role=worker"),
        ("aws_instance.one", [CP], "tag kubernetes.io/role/master=1"),
        ("aws_instance.two", [CP], "tag k8s-role=control-plane"),
        ("aws_instance.three", [W], "name 'k8s-node-3'"),
        ("aws_autoscaling_group.asg", [CP], "name 'k8s-controller-'"),
    ]
    assert (cluster.origin, cluster.excluded, cluster.note) == ("compute", (), "roles from config, names and tags")


def test_tags_of_a_launch_template_count_for_its_autoscaling_group(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "k8s" {}
resource "aws_launch_template" "lt" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tag_specifications {
    resource_type = "instance"
    tags = { "node-role.kubernetes.io/control-plane" = "" }
  }
}
resource "aws_autoscaling_group" "asg" {
  min_size = 3
  max_size = 3
  launch_template {
    id = aws_launch_template.lt.id
  }
}
''')
    assert nodes(cluster) == [("aws_autoscaling_group.asg", [CP], "tag node-role.kubernetes.io/control-plane=")]


def test_config_beats_names_and_tags(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "cp" {}
resource "aws_security_group" "k8s" {}
resource "aws_instance" "master" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "worker" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { Role = "worker" }
}
resource "aws_instance" "api" {
  vpc_security_group_ids = [aws_security_group.cp.id]
}
resource "aws_launch_template" "infra" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
''', {
        "aws_instance.master": ("worker", ".sglint.yaml:2"),
        "aws_instance.worker": ("control-plane", ".sglint.yaml:3"),
        "aws_security_group.cp": ("control-plane", ".sglint.yaml:4"),  # by security group
        "aws_launch_template.infra": ("worker", ".sglint.yaml:5"),  # by launch template
    })
    assert nodes(cluster) == [
        ("aws_instance.master", [W], "config .sglint.yaml:2"),
        ("aws_instance.worker", [CP], "config .sglint.yaml:3"),
        ("aws_instance.api", [CP], "config .sglint.yaml:4"),
        ("aws_launch_template.infra", [W], "config .sglint.yaml:5"),
    ]


def test_config_by_instance_address(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "k8s" {}
resource "aws_instance" "box" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
''', {"aws_instance.box[1]": ("control-plane", "pyproject.toml")})
    assert nodes(cluster) == [("aws_instance.box", [CP], "config pyproject.toml")]


def test_config_none_excludes_and_both_gives_both_roles(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "k8s" {}
resource "aws_instance" "master" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "node" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "allinone" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
''', {
        "aws_instance.node": ("none", ".sglint.yaml:3"),
        "aws_instance.allinone": ("both", ".sglint.yaml:4"),
    })
    assert nodes(cluster) == [
        ("aws_instance.master", [CP], "name 'master'"),
        ("aws_instance.allinone", [CP, W], "config .sglint.yaml:4"),
    ]
    assert excluded(cluster) == [("aws_instance.node", "config .sglint.yaml:3: none")]


def test_groups_without_a_role_are_excluded_when_others_have_one(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "k8s" {}
resource "aws_instance" "master" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "bastion" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "monitoring" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
''')
    assert nodes(cluster) == [("aws_instance.master", [CP], "name 'master'")]
    assert excluded(cluster) == [("aws_instance.bastion", BASTION.format("bastion")),
                                 ("aws_instance.monitoring", NOT_A_NODE)]
    assert cluster.note == "roles from config, names and tags"


BASTION = "name {!r}: a bastion, jump, NAT, VPN or load-balancer host is not a Kubernetes node"


@pytest.mark.parametrize(
    ("name", "tags"),
    [("bastion", "{}"), ("jumpHost", "{}"), ("box", '{ Name = "k8s-nat-instance" }'), ("box", '{ Role = "vpn" }'),
     ("api_lb", "{}"), ("box", '{ Name = "ingress-load-balancer" }')],
)
def test_bastion_jump_nat_vpn_and_lb_hosts_are_never_nodes(tmp_path: Path, name: str, tags: str) -> None:
    # Even when no group names a role (every group would be a worker), these are not nodes,
    # so `fix` never opens Typha or VXLAN to them.
    cluster = cluster_of(tmp_path, f'''
resource "aws_security_group" "k8s" {{}}
resource "aws_instance" "a" {{
  vpc_security_group_ids = [aws_security_group.k8s.id]
}}
resource "aws_instance" "{name}" {{
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags                   = {tags}
}}
''')
    assert nodes(cluster) == [("aws_instance.a", [W], "no roles found: every node group is a worker")]
    assert [address for address, _ in excluded(cluster)] == [f"aws_instance.{name}"]
    assert "is not a Kubernetes node" in excluded(cluster)[0][1]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('resource "aws_instance" "rke2_server" {}\nresource "aws_instance" "rke2_agent" {}',
         [("aws_instance.rke2_server", [CP], "name 'rke2_server'"), ("aws_instance.rke2_agent", [W], "name 'rke2_agent'")]),
        ('resource "aws_instance" "a" { tags = { Role = "k3s-server" } }\nresource "aws_instance" "b" { tags = { Role = "agent" } }',
         [("aws_instance.a", [CP], "tag Role=k3s-server"), ("aws_instance.b", [W], "tag Role=agent")]),
    ],
)
def test_rke2_and_k3s_server_and_agent_are_roles(tmp_path: Path, source: str, expected: list[object]) -> None:
    assert nodes(cluster_of(tmp_path, source)) == expected


def test_module_calls_named_servers_and_agents_give_roles(tmp_path: Path) -> None:
    write(tmp_path, {"modules/pool/main.tf": 'resource "aws_instance" "this" {\n  count = 2\n}\n'})
    cluster = cluster_of(tmp_path, '''
module "servers" {
  source = "./modules/pool"
}
module "agents" {
  source = "./modules/pool"
}
''')
    assert nodes(cluster) == [
        ("module.servers.aws_instance.this", [CP], "module module.servers"),
        ("module.agents.aws_instance.this", [W], "module module.agents"),
    ]


def test_every_group_is_a_worker_when_none_has_a_role(tmp_path: Path) -> None:
    reason = "no roles found: every node group is a worker"
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "k8s" {}
resource "aws_instance" "a" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "b" {
  count                  = 3
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
''')
    assert nodes(cluster) == [("aws_instance.a", [W], reason), ("aws_instance.b", [W], reason)]
    assert (cluster.origin, cluster.excluded) == ("compute", ())
    assert cluster.note == "no names, tags or config mention roles: every node group is a worker"


# --- group size and self paths --------------------------------------------------------------

def test_only_a_group_of_exactly_one_node_needs_no_self_path(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
variable "workers" {}
resource "aws_security_group" "k8s" {}
resource "aws_instance" "master" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "worker_pair" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "worker_many" {
  count                  = var.workers
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_instance" "worker_keyed" {
  for_each               = toset(["a", "b"])
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_launch_template" "lt" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
resource "aws_autoscaling_group" "worker_single" {
  min_size = 1
  max_size = 1
  launch_template {
    id = aws_launch_template.lt.id
  }
}
resource "aws_autoscaling_group" "worker_scaling" {
  min_size = 1
  max_size = 5
  launch_template {
    id = aws_launch_template.lt.id
  }
}
resource "aws_launch_template" "worker_template_alone" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
}
''')
    assert [(n.group.address, n.group.size_max, n.needs_self_path) for n in cluster.nodes] == [
        ("aws_instance.master", 1, False),
        ("aws_instance.worker_pair", 2, True),
        ("aws_instance.worker_many", None, True),  # unknown size
        ("aws_instance.worker_keyed", 2, True),
        ("aws_autoscaling_group.worker_single", 1, False),
        ("aws_autoscaling_group.worker_scaling", 5, True),
        ("aws_launch_template.worker_template_alone", None, True),  # unknown size
    ]


def test_count_two_without_security_groups_still_needs_a_self_path(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_instance" "worker" {
  count = 2
}
''')
    assert [(n.group.address, n.group.size_max, n.needs_self_path) for n in cluster.nodes] == [
        ("aws_instance.worker", 2, True),
    ]


def test_config_role_for_a_resource_applies_to_every_group_split_from_it(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "a" {}
resource "aws_security_group" "b" {}
resource "aws_instance" "node" {
  count                  = 3
  vpc_security_group_ids = [count.index == 0 ? aws_security_group.a.id : aws_security_group.b.id]
}
''', {"aws_instance.node": ("control-plane", ".sglint.yaml:2")})
    assert nodes(cluster) == [
        ("aws_instance.node[0]", [CP], "config .sglint.yaml:2"),
        ("aws_instance.node[1]", [CP], "config .sglint.yaml:2"),
    ]


# --- modules without compute: node groups from security groups ------------------------------

def test_security_groups_named_for_a_role_stand_in_for_nodes(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
data "aws_security_group" "node" {}  # not created here: never a node
resource "aws_security_group" "master" {}
resource "aws_security_group" "worker" {}
resource "aws_security_group" "lb" {}
resource "aws_security_group" "b" {
  name = "cluster-nodes"
}
''')
    assert cluster.origin == "security groups"
    assert cluster.note == "no compute resources: nodes are the security groups named for a role or in config"
    assert nodes(cluster) == [
        ("aws_security_group.b", [W], "name 'cluster-nodes'"),
        ("aws_security_group.master", [CP], "name 'master'"),
        ("aws_security_group.worker", [W], "name 'worker'"),
    ]
    assert excluded(cluster) == [("aws_security_group.lb", BASTION.format("lb"))]
    master = cluster.nodes[1]
    assert (master.group.kind, master.group.instances, master.group.security_groups) == (
        "aws_security_group", ("aws_security_group.master",), ("aws_security_group.master",),
    )
    assert all(n.needs_self_path for n in cluster.nodes)  # size unknown


def test_security_groups_without_role_names_give_no_nodes(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "a" {}
resource "aws_security_group" "b" {}
''')
    assert (cluster.origin, cluster.nodes) == ("none", ())
    assert excluded(cluster) == [("aws_security_group.a", NOT_A_NODE), ("aws_security_group.b", NOT_A_NODE)]
    assert cluster.note == ("no compute resources and no security group named for a role; "
                            "declare `roles:` in .sglint.yaml to check paths")


def test_configured_security_groups_stand_in_for_nodes(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "a" {}
resource "aws_security_group" "b" {}
resource "aws_security_group" "worker" {}
''', {
        "aws_security_group.a": ("both", ".sglint.yaml:2"),
        "aws_security_group.worker": ("none", ".sglint.yaml:3"),
    })
    assert cluster.origin == "security groups"
    assert nodes(cluster) == [("aws_security_group.a", [CP, W], "config .sglint.yaml:2")]
    assert excluded(cluster) == [
        ("aws_security_group.b", NOT_A_NODE),
        ("aws_security_group.worker", "config .sglint.yaml:3: none"),
    ]


def test_no_security_groups_and_no_compute(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, 'variable "x" {}\n')
    assert (cluster.nodes, cluster.excluded, cluster.origin) == ((), (), "none")


def test_only_tags_about_roles_decide_a_role(tmp_path: Path) -> None:
    cluster = cluster_of(tmp_path, '''
resource "aws_security_group" "k8s" {}
resource "aws_instance" "a" {
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { Owner = "cp-team", Role = "worker" }
}
resource "aws_instance" "b" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.k8s.id]
  tags = { "kubernetes.io/role/master" = "1" }
}
''')
    assert nodes(cluster) == [
        ("aws_instance.a", [W], "tag Role=worker"),
        ("aws_instance.b", [CP], "tag kubernetes.io/role/master=1"),
    ]
