"""checks.py: how path findings are grouped and what each structural check does and does not
report, on small modules written to temp dirs and checked through the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write

SELF_ALL = """
resource "aws_security_group_rule" "{sg}_self_all" {{
  type              = "ingress"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.{sg}.id
  self              = true
}}

resource "aws_security_group_rule" "{sg}_egress" {{
  type              = "egress"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.{sg}.id
  cidr_blocks       = ["0.0.0.0/0"]
}}
"""


def _mutual_ssh() -> str:
    """Groups a and b admitting each other (TCP 22) through two rule resources."""
    source = 'resource "aws_security_group" "a" {}\nresource "aws_security_group" "b" {}\n'
    for sg, other in (("a", "b"), ("b", "a")):
        source += f'''
resource "aws_security_group_rule" "{sg}_from_{other}" {{
  type                     = "ingress"
  from_port                = 22
  to_port                  = 22
  protocol                 = "tcp"
  security_group_id        = aws_security_group.{sg}.id
  source_security_group_id = aws_security_group.{other}.id
}}
'''
    return source


MUTUAL_SSH = _mutual_ssh()


def instances(name: str, sg: str, count: int) -> str:
    return (
        f'resource "aws_instance" "{name}" {{\n  count = {count}\n'
        f"  vpc_security_group_ids = [aws_security_group.{sg}.id]\n}}\n"
    )


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint):  # type: ignore[no-untyped-def]
    """Check a one-file module; return its findings (JSON)."""

    def run(source: str, *flags: str) -> list[dict[str, Any]]:
        write(tmp_path, {"main.tf": source})
        monkeypatch.chdir(tmp_path)
        result = sglint("check", ".", "--format", "json", *flags)
        assert result.code in (0, 1), result.stderr
        return result.json()["findings"]  # type: ignore[no-any-return]

    return run


def ids(findings: list[dict[str, Any]]) -> list[str]:
    return [f["rule_id"] for f in findings]


class TestPathFindings:
    def test_a_single_node_needs_no_path_to_itself_but_two_do(self, check) -> None:  # type: ignore[no-untyped-def]
        base = 'resource "aws_security_group" "n" {}\n' + SELF_ALL.format(sg="n").replace(
            'protocol          = "-1"\n  security_group_id = aws_security_group.n.id\n  self', 'protocol          = "icmp"\n  security_group_id = aws_security_group.n.id\n  self', 1
        )
        assert check(base + instances("node", "n", 1)) == []
        assert sorted(ids(check(base + instances("node", "n", 2)))) == ["calico-typha", "calico-vxlan"]

    def test_node_groups_sharing_security_groups_give_one_finding(self, check) -> None:  # type: ignore[no-untyped-def]
        source = (
            'resource "aws_security_group" "n" {}\n'
            + SELF_ALL.format(sg="n").split("resource \"aws_security_group_rule\" \"n_egress\"")[0]
            + instances("node_a", "n", 2) + instances("node_b", "n", 2)
        )
        findings = check(source)
        assert ids(findings) == ["calico-typha", "calico-vxlan"]
        assert findings[0]["path"]["source_node_groups"] == ["aws_instance.node_a", "aws_instance.node_b"]
        assert findings[0]["path"]["missing"] == "egress"

    def test_unverified_names_the_expression_and_is_a_warning(self, check) -> None:  # type: ignore[no-untyped-def]
        source = '''
variable "port" {}
resource "aws_security_group" "n" {}
resource "aws_security_group_rule" "vxlan" {
  type              = "ingress"
  from_port         = 4789
  to_port           = 4789
  protocol          = "udp"
  security_group_id = aws_security_group.n.id
  self              = true
}
resource "aws_security_group_rule" "typha" {
  type              = "ingress"
  from_port         = var.port
  to_port           = var.port
  protocol          = "tcp"
  security_group_id = aws_security_group.n.id
  self              = true
}
resource "aws_security_group_rule" "out" {
  type              = "egress"
  from_port         = 0
  to_port           = 0
  protocol          = "-1"
  security_group_id = aws_security_group.n.id
  cidr_blocks       = ["0.0.0.0/0"]
}
''' + instances("node", "n", 3)
        (finding,) = check(source)
        assert (finding["rule_id"], finding["severity"], finding["status"]) == ("calico-typha", "warning", "unverified")
        assert finding["unknowns"][0]["unknown"] == "var.port"
        assert "var.port (main.tf:14): variable has no value and no default" in finding["message"]
        assert finding["fix"] == []
        closed = check(source, "--var", "port=22")
        assert [(f["rule_id"], f["status"]) for f in closed] == [("calico-typha", "failed")]


class TestStructural:
    def test_a_ring_of_three_inline_references_is_one_cycle(self, check) -> None:  # type: ignore[no-untyped-def]
        ring = ""
        for sg, other in (("a", "b"), ("b", "c"), ("c", "a")):
            ring += f'''
resource "aws_security_group" "{sg}" {{
  ingress {{
    from_port       = 22
    to_port         = 22
    protocol        = "tcp"
    security_groups = [aws_security_group.{other}.id]
  }}
}}
'''
        (finding,) = [f for f in check(ring) if f["rule_id"] == "sg-cycle"]
        assert "aws_security_group.a -> aws_security_group.b -> aws_security_group.c -> aws_security_group.a" in finding["message"]
        assert len(finding["related"]) == 3

    def test_standalone_rules_in_both_directions_are_no_cycle(self, check) -> None:  # type: ignore[no-untyped-def]
        source = MUTUAL_SSH
        assert ids(check(source)) == ["no-node-groups", "sg-cross-reference"]

    def test_one_direction_is_no_cross_reference(self, check) -> None:  # type: ignore[no-untyped-def]
        source = '''
resource "aws_security_group" "a" {}
resource "aws_security_group" "b" {}
resource "aws_security_group_rule" "a_from_b" {
  type                     = "ingress"
  from_port                = 22
  to_port                  = 22
  protocol                 = "tcp"
  security_group_id        = aws_security_group.a.id
  source_security_group_id = aws_security_group.b.id
}
'''
        assert ids(check(source)) == ["no-node-groups"]  # and no sg-cross-reference

    def test_exposure_only_counts_node_groups_and_calico_ports(self, check) -> None:  # type: ignore[no-untyped-def]
        source = '''
resource "aws_security_group" "alb" {
  ingress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
resource "aws_security_group" "n" {
  ingress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }
  ingress {
    from_port   = 9000
    to_port     = 9999
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8", "0.0.0.0/0"]
  }
  ingress {
    from_port        = 443
    to_port          = 443
    protocol         = "tcp"
    ipv6_cidr_blocks = ["::/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
''' + instances("node", "n", 3)
        (finding,) = check(source)
        assert finding["rule_id"] == "sg-exposed"
        assert finding["message"] == (
            "aws_security_group.n admits tcp/9000-9999 from 0.0.0.0/0, "
            "exposing Felix metrics, Typha metrics to the internet"
        )

    def test_duplicates_across_styles_and_spellings(self, check) -> None:  # type: ignore[no-untyped-def]
        source = '''
resource "aws_security_group" "n" {
  ingress {
    from_port   = 179
    to_port     = 179
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/16"]
  }
  ingress {
    description = "same permission, other description"
    from_port   = 179
    to_port     = 179
    protocol    = "6"
    cidr_blocks = ["10.0.0.0/16", "10.1.0.0/16"]
  }
  ingress {
    from_port   = 179
    to_port     = 179
    protocol    = "tcp"
    cidr_blocks = ["10.2.0.0/16"]
  }
}
'''
        (finding,) = [f for f in check(source) if f["rule_id"] == "sg-duplicate-rule"]
        assert finding["location"]["line"] == 9
        assert finding["related"][0]["line"] == 3

    def test_rule_and_vpc_rule_resources_are_mixed_styles(self, check) -> None:  # type: ignore[no-untyped-def]
        source = '''
resource "aws_security_group" "n" {}
resource "aws_security_group_rule" "old" {
  type              = "ingress"
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  security_group_id = aws_security_group.n.id
  cidr_blocks       = ["10.0.0.0/8"]
}
resource "aws_vpc_security_group_ingress_rule" "new" {
  security_group_id = aws_security_group.n.id
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "10.0.0.0/8"
}
'''
        no_nodes, finding = check(source)
        assert (no_nodes["rule_id"], finding["rule_id"]) == ("no-node-groups", "sg-mixed-rule-styles")
        assert "aws_security_group_rule resources and aws_vpc_security_group_*_rule resources" in finding["message"]

    def test_a_typo_in_the_rules_own_security_group(self, check) -> None:  # type: ignore[no-untyped-def]
        source = '''
resource "aws_security_group" "bastion" {}
resource "aws_security_group_rule" "r" {
  type              = "ingress"
  from_port         = 22
  to_port           = 22
  protocol          = "tcp"
  security_group_id = aws_security_group.bastoin.id
  cidr_blocks       = ["10.0.0.0/8"]
}
'''
        no_nodes, finding = check(source)
        assert (no_nodes["rule_id"], finding["rule_id"]) == ("no-node-groups", "sg-unknown-reference")
        assert finding["message"] == (
            "aws_security_group_rule.r names aws_security_group.bastoin, which is not declared in this module"
        )
        assert finding["location"]["line"] == 8

    def test_disabled_in_config(self, check, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
        write(tmp_path, {".sglint.yaml": "disable:\n  - sg-cross-reference\n  - no-node-groups\nseverity:\n  calico-typha: info\n"})
        source = MUTUAL_SSH
        assert check(source) == []


def test_fingerprints_survive_moved_lines_but_not_a_changed_subject(tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    source = (Path(__file__).parents[1] / "examples" / "typha-blocked" / "main.tf").read_text()
    monkeypatch.chdir(tmp_path)

    def prints(text: str) -> list[tuple[str, str, int]]:
        write(tmp_path / "m", {"main.tf": text})
        report = sglint("check", "m", "--format", "json").json()
        return [(f["rule_id"], f["fingerprint"], f["location"]["line"]) for f in report["findings"]]

    before = prints(source)
    moved = prints("# a new comment\n\n" * 5 + source)
    assert [(r, p) for r, p, _ in moved] == [(r, p) for r, p, _ in before]
    assert [line for *_, line in moved] == [line + 10 for *_, line in before]
    renamed = prints(source.replace('"master"', '"controller"').replace("aws_security_group.master", "aws_security_group.controller"))
    assert [r for r, _, _ in renamed] == [r for r, _, _ in before]
    assert {p for _, p, _ in renamed}.isdisjoint({p for _, p, _ in before})


NODES_SG = 'resource "aws_security_group" "nodes" {}\n' + SELF_ALL.format(sg="nodes")
SRC_DST_MESSAGE = "so its nodes drop the pod traffic Calico routes unencapsulated (encapsulation={} from --encapsulation)"


class TestSrcDstCheck:
    """calico-src-dst-check, with every Calico path open so it is the only possible finding."""

    @pytest.mark.parametrize(
        ("encapsulation", "expected"),
        [("VXLANCrossSubnet", 1), ("IPIPCrossSubnet", 1), ("None", 1), ("VXLAN", 0), ("IPIP", 0)],
    )
    def test_only_unencapsulated_profiles_need_it_off(self, check, encapsulation: str, expected: int) -> None:  # type: ignore[no-untyped-def]
        findings = check(NODES_SG + instances("node", "nodes", 3), "--encapsulation", encapsulation)
        assert ids(findings) == ["calico-src-dst-check"] * expected

    def test_an_instance_with_the_check_on_and_off(self, check) -> None:  # type: ignore[no-untyped-def]
        source = NODES_SG + instances("node", "nodes", 3)
        (finding,) = check(source, "--encapsulation", "None")
        assert (finding["severity"], finding["status"], finding["location"]["line"], finding["path"]) == (
            "error", "failed", 20, None)
        assert finding["message"] == (
            "aws_instance.node keeps the EC2 source/destination check on (source_dest_check is not false), "
            + SRC_DST_MESSAGE.format("None"))
        assert finding["hint"].startswith("Set source_dest_check = false on aws_instance.node, or set Felix's "
                                          "awsSrcDstCheck: Disable")
        off = source.replace("  count = 3\n", "  count = 3\n  source_dest_check = false\n")
        assert check(off, "--encapsulation", "None") == []

    def test_instances_from_a_launch_template_point_at_it_and_need_felix(self, check) -> None:  # type: ignore[no-untyped-def]
        source = NODES_SG + '''
resource "aws_launch_template" "workers" {
  vpc_security_group_ids = [aws_security_group.nodes.id]
}

resource "aws_autoscaling_group" "workers" {
  min_size = 2
  max_size = 4
  launch_template {
    id = aws_launch_template.workers.id
  }
}
'''
        (finding,) = check(source, "--encapsulation", "VXLANCrossSubnet")
        assert finding["location"]["line"] == 21  # the launch template, not the group (line 23)
        assert finding["message"] == (
            "aws_autoscaling_group.workers launches its nodes from an autoscaling group, which cannot turn the "
            "EC2 source/destination check off, " + SRC_DST_MESSAGE.format("VXLANCrossSubnet"))
        assert finding["hint"].startswith("Set Felix's awsSrcDstCheck: Disable")
        assert check(source, "--encapsulation", "VXLANCrossSubnet", "--aws-src-dst-check", "disable") == []

    def test_an_unknown_value_is_unverified(self, check) -> None:  # type: ignore[no-untyped-def]
        source = NODES_SG + 'variable "sdc" {}\n' + instances("node", "nodes", 2).replace(
            "  count = 2\n", "  count = 2\n  source_dest_check = var.sdc\n")
        (finding,) = check(source, "--encapsulation", "None")
        assert (finding["severity"], finding["status"]) == ("warning", "unverified")
        assert [u["unknown"] for u in finding["unknowns"]] == ["var.sdc"]
        assert finding["message"].startswith("unverified: the nodes of aws_instance.node drop the pod traffic")
        assert check(source, "--encapsulation", "None", "--var", "sdc=false") == []

    def test_felix_enable_is_one_finding_whatever_terraform_says(self, check) -> None:  # type: ignore[no-untyped-def]
        source = NODES_SG + instances("node", "nodes", 2).replace("  count = 2\n", "  count = 2\n  source_dest_check = false\n")
        (finding,) = check(source, "--encapsulation", "None", "--aws-src-dst-check", "Enable")
        assert finding["message"].startswith(
            "Felix's awsSrcDstCheck is Enable (from --aws-src-dst-check): calico-node turns the EC2 source/destination "
            "check on for every node, so the nodes drop")
        assert finding["location"]["line"] == 20  # no file to point at: the first node group

    def test_a_single_node_and_a_module_without_compute_are_not_checked(self, check) -> None:  # type: ignore[no-untyped-def]
        assert check(NODES_SG + instances("node", "nodes", 1), "--encapsulation", "None") == []
        assert check(NODES_SG, "--encapsulation", "None") == []


def test_every_structural_rule_has_one_check_and_every_check_a_rule() -> None:
    """The registry and the rule pages name the same structural checks (sglint-ignore is the
    suppression stage's own rule, not a check)."""
    from calico_sglint.checks.structural import STRUCTURAL_CHECKS
    from calico_sglint.checks.suppress import SUPPRESSION_RULE
    from calico_sglint.profile.rulepack import load_packs

    registered = [check.id for check in STRUCTURAL_CHECKS]
    pages = {rule.id for rule in load_packs().rules if rule.kind == "structural"}
    assert len(registered) == len(set(registered))
    assert set(registered) == pages - {SUPPRESSION_RULE}


def test_a_user_pack_cannot_add_a_structural_check(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from calico_sglint.profile.rulepack import load_packs
    from calico_sglint.source import InputError

    pack = tmp_path / "pack.yaml"
    pack.write_text(
        "rules:\n  - id: my-check\n    title: t\n    severity: error\n    kind: structural\n"
        "    description: d\n    why: w\n    fix: f\n    source: s\n"
    )
    with pytest.raises(InputError, match=r"rules\[0\]\.kind: structural checks are built in"):
        load_packs([str(pack)])


class TestCoverage:
    def test_security_groups_without_any_node_group(self, check) -> None:  # type: ignore[no-untyped-def]
        (finding,) = check('resource "aws_security_group" "lb" {}\nresource "aws_security_group" "db" {}\n')
        assert (finding["rule_id"], finding["severity"], finding["location"]["line"]) == ("no-node-groups", "warning", 2)
        assert finding["message"] == (
            "root module . has 2 security groups but no node group sglint can see: no Calico path was checked"
        )

    def test_nothing_at_all(self, check) -> None:  # type: ignore[no-untyped-def]
        (finding,) = check('resource "aws_s3_bucket" "logs" {}\n')
        assert (finding["rule_id"], finding["location"]["file"], finding["location"]["line"]) == (
            "no-security-groups", "main.tf", 1,
        )

    def test_a_group_named_for_a_role_is_enough(self, check) -> None:  # type: ignore[no-untyped-def]
        assert [f["rule_id"] for f in check('resource "aws_security_group" "workers" {}\n')] == ["calico-typha", "calico-vxlan"]
