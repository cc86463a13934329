"""Report stage: the security-group graph as a picture (mermaid, DOT) or as data (JSON).

Nodes are the cluster's node groups, each labelled with its roles, size and security groups.
Edges are the paths the rule packs require between them, one edge per (source, target,
state) labelled with the traffic: open paths green and solid, missing paths red and dashed,
unverified paths (unknown values might open them) orange and dotted. An `internet` node has a
thick red edge to every node group whose security groups admit 0.0.0.0/0 or ::/0 on a port
the `sg-exposed` findings name. See docs/graph.md.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

from calico_sglint.checks.findings import RequiredPath
from calico_sglint.checks.reachability import CLOSED, OPEN
from calico_sglint.model.clusters import Membership
from calico_sglint.model.roles import ClusterNode
from calico_sglint.model.types import Rule
from calico_sglint.render.wording import traffic_text as show_traffic_text
from calico_sglint.result import CheckResult, RootResult
from calico_sglint.terraform.values import Unknown

GRAPH_SCHEMA_VERSION = 1
OPEN_EDGE, MISSING, UNVERIFIED, EXPOSED = "open", "missing", "unverified", "exposed"
EDGE_STATES = (OPEN_EDGE, MISSING, UNVERIFIED, EXPOSED)
INTERNET = "internet"
# Six-digit hex: Graphviz knows no three-digit form (it draws `#2a2` black), mermaid knows both.
COLORS = {OPEN_EDGE: "#22aa22", MISSING: "#dd0000", UNVERIFIED: "#dd8800", EXPOSED: "#dd0000"}
INTERNET_COLORS = {"fill": "#ffeeee", "stroke": "#dd0000", "text": "#990000"}
LEGEND_ID = "legend"
# What each state looks like, for the legend drawn beside the graph (only the states it has).
LEGEND = {
    OPEN_EDGE: "green solid: open",
    MISSING: "red dashed: missing",
    UNVERIFIED: "orange dotted: unverified (unknown values might open it)",
    EXPOSED: "thick red from the internet: exposed",
}


@dataclass(frozen=True)
class Traffic:
    """What an edge carries: a protocol and port range, the rules that want it, and for a
    path that is not open, the side not proven open (ingress, egress or both)."""

    protocol: str
    from_port: int
    to_port: int
    requirements: tuple[str, ...]
    missing: str | None = None


@dataclass(frozen=True)
class Node:
    id: str
    kind: str  # "node_group", "security_group" (exposed, worn by no node group) or "internet"
    address: str
    roles: tuple[str, ...] = ()
    size_min: int | None = None
    size_max: int | None = None
    security_groups: tuple[str, ...] = ()
    cidrs: tuple[str, ...] = ()  # for the internet node: the CIDRs that admit everyone
    cluster: str = ""  # for a node group: the name of its cluster


@dataclass(frozen=True)
class Edge:
    source: str  # node ids
    target: str
    state: str  # one of EDGE_STATES
    traffic: tuple[Traffic, ...]


@dataclass(frozen=True)
class RootGraph:
    root: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    note: str  # how the node groups and roles were found
    clusters: tuple[Membership, ...] = ()  # the clusters, each with why its members belong


# --- building ----------------------------------------------------------------------------


def build_graphs(result: CheckResult) -> list[RootGraph]:
    """One graph per root module of a check run."""
    return [root_graph(root) for root in result.roots]


def root_graph(root: RootResult) -> RootGraph:
    """The node groups of one root, the required paths between them and the exposures."""
    nodes = list(_group_nodes(root.cluster.nodes))
    edges = _path_edges(list(root.paths), {node.address: node.id for node in nodes})
    exposures = _exposures(root)
    if exposures:
        nodes += _bare_groups(exposures, nodes)
        edges += _exposure_edges(exposures, nodes)
        cidrs = tuple(sorted({c for _, world in exposures for c in world}))
        nodes.append(Node(INTERNET, INTERNET, INTERNET, cidrs=cidrs))
    return RootGraph(root.model.root, tuple(nodes), tuple(edges), root.cluster.note, root.cluster.memberships)


def node_id(address: str, taken: Iterable[str] = ()) -> str:
    """A mermaid- and DOT-safe id for an address: letters, digits and underscores, unique."""
    base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]", "_", address)).strip("_") or "node"
    used = set(taken)
    candidate, number = base, 2
    while candidate in used or candidate in (INTERNET, LEGEND_ID, "end", "graph", "subgraph"):
        candidate, number = f"{base}_{number}", number + 1
    return candidate


def _group_nodes(cluster_nodes: tuple[ClusterNode, ...]) -> Iterable[Node]:
    taken: list[str] = []
    for node in cluster_nodes:
        group = node.group
        taken.append(node_id(group.address, taken))
        sgs = tuple(s.expr if isinstance(s, Unknown) else s for s in group.security_groups)
        yield Node(taken[-1], "node_group", group.address, tuple(sorted(node.roles)),
                   group.size_min, group.size_max, sgs, cluster=node.cluster)


_STATE_OF = {OPEN: OPEN_EDGE, CLOSED: MISSING}


def _path_edges(required: list[RequiredPath], ids: dict[str, str]) -> list[Edge]:
    """Required paths grouped into one edge per (source, target, state)."""
    grouped: dict[tuple[str, str, str], dict[tuple[str, int, int], list[RequiredPath]]] = {}
    for path in required:
        state = _STATE_OF.get(path.state.state, UNVERIFIED)
        key = (path.source.group.address, path.target.group.address, state)
        traffic = (path.protocol, *path.ports)
        grouped.setdefault(key, {}).setdefault(traffic, []).append(path)  # type: ignore[arg-type]
    order = {address: index for index, address in enumerate(ids)}
    edges = []
    for (source, target, state), by_traffic in sorted(
        grouped.items(), key=lambda item: (order[item[0][0]], order[item[0][1]], EDGE_STATES.index(item[0][2]))
    ):
        traffic = tuple(
            Traffic(protocol, low, high, tuple(dict.fromkeys(p.rule.id for p in paths)),
                    None if state == OPEN_EDGE else _missing_side(paths))
            for (protocol, low, high), paths in sorted(by_traffic.items(), key=lambda item: _traffic_order(*item[0]))
        )
        edges.append(Edge(ids[source], ids[target], state, traffic))
    return edges


def _missing_side(paths: list[RequiredPath]) -> str:
    sides = {p.state.missing for p in paths} - {None}
    return sides.pop() if len(sides) == 1 else "both"


def _traffic_order(protocol: str, low: int, high: int) -> tuple[int, str, int, int]:
    rank = {"all": 0, "tcp": 1, "udp": 2}.get(protocol, 3)
    return (rank, protocol, low, high)


def _exposures(root: RootResult) -> list[tuple[Rule, tuple[str, ...]]]:
    """The ingress rules the root's `sg-exposed` findings point at, with the open CIDRs."""
    located = {f.location for f in root.findings if f.rule_id == "sg-exposed" and f.location}
    found: list[tuple[Rule, tuple[str, ...]]] = []
    for sg in root.model.security_groups:
        for rule in sg.rules:
            if rule.direction != "ingress" or rule.location not in located:
                continue
            world = tuple(p.value for p in rule.peers if p.kind == "cidr" and _everywhere(p.value))
            if world:
                found.append((rule, world))
    return found


