# The two security groups every path-rule example in rules/*.yaml adds its rules to: a
# control-plane group and a worker group (roles from their names), each allowed all egress.
# tests/test_rule_examples.py checks each `example` with this file (the rule fires) and each
# `example_fixed` (it does not).
resource "aws_security_group" "master" {
  name = "master"
}

resource "aws_security_group" "worker" {
  name = "worker"
}

resource "aws_security_group_rule" "all_egress" {
  for_each          = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type              = "egress"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = each.value
  cidr_blocks       = ["0.0.0.0/0"]
  ipv6_cidr_blocks  = ["::/0"]
}
