"""Path requirements: for every pair of cluster node groups a requirement's roles select, the
path must be open.

A closed path is one finding per requirement and (source SG, target SG), saying which side
is missing, the nearest existing rules and the rule that would fix it. A path that unknown
values might open is an *unverified* warning naming them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import AbstractSet, Iterable, Iterator, Sequence

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
    Side,
    carries,
    inline_references,
)
from calico_sglint.model.roles import CONTROL_PLANE, Cluster, ClusterNode
from calico_sglint.model.types import Model
from calico_sglint.profile.rulepack import PackRule, RulePack
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
    """Whether a requirement's role takes `node`; a control plane AWS runs (EKS) runs no
    calico-node, so only requirements naming the control plane take it."""
    if node.hosted:
        return role in node.roles
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


def required_paths(rule: PackRule, graph: SgGraph, cluster: Cluster, profile: Profile) -> Iterator[RequiredPath]:
    """Every path `rule` requires between node groups of one cluster, open or not (never
    between two clusters); a group of one node needs no path to itself. A generator: the
    paths are quadratic in the node groups, so nothing holds them all at once."""
    for source in cluster.nodes:
        if not _selects(rule.from_role, source):
            continue
        for target in cluster.nodes:
            if not _selects(rule.to_role, target) or not cluster.same_cluster(source, target):
                continue
            if source is target and not source.needs_self_path:
                continue
            family = _family(rule, profile, source, target)
            for protocol, ports in _traffic(rule, profile, target):
                state = graph.path_state(endpoint(source), endpoint(target), protocol, ports, family)
                yield RequiredPath(rule, source, target, ports, state, protocol)


@dataclass(frozen=True)
class RequiredPaths:
    """Every path the path requirements `rules` ask for in one root's cluster, open ones too,
    computed again each time it is iterated (the graph, JUnit and `sglint diff` read them;
    keeping them would make memory quadratic in the node groups)."""

    rules: tuple[PackRule, ...] = ()
    model: Model | None = None  # its graph is built again when read: a result stays small to pass on
    cluster: Cluster | None = None
    profile: Profile | None = None

    def __iter__(self) -> Iterator[RequiredPath]:
        if self.model is None or self.cluster is None or self.profile is None:
            return
        graph = SgGraph(self.model)
        for rule in self.rules:
            yield from required_paths(rule, graph, self.cluster, self.profile)


def _traffic(rule: PackRule, profile: Profile, target: ClusterNode) -> list[tuple[str, tuple[int, int]]]:
    """(protocol, ports) a requirement asks of a target: its own, or for a control-plane
    target what the rule pack's `control_plane_target` asks instead (etcd may stay closed)."""
    if rule.control_plane_target is not None and CONTROL_PLANE in target.roles:
        return rule.control_plane_target.segments()
    return [(rule.protocol, ports) for ports in profile.ports(rule)]


def _family(rule: PackRule, profile: Profile, source: ClusterNode, target: ClusterNode) -> str:
    """The address family the nodes talk in: IPv6 when the pods are IPv6-only (the profile) or
    both ends sit in IPv6-only subnets, else the requirement's own."""
    if profile.value("ipv6_only") or (source.group.ipv6_only and target.group.ipv6_only):
        return "ipv6"
    return rule.family


def not_checked(
    pack: RulePack, profile: Profile, cluster: Cluster, checked: AbstractSet[tuple[str, str]]
) -> tuple[tuple[str, str], ...]:
    """The path requirements in force that required no path, and why (which role has no node
    group): a requirement that checked nothing must not read as passed. With several clusters,
    also each cluster in which a requirement checked nothing. `checked`: the (rule id,
    cluster) pairs that required a path."""
    found = []
    for rule in pack.enabled():
        if rule.kind != "path" or not profile.matches(rule.when) or not cluster.has_roles(rule.from_role, rule.to_role):
            continue
        clusters = {name for rule_id, name in checked if rule_id == rule.id}
        if not clusters:
            found.append((rule.id, _why_nothing_checked(rule, cluster.nodes)))
        elif len(cluster.memberships) > 1:
            found.extend(
                (rule.id, f"{_why_nothing_checked(rule, [n for n in cluster.nodes if n.cluster == m.name])} "
                          f"in cluster {m.name}")
                for m in cluster.memberships if m.name not in clusters
            )
    return tuple(found)


