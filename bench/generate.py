"""Generate a synthetic Terraform monorepo of N self-managed Kubernetes cluster modules.

Each module under `clusters/<name>/` is a root module the way a platform team writes one:
control-plane, worker, bastion and load-balancer security groups with ~25 rules in the three
styles (standalone `aws_security_group_rule` with `for_each` over locals on the control plane,
`aws_vpc_security_group_*_rule` on the workers, inline blocks and a `dynamic` block on the
bastion and the load balancer: never two styles on one group), variables with a tfvars file,
control-plane instances (`count`), a bastion instance, a worker launch template with an
autoscaling group, and the files that do not matter to sglint but are in every real module
(versions, IAM, data sources, load balancer, DNS, outputs).

Each module deliberately misses one Kubernetes/Calico requirement (chosen by the seed), so
`sglint check` reports one error per module, plus the `sg-cross-reference` warning that the
control-plane/worker layout (two groups admitting each other) always earns.

Deterministic: module i depends only on (seed, i), so the first 10 modules of N=100 are the
modules of N=10. `terraform fmt -check -recursive` accepts the output.

    python bench/generate.py /tmp/mono --modules 100 [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
from dataclasses import dataclass

# The Calico/Kubernetes requirement each module leaves out, and what sglint then reports.
MISSING = {
    "typha-to-control-plane": "calico-typha: workers cannot reach the control plane on tcp/5473",
    "vxlan-to-workers": "calico-vxlan: the control plane cannot reach workers on udp/4789",
    "kubelet": "k8s-kubelet: the control plane cannot reach workers on tcp/10250",
    "typha-between-workers": "calico-typha: workers cannot reach each other on tcp/5473",
}
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2")
INSTANCE_TYPES = ("m6i.large", "m6i.xlarge", "m7i.large", "c6i.xlarge", "r6i.large")


@dataclass(frozen=True)
class Cluster:
    """The values that vary between generated modules."""

    name: str
    region: str
    cidr_octet: int
    control_plane_count: int
    control_plane_type: str
    worker_type: str
    worker_min: int
    worker_max: int
    missing: str
    vpc_hex: str
    ami_hex: str
    subnet_hex: tuple[str, ...]


def cluster_for(seed: int, index: int) -> Cluster:
    """The parameters of module `index`, from (seed, index) only."""
    rng = random.Random(f"calico-sglint-bench:{seed}:{index}")
    worker_min = rng.randint(2, 6)
    return Cluster(
        name=f"c{index:04d}",
        region=rng.choice(REGIONS),
        cidr_octet=index % 250,
        control_plane_count=rng.choice((1, 3, 3, 5)),
        control_plane_type=rng.choice(INSTANCE_TYPES),
        worker_type=rng.choice(INSTANCE_TYPES),
        worker_min=worker_min,
        worker_max=worker_min + rng.randint(2, 20),
        missing=rng.choice(sorted(MISSING)),
        vpc_hex=f"{rng.getrandbits(68):017x}",
        ami_hex=f"{rng.getrandbits(68):017x}",
        subnet_hex=tuple(f"{rng.getrandbits(68):017x}" for _ in range(6)),
    )


def _render(template: str, values: dict[str, str]) -> str:
    """Fill `@name@` placeholders (HCL already uses `${}` and braces)."""
    for key, value in values.items():
        template = template.replace(f"@{key}@", value)
    if "@" in template.replace("@@", ""):
        leftover = template[template.index("@"):][:40]
        raise ValueError(f"unfilled placeholder near {leftover!r}")
    return template


def _map_entries(entries: list[tuple[str, str, int]]) -> str:
    """HCL lines `name = { protocol = "tcp", port = 5473 }` aligned like `terraform fmt`."""
    width = max(len(name) for name, _, _ in entries)
    lines = []
    for name, protocol, port in entries:
        lines.append(f'    {name:<{width}} = {{ protocol = "{protocol}", port = {port} }}')
    return "\n".join(lines)


def module_files(cluster: Cluster) -> dict[str, str]:
    """The files of one cluster module: file name -> text."""
    from_workers = [("apiserver", "tcp", 6443), ("typha", "tcp", 5473), ("vxlan", "udp", 4789)]
    from_control_plane = [("kubelet", "tcp", 10250), ("typha", "tcp", 5473), ("vxlan", "udp", 4789)]
    worker_self = [("typha", "tcp", 5473), ("vxlan", "udp", 4789), ("nodeports", "tcp", 30000)]
    if cluster.missing == "typha-to-control-plane":
        from_workers = [e for e in from_workers if e[0] != "typha"]
    elif cluster.missing == "vxlan-to-workers":
        from_control_plane = [e for e in from_control_plane if e[0] != "vxlan"]
    elif cluster.missing == "kubelet":
        from_control_plane = [e for e in from_control_plane if e[0] != "kubelet"]
    else:
        worker_self = [e for e in worker_self if e[0] != "typha"]
    subnets = [f"subnet-{h}" for h in cluster.subnet_hex]
    values = {
        "name": cluster.name,
        "region": cluster.region,
        "octet": str(cluster.cidr_octet),
        "cp_count": str(cluster.control_plane_count),
        "cp_type": cluster.control_plane_type,
        "worker_type": cluster.worker_type,
        "worker_min": str(cluster.worker_min),
        "worker_max": str(cluster.worker_max),
        "worker_desired": str(cluster.worker_min + 1),
        "vpc_id": f"vpc-{cluster.vpc_hex}",
        "ami_id": f"ami-{cluster.ami_hex}",
        "private_subnets": ", ".join(f'"{s}"' for s in subnets[:3]),
        "public_subnets": ", ".join(f'"{s}"' for s in subnets[3:]),
        "from_workers": _map_entries(from_workers),
        "from_control_plane": _map_entries(from_control_plane),
        "worker_self": _map_entries(worker_self),
        "missing": MISSING[cluster.missing],
    }
    return {name: _render(HEADERS[name] + text, values) for name, text in TEMPLATES.items()}


def generate(out: str, modules: int, seed: int = 7) -> list[str]:
    """Write `modules` cluster modules under `out/clusters/`; return their directories."""
    root = os.path.join(out, "clusters")
    written = []
    for index in range(modules):
        cluster = cluster_for(seed, index)
        directory = os.path.join(root, cluster.name)
        os.makedirs(directory, exist_ok=True)
        for name, text in module_files(cluster).items():
            with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        written.append(directory)
    return written


def main(argv: list[str] | None = None) -> int:
    """Command line: generate a monorepo into a fresh directory."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="directory to create (replaced if it holds a previous run)")
    parser.add_argument("--modules", "-n", type=int, default=100, help="number of cluster modules")
    parser.add_argument("--seed", type=int, default=7, help="seed for the per-module variations")
    args = parser.parse_args(argv)
    if os.path.exists(os.path.join(args.out, "clusters")):
        shutil.rmtree(os.path.join(args.out, "clusters"))
    generate(args.out, args.modules, args.seed)
    print(f"{args.modules} cluster modules in {os.path.join(args.out, 'clusters')}", file=sys.stderr)
    return 0


