"""fix.py, property-based: over generated security-group layouts (random SG counts, rule
styles, ports, peers, egress and node groups), `fix` then `check` leaves no fixable path
finding (every failure left is one fix names as unfixable, with its reason), and a second
`fix` changes nothing."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calico_sglint.checks.findings import FAILED
from calico_sglint.fix.patches import plan_fixes, render_patches
from calico_sglint.fix.write import write_patches
from calico_sglint.pipeline import CheckOptions, ReadOptions, check

NAMES = ("master", "worker", "nodes")
PORTS = (("tcp", 179), ("tcp", 5473), ("udp", 4789), ("tcp", 6443), ("tcp", 10250), ("tcp", 22), ("-1", 0), ("4", 0))
ENCAPSULATIONS = ("VXLAN", "IPIP", "VXLANCrossSubnet", "None")


@dataclass(frozen=True)
class Rule:
    direction: str
    protocol: str
    port: int
    peer: str  # "self", another SG name, or a CIDR


@dataclass(frozen=True)
class Group:
    name: str
    style: str  # "inline", "rule", "vpc-rule" or "none"
    rules: tuple[Rule, ...]
    nodes: int


@st.composite
def layouts(draw: st.DrawFn) -> tuple[tuple[Group, ...], str, str]:
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3, unique=True))
    groups = []
    for name in names:
        style = draw(st.sampled_from(("inline", "rule", "vpc-rule", "none")))
        peers = st.sampled_from(("self", "0.0.0.0/0", "10.0.0.0/8", *[n for n in names if n != name]))
        rule = st.builds(
            lambda d, pp, peer: Rule(d, pp[0], pp[1], peer),
            st.sampled_from(("ingress", "egress")), st.sampled_from(PORTS), peers,
        )
        rules = () if style == "none" else tuple(draw(st.lists(rule, max_size=6, unique=True)))
        groups.append(Group(name, style, rules, draw(st.integers(1, 3))))
    if any(g.style == "inline" for g in groups):
        groups = _without_inline_cycles(groups)
    return tuple(groups), draw(st.sampled_from(ENCAPSULATIONS)), draw(st.sampled_from(("rule", "vpc-rule", "inline")))


def _without_inline_cycles(groups: list[Group]) -> list[Group]:
    """Inline rules naming each other are an sg-cycle (a different finding); keep one direction."""
    order = {g.name: i for i, g in enumerate(groups)}
    kept = []
    for g in groups:
        rules = g.rules
        if g.style == "inline":
            rules = tuple(r for r in rules if r.peer not in order or order[r.peer] >= order[g.name])
        kept.append(Group(g.name, g.style, rules, g.nodes))
    return kept


def terraform(groups: tuple[Group, ...]) -> str:
    parts = []
    for group in groups:
        inline = [_inline(r) for r in group.rules] if group.style == "inline" else []
        parts.append(f'resource "aws_security_group" "{group.name}" {{\n  name = "{group.name}"\n' + "".join(inline) + "}\n")
        if group.style in ("rule", "vpc-rule"):
            parts.extend(_standalone(group, i, r) for i, r in enumerate(group.rules))
        parts.append(
            f'resource "aws_instance" "{group.name}" {{\n  count = {group.nodes}\n'
            f"  vpc_security_group_ids = [aws_security_group.{group.name}.id]\n}}\n"
        )
    return "\n".join(parts)


def _peer(rule: Rule, style: str, own: str) -> str:
    if rule.peer == "self":
        return {
            "inline": "self = true",
            "rule": "self = true",
            "vpc-rule": f"referenced_security_group_id = aws_security_group.{own}.id",
        }[style]
    if "/" in rule.peer:
        return {"inline": f'cidr_blocks = ["{rule.peer}"]', "rule": f'cidr_blocks = ["{rule.peer}"]',
                "vpc-rule": f'cidr_ipv4 = "{rule.peer}"'}[style]
    return {
        "inline": f"security_groups = [aws_security_group.{rule.peer}.id]",
        "rule": f"source_security_group_id = aws_security_group.{rule.peer}.id",
        "vpc-rule": f"referenced_security_group_id = aws_security_group.{rule.peer}.id",
    }[style]


def _inline(rule: Rule) -> str:
    return (
        f"  {rule.direction} {{\n    from_port = {rule.port}\n    to_port = {rule.port}\n"
        f'    protocol = "{rule.protocol}"\n    {_peer(rule, "inline", "")}\n  }}\n'
    )


def _standalone(group: Group, index: int, rule: Rule) -> str:
    if group.style == "rule":
        return (
            f'resource "aws_security_group_rule" "{group.name}_{index}" {{\n  type = "{rule.direction}"\n'
            f'  from_port = {rule.port}\n  to_port = {rule.port}\n  protocol = "{rule.protocol}"\n'
            f"  security_group_id = aws_security_group.{group.name}.id\n  {_peer(rule, 'rule', group.name)}\n}}\n"
        )
    ports = "" if rule.protocol not in ("tcp", "udp") else f"  from_port = {rule.port}\n  to_port = {rule.port}\n"
    return (
        f'resource "aws_vpc_security_group_{rule.direction}_rule" "{group.name}_{index}" {{\n'
        f'  security_group_id = aws_security_group.{group.name}.id\n  ip_protocol = "{rule.protocol}"\n'
        f"{ports}  {_peer(rule, 'vpc-rule', group.name)}\n}}\n"
    )


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layouts())
def test_fix_then_check_leaves_nothing_fixable_and_fix_is_idempotent(layout: tuple[tuple[Group, ...], str, str]) -> None:
    groups, encapsulation, style = layout
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory) / "m"
        root.mkdir()
        (root / "main.tf").write_text(terraform(groups))
        cwd = os.getcwd()
        os.chdir(directory)
        try:
            options = CheckOptions(ReadOptions(paths=("m",)), {"encapsulation": encapsulation})
            first = check(options)
            assert not first.has_errors, first.diagnostics
            write_patches(render_patches(plan_fixes(first, style)))

            second = check(options)
            assert not second.has_errors, second.diagnostics
            leftover = plan_fixes(second, style)
            assert leftover.rules == (), [r.describe() for r in leftover.rules]
            failed = {f for f in second.findings if f.path is not None and f.status == FAILED}
            explained = {u.finding for u in leftover.unfixable}
            assert failed <= explained, [f.message for f in failed - explained]
            cycles = [f for f in second.findings if f.rule_id == "sg-cycle"]
            assert not cycles, [f.message for f in cycles]
            assert render_patches(leftover) == []
        finally:
            os.chdir(cwd)