def _everywhere(cidr: str) -> bool:
    try:
        return ipaddress.ip_network(cidr, strict=False).prefixlen == 0
    except ValueError:
        return False


def _bare_groups(exposures: list[tuple[Rule, tuple[str, ...]]], nodes: list[Node]) -> list[Node]:
    """Nodes for exposed security groups that no node group wears."""
    worn = {sg for node in nodes for sg in node.security_groups}
    taken = [node.id for node in nodes]
    bare: list[Node] = []
    for rule, _ in exposures:
        sg = rule.security_group
        if isinstance(sg, str) and sg not in worn:
            worn.add(sg)
            taken.append(node_id(sg, taken))
            bare.append(Node(taken[-1], "security_group", sg, security_groups=(sg,)))
    return bare


def _exposure_edges(exposures: list[tuple[Rule, tuple[str, ...]]], nodes: list[Node]) -> list[Edge]:
    """An edge from the internet to each node wearing an exposed security group."""
    by_target: dict[str, dict[tuple[str, int, int], None]] = {node.id: {} for node in nodes}
    for rule, _ in exposures:
        for node in nodes:
            if rule.security_group in node.security_groups:
                by_target[node.id][_rule_traffic(rule)] = None
    return [
        Edge(INTERNET, target, EXPOSED, tuple(
            Traffic(*t, ("sg-exposed",)) for t in sorted(traffic, key=lambda t: _traffic_order(*t))
        ))
        for target, traffic in by_target.items()
        if traffic
    ]