TEMPLATES: dict[str, str] = {}
# Every file names its cluster, as real ones do, so no two modules share a file's bytes (a
# content-keyed cache would otherwise parse each distinct file once for the whole tree).
HEADERS = {
    name: f"# Kubernetes cluster @name@ (@region@): {purpose}.\n\n"
    for name, purpose in {
        "versions.tf": "Terraform and provider versions",
        "variables.tf": "inputs",
        "terraform.tfvars": "values for this environment",
        "locals.tf": "names, tags and the port maps the rules are generated from",
        "security_groups.tf": "security groups of the nodes, the bastion and the API load balancer",
        "control_plane_rules.tf": "rules of the control-plane security group",
        "worker_rules.tf": "rules of the worker security group",
        "compute.tf": "control-plane instances, the bastion and the worker autoscaling group",
        "iam.tf": "instance role and profile of the nodes",
        "network.tf": "the VPC and subnets the cluster runs in",
        "lb.tf": "network load balancer in front of the API servers",
        "dns.tf": "DNS name of the API",
        "outputs.tf": "outputs",
    }.items()
}

TEMPLATES["versions.tf"] = """\
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.60"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Cluster   = var.cluster_name
      ManagedBy = "terraform"
    }
  }
}
"""

TEMPLATES["variables.tf"] = """\
variable "cluster_name" {
  type        = string
  description = "Name of the cluster, used in resource names and tags."
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "vpc_id" {
  type        = string
  description = "VPC the cluster runs in."
}

variable "vpc_cidr" {
  type    = string
  default = "10.0.0.0/16"
}

variable "private_subnet_ids" {
  type        = list(string)
  description = "Subnets for the nodes, one per availability zone."
}

variable "public_subnet_ids" {
  type        = list(string)
  description = "Subnets for the bastion and the API load balancer."
}

variable "admin_cidrs" {
  type        = list(string)
  description = "Networks allowed to SSH to the bastion."
  default     = ["203.0.113.0/24", "198.51.100.0/24"]
}

variable "api_ingress_ports" {
  type    = list(number)
  default = [443, 6443]
}

variable "ami_id" {
  type = string
}

variable "control_plane" {
  type = object({
    count         = number
    instance_type = string
  })
  default = {
    count         = 3
    instance_type = "m6i.large"
  }
}

variable "workers" {
  type = object({
    instance_type = string
    min_size      = number
    max_size      = number
    desired       = optional(number)
  })
}

variable "tags" {
  type    = map(string)
  default = {}
}
"""

