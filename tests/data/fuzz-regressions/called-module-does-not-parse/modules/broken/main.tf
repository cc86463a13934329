resource "aws_security_group" "x" {
  name = "x"
