"""checks/paths.py: required paths are computed, not kept. Paths are quadratic in the node
groups of a cluster by nature; the memory a check holds must not be (issue #17)."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from conftest import write

from calico_sglint.checks.paths import RequiredPaths
from calico_sglint.checks.run import run_checks
from calico_sglint.model.roles import assign_roles
from calico_sglint.pipeline import CheckOptions, ReadOptions, read, settings
from calico_sglint.profile.settings import resolve_profile

CLUSTER = """
resource "aws_security_group" "cluster" {}

resource "aws_security_group_rule" "typha" {
  type                     = "ingress"
  security_group_id        = aws_security_group.cluster.id
  source_security_group_id = aws_security_group.cluster.id
  protocol                 = "tcp"
  from_port                = 5473
  to_port                  = 5473
}

resource "aws_security_group_rule" "out" {
  type                     = "egress"
  security_group_id        = aws_security_group.cluster.id
  source_security_group_id = aws_security_group.cluster.id
  protocol                 = "-1"
  from_port                = 0
  to_port                  = 0
}
"""

GROUP = """
resource "aws_security_group" "g{i}" {{}}

resource "aws_instance" "g{i}" {{
  count                  = 2
  vpc_security_group_ids = [aws_security_group.cluster.id, aws_security_group.g{i}.id]
  tags                   = {{ Role = "{role}" }}
}}
"""


def _checked(tmp_path: Path, groups: int):  # type: ignore[no-untyped-def]
    """run_checks on one cluster of `groups` node groups, and the peak bytes it allocated."""
    source = CLUSTER + "".join(GROUP.format(i=i, role="control-plane" if i == 0 else "worker") for i in range(groups))
    root = write(tmp_path / f"groups-{groups}", {"main.tf": source})
    result = read(ReadOptions((str(root),)))
    config, pack = settings(CheckOptions(ReadOptions((str(root),))))
    model = result.models[0]
    cluster = assign_roles(model, config.roles, config.clusters)
    tracemalloc.start()
    try:
        checked = run_checks(model, cluster, resolve_profile({}, {}, {}), pack)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return checked, peak


def test_the_paths_are_computed_again_each_time_they_are_read(tmp_path: Path) -> None:
    checked, _ = _checked(tmp_path, 4)
    assert isinstance(checked.paths, RequiredPaths)
    first = [(p.rule.id, p.source.group.address, p.target.group.address, p.protocol, p.ports, p.state.state)
             for p in checked.paths]
    again = [(p.rule.id, p.source.group.address, p.target.group.address, p.protocol, p.ports, p.state.state)
             for p in checked.paths]
    assert first == again
    typha = [p for p in first if p[0] == "calico-typha"]
    assert len(typha) == 4 * 4  # every ordered pair of groups, and each group (2 nodes) to itself
    assert {p[5] for p in typha} == {"open"}


@pytest.mark.slow
def test_memory_grows_with_the_groups_not_with_the_paths(tmp_path: Path) -> None:
    # Four times the paths (twice the groups) once took four times the memory: every
    # RequiredPath with its state was kept. Now only the findings' groups are.
    _, small = _checked(tmp_path, 25)
    _, large = _checked(tmp_path, 50)
    assert large < 2.6 * small, (small, large)


def test_a_closed_path_shared_by_many_groups_is_one_finding_naming_them(tmp_path: Path) -> None:
    checked, _ = _checked(tmp_path, 6)
    vxlan = [f for f in checked.findings if f.rule_id == "calico-vxlan"]
    assert len(vxlan) == 1
    assert vxlan[0].message.startswith(
        "aws_instance.g0, aws_instance.g1, aws_instance.g2 and 3 more (aws_security_group.cluster) cannot reach "
        "aws_instance.g0, aws_instance.g1, aws_instance.g2 and 3 more (aws_security_group.cluster) on udp/4789: "
    )
    assert vxlan[0].path is not None
    assert len(vxlan[0].path.source_groups) == 6 and len(vxlan[0].path.target_groups) == 6
