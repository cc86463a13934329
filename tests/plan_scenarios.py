"""Plans of the fixtures' Terraform, as `terraform show -json` would print them (written by
hand with `planjson`): ids of groups created in the plan unknown, references only in the
`configuration` section, every count/for_each expanded by Terraform."""

from __future__ import annotations

from typing import Any

from planjson import RULE_UNKNOWN, SG_UNKNOWN, PlanBuilder, Resource, const, ref, rule_values, sg_values

INSTANCE_UNKNOWN = {"arn": True, "id": True, "private_ip": True, "subnet_id": True, "security_groups": True,
                    "vpc_security_group_ids": True, "network_interface": True, "primary_network_interface_id": True}


def instance_values(instance_type: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"ami": "ami-0123456789abcdef0", "instance_type": instance_type, "source_dest_check": True,
            "tags": {"Name": name}, **extra}



def typha_incident() -> PlanBuilder:
    """examples/typha-blocked: two groups, 13 workers, Typha open only between workers."""
    b = PlanBuilder()
    b.variables = {"vpc_id": "vpc-0a1b2c3d4e5f60789", "ami_id": "ami-0123456789abcdef0", "worker_count": 13}
    for name, description in (("master", "Kubernetes control plane"), ("worker", "Kubernetes workers")):
        b.add(Resource(f"aws_security_group.{name}", sg_values(f"k8s-{name}", description), dict(SG_UNKNOWN)))
        b.declare((), f"aws_security_group.{name}", {"name": const(f"k8s-{name}"), "description": const(description),
                                                       "vpc_id": ref("var.vpc_id")})
    rules = [
        ("master_apiserver_from_worker", "tcp", 6443, "master", "worker"),
        ("worker_kubelet_from_master", "tcp", 10250, "worker", "master"),
        ("worker_vxlan_self", "udp", 4789, "worker", None),
        ("worker_vxlan_from_master", "udp", 4789, "worker", "master"),
        ("master_vxlan_from_worker", "udp", 4789, "master", "worker"),
        ("worker_typha_self", "tcp", 5473, "worker", None),
    ]
    for name, protocol, port, sg, source in rules:
        b.add(Resource(f"aws_security_group_rule.{name}",
                       rule_values("ingress", protocol, port, port, self=source is None), dict(RULE_UNKNOWN)))
        expressions = {"type": const("ingress"), "from_port": const(port), "to_port": const(port),
                       "protocol": const(protocol), "security_group_id": ref(f"aws_security_group.{sg}.id")}
        if source:
            expressions["source_security_group_id"] = ref(f"aws_security_group.{source}.id")
        else:
            expressions["self"] = const(True)
        b.declare((), f"aws_security_group_rule.{name}", expressions)
    for sg in ("master", "worker"):
        b.add(Resource(f"aws_security_group_rule.{sg}_egress",
                       rule_values("egress", "-1", 0, 0, cidr_blocks=["0.0.0.0/0"]), dict(RULE_UNKNOWN)))
        b.declare((), f"aws_security_group_rule.{sg}_egress", {
            "type": const("egress"), "from_port": const(0), "to_port": const(0), "protocol": const("-1"),
            "cidr_blocks": const(["0.0.0.0/0"]), "security_group_id": ref(f"aws_security_group.{sg}.id")})
    b.add(Resource("aws_instance.master", instance_values("m6i.large", "k8s-master"), dict(INSTANCE_UNKNOWN)))
    b.declare((), "aws_instance.master", {"ami": ref("var.ami_id"), "instance_type": const("m6i.large"),
                                          "vpc_security_group_ids": ref("aws_security_group.master.id"),
                                          "tags": const({"Name": "k8s-master"})})
    for index in range(13):
        b.add(Resource("aws_instance.worker", instance_values("m6i.xlarge", f"k8s-worker-{index}"),
                       dict(INSTANCE_UNKNOWN), key=index))
    b.declare((), "aws_instance.worker", {"ami": ref("var.ami_id"), "instance_type": const("m6i.xlarge"),
                                          "vpc_security_group_ids": ref("aws_security_group.worker.id"),
                                          "tags": ref("count.index")}, count_expression=ref("var.worker_count"))
    return b