def _rule_traffic(rule: Rule) -> tuple[str, int, int]:
    protocol = rule.protocol if isinstance(rule.protocol, str) else "all"
    low = rule.from_port if isinstance(rule.from_port, int) else 0
    high = rule.to_port if isinstance(rule.to_port, int) else 65535
    if protocol == "all" or protocol not in ("tcp", "udp"):
        low, high = 0, 65535
    return (protocol, low, high)


# --- text for labels ---------------------------------------------------------------------


def traffic_text(traffic: Traffic) -> str:
    """What an edge carries, named as in every other report (`show.traffic_text`)."""
    return show_traffic_text(traffic.protocol, traffic.from_port, traffic.to_port)


def edge_text(edge: Edge) -> str:
    """The label of an edge: its traffic, prefixed by the state unless open or exposed."""
    carried = ", ".join(dict.fromkeys(traffic_text(t) for t in edge.traffic))
    return carried if edge.state in (OPEN_EDGE, EXPOSED) else f"{edge.state}: {carried}"


def size_text(node: Node) -> str:
    if node.size_max is None:
        return "size unknown"
    if node.size_min == node.size_max:
        return f"{node.size_max} node{'s' if node.size_max != 1 else ''}"
    return f"{node.size_min}-{node.size_max} nodes"


def node_lines(node: Node) -> list[str]:
    """The lines of a node's label."""
    if node.kind == INTERNET:
        return [INTERNET, ", ".join(node.cidrs)]
    if node.kind == "security_group":
        return [node.address, "security group, no node group"]
    lines = [node.address, f"{', '.join(node.roles)}, {size_text(node)}"]
    if node.security_groups != (node.address,):
        lines.extend(node.security_groups)
    return lines


def _cluster_boxes(graph: RootGraph) -> list[tuple[list[Node], str, int]]:
    """The nodes grouped for drawing: with several clusters, one box per cluster titled with
    its name and why its members belong to it, then the nodes outside any; else one untitled
    group of every node."""
    if len(graph.clusters) < 2:
        return [(list(graph.nodes), "", 0)]
    boxes = [
        ([n for n in graph.nodes if n.kind == "node_group" and n.cluster == c.name], f"cluster {c.name}: {c.reason}", i)
        for i, c in enumerate(graph.clusters, 1)
    ]
    outside = [n for n in graph.nodes if n.kind != "node_group"]
    return boxes + ([(outside, "", 0)] if outside else [])


# --- mermaid ---------------------------------------------------------------------------


def mermaid_text(text: str) -> str:
    """Text safe inside a quoted mermaid label: entity codes for the characters mermaid or
    HTML would interpret, newlines as spaces."""
    text = text.replace("#", "#35;")
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;"),
                       ("|", "#124;"), ("`", "#96;")):
        text = text.replace(char, code)
    return " ".join(text.split())


def label_lines(edge: Edge, named: bool = False) -> list[str]:
    """An edge's label for a picture, one traffic per line so labels stay narrow: the first
    line carries the state (`missing: tcp/5473`) unless open or exposed, or when `named`."""
    carried = list(dict.fromkeys(traffic_text(t) for t in edge.traffic))
    if edge.state in (OPEN_EDGE, EXPOSED) and not named:
        return carried
    return [f"{edge.state}: {carried[0]}", *carried[1:]]


def drawn_edges(graph: RootGraph) -> list[tuple[Edge, list[str]]]:
    """The edges to draw with their label lines. A node's self-loops (open and missing, say)
    become one loop, labelled with each state and styled as its worst state, because mermaid
    draws every loop on a node along the same curve: a missing loop would hide under an open
    one."""
    worst = (MISSING, UNVERIFIED, EXPOSED, OPEN_EDGE)
    loops: dict[str, list[Edge]] = {}
    for edge in graph.edges:
        if edge.source == edge.target:
            loops.setdefault(edge.source, []).append(edge)
    drawn: list[tuple[Edge, list[str]]] = []
    for edge in graph.edges:
        group = loops.get(edge.source) if edge.source == edge.target else None
        if group is None:
            drawn.append((edge, label_lines(edge)))
        elif group[0] is edge:
            ordered = sorted(group, key=lambda e: worst.index(e.state))
            lines = [line for e in ordered for line in label_lines(e, named=len(group) > 1)]
            drawn.append((ordered[0], lines))
    return drawn


def legend_lines(graphs: list[RootGraph]) -> list[str]:
    """The legend entries for the edge states the graphs draw, in a fixed order."""
    states = {edge.state for graph in graphs for edge in graph.edges}
    return [LEGEND[state] for state in EDGE_STATES if state in states]


