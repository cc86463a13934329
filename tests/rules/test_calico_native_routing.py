"""calico-native-routing: input modules and the exact findings of the rule (harness: tests/rules/ruletable.py)."""

from __future__ import annotations

from pathlib import Path

from ruletable import BASE, Case, cases, findings_of, page

RULE = "calico-native-routing"
CP_TCP = "tcp/1-2378, tcp/2382-4000, tcp/4003-10256, tcp/10258, tcp/10260-65535"

ETCD_CLOSED = """\
# kops: the workers reach the master on every TCP port but etcd (2380-2381, 4001-4002), on
# all UDP and on IP-in-IP; everything else is all traffic.
resource "aws_security_group_rule" "master_from_worker" {
  for_each                 = { a = [1, 2379], b = [2382, 4000], c = [4003, 65535] }
  type                     = "ingress"
  from_port                = each.value[0]
  to_port                  = each.value[1]
  protocol                 = "tcp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}

resource "aws_security_group_rule" "master_udp_from_worker" {
  type                     = "ingress"
  from_port                = 1
  to_port                  = 65535
  protocol                 = "udp"
  security_group_id        = aws_security_group.master.id
  source_security_group_id = aws_security_group.worker.id
}

resource "aws_security_group_rule" "all_from_master" {
  for_each                 = { master = aws_security_group.master.id, worker = aws_security_group.worker.id }
  type                     = "ingress"
  from_port                = 0
  to_port                  = 0
  protocol                 = "-1"
  security_group_id        = each.value
  source_security_group_id = aws_security_group.master.id
}

resource "aws_security_group_rule" "worker_self" {
  type              = "ingress"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.worker.id
  self              = true
}
"""


@cases(
    Case(
        "tcp-only",  # only TCP between workers
        {"base.tf": BASE, "main.tf": page("calico-native-routing").example},
        [
            # to the control plane: every TCP port but the control-plane services, and UDP
            ("error", "base.tf:5",
             f"aws_security_group.master cannot reach aws_security_group.master on {CP_TCP}: no ingress rule"
             f" on aws_security_group.master admits {CP_TCP} from itself"),
            ("error", "base.tf:5",
             "aws_security_group.master cannot reach aws_security_group.master on udp/1-65535: no ingress rule"
             " on aws_security_group.master admits udp/1-65535 from itself"),
            ("error", "base.tf:5",
             f"aws_security_group.worker cannot reach aws_security_group.master on {CP_TCP}: no ingress rule"
             f" on aws_security_group.master admits {CP_TCP} from aws_security_group.worker"),
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on udp/1-65535: no ingress rule"
             " on aws_security_group.master admits udp/1-65535 from aws_security_group.worker"),
            ("error", "base.tf:9",
             "aws_security_group.master cannot reach aws_security_group.worker on all traffic: no ingress rule"
             " on aws_security_group.worker admits all traffic from aws_security_group.master"),
            ("error", "base.tf:9",
             "aws_security_group.worker cannot reach aws_security_group.worker on all traffic: no ingress rule"
             " on aws_security_group.worker admits all traffic from itself"),
        ],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "all-traffic",  # all traffic between every pair
        {"base.tf": BASE, "main.tf": page("calico-native-routing").example_fixed},
        [],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "etcd-closed-to-the-control-plane",  # host-network control-plane ports may stay closed
        {"base.tf": BASE, "main.tf": ETCD_CLOSED},
        [],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "udp-closed-to-the-control-plane",  # a whole protocol closed stays an error
        {"base.tf": BASE, "main.tf": ETCD_CLOSED.replace('protocol                 = "udp"', 'protocol                 = "icmp"')},
        [
            ("error", "base.tf:5",
             "aws_security_group.worker cannot reach aws_security_group.master on udp/1-65535: no ingress rule"
             " on aws_security_group.master admits udp/1-65535 from aws_security_group.worker"),
        ],
        flags=('--encapsulation', 'None'),
    ),
    Case(
        "vxlan-always",  # VXLAN always encapsulates: not required
        {"base.tf": BASE, "main.tf": page("calico-native-routing").example},
        [],
    ),
)
def test_findings(case: Case, tmp_path: Path) -> None:
    assert findings_of(RULE, case, tmp_path) == case.expected