TEMPLATES["terraform.tfvars"] = """\
cluster_name       = "@name@"
region             = "@region@"
vpc_id             = "@vpc_id@"
vpc_cidr           = "10.@octet@.0.0/16"
private_subnet_ids = [@private_subnets@]
public_subnet_ids  = [@public_subnets@]
ami_id             = "@ami_id@"

control_plane = {
  count         = @cp_count@
  instance_type = "@cp_type@"
}

workers = {
  instance_type = "@worker_type@"
  min_size      = @worker_min@
  max_size      = @worker_max@
  desired       = @worker_desired@
}

tags = {
  Team        = "platform"
  Environment = "bench"
}
"""

TEMPLATES["locals.tf"] = """\
locals {
  name = "k8s-${var.cluster_name}"

  common_tags = merge(var.tags, {
    Cluster = var.cluster_name
  })

  # Ports the control plane admits from the workers.
  # Deliberately incomplete in this generated module: @missing@.
  control_plane_from_workers = {
@from_workers@
  }

  # Ports the workers admit from the control plane.
  worker_from_control_plane = {
@from_control_plane@
  }

  # Ports the workers admit from each other.
  worker_self = {
@worker_self@
  }

  # Ports every control-plane node admits from the others.
  control_plane_self = {
    apiserver = { protocol = "tcp", from = 6443, to = 6443 }
    etcd      = { protocol = "tcp", from = 2379, to = 2380 }
    kubelet   = { protocol = "tcp", from = 10250, to = 10250 }
    typha     = { protocol = "tcp", from = 5473, to = 5473 }
    vxlan     = { protocol = "udp", from = 4789, to = 4789 }
  }
}
"""

TEMPLATES["security_groups.tf"] = """\
resource "aws_security_group" "control_plane" {
  name        = "${local.name}-control-plane"
  description = "Kubernetes control plane of ${var.cluster_name}"
  vpc_id      = data.aws_vpc.this.id
  tags        = merge(local.common_tags, { Name = "${local.name}-control-plane" })
}

resource "aws_security_group" "worker" {
  name        = "${local.name}-worker"
  description = "Kubernetes workers of ${var.cluster_name}"
  vpc_id      = data.aws_vpc.this.id
  tags        = merge(local.common_tags, { Name = "${local.name}-worker" })
}

resource "aws_security_group" "bastion" {
  name        = "${local.name}-bastion"
  description = "SSH bastion of ${var.cluster_name}"
  vpc_id      = data.aws_vpc.this.id

  ingress {
    description = "SSH from the admin networks"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = var.admin_cidrs
  }

  egress {
    description = "SSH to the nodes"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = merge(local.common_tags, { Name = "${local.name}-bastion" })
}

resource "aws_security_group" "lb" {
  name        = "${local.name}-api-lb"
  description = "Kubernetes API load balancer of ${var.cluster_name}"
  vpc_id      = data.aws_vpc.this.id

  dynamic "ingress" {
    for_each = toset(var.api_ingress_ports)
    content {
      description = "Kubernetes API on ${ingress.value}"
      from_port   = ingress.value
      to_port     = ingress.value
      protocol    = "tcp"
      cidr_blocks = ["0.0.0.0/0"]
    }
  }

  egress {
    description = "API server on the control plane"
    from_port   = 6443
    to_port     = 6443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  tags = merge(local.common_tags, { Name = "${local.name}-api-lb" })
}
"""