def mermaid(graphs: list[RootGraph]) -> str:
    """A GitHub-renderable mermaid flowchart; several roots become one subgraph each. A
    legend node names what each edge style means (mermaid shows no comments). Top to bottom,
    so the labels of a node's loop and of its edges to other nodes sit side by side rather
    than on top of each other (mermaid draws loops on the side that edges leave from)."""
    lines = [_mermaid_layout(graphs), "flowchart TB"]
    links: list[str] = []
    many = len(graphs) > 1
    for index, graph in enumerate(graphs, 1):
        prefix, indent = (f"r{index}_", "    ") if many else ("", "  ")
        if many:
            lines.append(f'  subgraph r{index}["{mermaid_text(graph.root)}"]')
        lines.extend(_mermaid_body(graph, prefix, indent, links))
        if many:
            lines.append("  end")
    legend = legend_lines(graphs)
    if legend:
        lines.append(f'  {LEGEND_ID}["{"<br/>".join(["legend", *legend])}"]:::legend')
    for state in EDGE_STATES:
        indexes = [str(i) for i, s in enumerate(links) if s == state]
        if indexes:
            lines.append(f"  linkStyle {','.join(indexes)} {_LINK_STYLES[state]}")
    if any(n.kind == INTERNET for g in graphs for n in g.nodes):
        c = INTERNET_COLORS
        lines.append(f"  classDef internet fill:{c['fill']},stroke:{c['stroke']},color:{c['text']}")
    if legend:
        lines.append("  classDef legend fill:#ffffff,stroke:#999999,color:#333333,text-align:left")
    return "\n".join(lines) + "\n"


def _mermaid_layout(graphs: list[RootGraph]) -> str:
    """An init directive that spaces the ranks for the tallest loop label: mermaid hangs a
    loop's label below its node, where it would otherwise run into the next rank's nodes."""
    tallest = max((len(lines) for graph in graphs for edge, lines in drawn_edges(graph)
                   if edge.source == edge.target), default=0)
    spacing = max(50, 24 * tallest + 10)
    return f'%%{{init: {{"flowchart": {{"rankSpacing": {spacing}}}}}}}%%'


_ARROWS = {OPEN_EDGE: "-->", MISSING: "-.->", UNVERIFIED: "-.->", EXPOSED: "==>"}
_LINK_STYLES = {
    OPEN_EDGE: f"stroke:{COLORS[OPEN_EDGE]},stroke-width:2px",
    MISSING: f"stroke:{COLORS[MISSING]},stroke-width:2px,stroke-dasharray:5 5",
    UNVERIFIED: f"stroke:{COLORS[UNVERIFIED]},stroke-width:2px,stroke-dasharray:2 4",
    EXPOSED: f"stroke:{COLORS[EXPOSED]},stroke-width:4px",
}


def _mermaid_body(graph: RootGraph, prefix: str, indent: str, links: list[str]) -> list[str]:
    lines = []
    if not graph.nodes:
        lines.append(f'{indent}{prefix}none["no node groups: {mermaid_text(graph.note)}"]')
    for members, title, number in _cluster_boxes(graph):
        inner = indent
        if title:
            lines.append(f'{indent}subgraph {prefix}cluster{number}["{mermaid_text(title)}"]')
            inner = indent + "  "
        for node in members:
            label = "<br/>".join(mermaid_text(line) for line in node_lines(node))
            shape = ('(("', '"))') if node.kind == INTERNET else ('["', '"]')
            suffix = ":::internet" if node.kind == INTERNET else ""
            lines.append(f"{inner}{prefix}{node.id}{shape[0]}{label}{shape[1]}{suffix}")
        if title:
            lines.append(f"{indent}end")
    for edge, label in drawn_edges(graph):
        text = "<br/>".join(mermaid_text(line) for line in label)
        lines.append(f'{indent}{prefix}{edge.source} {_ARROWS[edge.state]}|"{text}"| {prefix}{edge.target}')
        links.append(edge.state)
    return lines


# --- DOT ---------------------------------------------------------------------------------


