# One security group for every node: all traffic between members, all traffic out.
# The layout calico-sglint recommends: nothing to forget between node groups, no cycles.

variable "vpc_id" {
  type    = string
  default = "vpc-0a1b2c3d4e5f60789"
}

variable "ami_id" {
  type    = string
  default = "ami-0123456789abcdef0"
}

resource "aws_security_group" "cluster" {
  name        = "k8s-cluster"
  description = "Every Kubernetes node"
  vpc_id      = var.vpc_id

  ingress {
    description = "all traffic between cluster nodes"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }

  egress {
    description = "all outbound"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_instance" "control_plane" {
  count                  = 3
  ami                    = var.ami_id
  instance_type          = "m6i.large"
  vpc_security_group_ids = [aws_security_group.cluster.id]

  tags = {
    Name = "k8s-control-plane-${count.index}"
  }
}

resource "aws_instance" "worker" {
  count                  = 6
  ami                    = var.ami_id
  instance_type          = "m6i.xlarge"
  vpc_security_group_ids = [aws_security_group.cluster.id]

  tags = {
    Name = "k8s-worker-${count.index}"
  }
}
