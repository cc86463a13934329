"""Graph stage: who may send what to whom, and the state of any path.

A networkx MultiDiGraph: security groups, plus pseudo-nodes for CIDRs, prefix lists and
unknown peers. An ingress rule on SG T admitting peer P is an edge P -> T; an egress rule on
SG S reaching P is an edge S -> P; `self` is a loop. `path_state` answers the one question
every check asks: can nodes wearing these SGs reach nodes wearing those, on this protocol and
port? Open, closed or unknown, with the rules that open it or could.

networkx is imported where a graph is made, not with this module: importing it is a tenth of
a cold run, which the pipeline spends while parse workers run (`import_graph_library`).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Iterable

from calico_sglint.model.types import Model, Peer, Rule, SecurityGroup
from calico_sglint.terraform.values import Unknown

if TYPE_CHECKING:
    import networkx as nx

OPEN, CLOSED, UNKNOWN = "open", "closed", "unknown"
_YES, _NO, _MAYBE = "yes", "no", "maybe"


@dataclass(frozen=True)
class Endpoint:
    """One end of a path: nodes, known by the SGs they wear and the networks they live in."""

    label: str
    security_groups: tuple[str | Unknown, ...]
    networks: tuple[str | Unknown, ...]


@dataclass(frozen=True)
class Side:
    """Whether one side (the target's ingress or the source's egress) admits the traffic."""

    state: str
    opening: tuple[Rule, ...]  # rules that certainly admit it
    possible: tuple[Rule, ...]  # rules that might (unknown fields or peers)
    unknowns: tuple[Unknown, ...]  # what could not be evaluated and might admit it
    closed_for: tuple[str, ...] = ()  # when only some placements of the other end are closed: their networks


@dataclass(frozen=True)
class PathState:
    state: str
    ingress: Side
    egress: Side

    @property
    def missing(self) -> str | None:
        """"ingress", "egress" or "both": the sides not proven open."""
        sides = [name for name, side in (("ingress", self.ingress), ("egress", self.egress)) if side.state != OPEN]
        return None if not sides else sides[0] if len(sides) == 1 else "both"


def import_graph_library() -> None:
    """Import networkx now: while parse workers run, where this process would only wait, and
    before root workers fork, so that each of them does not import it again."""
    import networkx  # noqa: F401


def pseudo_node(peer: Peer) -> str:
    """The graph node of a peer that is not a security group."""
    return f"{peer.kind}:{peer.value}"


class SgGraph:
    """The security groups of one model as a graph, with the path query."""

    def __init__(self, model: Model) -> None:
        import networkx as nx

        self.model = model
        self.groups: dict[str, SecurityGroup] = {sg.address: sg for sg in model.security_groups}
        self.graph = nx.MultiDiGraph()
        self._rules: dict[tuple[str, str], tuple[tuple[Rule, Peer], ...]] = {}
        for sg in model.security_groups:
            self.graph.add_node(sg.address, kind="sg", managed=sg.managed)
            for rule in sg.rules:
                for peer in rule.peers:
                    self._add_edge(sg.address, rule, peer)

    def _add_edge(self, sg: str, rule: Rule, peer: Peer) -> None:
        if peer.kind in ("sg", "self"):
            other = sg if peer.kind == "self" else peer.value
            if other not in self.graph:
                self.graph.add_node(other, kind="sg", managed=False)
        else:
            other = pseudo_node(peer)
            self.graph.add_node(other, kind=peer.kind)
        source, target = (other, sg) if rule.direction == "ingress" else (sg, other)
        self.graph.add_edge(source, target, rule=rule, peer=peer, direction=rule.direction)

    def rules(self, sg: str, direction: str) -> tuple[tuple[Rule, Peer], ...]:
        """(rule, peer) pairs of `sg` in `direction`, in declaration order (read from the
        graph once: every path through `sg` asks again)."""
        found = self._rules.get((sg, direction))
        if found is None:
            found = self._rules[sg, direction] = self._edges(sg, direction)
        return found

    def _edges(self, sg: str, direction: str) -> tuple[tuple[Rule, Peer], ...]:
        if sg not in self.graph:
            return ()
        edges = self.graph.in_edges(sg, data=True) if direction == "ingress" else self.graph.out_edges(sg, data=True)
        return tuple((d["rule"], d["peer"]) for _, _, d in edges if d["direction"] == direction)

    def path_state(
        self,
        source: Endpoint,
        target: Endpoint,
        protocol: str,
        ports: tuple[int, int],
        family: str = "ipv4",
    ) -> PathState:
        """Can `source` nodes send `protocol`/`ports` to `target` nodes? Nodes may sit in
        several places (each instance its own subnet, an ASG in every subnet of its
        `vpc_zone_identifier`): each side must be open for every placement of the other end."""
        ingress = _every([(p, self._side("ingress", target, p, protocol, ports, family)) for p in placements(source)])
        egress = _every([(p, self._side("egress", source, p, protocol, ports, family)) for p in placements(target)])
        states = {ingress.state, egress.state}
        state = CLOSED if CLOSED in states else UNKNOWN if UNKNOWN in states else OPEN
        return PathState(state, ingress, egress)

    def _side(
        self, direction: str, owner: Endpoint, other: Endpoint, protocol: str,
        ports: tuple[int, int], family: str,
    ) -> Side:
        opening: list[tuple[Rule, tuple[int, int]]] = []
        possible: list[Rule] = []
        unknowns: list[Unknown] = []
        for sg in owner.security_groups:
            if isinstance(sg, Unknown):
                unknowns.append(sg)
                continue
            group = self.groups.get(sg)
            if group is None or not group.managed:
                unknowns.append(Unknown(sg, "security group not created in the scanned code: its rules are unknown"))
            else:
                unknowns.extend(group.may_change)
            for rule, peer in self.rules(sg, direction):
                verdict, span = _rule_matches(rule, protocol, ports)
                if verdict == _NO:
                    continue
                admits, why = _peer_admits(peer, sg, other, family)
                if admits == _NO:
                    continue
                if verdict == _YES and admits == _YES and rule.multiplicity is None:
                    opening.append((rule, span))  # type: ignore[arg-type]
                else:
                    possible.append(rule)
                    unknowns.extend(_unknowns_of(rule, peer) + why)
        for rule in self.model.unattached_rules:
            if rule.direction == direction and _rule_matches(rule, protocol, ports)[0] != _NO:
                possible.append(rule)
                unknowns.append(rule.security_group)  # type: ignore[arg-type]
        if _covers([span for _, span in opening], ports):
            state = OPEN
        elif possible or unknowns:
            state = UNKNOWN
        else:
            state = CLOSED
        return Side(
            state,
            tuple(dict.fromkeys(r for r, _ in opening)),
            tuple(dict.fromkeys(possible)),
            tuple(dict.fromkeys(unknowns)),
        )


def placements(endpoint: Endpoint) -> list[Endpoint]:
    """One endpoint per network the nodes may sit in."""
    if len(endpoint.networks) < 2:
        return [endpoint]
    return [replace(endpoint, networks=(network,)) for network in endpoint.networks]


def _every(placed: list[tuple[Endpoint, Side]]) -> Side:
    """One side over several placements: open only when open for each of them."""
    found = [side for _, side in placed]
    states = {side.state for side in found}
    state = CLOSED if CLOSED in states else UNKNOWN if UNKNOWN in states else OPEN
    closed = [str(p.networks[0]) for p, side in placed if side.state == CLOSED and len(placed) > 1]
    return Side(
        state,
        tuple(dict.fromkeys(r for side in found for r in side.opening)),
        tuple(dict.fromkeys(r for side in found for r in side.possible)),
        tuple(dict.fromkeys(u for side in found for u in side.unknowns)),
        tuple(closed) if len(closed) < len(placed) else (),
    )


def _rule_matches(rule: Rule, protocol: str, ports: tuple[int, int]) -> tuple[str, tuple[int, int] | None]:
    """Whether `rule` carries `protocol`, and the part of `ports` it covers."""
    if isinstance(rule.protocol, Unknown):
        return _MAYBE, None
    if protocol == "all":
        return (_YES, ports) if rule.protocol == "all" else (_NO, None)
    if rule.protocol not in ("all", protocol):
        return _NO, None
    if rule.protocol == "all" or protocol not in ("tcp", "udp"):
        return _YES, ports
    low, high = rule.from_port, rule.to_port
    if isinstance(low, Unknown) or isinstance(high, Unknown):
        return _MAYBE, None
    start, end = max(low, ports[0]), min(high, ports[1])
    return (_YES, (start, end)) if start <= end else (_NO, None)


def _covers(spans: Iterable[tuple[int, int]], ports: tuple[int, int]) -> bool:
    """True when the spans together cover every port of `ports`."""
    reached = ports[0] - 1
    for start, end in sorted(spans):
        if start > reached + 1:
            break
        reached = max(reached, end)
    return reached >= ports[1]


def _peer_admits(peer: Peer, rule_sg: str, other: Endpoint, family: str) -> tuple[str, list[Unknown]]:
    """Whether `peer` (on a rule of `rule_sg`) covers every node of `other`, and if it
    might, the unknowns that leave it open."""
    if peer.kind in ("sg", "self"):
        wanted = rule_sg if peer.kind == "self" else peer.value
        if wanted in other.security_groups:
            return _YES, []
        unknown_sgs = [s for s in other.security_groups if isinstance(s, Unknown)]
        return (_MAYBE, unknown_sgs) if unknown_sgs else (_NO, [])
    if peer.kind == "cidr":
        verdict = _cidr_admits(peer.value, other.networks, family)
        if verdict != _MAYBE:
            return verdict, []
        return verdict, [n for n in other.networks if isinstance(n, Unknown)] or [
            Unknown(peer.value, f"cannot relate this CIDR to the addresses of {other.label}")
        ]
    if peer.kind == "prefix_list":
        return _MAYBE, [Unknown(peer.value, "prefix list entries are not in the scanned code")]
    return _MAYBE, []  # an unknown peer names its own unknown


@lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """The network `text` names (host bits allowed, as AWS allows them), or None. Every path
    asks again about the same few CIDRs."""
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _cidr_admits(cidr: str, networks: tuple[str | Unknown, ...], family: str) -> str:
    block = _network(cidr)
    if block is None:
        return _NO
    wanted_version = 6 if family == "ipv6" else 4
    if block.version != wanted_version:
        return _NO
    if block.prefixlen == 0:
        return _YES
    if wanted_version == 6:
        return _MAYBE  # we do not know the nodes' IPv6 addresses
    verdicts = set()
    for network in networks:
        if isinstance(network, Unknown):
            verdicts.add(_MAYBE)
            continue
        node_net = _network(network)
        if node_net is None:
            verdicts.add(_MAYBE)
            continue
        if node_net.version != 4:
            verdicts.add(_MAYBE)
        elif node_net.subnet_of(block):  # type: ignore[arg-type]
            verdicts.add(_YES)
        elif node_net.overlaps(block):
            verdicts.add(_MAYBE)
        else:
            verdicts.add(_NO)
    if not verdicts or _MAYBE in verdicts and _NO not in verdicts:
        return _MAYBE
    return _NO if _NO in verdicts else _YES


def _unknowns_of(rule: Rule, peer: Peer) -> list[Unknown]:
    found: list[Unknown] = []
    for value in (rule.protocol, rule.from_port, rule.to_port, peer.unknown, rule.multiplicity):
        if isinstance(value, Unknown):
            found.append(value)
    return found


def carries(rule: Rule, protocol: str, ports: tuple[int, int]) -> bool:
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


def inline_references(groups: Iterable[SecurityGroup]) -> nx.DiGraph:
    """SG -> SG edges for inline rules naming an SG (self-references included), each edge with
    the `rule` that makes it: the dependencies that make Terraform report Error: Cycle."""
    import networkx as nx

    graph = nx.DiGraph()
    for sg in groups:
        graph.add_node(sg.address)
        for rule in sg.rules:
            if rule.style != "inline":
                continue
            for peer in rule.peers:
                if peer.kind == "sg":
                    graph.add_edge(sg.address, peer.value, rule=rule)
    return graph