def dot_string(text: str) -> str:
    """A double-quoted DOT string; backslashes and quotes escaped, newlines as spaces."""
    return '"' + " ".join(text.split()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def dot(graphs: list[RootGraph]) -> str:
    """A Graphviz digraph; several roots become one cluster subgraph each, and a legend
    (an HTML-like label in the edge colours) names what each edge style means."""
    lines = [
        "digraph sglint {",
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    many = len(graphs) > 1
    for index, graph in enumerate(graphs, 1):
        prefix, indent = (f"r{index}_", "    ") if many else ("", "  ")
        if many:
            lines.append(f"  subgraph cluster_r{index} {{")
            lines.append(f"    label={dot_string(graph.root)};")
        lines.extend(_dot_body(graph, prefix, indent))
        if many:
            lines.append("  }")
    legend = [state for state in EDGE_STATES if any(e.state == state for g in graphs for e in g.edges)]
    if legend:
        rows = "".join(
            f'<TR><TD ALIGN="LEFT"><FONT COLOR="{COLORS[state]}">{LEGEND[state]}</FONT></TD></TR>'
            for state in legend
        )
        lines.append(f'  {LEGEND_ID} [shape=note, fontsize=10, label=<<TABLE BORDER="0" CELLSPACING="1">'
                     f'<TR><TD ALIGN="LEFT"><B>legend</B></TD></TR>{rows}</TABLE>>];')
    lines.append("}")
    return "\n".join(lines) + "\n"


_DOT_EDGE = {
    OPEN_EDGE: f'color="{COLORS[OPEN_EDGE]}", fontcolor="{COLORS[OPEN_EDGE]}", penwidth=2',
    MISSING: f'color="{COLORS[MISSING]}", fontcolor="{COLORS[MISSING]}", style=dashed, penwidth=2',
    UNVERIFIED: f'color="{COLORS[UNVERIFIED]}", fontcolor="{COLORS[UNVERIFIED]}", style=dotted, penwidth=2',
    EXPOSED: f'color="{COLORS[EXPOSED]}", fontcolor="{COLORS[EXPOSED]}", penwidth=3',
}


def _dot_body(graph: RootGraph, prefix: str, indent: str) -> list[str]:
    lines = []
    if not graph.nodes:
        lines.append(f"{indent}{prefix}none [shape=note, label={dot_string('no node groups: ' + graph.note)}];")
    for members, title, number in _cluster_boxes(graph):
        inner = indent
        if title:
            lines.append(f"{indent}subgraph cluster_{prefix}c{number} {{")
            lines.append(f"{indent}  label={dot_string(title)};")
            inner = indent + "  "
        for node in members:
            label = "\\n".join(dot_string(line)[1:-1] for line in node_lines(node))
            extra = ""
            if node.kind == INTERNET:
                extra = f', shape=ellipse, color="{INTERNET_COLORS["stroke"]}", fontcolor="{INTERNET_COLORS["text"]}"'
            lines.append(f'{inner}{prefix}{node.id} [label="{label}"{extra}];')
        if title:
            lines.append(f"{indent}}}")
    for edge in graph.edges:
        label = "\\n".join(dot_string(line)[1:-1] for line in label_lines(edge))
        lines.append(
            f"{indent}{prefix}{edge.source} -> {prefix}{edge.target} "
            f'[label="{label}", {_DOT_EDGE[edge.state]}];'
        )
    return lines


# --- JSON --------------------------------------------------------------------------------


def graph_json(graphs: list[RootGraph]) -> dict[str, Any]:
    """The `sglint graph --format json` document (docs/graph.md, docs/graph.schema.json)."""
    return {
        "schema_version": GRAPH_SCHEMA_VERSION,
        "roots": [
            {
                "root": graph.root,
                "note": graph.note,
                "clusters": [c.to_json() for c in graph.clusters],
                "nodes": [_node_json(n) for n in graph.nodes],
                "edges": [
                    {
                        "source": e.source,
                        "target": e.target,
                        "state": e.state,
                        "label": edge_text(e),
                        "traffic": [
                            {"protocol": t.protocol, "from_port": t.from_port, "to_port": t.to_port,
                             "requirements": list(t.requirements), "missing": t.missing}
                            for t in e.traffic
                        ],
                    }
                    for e in graph.edges
                ],
            }
            for graph in graphs
        ],
    }


def _node_json(node: Node) -> dict[str, Any]:
    data: dict[str, Any] = {"id": node.id, "kind": node.kind, "address": node.address}
    if node.kind == "node_group":
        data.update(roles=list(node.roles), size={"min": node.size_min, "max": node.size_max}, cluster=node.cluster)
    if node.kind != INTERNET:
        data["security_groups"] = list(node.security_groups)
    else:
        data["cidrs"] = list(node.cidrs)
    return data


def json_text(graphs: list[RootGraph]) -> str:
    """The graph as JSON (`graph_json`), indented, ending with a newline."""
    return json.dumps(graph_json(graphs), indent=2) + "\n"