def _why_nothing_checked(rule: PackRule, nodes: Sequence[ClusterNode]) -> str:
    if not nodes:
        return "no Kubernetes node groups"
    for preposition, role in (("from", rule.from_role), ("to", rule.to_role)):
        if not any(_selects(role, node) for node in nodes):
            return f"no {role} node group to check paths {preposition}"
    return "every node group it selects is a single node, which needs no path to itself"


@dataclass
class _Pair:
    """The node-group pairs that share one (source SG, target SG) path of a requirement, and
    the port ranges not open between them (several for a control-plane target's segments).
    Only what the finding reads is kept: its size grows with the groups, not with the paths."""

    first: PathState | None = None
    closed: PathState | None = None  # the first closed path, which the finding describes
    sources: dict[str, None] = field(default_factory=dict)
    targets: dict[str, None] = field(default_factory=dict)
    spans: dict[tuple[int, int], PathState] = field(default_factory=dict)  # each range's worst state

    def add(self, required: RequiredPath) -> None:
        state = required.state
        self.first = self.first or state
        if state.state == CLOSED and self.closed is None:
            self.closed = state
        self.sources.setdefault(required.source.group.address)
        self.targets.setdefault(required.target.group.address)
        worst = self.spans.get(required.ports)
        if worst is None or (worst.state != CLOSED and state.state == CLOSED):
            self.spans[required.ports] = state


def path_findings(rule: PackRule, required: Iterable[RequiredPath], graph: SgGraph, root: str) -> list[Finding]:
    """One finding per (source SG, target SG, port range) of `rule` whose path is not open; the
    segments a control-plane target is asked for instead (`control_plane_target`) make one
    finding per protocol, listing every range not open."""
    pairs: dict[tuple[str, str, str, tuple[int, int] | None], _Pair] = defaultdict(_Pair)
    for path in required:
        if path.state.state == OPEN:
            continue
        segmented = path.protocol != rule.protocol
        key = (primary_sg(path.source, graph), primary_sg(path.target, graph), path.protocol,
               None if segmented else path.ports)
        pairs[key].add(path)
    return [
        _path_finding(rule, graph, root, source_sg, target_sg, protocol, pair)
        for (source_sg, target_sg, protocol, _), pair in pairs.items()
    ]


def _path_finding(
    rule: PackRule, graph: SgGraph, root: str, source_sg: str, target_sg: str, protocol: str, pair: _Pair,
) -> Finding:
    spans = sorted(pair.spans)
    ports = (spans[0][0], spans[-1][1])
    state = pair.closed or pair.first
    assert state is not None  # a pair exists once a path was added to it
    missing = state.missing or "both"
    sources = tuple(pair.sources)
    targets = tuple(pair.targets)
    traffic = ", ".join(traffic_text(protocol, *span) for span in spans)
    who = f"{_groups_text(sources, source_sg)} cannot reach {_groups_text(targets, target_sg)} on {traffic}"
    path = PathInfo(protocol, ports[0], ports[1], source_sg, target_sg, missing, sources, targets)
    related = _nearest_rules(graph, state, source_sg, target_sg, protocol, ports)
    on_target = missing in ("ingress", "both")
    location = _sg_location(graph, target_sg if on_target else source_sg) or _group_location(
        graph, (targets if on_target else sources)[0]
    )
    if pair.closed is not None:
        fixes = tuple(dict.fromkeys(
            fix for span in spans
            for fix in _fixes(rule, graph, pair.spans[span], source_sg, target_sg, protocol, span)
        ))
        reasons = _missing_text(graph, state, source_sg, target_sg, traffic)
        nearest = "; ".join(f"{r.message} ({r.location})" for r in related)
        hint = _fix_text(fixes, traffic, graph) + _cycle_advice(graph, fixes) + (
            f" Nearest existing rules: {nearest}." if nearest else ""
        ) + (_may_stay_closed(rule) if len(spans) > 1 or protocol != rule.protocol else "")
        return Finding(
            rule.id, rule.severity, f"{who}: {reasons}", location, root, FAILED, hint, path,
            related, (), fixes, _path_key(path),
        )
    unknowns = tuple(dict.fromkeys(u for s in (state.ingress, state.egress) for u in s.unknowns))
    named = "; ".join(unknown_text(u) for u in unknowns[:3]) or "values sglint cannot evaluate"
    message = f"unverified: {who} unless unevaluated values open it: {named}"
    hint = "Give the values above (--var, --var-file, tfvars) or declare the rules in the scanned code."
    unread = {u for sg in (source_sg, target_sg) if sg in graph.groups for u in graph.groups[sg].may_change}
    if unread & set(unknowns):
        hint = ("Install the modules sglint could not read (`terraform init -backend=false`, or --module-dir) "
                "so it can see the rules they add; or " + hint[0].lower() + hint[1:])
    return Finding(
        rule.id, "warning", message, location, root, UNVERIFIED, hint, path, related, unknowns, (), _path_key(path)
    )


