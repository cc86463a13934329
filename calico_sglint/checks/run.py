"""Checks stage: rule packs x profile x graph -> findings.

Path requirements: for every pair of cluster node groups the requirement's roles select, the
path must be open; a closed path is one finding per requirement and (source SG, target SG),
saying which side is missing, the nearest existing rules and the rule that would fix it. A
path that unknown values might open is an *unverified* warning naming them. Structural
checks (cycles, cross-references, exposure, duplicates, mixed styles, unknown references)
look at the security groups themselves; `calico-src-dst-check` at the node groups.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable

import networkx as nx

from calico_sglint.checks.findings import (
    FAILED,
    UNVERIFIED,
    Finding,
    PathInfo,
    Related,
    RequiredPath,
    RuleToAdd,
    finding_order,
)
from calico_sglint.checks.reachability import CLOSED, OPEN, Endpoint, PathState, SgGraph
from calico_sglint.model.roles import Cluster, ClusterNode
from calico_sglint.model.types import Model, NodeGroup, Peer, Rule, SecurityGroup
from calico_sglint.profile.rulepack import PackRule, RulePack
from calico_sglint.profile.settings import Profile
from calico_sglint.render.wording import describe_peer, describe_ports, traffic_text
from calico_sglint.source import Location
from calico_sglint.terraform.evaluate import UNDECLARED_SECURITY_GROUP
from calico_sglint.terraform.values import Unknown


def run_checks(
    model: Model, cluster: Cluster, profile: Profile, pack: RulePack
) -> tuple[list[Finding], list[RequiredPath]]:
    """Every finding for one model, in file and line order, and every path the profile's
    requirements ask for with its state (the graph and the JUnit and Markdown reports draw
    them, so they are computed once, here)."""
    graph = SgGraph(model)
    findings: list[Finding] = []
    paths: list[RequiredPath] = []
    for rule in pack.enabled():
        if rule.kind == "path" and profile.matches(rule.when):
            required = required_paths(rule, graph, cluster, profile)
            paths.extend(required)
            findings.extend(path_findings(rule, required, graph, model.root))
    structural: dict[str, Callable[[PackRule, Model, Cluster], list[Finding]]] = {
        "sg-cycle": sg_cycle,
        "sg-cross-reference": sg_cross_reference,
        "sg-exposed": sg_exposed,
        "sg-duplicate-rule": sg_duplicate_rule,
        "sg-mixed-rule-styles": sg_mixed_rule_styles,
        "sg-unknown-reference": sg_unknown_reference,
        "calico-src-dst-check": partial(calico_src_dst_check, profile=profile),
    }
    for rule_id, check in structural.items():
        rule = pack.get(rule_id)
        if rule is not None and rule.enabled:
            findings.extend(check(rule, model, cluster))
    return sorted(findings, key=finding_order), paths


# --- path requirements -------------------------------------------------------------------


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
    """Every path `rule` requires between node groups of one cluster, open or not (never
    between two clusters); a group of one node needs no path to itself."""
    found = []
    for source in cluster.nodes:
        if not _selects(rule.from_role, source):
            continue
        for target in cluster.nodes:
            if not _selects(rule.to_role, target) or not cluster.same_cluster(source, target):
                continue
            if source is target and not source.needs_self_path:
                continue
            for ports in profile.ports(rule):
                state = graph.path_state(endpoint(source), endpoint(target), rule.protocol, ports, rule.family)
                found.append(RequiredPath(rule, source, target, ports, state))
    return found


def not_checked(
    pack: RulePack, profile: Profile, cluster: Cluster, paths: Iterable[RequiredPath]
) -> tuple[tuple[str, str], ...]:
    """The path requirements in force that required no path at all, and why (which role has no
    node group): a requirement that checked nothing must not read as passed."""
    checked = {path.rule.id for path in paths}
    return tuple(
        (rule.id, _why_nothing_checked(rule, cluster))
        for rule in pack.enabled()
        if rule.kind == "path" and profile.matches(rule.when) and rule.id not in checked
    )


def _why_nothing_checked(rule: PackRule, cluster: Cluster) -> str:
    if not cluster.nodes:
        return "no Kubernetes node groups"
    for preposition, role in (("from", rule.from_role), ("to", rule.to_role)):
        if not any(_selects(role, node) for node in cluster.nodes):
            return f"no {role} node group to check paths {preposition}"
    return "every node group it selects is a single node, which needs no path to itself"


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
    on_target = missing in ("ingress", "both")
    location = _sg_location(graph, target_sg if on_target else source_sg) or _group_location(
        graph, (targets if on_target else sources)[0]
    )
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
    named = "; ".join(_unknown_text(u) for u in unknowns[:3]) or "values sglint cannot evaluate"
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


def _inline_reach(graph: SgGraph, start: str) -> set[str]:
    """Every SG that `start` depends on through inline rules naming other SGs."""
    seen, stack = set(), [start]
    while stack:
        group = graph.groups.get(stack.pop())
        if group is None:
            continue
        for rule in group.rules:
            for peer in rule.peers:
                if rule.style == "inline" and peer.kind == "sg" and peer.value not in seen:
                    seen.add(peer.value)
                    stack.append(peer.value)
    return seen


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
            carries = _carries(rule, protocol, ports)
            names_other = peer.kind == "sg" and peer.value == other or peer.kind == "self" and sg == other
            if carries and not names_other:
                same_traffic.append((rule, peer))
            elif names_other and not carries:
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


def _carries(rule: Rule, protocol: str, ports: tuple[int, int]) -> bool:
    """Whether `rule` certainly carries some of `protocol` on `ports` (unknowns: no)."""
    if isinstance(rule.protocol, Unknown):
        return False
    if rule.protocol == "all":
        return True
    if rule.protocol != protocol:
        return False
    if protocol not in ("tcp", "udp"):
        return True
    low, high = rule.from_port, rule.to_port
    return isinstance(low, int) and isinstance(high, int) and low <= ports[1] and ports[0] <= high


def _sg_location(graph: SgGraph, address: str) -> Location | None:
    group = graph.groups.get(address)
    return group.location if group is not None else None


def _group_location(graph: SgGraph, address: str) -> Location | None:
    """Where a node group is declared: the location of a finding about security groups that
    are not created in the scanned code (their rules are unknown, the node group names them)."""
    group = next((g for g in graph.model.node_groups if g.address == address), None)
    return group.location if group is not None else None


def _unknown_text(unknown: Unknown) -> str:
    where = f" ({unknown.location})" if unknown.location else ""
    return f"{unknown.expr}{where}: {unknown.reason}"


# --- structural checks -------------------------------------------------------------------


def sg_cycle(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """SGs whose inline rules reference each other: `terraform plan` fails with Error: Cycle."""
    managed = {sg.address: sg for sg in model.security_groups if sg.managed}
    dependencies = nx.DiGraph()
    for sg in managed.values():
        for item in sg.rules:
            if item.style != "inline":
                continue
            for peer in item.peers:
                if peer.kind == "sg" and peer.value in managed:
                    dependencies.add_edge(sg.address, peer.value, rule=item)
    findings = []
    for component in nx.strongly_connected_components(dependencies):
        members = sorted(component)
        if len(members) == 1 and not dependencies.has_edge(members[0], members[0]):
            continue
        cycle = nx.find_cycle(dependencies.subgraph(members), source=members[0])
        names = [a for a, _ in cycle] + [cycle[0][0]]
        blocks = [dependencies.edges[a, b]["rule"] for a, b in cycle]
        if len(members) == 1:
            message = (
                f"{members[0]} names itself in an inline rule; Terraform rejects a resource that "
                "refers to itself (use self = true)"
            )
        else:
            message = (
                "inline rules make these security groups depend on each other: "
                f"{' -> '.join(names)}; `terraform plan` fails with Error: Cycle"
            )
        related = tuple(
            Related(b.location, f"{a} inline {b.direction} names {c}") for (a, c), b in zip(cycle, blocks)
        )
        hint = (
            f"Move the rules of {members[-1]} (all of them) into aws_security_group_rule "
            "resources; standalone rules do not create dependencies between groups."
        )
        findings.append(Finding(rule.id, rule.severity, message, blocks[0].location, model.root,
                                hint=hint, related=related, key=",".join(members)))
    return findings


def _node_sgs(model: Model, cluster: Cluster) -> set[str]:
    sgs = {s for n in cluster.nodes for s in n.group.security_groups if isinstance(s, str)}
    if not sgs:
        sgs = {sg.address for sg in model.security_groups if sg.managed}
    return sgs


def sg_cross_reference(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """Pairs of SGs admitting each other through separate rules: a layout that drifts."""
    grants: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    managed = {sg.address: sg for sg in model.security_groups if sg.managed}
    for sg in managed.values():
        for item in sg.rules:
            if item.direction != "ingress":
                continue
            for peer in item.peers:
                if peer.kind == "sg" and peer.value in managed and peer.value != sg.address:
                    grants[(sg.address, peer.value)].append(item)
    findings = []
    for (a, b), a_rules in sorted(grants.items()):
        b_rules = grants.get((b, a), [])
        if a > b or not b_rules:
            continue
        if all(r.style == "inline" for r in a_rules + b_rules):
            continue  # that is an sg-cycle
        count = len(a_rules) + len(b_rules)
        message = (
            f"{a} and {b} admit each other through {count} separate rules "
            f"({len(a_rules)} on {a.split('.')[-1]}, {len(b_rules)} on {b.split('.')[-1]}); "
            "every new port must be opened in both places, and one is easily forgotten"
        )
        related = tuple(Related(r.location, f"{r.declared_by}: {describe_ports(r)}") for r in (a_rules + b_rules)[:12])
        hint = "Put every node in one cluster security group with a self rule for all traffic (protocol -1, self = true)."
        findings.append(Finding(rule.id, rule.severity, message, managed[a].location, model.root,
                                hint=hint, related=related, key=f"{a}<>{b}"))
    return findings


def sg_exposed(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """Calico, kubelet or etcd ports (or all traffic) admitted from 0.0.0.0/0 or ::/0."""
    findings = []
    node_sgs = _node_sgs(model, cluster)
    for sg in model.security_groups:
        if sg.address not in node_sgs:
            continue
        for item in sg.rules:
            if item.direction != "ingress" or isinstance(item.protocol, Unknown):
                continue
            world = [p.value for p in item.peers if p.kind == "cidr" and _is_everywhere(p.value)]
            if not world:
                continue
            exposed = [e for e in rule.exposed if any(_carries(item, e.protocol, span) for span in e.ports)]
            if not exposed:
                continue
            if item.protocol == "all":
                names = "every Calico, kubelet and etcd port"
            else:
                names = ", ".join(e.name for e in exposed)
            message = (
                f"{sg.address} admits {describe_ports(item)} from {' and '.join(world)}, "
                f"exposing {names} to the internet"
            )
            hint = "Admit these ports only from the node security groups (or self), never from the internet."
            key = f"{sg.address}:{item.declared_by}:{describe_ports(item)}:{','.join(world)}"
            findings.append(Finding(rule.id, rule.severity, message, item.location, model.root, hint=hint, key=key))
    return findings


def _is_everywhere(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def sg_duplicate_rule(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """The same permission twice on one SG: AWS fails the apply with InvalidPermission.Duplicate."""
    findings = []
    for sg in model.security_groups:
        seen: dict[tuple[object, ...], Rule] = {}
        reported: set[tuple[Location, Location]] = set()
        for item in sorted(sg.rules, key=lambda r: (r.location.file, r.location.line)):
            if item.multiplicity is not None or any(isinstance(v, Unknown) for v in (item.protocol, item.from_port, item.to_port)):
                continue
            for peer in item.peers:
                key = (item.direction, item.protocol, item.from_port, item.to_port, *_peer_key(peer, sg))
                first = seen.setdefault(key, item)
                if first is item or (first.location, item.location) in reported:
                    continue
                if first.location == item.location and first.declared_by == item.declared_by:
                    continue
                reported.add((first.location, item.location))
                message = (
                    f"{item.direction} {describe_ports(item)} {'from' if item.direction == 'ingress' else 'to'} "
                    f"{describe_peer(peer)} on {sg.address} is already granted at {first.location}; "
                    "AWS rejects the apply with InvalidPermission.Duplicate"
                )
                findings.append(Finding(
                    rule.id, rule.severity, message, item.location, model.root,
                    hint="Delete one of the two rules.",
                    related=(Related(first.location, f"first granted by {first.declared_by}"),),
                    key=f"{sg.address}:{first.declared_by}={item.declared_by}:{key}",
                ))
    return findings


def _peer_key(peer: Peer, sg: SecurityGroup) -> tuple[str, str]:
    if peer.kind == "self" or (peer.kind == "sg" and peer.value == sg.address):
        return ("sg", sg.address)
    if peer.kind == "cidr":
        try:
            return ("cidr", str(ipaddress.ip_network(peer.value, strict=False)))
        except ValueError:
            return ("cidr", peer.value)
    return (peer.kind, peer.value)


def sg_mixed_rule_styles(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """Inline rules and rule resources on one SG overwrite each other."""
    findings = []
    for sg in model.security_groups:
        if not sg.managed:
            continue
        by_style: dict[str, Rule] = {}
        for item in sg.rules:
            by_style.setdefault(item.style, item)
        if len(by_style) < 2:
            continue
        styles = " and ".join(_STYLE_NAMES[s] for s in sorted(by_style))
        message = f"{sg.address} is managed with {styles} at once; each apply removes the rules the other added"
        related = tuple(Related(r.location, f"{_STYLE_NAMES[s]}: {r.declared_by}") for s, r in sorted(by_style.items()))
        hint = "Keep one style per security group; prefer aws_security_group_rule resources (no cycles)."
        findings.append(Finding(rule.id, rule.severity, message, sg.location, model.root, hint=hint,
                                related=related, key=sg.address))
    return findings


_STYLE_NAMES = {
    "inline": "inline ingress/egress blocks",
    "rule": "aws_security_group_rule resources",
    "vpc-rule": "aws_vpc_security_group_*_rule resources",
}


def sg_unknown_reference(rule: PackRule, model: Model, cluster: Cluster) -> list[Finding]:
    """Rules naming an aws_security_group that the module does not declare."""
    findings = []
    seen: set[tuple[str, Location | None]] = set()
    for item in _all_rules(model):
        candidates: list[Unknown] = [p.unknown for p in item.peers if p.unknown is not None]
        if isinstance(item.security_group, Unknown):
            candidates.append(item.security_group)
        for unknown in candidates:
            if unknown.reason != UNDECLARED_SECURITY_GROUP or (unknown.expr, unknown.location) in seen:
                continue
            seen.add((unknown.expr, unknown.location))
            message = f"{item.declared_by} names {unknown.expr}, which is not declared in this module"
            declared = sorted(sg.address for sg in model.security_groups if sg.managed)
            hint = "Correct the name" + (f"; declared security groups: {', '.join(declared[:6])}." if declared else ".")
            findings.append(Finding(rule.id, rule.severity, message, unknown.location or item.location,
                                    model.root, hint=hint, key=f"{item.declared_by}:{unknown.expr}"))
    return findings


def _all_rules(model: Model) -> Iterable[Rule]:
    for sg in model.security_groups:
        yield from sg.rules
    yield from model.unattached_rules



# --- the EC2 source/destination check ----------------------------------------------------

_LAUNCHED = {  # node groups whose instances Terraform cannot create with the check off
    "aws_autoscaling_group": "an autoscaling group",
    "aws_launch_template": "a launch template",
    "aws_launch_configuration": "a launch configuration",
    "aws_eks_node_group": "an EKS node group",
}
_FELIX_DISABLE = (
    "Felix's awsSrcDstCheck: Disable (FelixConfiguration `default`, or FELIX_AWSSRCDSTCHECK=Disable "
    "on calico-node; calico-node then needs IAM permission to modify the nodes' network interfaces)"
)


def calico_src_dst_check(rule: PackRule, model: Model, cluster: Cluster, profile: Profile) -> list[Finding]:
    """Nodes that drop unencapsulated pod traffic: the EC2 source/destination check is on."""
    encapsulation = profile.settings["encapsulation"]
    felix = profile.settings["aws_src_dst_check"]
    if not profile.routes_unencapsulated() or felix.value == "Disable" or cluster.origin != "compute":
        return []
    if len(cluster.nodes) == 1 and not cluster.nodes[0].needs_self_path:
        return []  # a single node: no pod traffic between nodes
    why = (f"drop the pod traffic Calico routes unencapsulated "
           f"(encapsulation={encapsulation.value} from {encapsulation.source})")
    if felix.value == "Enable":
        message = (f"Felix's awsSrcDstCheck is Enable (from {felix.source}): calico-node turns the EC2 "
                   f"source/destination check on for every node, so the nodes {why}")
        hint = "Set awsSrcDstCheck to Disable, or to DoNothing with source_dest_check = false on the instances."
        return [Finding(rule.id, rule.severity, message, _source_location(felix.source) or cluster.nodes[0].group.location,
                        model.root, hint=hint)]
    findings = []
    for node in cluster.nodes:
        finding = _src_dst_finding(rule, node.group, model.root, why)
        if finding is not None:
            findings.append(finding)
    return findings


def _src_dst_finding(rule: PackRule, group: NodeGroup, root: str, why: str) -> Finding | None:
    check = group.source_dest_check
    if check is False:
        return None
    if isinstance(check, Unknown):
        message = (f"unverified: the nodes of {group.address} {why} unless source_dest_check is false, "
                   f"and sglint cannot evaluate it: {_unknown_text(check)}")
        hint = f"Give the value (--var, --var-file, tfvars), or set {_FELIX_DISABLE}."
        return Finding(rule.id, "warning", message, group.location, root, UNVERIFIED, hint, unknowns=(check,))
    launched = _LAUNCHED.get(group.kind)
    if launched is None:
        message = (f"{group.address} keeps the EC2 source/destination check on (source_dest_check is not false), "
                   f"so its nodes {why}")
        hint = f"Set source_dest_check = false on {group.address}, or set {_FELIX_DISABLE}."
        return Finding(rule.id, rule.severity, message, group.location, root, hint=hint)
    message = (f"{group.address} launches its nodes from {launched}, which cannot turn the EC2 "
               f"source/destination check off, so its nodes {why}")
    hint = f"Set {_FELIX_DISABLE}; or choose an encapsulation that always encapsulates (IPIP, VXLAN)."
    return Finding(rule.id, rule.severity, message, group.launch_template_location or group.location, root, hint=hint)


def _source_location(source: str) -> Location | None:
    """A profile setting's source as a location, when it is a `file:line`."""
    file, _, line = source.rpartition(":")
    return Location(file, int(line), int(line)) if file and line.isdigit() else None