def node_pools() -> PlanBuilder:
    """fixtures/plan-modules: pools from one module with for_each and with count."""
    b = PlanBuilder()
    pool_config = {
        "resources": [],
        "variables": {"name": {}, "size": {}},
        "outputs": {"sg_id": {"expression": ref("aws_security_group.this.id")}},
    }
    b.module((), "pool", "./modules/pool", {"name": ref("each.key"), "size": ref("each.value")},
             for_each=const({"master": 1, "worker": 3}))
    b.module((), "extra", "./modules/pool", {"name": const("worker-extra"), "size": const(2)}, count=1)
    for call in ("pool", "extra"):
        b.config["module_calls"][call]["module"] = {**pool_config, "resources": []}
        b.declare((call,), "aws_security_group.this", {"name": ref("var.name"), "vpc_id": const("vpc-0a1b2c3d4e5f60789")})
        b.declare((call,), "aws_security_group_rule.within", {
            "type": const("ingress"), "from_port": const(0), "to_port": const(0), "protocol": const("-1"),
            "security_group_id": ref("aws_security_group.this.id"), "self": const(True)})
        b.declare((call,), "aws_security_group_rule.egress", {
            "type": const("egress"), "from_port": const(0), "to_port": const(0), "protocol": const("-1"),
            "security_group_id": ref("aws_security_group.this.id"), "cidr_blocks": const(["0.0.0.0/0"])})
        b.declare((call,), "aws_instance.node", {
            "ami": const("ami-0123456789abcdef0"), "instance_type": const("m6i.large"),
            "vpc_security_group_ids": ref("aws_security_group.this.id"), "tags": ref("var.name", "count.index")},
            count_expression=ref("var.size"))
    for module, name, size in (('module.pool["master"]', "master", 1), ('module.pool["worker"]', "worker", 3),
                               ("module.extra[0]", "worker-extra", 2)):
        b.add(Resource("aws_security_group.this", sg_values(f"k8s-{name}"), dict(SG_UNKNOWN), module=module))
        b.add(Resource("aws_security_group_rule.within", rule_values("ingress", "-1", 0, 0, self=True),
                       dict(RULE_UNKNOWN), module=module))
        b.add(Resource("aws_security_group_rule.egress", rule_values("egress", "-1", 0, 0, cidr_blocks=["0.0.0.0/0"]),
                       dict(RULE_UNKNOWN), module=module))
        for index in range(size):
            b.add(Resource("aws_instance.node", instance_values("m6i.large", f"k8s-{name}-{index}"),
                           dict(INSTANCE_UNKNOWN), key=index, module=module))
    b.declare((), "aws_security_group_rule.master_from_worker", {
        "type": const("ingress"), "from_port": ref("each.value"), "to_port": ref("each.value"),
        "protocol": ref("each.key"), "security_group_id": ref('module.pool["master"].sg_id'),
        "source_security_group_id": ref('module.pool["worker"].sg_id')},
        for_each_expression=const({"api": 6443, "vxlan": 4789}))
    for key, protocol, port in (("api", "tcp", 6443), ("vxlan", "udp", 4789)):
        b.add(Resource("aws_security_group_rule.master_from_worker", rule_values("ingress", protocol, port, port),
                       dict(RULE_UNKNOWN), key=key))
    b.declare((), "aws_security_group_rule.worker_from_master", {
        "type": const("ingress"), "from_port": const(0), "to_port": const(0), "protocol": const("-1"),
        "security_group_id": ref('module.pool["worker"].sg_id'),
        "source_security_group_id": ref('module.pool["master"].sg_id')})
    b.add(Resource("aws_security_group_rule.worker_from_master", rule_values("ingress", "-1", 0, 0), dict(RULE_UNKNOWN)))
    b.declare((), "aws_security_group_rule.extra_from_cluster", {
        "type": const("ingress"), "from_port": const(0), "to_port": const(0), "protocol": const("-1"),
        "security_group_id": ref("module.extra[0].sg_id"),
        "source_security_group_id": ref("module.pool", "each.key")},
        for_each_expression=const(["master", "worker"]))
    b.declare((), "aws_security_group_rule.cluster_from_extra", {
        "type": const("ingress"), "from_port": const(0), "to_port": const(0), "protocol": const("-1"),
        "security_group_id": ref("module.pool", "each.key"),
        "source_security_group_id": ref("module.extra[0].sg_id")},
        for_each_expression=const(["master", "worker"]))
    for key in ("master", "worker"):
        for name in ("extra_from_cluster", "cluster_from_extra"):
            b.add(Resource(f"aws_security_group_rule.{name}", rule_values("ingress", "-1", 0, 0),
                           dict(RULE_UNKNOWN), key=key))
    return b


