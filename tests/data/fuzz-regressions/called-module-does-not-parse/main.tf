# Was: a hang (found by the fuzz harness): a called module whose file does not parse was
# never added to the workspace, so the module walk asked for it again, forever.
module "broken" {
  source = "./modules/broken"
}

resource "aws_security_group" "worker" {
  name = "worker"
}
