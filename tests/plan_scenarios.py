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