def typha_rule_destroyed() -> PlanBuilder:
    """The incident after someone deleted the rule that opened Typha to the control plane:
    the plan destroys it, so it is not part of what the plan leaves."""
    b = typha_incident()
    for resource, sg_id in zip(b.resources[:2], ("sg-0aaa000000000000a", "sg-0bbb000000000000b")):
        resource.values = {**resource.values, "id": sg_id, "ingress": [], "egress": []}
        resource.unknown, resource.action = {}, "no-op"
    b.add(Resource("aws_security_group_rule.master_typha_from_worker",
                   rule_values("ingress", "tcp", 5473, 5473, security_group_id="sg-0aaa000000000000a",
                               source_security_group_id="sg-0bbb000000000000b"), {}, action="delete"))
    return b


def data_sources() -> PlanBuilder:
    """fixtures/plan-data: a cluster group and a subnet read by data sources, an existing
    workers group (its id known), new rules and instances."""
    b = PlanBuilder()
    b.add(Resource("data.aws_security_group.cluster", {"id": "sg-0c1a55e4000000001", "name": "eks-cluster-sg-prod",
                                                       "vpc_id": "vpc-0a1b2c3d4e5f60789"}))
    b.declare((), "data.aws_security_group.cluster", {"name": const("eks-cluster-sg-prod")})
    b.add(Resource("data.aws_subnet.nodes", {"id": "subnet-0a1b2c3d4e5f60781", "cidr_block": "10.0.1.0/24",
                                             "vpc_id": "vpc-0a1b2c3d4e5f60789"}))
    b.declare((), "data.aws_subnet.nodes", {"id": const("subnet-0a1b2c3d4e5f60781")})
    workers = "sg-0e4157000000000a1"
    b.add(Resource("aws_security_group.workers", {"id": workers, "name": "prod-workers", "vpc_id": "vpc-0a1b2c3d4e5f60789",
                                                  "ingress": [], "egress": []}, action="no-op"))
    b.declare((), "aws_security_group.workers", {"name": const("prod-workers"), "vpc_id": const("vpc-0a1b2c3d4e5f60789")})
    known = {"id": True, "security_group_rule_id": True}
    b.add(Resource("aws_security_group_rule.workers_self",
                   rule_values("ingress", "-1", 0, 0, self=True, security_group_id=workers), {**known, "source_security_group_id": True}))
    b.add(Resource("aws_security_group_rule.workers_from_cluster",
                   rule_values("ingress", "tcp", 10250, 10250, security_group_id=workers,
                               source_security_group_id="sg-0c1a55e4000000001"), known))
    b.add(Resource("aws_security_group_rule.workers_egress",
                   rule_values("egress", "-1", 0, 0, cidr_blocks=["0.0.0.0/0"], security_group_id=workers),
                   {**known, "source_security_group_id": True}))
    for name, expressions in (
        ("workers_self", {"self": const(True)}),
        ("workers_from_cluster", {"source_security_group_id": ref("data.aws_security_group.cluster.id")}),
        ("workers_egress", {"cidr_blocks": const(["0.0.0.0/0"])}),
    ):
        b.declare((), f"aws_security_group_rule.{name}", {"security_group_id": ref("aws_security_group.workers.id"), **expressions})
    for index in range(3):
        b.add(Resource("aws_instance.worker", instance_values(
            "m6i.large", f"prod-worker-{index}", subnet_id="subnet-0a1b2c3d4e5f60781", vpc_security_group_ids=[workers]),
            {"arn": True, "id": True, "private_ip": True}, key=index))
    b.declare((), "aws_instance.worker", {"subnet_id": ref("data.aws_subnet.nodes.id"),
                                          "vpc_security_group_ids": ref("aws_security_group.workers.id")},
              count_expression=const(3))
    return b


