"""graph.py: the one path query, open / closed / unknown, on real Terraform in temp dirs.

Each case is a module with two SGs, `a` (the source nodes) and `b` (the target nodes), the
rules under test, and the expected state of each side for one protocol and port range.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write

from calico_sglint.checks.reachability import CLOSED, OPEN, UNKNOWN, Endpoint, SgGraph
from calico_sglint.model.build import build_model
from calico_sglint.terraform.evaluate import evaluate_root
from calico_sglint.terraform.values import Unknown
from calico_sglint.terraform.workspace import load_workspace

EGRESS_ALL = """
resource "aws_security_group_rule" "a_out" {
  type              = "egress"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.a.id
  cidr_blocks       = ["0.0.0.0/0"]
}
"""

A = Endpoint("nodes a", ("aws_security_group.a",), ("10.0.1.0/24",))
B = Endpoint("nodes b", ("aws_security_group.b",), ("10.0.2.0/24",))


def ingress(name: str, protocol: str, low: int, high: int, peer: str) -> str:
    return f"""
resource "aws_security_group_rule" "{name}" {{
  type              = "ingress"
  from_port         = {low}
  to_port           = {high}
  protocol          = "{protocol}"
  security_group_id = aws_security_group.b.id
  {peer}
}}
"""


def graph_of(root: Path, rules: str) -> SgGraph:
    source = 'variable "unknown" {}\nresource "aws_security_group" "a" {}\nresource "aws_security_group" "b" {}\n' + rules
    write(root, {"main.tf": source})
    workspace = load_workspace([str(root)], cwd=str(root))
    return SgGraph(build_model(evaluate_root(workspace, workspace.roots[0])))


FROM_A = "source_security_group_id = aws_security_group.a.id"


@pytest.mark.parametrize(
    ("rules", "protocol", "ports", "ingress_state", "egress_state"),
    [
        # the exact port, from the source SG
        (ingress("r", "tcp", 5473, 5473, FROM_A) + EGRESS_ALL, "tcp", (5473, 5473), OPEN, OPEN),
        # a wide range covers it; two adjacent ranges cover a range together
        (ingress("r", "tcp", 1, 2379, FROM_A) + EGRESS_ALL, "tcp", (179, 179), OPEN, OPEN),
        (ingress("r", "tcp", 2379, 2379, FROM_A) + ingress("s", "tcp", 2380, 2380, FROM_A) + EGRESS_ALL,
         "tcp", (2379, 2380), OPEN, OPEN),
        (ingress("r", "tcp", 2379, 2379, FROM_A) + EGRESS_ALL, "tcp", (2379, 2380), CLOSED, OPEN),
        # all traffic covers any protocol; a tcp rule does not cover udp or protocol 4
        (ingress("r", "-1", 0, 0, FROM_A) + EGRESS_ALL, "udp", (4789, 4789), OPEN, OPEN),
        (ingress("r", "-1", 0, 0, FROM_A) + EGRESS_ALL, "4", (0, 65535), OPEN, OPEN),
        (ingress("r", "tcp", 0, 65535, FROM_A) + EGRESS_ALL, "udp", (4789, 4789), CLOSED, OPEN),
        (ingress("r", "tcp", 0, 65535, FROM_A) + EGRESS_ALL, "4", (0, 65535), CLOSED, OPEN),
        (ingress("r", "4", 0, 0, FROM_A) + EGRESS_ALL, "4", (0, 65535), OPEN, OPEN),
        # the native-routing requirement needs a rule for every protocol
        (ingress("r", "tcp", 0, 65535, FROM_A) + ingress("s", "udp", 0, 65535, FROM_A) + EGRESS_ALL,
         "all", (0, 65535), CLOSED, OPEN),
        # self admits only members: b's self rule does not admit a
        (ingress("r", "tcp", 5473, 5473, "self = true") + EGRESS_ALL, "tcp", (5473, 5473), CLOSED, OPEN),
        # a CIDR holding the source's subnet; one that does not; 0.0.0.0/0; ::/0 for IPv4
        (ingress("r", "tcp", 5473, 5473, 'cidr_blocks = ["10.0.0.0/16"]') + EGRESS_ALL, "tcp", (5473, 5473), OPEN, OPEN),
        (ingress("r", "tcp", 5473, 5473, 'cidr_blocks = ["10.1.0.0/16"]') + EGRESS_ALL, "tcp", (5473, 5473), CLOSED, OPEN),
        (ingress("r", "tcp", 5473, 5473, 'cidr_blocks = ["0.0.0.0/0"]') + EGRESS_ALL, "tcp", (5473, 5473), OPEN, OPEN),
        (ingress("r", "tcp", 5473, 5473, 'ipv6_cidr_blocks = ["::/0"]') + EGRESS_ALL, "tcp", (5473, 5473), CLOSED, OPEN),
        # half the subnet is not all of it
        (ingress("r", "tcp", 5473, 5473, 'cidr_blocks = ["10.0.1.0/25"]') + EGRESS_ALL, "tcp", (5473, 5473), UNKNOWN, OPEN),
        # unknown values might open it
        (ingress("r", "tcp", 5473, 5473, "cidr_blocks = [var.unknown]") + EGRESS_ALL, "tcp", (5473, 5473), UNKNOWN, OPEN),
        (ingress("r", "tcp", 5473, 5473, 'prefix_list_ids = ["pl-1"]') + EGRESS_ALL, "tcp", (5473, 5473), UNKNOWN, OPEN),
        (ingress("r", "tcp", "var.unknown", "var.unknown", FROM_A) + EGRESS_ALL, "tcp", (5473, 5473), UNKNOWN, OPEN),
        # no egress rule at all: Terraform removed AWS's default allow-all
        (ingress("r", "tcp", 5473, 5473, FROM_A), "tcp", (5473, 5473), OPEN, CLOSED),
    ],
)
def test_path_state(
    tmp_path: Path, rules: str, protocol: str, ports: tuple[int, int], ingress_state: str, egress_state: str
) -> None:
    state = graph_of(tmp_path, rules).path_state(A, B, protocol, ports)
    assert (state.ingress.state, state.egress.state) == (ingress_state, egress_state)
    expected = CLOSED if CLOSED in (ingress_state, egress_state) else UNKNOWN if UNKNOWN in (ingress_state, egress_state) else OPEN
    assert state.state == expected


def test_opening_and_possible_rules_are_named(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, ingress("r", "tcp", 5473, 5473, FROM_A) + ingress("s", "tcp", 5473, 5473, "cidr_blocks = [var.unknown]") + EGRESS_ALL)
    state = graph.path_state(A, B, "tcp", (5473, 5473))
    assert [r.declared_by for r in state.ingress.opening] == ["aws_security_group_rule.r"]
    assert [r.declared_by for r in state.ingress.possible] == ["aws_security_group_rule.s"]
    assert state.missing is None


def test_an_external_or_unknown_security_group_makes_the_side_unknown(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, EGRESS_ALL)
    external = Endpoint("eks", ("data.aws_security_group.eks",), ("10.0.2.0/24",))
    state = graph.path_state(A, external, "tcp", (5473, 5473))
    assert state.ingress.state == UNKNOWN
    assert state.ingress.unknowns[0].reason.startswith("security group not created in the scanned code")
    unknown_sg = Endpoint("?", (Unknown("var.sg", "no value"),), ("10.0.2.0/24",))
    assert graph.path_state(A, unknown_sg, "tcp", (5473, 5473)).ingress.state == UNKNOWN


def test_cidr_against_unknown_node_addresses_is_unknown_except_everywhere(tmp_path: Path) -> None:
    nowhere = Endpoint("a", ("aws_security_group.a",), (Unknown("aws_instance.a.subnet_id", "no subnet set"),))
    graph = graph_of(tmp_path / "1", ingress("r", "tcp", 5473, 5473, 'cidr_blocks = ["10.0.0.0/8"]') + EGRESS_ALL)
    state = graph.path_state(nowhere, B, "tcp", (5473, 5473))
    assert (state.ingress.state, [u.expr for u in state.ingress.unknowns]) == (UNKNOWN, ["aws_instance.a.subnet_id"])
    everywhere = graph_of(tmp_path / "2", ingress("r", "tcp", 5473, 5473, 'cidr_blocks = ["0.0.0.0/0"]') + EGRESS_ALL)
    assert everywhere.path_state(nowhere, B, "tcp", (5473, 5473)).ingress.state == OPEN


def test_rules_of_unknown_multiplicity_are_only_possible(tmp_path: Path) -> None:
    rules = """