TEMPLATES["control_plane_rules.tf"] = """\
# Control plane: standalone aws_security_group_rule resources only.

resource "aws_security_group_rule" "control_plane_from_workers" {
  for_each = local.control_plane_from_workers

  type                     = "ingress"
  description              = "${each.key} from the workers"
  from_port                = each.value.port
  to_port                  = each.value.port
  protocol                 = each.value.protocol
  security_group_id        = aws_security_group.control_plane.id
  source_security_group_id = aws_security_group.worker.id
}

resource "aws_security_group_rule" "control_plane_self" {
  for_each = local.control_plane_self

  type              = "ingress"
  description       = "${each.key} between control-plane nodes"
  from_port         = each.value.from
  to_port           = each.value.to
  protocol          = each.value.protocol
  security_group_id = aws_security_group.control_plane.id
  self              = true
}

resource "aws_security_group_rule" "control_plane_api_from_lb" {
  type                     = "ingress"
  description              = "API server from the load balancer"
  from_port                = 6443
  to_port                  = 6443
  protocol                 = "tcp"
  security_group_id        = aws_security_group.control_plane.id
  source_security_group_id = aws_security_group.lb.id
}

resource "aws_security_group_rule" "control_plane_ssh_from_bastion" {
  type                     = "ingress"
  description              = "SSH from the bastion"
  from_port                = 22
  to_port                  = 22
  protocol                 = "tcp"
  security_group_id        = aws_security_group.control_plane.id
  source_security_group_id = aws_security_group.bastion.id
}

resource "aws_security_group_rule" "control_plane_egress" {
  type              = "egress"
  description       = "All outbound traffic"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.control_plane.id
  cidr_blocks       = ["0.0.0.0/0"]
}
"""

TEMPLATES["worker_rules.tf"] = """\
# Workers: aws_vpc_security_group_ingress_rule / _egress_rule resources only.

resource "aws_vpc_security_group_ingress_rule" "worker_from_control_plane" {
  for_each = local.worker_from_control_plane

  security_group_id            = aws_security_group.worker.id
  referenced_security_group_id = aws_security_group.control_plane.id
  description                  = "${each.key} from the control plane"
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_ingress_rule" "worker_self" {
  for_each = local.worker_self

  security_group_id            = aws_security_group.worker.id
  referenced_security_group_id = aws_security_group.worker.id
  description                  = "${each.key} between workers"
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.key == "nodeports" ? 32767 : each.value.port
}

resource "aws_vpc_security_group_ingress_rule" "worker_ssh_from_bastion" {
  security_group_id            = aws_security_group.worker.id
  referenced_security_group_id = aws_security_group.bastion.id
  description                  = "SSH from the bastion"
  ip_protocol                  = "tcp"
  from_port                    = 22
  to_port                      = 22
}

resource "aws_vpc_security_group_egress_rule" "worker_all" {
  security_group_id = aws_security_group.worker.id
  description       = "All outbound traffic"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
}
"""

