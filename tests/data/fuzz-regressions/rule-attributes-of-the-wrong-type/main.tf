# Odd types in the attributes the model reads: each must be an unknown with a warning.
resource "aws_security_group" "worker" {
  name = ["worker"]
  tags = "worker"
  ingress {
    from_port       = [5473]
    to_port         = { a = 1 }
    protocol        = ["tcp"]
    self            = {}
    cidr_blocks     = "10.0.0.0/8"
    security_groups = [[]]
  }
}

resource "aws_security_group_rule" "r" {
  type                     = []
  security_group_id        = [aws_security_group.worker.id]
  source_security_group_id = {}
  protocol                 = null
  from_port                = "x"
  to_port                  = true
}

resource "aws_instance" "worker" {
  count                  = 2
  vpc_security_group_ids = aws_security_group.worker.id
  subnet_id              = []
  tags                   = [1]
}
