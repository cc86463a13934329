# The incident calico-sglint exists for. A master SG and a worker SG: the API server, the
# kubelet and VXLAN are open between them, but Typha (TCP 5473) only worker -> worker.
# calico-node on the master stayed 0/1 Ready with
#   "Failed to connect to typha endpoint 10.0.3.88:5473: i/o timeout".

variable "vpc_id" {
  type    = string
  default = "vpc-0a1b2c3d4e5f60789"
}

variable "ami_id" {
  type    = string
  default = "ami-0123456789abcdef0"
}

variable "worker_count" {
  type    = number
  default = 13
}

resource "aws_security_group" "master" {
  name        = "k8s-master"
  description = "Kubernetes control plane"
  vpc_id      = var.vpc_id
}

resource "aws_security_group" "worker" {
  name        = "k8s-worker"
  description = "Kubernetes workers"
  vpc_id      = var.vpc_id
}

resource "aws_security_group_rule" "master_apiserver_from_worker" {
  type                     = "ingress"
  description              = "kube-apiserver from workers"
  from_port                = 6443
  to_port                  = 6443
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}

resource "aws_security_group_rule" "worker_kubelet_from_master" {
  type                     = "ingress"
  description              = "kubelet from the control plane"
  from_port                = 10250
  to_port                  = 10250
  protocol                 = "tcp"
  security_group_id        = aws_security_group.worker.id
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "worker_vxlan_self" {
  type              = "ingress"
  description       = "VXLAN between workers"
  from_port         = 4789
  to_port           = 4789
  protocol          = "udp"
  security_group_id = aws_security_group.worker.id
  self              = true
}

resource "aws_security_group_rule" "worker_vxlan_from_master" {
  type                     = "ingress"
  description              = "VXLAN from the control plane"
  from_port                = 4789
  to_port                  = 4789
  protocol                 = "udp"
  security_group_id        = aws_security_group.worker.id
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "master_vxlan_from_worker" {
  type                     = "ingress"
  description              = "VXLAN from workers"
  from_port                = 4789
  to_port                  = 4789
  protocol                 = "udp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}

# The gap: Typha is only open between workers.
resource "aws_security_group_rule" "worker_typha_self" {
  type              = "ingress"
  description       = "Calico Typha between workers"
  from_port         = 5473
  to_port           = 5473
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  self              = true
}

resource "aws_security_group_rule" "master_egress" {
  type              = "egress"
  description       = "all outbound"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.master.id
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_security_group_rule" "worker_egress" {
  type              = "egress"
  description       = "all outbound"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.worker.id
  cidr_blocks       = ["0.0.0.0/0"]
}

resource "aws_instance" "master" {
  ami                    = var.ami_id
  instance_type          = "m6i.large"
  vpc_security_group_ids = [aws_security_group.master.id]

  tags = {
    Name = "k8s-master"
  }
}

resource "aws_instance" "worker" {
  count                  = var.worker_count
  ami                    = var.ami_id
  instance_type          = "m6i.xlarge"
  vpc_security_group_ids = [aws_security_group.worker.id]

  tags = {
    Name = "k8s-worker-${count.index}"
  }
}
