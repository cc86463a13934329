# Was: internal error: RecursionError (every instance evaluated its own child instance).
module "again" {
  source = "./"
}

resource "aws_security_group" "worker" {
  name = "worker"
}