TEMPLATES["compute.tf"] = """\
resource "aws_instance" "control_plane" {
  count = var.control_plane.count

  ami                    = var.ami_id
  instance_type          = var.control_plane.instance_type
  subnet_id              = element(var.private_subnet_ids, count.index)
  vpc_security_group_ids = [aws_security_group.control_plane.id]
  iam_instance_profile   = aws_iam_instance_profile.node.name
  source_dest_check      = false

  root_block_device {
    volume_size = 50
    volume_type = "gp3"
    encrypted   = true
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = merge(local.common_tags, {
    Name = "${local.name}-control-plane-${count.index}"
    Role = "control-plane"
  })
}

resource "aws_instance" "bastion" {
  ami                         = var.ami_id
  instance_type               = "t3.micro"
  subnet_id                   = var.public_subnet_ids[0]
  vpc_security_group_ids      = [aws_security_group.bastion.id]
  associate_public_ip_address = true

  tags = merge(local.common_tags, { Name = "${local.name}-bastion" })
}

resource "aws_launch_template" "worker" {
  name_prefix   = "${local.name}-worker-"
  image_id      = var.ami_id
  instance_type = var.workers.instance_type

  iam_instance_profile {
    name = aws_iam_instance_profile.node.name
  }

  network_interfaces {
    associate_public_ip_address = false
    security_groups             = [aws_security_group.worker.id]
  }

  metadata_options {
    http_tokens = "required"
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(local.common_tags, { Name = "${local.name}-worker", Role = "worker" })
  }
}

resource "aws_autoscaling_group" "worker" {
  name                = "${local.name}-workers"
  min_size            = var.workers.min_size
  max_size            = var.workers.max_size
  desired_capacity    = coalesce(var.workers.desired, var.workers.min_size)
  vpc_zone_identifier = var.private_subnet_ids

  launch_template {
    id      = aws_launch_template.worker.id
    version = "$Latest"
  }

  tag {
    key                 = "Role"
    value               = "worker"
    propagate_at_launch = true
  }
}
"""

TEMPLATES["iam.tf"] = """\
data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]

    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  name               = "${var.cluster_name}-node"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
  ])

  role       = aws_iam_role.node.name
  policy_arn = each.value
}

resource "aws_iam_role_policy" "node_ebs" {
  name = "${var.cluster_name}-ebs"
  role = aws_iam_role.node.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect   = "Allow"
      Action   = ["ec2:AttachVolume", "ec2:DetachVolume", "ec2:DescribeVolumes"]
      Resource = "*"
    }]
  })
}

resource "aws_iam_instance_profile" "node" {
  name = "${var.cluster_name}-node"
  role = aws_iam_role.node.name
}
"""

TEMPLATES["network.tf"] = """\
data "aws_vpc" "this" {
  id = var.vpc_id
}

data "aws_subnet" "private" {
  for_each = toset(var.private_subnet_ids)

  id = each.value
}
"""

TEMPLATES["lb.tf"] = """\
resource "aws_lb" "api" {
  name               = "${var.cluster_name}-api"
  load_balancer_type = "network"
  internal           = false
  security_groups    = [aws_security_group.lb.id]
  subnets            = var.public_subnet_ids
}

resource "aws_lb_target_group" "api" {
  name     = "${var.cluster_name}-api"
  port     = 6443
  protocol = "TCP"
  vpc_id   = var.vpc_id

  health_check {
    protocol = "TCP"
    port     = "6443"
  }
}

resource "aws_lb_target_group_attachment" "api" {
  count = var.control_plane.count

  target_group_arn = aws_lb_target_group.api.arn
  target_id        = aws_instance.control_plane[count.index].id
  port             = 6443
}

resource "aws_lb_listener" "api" {
  load_balancer_arn = aws_lb.api.arn
  port              = 443
  protocol          = "TCP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.api.arn
  }
}
"""

TEMPLATES["dns.tf"] = """\
data "aws_route53_zone" "internal" {
  name         = "k8s.internal."
  private_zone = true
}

resource "aws_route53_record" "api" {
  zone_id = data.aws_route53_zone.internal.zone_id
  name    = "api.${var.cluster_name}.k8s.internal"
  type    = "A"

  alias {
    name                   = aws_lb.api.dns_name
    zone_id                = aws_lb.api.zone_id
    evaluate_target_health = true
  }
}
"""

TEMPLATES["outputs.tf"] = """\
output "control_plane_security_group_id" {
  value = aws_security_group.control_plane.id
}

output "worker_security_group_id" {
  value = aws_security_group.worker.id
}

output "api_endpoint" {
  value = "https://${aws_route53_record.api.fqdn}"
}

output "worker_autoscaling_group" {
  value = aws_autoscaling_group.worker.name
}
"""


if __name__ == "__main__":
    sys.exit(main())
