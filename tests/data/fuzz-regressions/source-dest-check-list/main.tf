# Was: internal error: TypeError: unhashable type: 'list' (the model grouped instances by it).
resource "aws_security_group" "worker" {
  name = "worker"
}

resource "aws_instance" "worker" {
  count                  = 2
  source_dest_check      = []
  vpc_security_group_ids = [aws_security_group.worker.id]
}
