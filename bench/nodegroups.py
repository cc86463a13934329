"""How `sglint check` scales with the node groups of one cluster: time and peak memory.

Generates one root module with N worker node groups (`aws_instance` with `count = 2`), each
with its own security group, plus one shared cluster group that admits itself on every
Calico port, so every pair of groups has open paths to prove. Paths are quadratic in the
number of groups by nature; memory must not be.

    python bench/nodegroups.py --groups 50,100,200,500
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

SHARED = """\
resource "aws_security_group" "cluster" {
  name = "cluster-nodes"
}

locals {
  ports = { typha = ["tcp", 5473], vxlan = ["udp", 4789], kubelet = ["tcp", 10250], api = ["tcp", 6443] }
}

resource "aws_security_group_rule" "in" {
  for_each                 = local.ports
  type                     = "ingress"
  security_group_id        = aws_security_group.cluster.id
  source_security_group_id = aws_security_group.cluster.id
  protocol                 = each.value[0]
  from_port                = each.value[1]
  to_port                  = each.value[1]
}

resource "aws_security_group_rule" "out" {
  type              = "egress"
  security_group_id = aws_security_group.cluster.id
  protocol          = "-1"
  from_port         = 0
  to_port           = 0
  cidr_blocks       = ["10.0.0.0/8"]
}
"""

GROUP = """\
resource "aws_security_group" "g{i}" {{
  name = "worker-{i}"
}}

resource "aws_instance" "g{i}" {{
  count                  = 2
  vpc_security_group_ids = [aws_security_group.cluster.id, aws_security_group.g{i}.id]
  tags                   = {{ Role = "{role}" }}
}}
"""


def generate(directory: str, groups: int) -> None:
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "main.tf"), "w", encoding="utf-8") as out:
        out.write(SHARED)
        for i in range(groups):
            out.write(GROUP.format(i=i, role="control-plane" if i == 0 else "worker"))


def measure(directory: str) -> tuple[float, float, int]:
    """(seconds, peak resident MB, exit code) of one `sglint check` in a fresh process."""
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "calico_sglint", "check", directory, "--no-cache", "--format", "json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "SGLINT_JOBS": "1"},
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    return elapsed, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", default="50,100,200,500", help="node-group counts (default 50,100,200,500)")
    args = parser.parse_args(argv)
    print("| node groups | seconds | peak RSS (MB) | exit |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as workdir:
        for count in (int(n) for n in args.groups.split(",")):
            directory = os.path.join(workdir, f"groups-{count}")
            generate(directory, count)
            seconds, peak, code = measure(directory)
            print(f"| {count} | {seconds:.1f} | {peak:.0f} | {code} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