EKS = "module.eks"
NODE_GROUP = 'module.eks.module.eks_managed_node_group["default"]'


def eks_registry_module() -> PlanBuilder:
    """fixtures/plan-eks: a registry module with the EKS layout (a cluster group and a node
    group, rules from a for_each map, a managed node group with a launch template in a nested
    module). The node group's rules forget Typha and VXLAN between nodes."""
    b = PlanBuilder()
    b.module((), "eks", "terraform-aws-modules/eks/aws", {"cluster_name": const("prod")},
             variables={"cluster_name": None}, outputs={"node_security_group_id": ref("aws_security_group.node[0].id")})
    b.module(("eks",), "eks_managed_node_group", "./modules/eks-managed-node-group",
             {"vpc_security_group_ids": ref("aws_security_group.node[0].id")},
             for_each=ref("var.eks_managed_node_groups"))
    for name in ("cluster", "node"):
        b.add(Resource("aws_security_group.node" if name == "node" else "aws_security_group.cluster",
                       sg_values(f"prod-{name}"), dict(SG_UNKNOWN), key=0, module=EKS))
        b.declare(("eks",), f"aws_security_group.{name}", {"name_prefix": ref("var.cluster_name")},
                  count_expression=const(1))
    rules = {
        "ingress_cluster_443": ("node", "ingress", "tcp", 443, "cluster"),
        "ingress_cluster_kubelet": ("node", "ingress", "tcp", 10250, "cluster"),
        "ingress_self_coredns_tcp": ("node", "ingress", "tcp", 53, None),
        "ingress_self_coredns_udp": ("node", "ingress", "udp", 53, None),
        "egress_all": ("node", "egress", "-1", 0, "cidr"),
        "ingress_nodes_443": ("cluster", "ingress", "tcp", 443, "node"),
    }
    for key, (sg, direction, protocol, port, peer) in rules.items():
        resource = "aws_security_group_rule.node" if sg == "node" else "aws_security_group_rule.cluster"
        extra: dict[str, Any] = {"self": peer is None}
        if peer == "cidr":
            extra["cidr_blocks"] = ["0.0.0.0/0"]
        b.add(Resource(resource, rule_values(direction, protocol, port, 0 if port == 0 else port, **extra),
                       dict(RULE_UNKNOWN), key=key, module=EKS))
    b.declare(("eks",), "aws_security_group_rule.node", {
        "security_group_id": ref("aws_security_group.node[0].id"),
        "source_security_group_id": ref("aws_security_group.cluster[0].id", "each.value"),
        "self": ref("each.value")}, for_each_expression=ref("local.node_security_group_rules"))
    b.declare(("eks",), "aws_security_group_rule.cluster", {
        "security_group_id": ref("aws_security_group.cluster[0].id"),
        "source_security_group_id": ref("aws_security_group.node[0].id", "each.value")},
        for_each_expression=ref("local.cluster_security_group_rules"))
    node_group_module = b.config["module_calls"]["eks"]["module"]["module_calls"]["eks_managed_node_group"]["module"]
    node_group_module["variables"] = {"vpc_security_group_ids": {"default": []}}
    b.declare(("eks", "eks_managed_node_group"), "aws_launch_template.this", {
        "vpc_security_group_ids": ref("var.vpc_security_group_ids")}, count_expression=const(1))
    b.declare(("eks", "eks_managed_node_group"), "aws_eks_node_group.this", {
        "launch_template": [{"id": ref("aws_launch_template.this[0].id")}]}, count_expression=const(1))
    b.add(Resource("aws_launch_template.this", {"name_prefix": "default-", "tags": None},
                   {"id": True, "arn": True, "vpc_security_group_ids": True, "latest_version": True}, key=0, module=NODE_GROUP))
    b.add(Resource("aws_eks_node_group.this", {
        "cluster_name": "prod", "node_group_name_prefix": "default-",
        "launch_template": [{"name": None, "version": None}],
        "scaling_config": [{"desired_size": 3, "max_size": 5, "min_size": 2}],
        "subnet_ids": ["subnet-0a1b2c3d4e5f60781", "subnet-0a1b2c3d4e5f60782"]},
        {"id": True, "arn": True, "launch_template": [{"id": True, "name": True, "version": True}]}, key=0, module=NODE_GROUP))
    return b