resource "aws_security_group_rule" "r" {
  for_each                 = var.unknown
  type                     = "ingress"
  from_port                = 5473
  to_port                  = 5473
  protocol                 = "tcp"
  security_group_id        = aws_security_group.b.id
  source_security_group_id = aws_security_group.a.id
}
""" + EGRESS_ALL
    state = graph_of(tmp_path, rules).path_state(A, B, "tcp", (5473, 5473))
    assert state.ingress.state == UNKNOWN
    assert [u.expr for u in state.ingress.unknowns] == ["var.unknown"]


def test_the_graph_has_edges_from_peer_to_group(tmp_path: Path) -> None:
    graph = graph_of(tmp_path, ingress("r", "tcp", 5473, 5473, FROM_A) + ingress("s", "udp", 4789, 4789, "self = true") + EGRESS_ALL)
    edges = sorted((u, v, d["direction"]) for u, v, d in graph.graph.edges(data=True))
    assert edges == [
        ("aws_security_group.a", "aws_security_group.b", "ingress"),
        ("aws_security_group.a", "cidr:0.0.0.0/0", "egress"),
        ("aws_security_group.b", "aws_security_group.b", "ingress"),
    ]


PLACED = Endpoint("nodes a", ("aws_security_group.a",), ("10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"))


@pytest.mark.parametrize(
    ("cidrs", "state", "closed_for"),
    [
        # one rule per part: together they admit every placement
        (['["10.0.1.0/24"]', '["10.0.2.0/23"]'], OPEN, ()),
        # the first placement alone would pass: the others are not admitted
        (['["10.0.1.0/24"]'], CLOSED, ("10.0.2.0/24", "10.0.3.0/24")),
        (['["10.0.0.0/16"]'], OPEN, ()),
        (['["10.9.0.0/16"]'], CLOSED, ()),  # no placement admitted: nothing to single out
    ],
)
def test_a_side_is_open_only_for_every_placement(
    tmp_path: Path, cidrs: list[str], state: str, closed_for: tuple[str, ...]
) -> None:
    rules = "".join(ingress(f"r{i}", "tcp", 5473, 5473, f"cidr_blocks = {c}") for i, c in enumerate(cidrs))
    side = graph_of(tmp_path, rules + EGRESS_ALL).path_state(PLACED, B, "tcp", (5473, 5473)).ingress
    assert (side.state, side.closed_for) == (state, closed_for)
