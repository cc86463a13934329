"""`sglint graph`: the exact mermaid of the incident example, the states of edges (open,
missing, unverified, exposed), escaping, DOT that Graphviz's grammar accepts (pydot), the
versioned JSON against its schema, several roots, and the README's picture."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import jsonschema
import pydot
import pytest
from conftest import FIXTURES, REPO, write

from calico_sglint.render.diagram import dot_string, mermaid_text, node_id

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pydot on new pyparsing
GRAPH_SCHEMA = json.loads((REPO / "docs" / "graph.schema.json").read_text())
CHECKED = sorted(p.name for p in FIXTURES.iterdir() if p.is_dir()) + ["../examples/typha-blocked", "../examples/cluster-sg"]

TYPHA_MERMAID = """\
%%{init: {"flowchart": {"rankSpacing": 58}}}%%
flowchart TB
  aws_instance_master["aws_instance.master<br/>control-plane, 1 node<br/>aws_security_group.master"]
  aws_instance_worker["aws_instance.worker<br/>worker, 13 nodes<br/>aws_security_group.worker"]
  aws_instance_master -->|"tcp/10250<br/>udp/4789"| aws_instance_worker
  aws_instance_master -.->|"missing: tcp/5473"| aws_instance_worker
  aws_instance_worker -->|"tcp/6443<br/>udp/4789"| aws_instance_master
  aws_instance_worker -.->|"missing: tcp/5473"| aws_instance_master
  aws_instance_worker -->|"tcp/5473<br/>udp/4789"| aws_instance_worker
  legend["legend<br/>green solid: open<br/>red dashed: missing"]:::legend
  linkStyle 0,2,4 stroke:#22aa22,stroke-width:2px
  linkStyle 1,3 stroke:#dd0000,stroke-width:2px,stroke-dasharray:5 5
  classDef legend fill:#ffffff,stroke:#999999,color:#333333,text-align:left
"""


def test_typha_blocked_draws_the_two_missing_typha_paths(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("graph", "examples/typha-blocked", "--format", "mermaid")
    assert (result.code, result.stdout, result.stderr) == (0, TYPHA_MERMAID, "")


def test_the_readme_shows_the_graph_of_typha_blocked() -> None:
    readme = (REPO / "README.md").read_text()
    assert f"```mermaid\n{TYPHA_MERMAID}```" in readme


def test_exposure_is_an_edge_from_the_internet(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    assert sglint("graph", "fixtures/check-exposed").stdout == """\
%%{init: {"flowchart": {"rankSpacing": 58}}}%%
flowchart TB
  aws_instance_node["aws_instance.node<br/>worker, 3 nodes<br/>aws_security_group.nodes"]
  internet(("internet<br/>0.0.0.0/0, ::/0")):::internet
  aws_instance_node -->|"tcp/5473<br/>udp/4789"| aws_instance_node
  internet ==>|"all traffic<br/>tcp/179"| aws_instance_node
  legend["legend<br/>green solid: open<br/>thick red from the internet: exposed"]:::legend
  linkStyle 0 stroke:#22aa22,stroke-width:2px
  linkStyle 1 stroke:#dd0000,stroke-width:4px
  classDef internet fill:#ffeeee,stroke:#dd0000,color:#990000
  classDef legend fill:#ffffff,stroke:#999999,color:#333333,text-align:left