def _may_stay_closed(rule: PackRule) -> str:
    """What a control-plane target may keep closed, for the hint of a segmented finding."""
    target = rule.control_plane_target
    if target is None or not target.may_stay_closed:
        return ""
    names = "; ".join(
        f"{c.name} ({', '.join(traffic_text(c.protocol, *p) for p in c.ports)})" for c in target.may_stay_closed
    )
    return f" A control-plane node may keep these closed: {names}."


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
        whom = _whom(state.ingress, source_sg, source_sg == target_sg)
        parts.append(f"no ingress rule on {target_sg} admits {traffic} from {whom}")
    if state.egress.state == CLOSED:
        whom = _whom(state.egress, target_sg, source_sg == target_sg)
        if graph.rules(source_sg, "egress"):
            parts.append(f"no egress rule on {source_sg} allows {traffic} to {whom}")
        else:
            parts.append(
                f"{source_sg} has no egress rules at all (Terraform removes AWS's default allow-all egress)"
            )
    return " and ".join(parts) or "the path is not open"


def _whom(side: Side, other_sg: str, same: bool) -> str:
    """The other end of a closed side: `itself`, an SG, or when only the nodes placed in some
    subnets are not admitted, `its own nodes in 10.0.2.0/24 and 10.0.3.0/24`."""
    if not side.closed_for:
        return "itself" if same else other_sg
    shown = list(side.closed_for[:3]) + ([f"{len(side.closed_for) - 3} more"] if len(side.closed_for) > 3 else [])
    where = ", ".join(shown[:-1]) + " and " + shown[-1] if len(shown) > 1 else shown[0]
    return f"{'its own' if same else other_sg + chr(39) + 's'} nodes in {where}"


def _fixes(
    rule: PackRule, graph: SgGraph, state: PathState, source_sg: str, target_sg: str,
    protocol: str, ports: tuple[int, int],
) -> tuple[RuleToAdd, ...]:
    fixes = []
    if state.ingress.state != OPEN and _managed(graph, target_sg):
        fixes.append(RuleToAdd(target_sg, "ingress", protocol, *ports, source_sg, rule.id, rule.title))
    if state.egress.state != OPEN and _managed(graph, source_sg):
        fixes.append(RuleToAdd(source_sg, "egress", protocol, *ports, target_sg, rule.id, rule.title))
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


def _fix_text(fixes: tuple[RuleToAdd, ...], traffic: str, graph: SgGraph) -> str:
    if not fixes:
        return "The security groups involved are not created in the scanned code; open the path where they are."
    steps = []
    for fix in fixes:
        peer = "itself (self = true)" if fix.peer == fix.security_group else fix.peer
        preposition = "from" if fix.direction == "ingress" else "to"
        steps.append(f"an {fix.direction} rule on {fix.security_group} for {traffic} {preposition} {peer}")
    installed = [m for m in graph.model.installed_modules if any(f.security_group.startswith(m + ".") for f in fixes)]
    if installed:
        module = min(installed, key=len)  # the call in the user's code
        return (f"Add {' and '.join(steps)}: {module} is installed by `terraform init`, so add it through the "
                "module's inputs for extra rules, or as a rule resource on the module's security-group output.")
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


def _group_location(graph: SgGraph, address: str) -> Location | None:
    """Where a node group is declared: the location of a finding about security groups that
    are not created in the scanned code (their rules are unknown, the node group names them)."""
    group = next((g for g in graph.model.node_groups if g.address == address), None)
    return group.location if group is not None else None


def _sg_location(graph: SgGraph, address: str) -> Location | None:
    group = graph.groups.get(address)
    return group.location if group is not None else None


def _inline_reach(graph: SgGraph, start: str) -> set[str]:
    """Every SG that `start` depends on through inline rules naming other SGs."""
    import networkx as nx

    references = inline_references(graph.groups.values())
    return nx.descendants(references, start) if start in references else set()
