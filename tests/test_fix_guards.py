"""fix/guards.py: rules on counted groups live and die with the group and keep its provider.

A group with `count = var.create ? 1 : 0` gets `count = length(...)` rules on
`[count.index]`, so turning it off leaves no rule indexing a missing instance; a `for_each`
group gets `for_each = <group>` rules on `each.value`; a rule naming one counted instance of
another group is guarded by that instance existing; `provider` and `region` are repeated.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import write

TERRAFORM = shutil.which("terraform")
MAIN = '''variable "create" {
  type    = bool
  default = true
}

resource "aws_security_group" "node" {
  count    = var.create ? 1 : 0
  provider = aws.west
  region   = "us-west-2"
  name     = "node"
}

resource "aws_security_group" "zone" {
  for_each = toset(["a", "b"])
  name     = "worker-${each.key}"
}
'''


@pytest.fixture
def fixed(tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch) -> str:  # type: ignore[no-untyped-def]
    write(tmp_path / "m", {"main.tf": MAIN})
    monkeypatch.chdir(tmp_path)
    assert sglint("fix", "m").code == 0
    if TERRAFORM:
        assert subprocess.run([TERRAFORM, "fmt", "-check", str(tmp_path / "m")], capture_output=True).returncode == 0
    return (tmp_path / "m" / "calico_sglint.tf").read_text()


def _resource(text: str, name: str) -> str:
    start = text.index(f'resource "aws_security_group_rule" "{name}" {{\n')
    return text[start:text.index("\n}\n", start) + 3]


def test_a_conditional_group_gets_rules_under_its_own_count(fixed: str) -> None:
    assert _resource(fixed, "calico_vxlan_node_from_self") == (
        'resource "aws_security_group_rule" "calico_vxlan_node_from_self" {\n'
        "  count    = length(aws_security_group.node)\n"
        "  provider = aws.west\n\n"
        '  type              = "ingress"\n'
        '  description       = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes"\n'
        "  from_port         = 4789\n  to_port           = 4789\n"
        '  protocol          = "udp"\n'
        "  security_group_id = aws_security_group.node[count.index].id\n"
        "  self              = true\n"
        '  region            = "us-west-2"\n}\n'
    )


def test_a_for_each_group_gets_one_rule_per_key(fixed: str) -> None:
    rule = _resource(fixed, "calico_vxlan_zone_from_self")
    assert rule.splitlines()[1:3] == ["  for_each = aws_security_group.zone", ""]
    assert "  security_group_id = each.value.id\n" in rule
    assert "provider" not in rule and "region" not in rule


def test_a_rule_naming_one_instance_is_guarded_by_it(fixed: str) -> None:
    rule = _resource(fixed, "calico_typha_node_0_from_zone_b")
    assert rule.splitlines()[1] == (
        '  count    = length(aws_security_group.node) > 0 && contains(keys(aws_security_group.zone), "b") ? 1 : 0'
    )
    assert "  source_security_group_id = aws_security_group.zone[\"b\"].id\n" in rule


def test_turning_the_group_off_leaves_a_clean_check(fixed: str, tmp_path: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    assert sglint("check", "m").code == 0
    off = sglint("check", "m", "--var", "create=false", "--format", "json")
    assert off.code == 0, off.stdout
    assert [d for d in off.json()["diagnostics"] if d["severity"] == "error"] == []
    assert sglint("fix", "m").stdout.startswith("sglint fix: no missing rule to add\n")


def test_a_region_sglint_cannot_copy_is_a_one_line_error(tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "m", {"main.tf": (
        'variable "regions" {\n  default = ["us-west-2"]\n}\n\n'
        'resource "aws_security_group" "node" {\n  region = var.regions[0]\n  name   = "node"\n}\n'
    )})
    monkeypatch.chdir(tmp_path)
    result = sglint("fix", "m")
    assert result.code == 2
    assert result.stderr == (
        "m/main.tf:6: the region of this security group is an expression sglint does not copy into a generated "
        "rule; write the rule by hand, or give the group a plain reference or string\n"
    )
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["main.tf"]


def test_an_inline_rule_naming_a_counted_group_exists_only_with_it(tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    egress = '  egress {\n    from_port   = 0\n    to_port     = 0\n    protocol    = "-1"\n    cidr_blocks = ["0.0.0.0/0"]\n  }\n'
    write(tmp_path / "m", {"main.tf": (
        'variable "create_workers" {\n  default = true\n}\n\n'
        f'resource "aws_security_group" "master" {{\n  name = "master"\n\n{egress}}}\n\n'
        'resource "aws_security_group" "worker" {\n  count = var.create_workers ? 1 : 0\n  name  = "worker"\n\n'
        '  ingress {\n    from_port = 0\n    to_port   = 0\n    protocol  = "-1"\n    self      = true\n  }\n'
        f"{egress}}}\n\n"
        'resource "aws_instance" "master" {\n  vpc_security_group_ids = [aws_security_group.master.id]\n}\n\n'
        'resource "aws_instance" "worker" {\n  count                  = var.create_workers ? 2 : 0\n'
        "  vpc_security_group_ids = aws_security_group.worker[*].id\n}\n"
    )})
    monkeypatch.chdir(tmp_path)
    result = sglint("fix", "m", "--style", "inline")
    text = (tmp_path / "m" / "main.tf").read_text()
    assert (
        '  dynamic "ingress" {\n'
        "    for_each = length(aws_security_group.worker) > 0 ? [1] : []\n"
        "    content {\n"
        '      description     = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes"\n'
        "      from_port       = 4789\n      to_port         = 4789\n"
        '      protocol        = "udp"\n'
        "      security_groups = [aws_security_group.worker[0].id]\n"
        "    }\n  }\n"
    ) in text
    assert result.stdout.count("inline ingress") == 3  # typha, API server, vxlan on master
    if TERRAFORM:
        assert subprocess.run([TERRAFORM, "fmt", "-check", str(tmp_path / "m")], capture_output=True).returncode == 0
    off = sglint("check", "m", "--var", "create_workers=false", "--format", "json").json()
    assert [d for d in off["diagnostics"] if d["severity"] == "error"] == []
