"""Path requirements: for every pair of cluster node groups a requirement's roles select, the
path must be open.

A closed path is one finding per requirement and (source SG, target SG), saying which side
is missing, the nearest existing rules and the rule that would fix it. A path that unknown
values might open is an *unverified* warning naming them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx

from calico_sglint.checks.findings import (
    FAILED,
    UNVERIFIED,
    Finding,
    PathInfo,
    Related,
    RequiredPath,
    RuleToAdd,
)
from calico_sglint.checks.reachability import (
    CLOSED,
    OPEN,
    Endpoint,
    PathState,
    SgGraph,
    carries,
    inline_references,
)
from calico_sglint.model.roles import Cluster, ClusterNode
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.profile.settings import Profile
from calico_sglint.render.wording import (
    describe_peer,
    describe_ports,
    traffic_text,
    unknown_text,
)
from calico_sglint.source import Location
from calico_sglint.terraform.values import Unknown


def _selects(role: str, node: ClusterNode) -> bool:
    return role == "any" or role in node.roles


def primary_sg(node: ClusterNode, graph: SgGraph) -> str:
    """The SG to report (and fix) for a node group: its first SG created in the scanned code."""
    known = [s for s in node.group.security_groups if isinstance(s, str)]
    managed = [s for s in known if s in graph.groups and graph.groups[s].managed]
    if managed:
        return managed[0]
    if known:
        return known[0]
    first = node.group.security_groups[0] if node.group.security_groups else None
    return first.expr if isinstance(first, Unknown) else node.group.address


def endpoint(node: ClusterNode) -> Endpoint:
    return Endpoint(node.group.address, node.group.security_groups, node.group.networks)


def required_paths(rule: PackRule, graph: SgGraph, cluster: Cluster, profile: Profile) -> list[RequiredPath]:
    """Every path `rule` requires between the cluster's node groups, open or not; a group of
    one node needs no path to itself."""
    found = []
    for source in cluster.nodes:
        if not _selects(rule.from_role, source):
            continue
        for target in cluster.nodes:
            if not _selects(rule.to_role, target):
                continue
            if source is target and not source.needs_self_path:
                continue
            for ports in profile.ports(rule):
                state = graph.path_state(endpoint(source), endpoint(target), rule.protocol, ports, rule.family)
                found.append(RequiredPath(rule, source, target, ports, state))
    return found


@dataclass
class _Pair:
    """The node-group pairs that share one (source SG, target SG) path of a requirement."""

    states: list[PathState] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)


def path_findings(rule: PackRule, required: list[RequiredPath], graph: SgGraph, root: str) -> list[Finding]:
    """One finding per (source SG, target SG, port range) of `rule` whose path is not open."""
    pairs: dict[tuple[str, str, tuple[int, int]], _Pair] = defaultdict(_Pair)
    for required in required:
        if required.state.state == OPEN:
            continue
        pair = pairs[(primary_sg(required.source, graph), primary_sg(required.target, graph), required.ports)]
        pair.states.append(required.state)
        pair.sources.append(required.source.group.address)
        pair.targets.append(required.target.group.address)
    return [
        _path_finding(rule, graph, root, source_sg, target_sg, ports, pair)
        for (source_sg, target_sg, ports), pair in pairs.items()
    ]


def _path_finding(
    rule: PackRule, graph: SgGraph, root: str, source_sg: str, target_sg: str,
    ports: tuple[int, int], pair: _Pair,
) -> Finding:
    closed = [s for s in pair.states if s.state == CLOSED]
    state = closed[0] if closed else pair.states[0]
    missing = state.missing or "both"
    sources = tuple(dict.fromkeys(pair.sources))
    targets = tuple(dict.fromkeys(pair.targets))
    traffic = traffic_text(rule.protocol, *ports)
    who = f"{_groups_text(sources, source_sg)} cannot reach {_groups_text(targets, target_sg)} on {traffic}"
    path = PathInfo(rule.protocol, ports[0], ports[1], source_sg, target_sg, missing, sources, targets)
    related = _nearest_rules(graph, state, source_sg, target_sg, rule.protocol, ports)
    location = _sg_location(graph, target_sg if missing in ("ingress", "both") else source_sg)
    if closed:
        fixes = _fixes(rule, graph, state, source_sg, target_sg, ports)
        reasons = _missing_text(graph, state, source_sg, target_sg, traffic)
        nearest = "; ".join(f"{r.message} ({r.location})" for r in related)
        hint = _fix_text(fixes, traffic) + _cycle_advice(graph, fixes) + (
            f" Nearest existing rules: {nearest}." if nearest else ""
        )
        return Finding(
            rule.id, rule.severity, f"{who}: {reasons}", location, root, FAILED, hint, path,
            related, (), fixes, _path_key(path),
        )
    unknowns = tuple(dict.fromkeys(u for s in (state.ingress, state.egress) for u in s.unknowns))
    named = "; ".join(unknown_text(u) for u in unknowns[:3]) or "values sglint cannot evaluate"
    message = f"unverified: {who} unless unevaluated values open it: {named}"
    hint = "Give the values above (--var, --var-file, tfvars) or declare the rules in the scanned code."
    return Finding(
        rule.id, "warning", message, location, root, UNVERIFIED, hint, path, related, unknowns, (), _path_key(path)
    )


def _path_key(path: PathInfo) -> str:
    return f"{path.source_sg}>{path.target_sg}:{path.protocol}/{path.from_port}-{path.to_port}"


def _groups_text(groups: tuple[str, ...], sg: str) -> str:
    if groups == (sg,):
        return sg
    names = ", ".join(groups[:3]) + (f" and {len(groups) - 3} more" if len(groups) > 3 else "")
    return f"{names} ({sg})"


def _missing_text(graph: SgGraph, state: PathState, source_sg: str, target_sg: str, traffic: str) -> str:
    parts = []
    if state.ingress.state == CLOSED:
        whom = "itself" if source_sg == target_sg else source_sg
        parts.append(f"no ingress rule on {target_sg} admits {traffic} from {whom}")
    if state.egress.state == CLOSED:
        whom = "itself" if source_sg == target_sg else target_sg
        if graph.rules(source_sg, "egress"):
            parts.append(f"no egress rule on {source_sg} allows {traffic} to {whom}")
        else:
            parts.append(
                f"{source_sg} has no egress rules at all (Terraform removes AWS's default allow-all egress)"
            )
    return " and ".join(parts) or "the path is not open"


def _fixes(
    rule: PackRule, graph: SgGraph, state: PathState, source_sg: str, target_sg: str,
    ports: tuple[int, int],
) -> tuple[RuleToAdd, ...]:
    fixes = []
    if state.ingress.state != OPEN and _managed(graph, target_sg):
        fixes.append(RuleToAdd(target_sg, "ingress", rule.protocol, *ports, source_sg, rule.id, rule.title))
    if state.egress.state != OPEN and _managed(graph, source_sg):
        fixes.append(RuleToAdd(source_sg, "egress", rule.protocol, *ports, target_sg, rule.id, rule.title))
    return tuple(fixes)


def _cycle_advice(graph: SgGraph, fixes: tuple[RuleToAdd, ...]) -> str:
    """Advice when the fix would be an inline rule that closes a cycle of inline references."""
    for fix in fixes:
        group = graph.groups[fix.security_group]
        if fix.peer == fix.security_group or {r.style for r in group.rules} != {"inline"}:
            continue
        if fix.security_group in _inline_reach(graph, fix.peer):
            return (
                f" An inline rule on {fix.security_group} naming {fix.peer} would close a cycle of inline "
                f"references (Error: Cycle): move {fix.security_group}'s rules into "
                "aws_security_group_rule resources first."
            )
    return ""


def _managed(graph: SgGraph, address: str) -> bool:
    group = graph.groups.get(address)
    return group is not None and group.managed


def _fix_text(fixes: tuple[RuleToAdd, ...], traffic: str) -> str:
    if not fixes:
        return "The security groups involved are not created in the scanned code; open the path where they are."
    steps = []
    for fix in fixes:
        peer = "itself (self = true)" if fix.peer == fix.security_group else fix.peer
        preposition = "from" if fix.direction == "ingress" else "to"
        steps.append(f"an {fix.direction} rule on {fix.security_group} for {traffic} {preposition} {peer}")
    return "Add " + " and ".join(steps) + " (`sglint fix` writes it)."


def _nearest_rules(
    graph: SgGraph, state: PathState, source_sg: str, target_sg: str, protocol: str,
    ports: tuple[int, int],
) -> tuple[Related, ...]:
    """Existing rules close to the missing one: same traffic, other peers; or same peer, other traffic."""
    related: list[Related] = []
    sides = []
    if state.ingress.state != OPEN:
        sides.append(("ingress", target_sg, source_sg))
    if state.egress.state != OPEN:
        sides.append(("egress", source_sg, target_sg))
    for direction, sg, other in sides:
        same_traffic, same_peer = [], []
        for rule, peer in graph.rules(sg, direction):
            carried = carries(rule, protocol, ports)
            names_other = peer.kind == "sg" and peer.value == other or peer.kind == "self" and sg == other
            if carried and not names_other:
                same_traffic.append((rule, peer))
            elif names_other and not carried:
                same_peer.append((rule, peer))
        short = sg.split(".")[-1]
        if same_traffic:
            peers = ", ".join(dict.fromkeys(describe_peer(p) for _, p in same_traffic))
            preposition = "from" if direction == "ingress" else "to"
            rule = same_traffic[0][0]
            related.append(Related(rule.location, f"{short} allows {describe_ports(rule)} only {preposition} {peers}"))
        elif same_peer:
            rule = same_peer[0][0]
            traffic = ", ".join(dict.fromkeys(describe_ports(r) for r, _ in same_peer))
            verb = "admits" if direction == "ingress" else "reaches"
            whom = "itself" if other == sg else other
            related.append(Related(rule.location, f"{short} {verb} {whom} on {traffic} only"))
    return tuple(related)


def _sg_location(graph: SgGraph, address: str) -> Location | None:
    group = graph.groups.get(address)
    return group.location if group is not None else None


def _inline_reach(graph: SgGraph, start: str) -> set[str]:
    """Every SG that `start` depends on through inline rules naming other SGs."""
    references = inline_references(graph.groups.values())
    return nx.descendants(references, start) if start in references else set()
