# Was: internal error: MemoryError (format built a 1 GB string for the width).
resource "aws_security_group" "worker" {
  name = "worker"
  ingress {
    from_port   = 5473
    to_port     = 5473
    protocol    = "tcp"
    cidr_blocks = [format("%999999999d", 1)]
  }
}