"""


def test_a_path_unknown_values_might_open_is_unverified(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    edges = sglint("graph", "fixtures/check-unverified", "--format", "json").json()["roots"][0]["edges"]
    assert [(e["state"], e["label"], [t["missing"] for t in e["traffic"]]) for e in edges] == [
        ("open", "udp/4789", [None]),
        ("unverified", "unverified: tcp/5473", ["ingress"]),
    ]


def test_security_group_nodes_and_a_missing_kubelet_path(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    graph = sglint("graph", "fixtures/sg-module-only", "--format", "json").json()["roots"][0]
    assert [(n["id"], n["roles"], n["security_groups"]) for n in graph["nodes"]] == [
        ("aws_security_group_control_plane", ["control-plane"], ["aws_security_group.control_plane"]),
        ("aws_security_group_workers", ["worker"], ["aws_security_group.workers"]),
    ]
    missing = [e for e in graph["edges"] if e["state"] == "missing"]
    assert missing == [{
        "source": "aws_security_group_control_plane",
        "target": "aws_security_group_workers",
        "state": "missing",
        "label": "missing: tcp/10250",
        "traffic": [{"protocol": "tcp", "from_port": 10250, "to_port": 10250,
                     "requirements": ["k8s-kubelet"], "missing": "ingress"}],
    }]


def test_all_traffic_requirement_is_labelled_all_traffic(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    out = sglint("graph", "fixtures/profile-crosssubnet").stdout
    assert '  aws_instance_node -.->|"missing: all traffic<br/>open: tcp/5473<br/>udp/4789"| aws_instance_node\n' in out


def test_the_graph_follows_the_profile_flags(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    out = sglint("graph", "examples/typha-blocked", "--no-typha").stdout
    assert "missing" not in out
    assert '  aws_instance_worker -->|"udp/4789"| aws_instance_worker\n' in out


@pytest.mark.slow
@pytest.mark.parametrize("scenario", CHECKED)
def test_json_validates_and_dot_parses_for_every_fixture(scenario: str, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    path = f"fixtures/{scenario}".replace("fixtures/../", "")
    document = sglint("graph", path, "--format", "json").json()
    jsonschema.validate(document, GRAPH_SCHEMA)
    text = sglint("graph", path, "--format", "dot").stdout
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1
    several = len(document["roots"]) > 1  # each root is a cluster; its ids are prefixed r1_, r2_, ...

    def dot_id(index: int, node: str) -> str:
        return f"r{index + 1}_{node}" if several else node

    ids = {dot_id(i, n["id"]) for i, r in enumerate(document["roots"]) for n in r["nodes"]}
    edges = [(dot_id(i, e["source"]), dot_id(i, e["target"])) for i, r in enumerate(document["roots"]) for e in r["edges"]]
    graphs_and_clusters = [graphs[0], *graphs[0].get_subgraphs()]
    assert {n.get_name() for g in graphs_and_clusters for n in g.get_nodes()} >= ids
    assert [(e.get_source(), e.get_destination()) for g in graphs_and_clusters for e in g.get_edges()] == edges
    assert all(set(e).issubset(ids) for e in edges)


def test_each_root_draws_the_requirements_of_its_own_config(tmp_path: Path, sglint, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for name in ("a", "b"):
        shutil.copytree(REPO / "examples" / "typha-blocked", tmp_path / name)
    (tmp_path / "b" / ".sglint.yaml").write_text("disable: [calico-typha]\n")
    monkeypatch.chdir(tmp_path)
    graph = sglint("graph", "a", "b", "--format", "json").json()
    requirements = [sorted({r for e in root["edges"] for t in e["traffic"] for r in t["requirements"]})
                    for root in graph["roots"]]
    assert requirements == [["calico-typha", "calico-vxlan", "k8s-apiserver", "k8s-kubelet"],
                            ["calico-vxlan", "k8s-apiserver", "k8s-kubelet"]]
    checked = [r["requirements"] for r in sglint("check", "a", "b", "--format", "json").json()["roots"]]
    assert checked == requirements


@pytest.mark.slow
def test_several_roots_are_subgraphs_with_their_own_ids(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    out = sglint("graph", "examples/typha-blocked", "fixtures/check-exposed").stdout
    assert '  subgraph r1["examples/typha-blocked"]\n' in out
    assert '  subgraph r2["fixtures/check-exposed"]\n' in out
    assert '    r2_internet ==>|"all traffic<br/>tcp/179"| r2_aws_instance_node\n' in out
    assert "  linkStyle 0,2,4,5 stroke:#22aa22,stroke-width:2px\n" in out
    assert "  linkStyle 6 stroke:#dd0000,stroke-width:4px\n" in out
    dot = sglint("graph", "examples/typha-blocked", "fixtures/check-exposed", "--format", "dot").stdout
    parsed = pydot.graph_from_dot_data(dot)[0]
    assert [s.get_name() for s in parsed.get_subgraphs()] == ["cluster_r1", "cluster_r2"]


def test_a_module_without_nodes_says_so(tmp_path: Path, sglint, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {"main.tf": 'resource "aws_s3_bucket" "logs" {}\n'})
    monkeypatch.chdir(tmp_path)
    out = sglint("graph", ".").stdout
    assert out.splitlines()[2] == (
        '  none["no node groups: no compute resources and no security group named for a role; '
        'declare #96;roles:#96; in .sglint.yaml to check paths"]'
    )


def test_an_exposed_group_without_nodes_is_drawn_as_itself(tmp_path: Path, sglint, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {"main.tf": """
resource "aws_security_group" "public" {
  name = "public"
  ingress {
    from_port   = 10250
    to_port     = 10250
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}
"""})
    monkeypatch.chdir(tmp_path)
    assert sglint("graph", ".").stdout.splitlines()[2:] == [
        '  aws_security_group_public["aws_security_group.public<br/>security group, no node group"]',
        '  internet(("internet<br/>0.0.0.0/0")):::internet',
        '  internet ==>|"tcp/10250"| aws_security_group_public',
        '  legend["legend<br/>thick red from the internet: exposed"]:::legend',
        "  linkStyle 0 stroke:#dd0000,stroke-width:4px",
        "  classDef internet fill:#ffeeee,stroke:#dd0000,color:#990000",
        "  classDef legend fill:#ffffff,stroke:#999999,color:#333333,text-align:left",
    ]


def test_output_file_and_input_errors(tmp_path: Path, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "graph.dot"
    result = sglint("graph", "examples/typha-blocked", "--format", "dot", "-o", str(target))
    assert (result.code, result.stdout) == (0, "")
    assert target.read_text().startswith("digraph sglint {\n  rankdir=LR;\n")
    broken = sglint("graph", "fixtures/syntax-error")
    assert broken.code == 2 and "Traceback" not in broken.stderr
    missing = sglint("graph", str(tmp_path / "nowhere"))
    assert (missing.code, missing.stdout) == (2, "")
    assert sglint("graph", "examples/typha-blocked", "--format", "png").code == 2


def test_graph_help_has_examples(sglint) -> None:  # type: ignore[no-untyped-def]
    out = sglint("graph", "--help").stdout
    assert "Examples:" in out and "sglint graph examples/typha-blocked" in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aws_instance.a", "aws_instance.a"),
        ('module.x.aws_instance.w["a b"]', "module.x.aws_instance.w[#quot;a b#quot;]"),
        ("a#b&c<d>e|f`g", "a#35;b#amp;c#lt;d#gt;e#124;f#96;g"),
        ("two\nlines", "two lines"),
    ],
)
def test_mermaid_labels_are_escaped(text: str, expected: str) -> None:
    assert mermaid_text(text) == expected


def test_node_ids_are_safe_and_unique() -> None:
    assert node_id('module.k8s.aws_instance.worker["a-1"]') == "module_k8s_aws_instance_worker_a_1"
    assert node_id("aws_instance.a_b", ["aws_instance_a_b"]) == "aws_instance_a_b_2"
    assert node_id("end") == "end_2"
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", node_id(t)) for t in ("a.b", "é.ü", "[]", "x-y z"))


def test_dot_strings_escape_quotes_and_backslashes() -> None:
    assert dot_string('w["a\\b"]') == '"w[\\"a\\\\b\\"]"'
    parsed = pydot.graph_from_dot_data(f"digraph g {{ a [label={dot_string(chr(34) + 'x' + chr(92))}]; }}")
    assert parsed is not None
