"""`sglint diff` on real git repositories built in a temp dir: the incident, its fix, renames
with and without `moved`, a Calico YAML change, a change outside any module, and errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import REPO, write
from referencing import Registry, Resource

from calico_sglint.terraform.cache import TABLES_KEY

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

def rule(name: str, kind: str, ports: tuple[int, int], protocol: str, group: str, peer: str) -> str:
    """An aws_security_group_rule block as `terraform fmt` writes it; `peer` is "self", a
    group's name, or a CIDR."""
    if peer == "self":
        source = {"self": "true"}
    elif "/" in peer:
        source = {"cidr_blocks": f'["{peer}"]'}
    else:
        source = {"source_security_group_id": f"aws_security_group.{peer}.id"}
    values = {"type": f'"{kind}"', "from_port": str(ports[0]), "to_port": str(ports[1]),
              "protocol": f'"{protocol}"', "security_group_id": f"aws_security_group.{group}.id", **source}
    width = max(map(len, values))
    body = "".join(f"  {key:<{width}} = {value}\n" for key, value in values.items())
    return f'\nresource "aws_security_group_rule" "{name}" {{\n{body}}}\n'


TYPHA = (5473, 5473)
TYPHA_ALL_NODES = rule("nodes_typha", "ingress", TYPHA, "tcp", "nodes", "self")
TYPHA_WORKERS_ONLY = rule("worker_typha", "ingress", TYPHA, "tcp", "worker", "self")
TYPHA_MASTER_WORKER = (rule("master_typha_from_worker", "ingress", TYPHA, "tcp", "master", "worker")
                       + rule("worker_typha_from_master", "ingress", TYPHA, "tcp", "worker", "master"))
EXPOSED_KUBELET = rule("kubelet_world", "ingress", (10250, 10250), "tcp", "worker", "0.0.0.0/0")


def group(name: str) -> str:
    return f'resource "aws_security_group" "{name}" {{\n  name   = "k8s-{name}"\n  vpc_id = "vpc-1"\n}}\n'


def instances(name: str, count: int, groups: str) -> str:
    count_line = f"  count                  = {count}\n" if count > 1 else ""
    return (f'\nresource "aws_instance" "{name}" {{\n{count_line}  ami                    = "ami-1"\n'
            f'  instance_type          = "m5.large"\n'
            f"  vpc_security_group_ids = [aws_security_group.{groups}.id, aws_security_group.nodes.id]\n}}\n")


def cluster_tf(typha: str, worker: str = "worker", moved: str = "") -> str:
    """A control plane of one instance and three workers sharing a `nodes` group that opens
    VXLAN, the kubelet and all egress between nodes; `typha` holds the TCP 5473 rules."""
    return (
        "\n".join(group(name) for name in ("master", "worker", "nodes"))
        + rule("nodes_egress", "egress", (0, 0), "-1", "nodes", "self")
        + rule("nodes_vxlan", "ingress", (4789, 4789), "udp", "nodes", "self")
        + rule("nodes_kubelet", "ingress", (10250, 10250), "tcp", "nodes", "self")
        + rule("master_api", "ingress", (6443, 6443), "tcp", "master", "nodes")
        + typha
        + instances("master", 1, "master")
        + instances(worker, 3, "worker")
        + moved
    )


class Repo:
    """A git repository in a temp dir, committed to with real `git`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "test@example.com")
        self.git("config", "user.name", "test")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        done = subprocess.run(["git", *args], cwd=self.root, capture_output=True, text=True, check=True)
        return done.stdout

    def write(self, files: dict[str, str | None]) -> None:
        for name, text in files.items():
            path = self.root / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)

    def commit(self, files: dict[str, str | None], message: str) -> str:
        self.write(files)
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.git("rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    created = Repo(tmp_path / "repo")
    monkeypatch.chdir(created.root)
    return created


def paths_of(report: dict[str, Any], change: str) -> list[tuple[str, str, str, str, int]]:
    return sorted(
        (p["rule_id"], p["source_node_group"], p["target_node_group"], p["protocol"], p["from_port"])
        for p in report["paths"] if p["change"] == change
    )


def validate(report: dict[str, Any]) -> dict[str, Any]:
    """Check `report` against docs/diff.schema.json (which refers to report.schema.json)."""
    schemas = [json.loads((REPO / "docs" / name).read_text()) for name in ("diff.schema.json", "report.schema.json")]
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    jsonschema.Draft202012Validator.check_schema(schemas[0])
    jsonschema.Draft202012Validator(schemas[0], registry=registry).validate(report)
    return report


INCIDENT_CLOSED = [
    ("calico-typha", "aws_instance.master", "aws_instance.worker", "tcp", 5473),
    ("calico-typha", "aws_instance.worker", "aws_instance.master", "tcp", 5473),
]


def test_the_incident_closes_two_paths_and_fails(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)}, "typha only between workers")
    result = sglint("diff", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert result.code == 1, result.stderr
    report = validate(result.json())
    assert paths_of(report, "closed") == INCIDENT_CLOSED
    assert [p["change"] for p in report["paths"]] == ["closed", "closed"]
    assert report["fails"] is True
    assert report["roots"] == ["infra"]
    closed = report["paths"][0]
    assert (closed["base"], closed["head"], closed["missing"]) == ("open", "missing", "ingress")
    assert closed["opened_by"] == [{
        "address": "aws_security_group_rule.nodes_typha", "direction": "ingress",
        "base_location": {"file": "infra/main.tf", "line": 52, "end_line": 59}, "head_location": None,
    }]
    assert report["summary"]["closed"] == 2 and report["summary"]["new-errors"] == 2


def test_the_incident_in_the_working_tree_reads_as_text(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)})
    result = sglint("diff", "main")
    assert result.code == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == [
        f"sglint diff: main ({repo.git('rev-parse', '--short=7', 'main').strip()}) -> working tree",
        "FAIL: this change closes 2 required paths and adds 2 error-level findings",
    ]
    assert "  aws_instance.master -> aws_instance.worker tcp/5473 [calico-typha]" in lines
    assert "  aws_instance.worker -> aws_instance.master tcp/5473 [calico-typha]" in lines
    assert lines[-1] == "1 root module compared: 2 closed"


def test_fixing_the_incident_opens_the_paths_and_passes(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)}, "typha only between workers")
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY + TYPHA_MASTER_WORKER)}, "typha master <-> worker")
    result = sglint("diff", "HEAD~1", "--head", "HEAD", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    assert paths_of(report, "opened") == INCIDENT_CLOSED
    assert len(report["paths"]) == 2 and report["fails"] is False


def test_a_changed_port_annotates_the_rule_that_closed_the_path(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES.replace("5473", "5474"))})
    result = sglint("diff", "main", "--format", "github")
    assert result.code == 1
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    # Both closed paths point at the rule's new text; the node group to itself too (3 workers).
    assert annotations and all("file=infra/main.tf,line=52,endLine=59," in a for a in annotations)
    assert len(annotations) == 3
    assert result.stdout.splitlines()[-1] == "sglint diff: FAIL: this change closes 3 required paths and adds 3 error-level findings"


def test_markdown_has_the_table_and_the_graph_with_closed_edges_highlighted(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)})
    result = sglint("diff", "main", "--format", "markdown")
    assert result.code == 1
    text = result.stdout
    assert "**FAIL: this change closes 2 required paths and adds 2 error-level findings**" in text
    rows = [line for line in text.splitlines() if line.startswith("| 🔴 closed |")]
    assert len(rows) == 2 and "`aws_instance.master` | `aws_instance.worker` | tcp/5473" in rows[0]
    graph = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert graph.count(" -.->|") == 2
    assert "linkStyle 0,1 stroke:#d00,stroke-width:4px" in graph
    # For context, the paths between those groups that stay open, thin and grey.
    assert 'infra_aws_instance_worker -->|"open: udp/4789, tcp/6443"| infra_aws_instance_master' in graph
    assert "linkStyle 2,3,4 stroke:#bbb,stroke-width:1px" in graph


def rename_files(moved: bool) -> dict[str, str | None]:
    block = '\nmoved {\n  from = aws_instance.worker\n  to   = aws_instance.workers\n}\n' if moved else ""
    return {"infra/main.tf": cluster_tf(TYPHA_ALL_NODES, worker="workers", moved=block)}


def test_a_rename_without_moved_is_a_removal_and_an_addition(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write(rename_files(moved=False))
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    removed = {(p["source_node_group"], p["target_node_group"]) for p in report["paths"] if p["change"] == "removed"}
    added = {(p["source_node_group"], p["target_node_group"]) for p in report["paths"] if p["change"] == "added"}
    assert removed == {("aws_instance.master", "aws_instance.worker"), ("aws_instance.worker", "aws_instance.master"),
                       ("aws_instance.worker", "aws_instance.worker")}
    assert added == {("aws_instance.master", "aws_instance.workers"), ("aws_instance.workers", "aws_instance.master"),
                     ("aws_instance.workers", "aws_instance.workers")}
    assert {p["change"] for p in report["paths"]} == {"removed", "added"}


def test_a_rename_with_moved_changes_nothing(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write(rename_files(moved=True))
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    assert report["paths"] == []
    assert report["renames"] == [{"from": "aws_instance.worker", "to": "aws_instance.workers"}]
    assert report["verdict"] == "OK: nothing sglint checks changed"


def installation(encapsulation: str) -> str:
    return f"""apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
  calicoNetwork:
    ipPools:
      - cidr: 192.168.0.0/16
        encapsulation: {encapsulation}
"""


def test_switching_calico_to_ipip_reports_the_new_paths_as_still_missing(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES), "infra/calico/installation.yaml": installation("VXLAN")}, "vxlan")
    repo.write({"infra/calico/installation.yaml": installation("IPIP")})
    result = sglint("diff", "main", "--format", "json")
    report = validate(result.json())
    still = paths_of(report, "still-missing")
    pairs = [("aws_instance.master", "aws_instance.worker"), ("aws_instance.worker", "aws_instance.master"),
             ("aws_instance.worker", "aws_instance.worker")]
    assert still == sorted([("calico-bgp", s, t, "tcp", 179) for s, t in pairs]
                           + [("calico-ipip", s, t, "4", 0) for s, t in pairs])
    # IP-in-IP is newly required; BGP was already (the operator's default) and still is missing.
    states = {(p["rule_id"], p["base"], p["head"]) for p in report["paths"] if p["change"] == "still-missing"}
    assert states == {("calico-ipip", None, "missing"), ("calico-bgp", "missing", "missing")}
    assert {p["rule_id"] for p in report["paths"] if p["change"] == "removed"} == {"calico-vxlan"}
    assert report["changed_files"] == ["infra/calico/installation.yaml"]
    # The switch asks for ports no rule opens: new error-level findings, so the change fails.
    assert result.code == 1
    assert [f["rule_id"] for f in report["new_errors"]] == ["calico-ipip"] * 3


def test_a_change_outside_any_module_reports_nothing(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY), "README.md": "# infra\n"}, "cluster")
    repo.commit({"README.md": "# infra\n\nMore words.\n", "scripts/deploy.sh": "echo hi\n"}, "docs")
    result = sglint("diff", "HEAD~1", "--head", "HEAD")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        "OK: nothing sglint checks changed", "", "0 root modules compared; no required path changed",
    ]


def test_exposures_and_cycles_added(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    exposed = TYPHA_ALL_NODES + EXPOSED_KUBELET
    repo.write({"infra/main.tf": cluster_tf(exposed)})
    result = sglint("diff", "main", "--format", "json")
    report = validate(result.json())
    assert [(c["change"], c["finding"]["rule_id"], c["finding"]["location"]["line"]) for c in report["exposures"]] == [
        ("added", "sg-exposed", 61)
    ]
    assert report["cycles"] == [] and report["paths"] == []
    assert result.code == 1  # sg-exposed is an error


def test_an_unknown_revision_is_a_one_line_error(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    result = sglint("diff", "no-such-branch")
    assert result.code == 2
    assert result.stderr == "sglint: unknown git revision 'no-such-branch' (fetch it first, e.g. git fetch origin no-such-branch)\n"
    assert sglint("diff", "--", "-x").code == 2


def test_outside_a_repository_is_a_one_line_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = sglint("diff", "main")
    assert result.code == 2
    assert result.stderr.endswith("sglint diff needs a git repository; this directory is not in one\n")
    assert result.stderr.count("\n") == 1


def test_a_syntax_error_on_the_new_side_is_exit_2(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES) + "resource {\n"})
    result = sglint("diff", "main")
    assert result.code == 2
    assert result.stderr.startswith("infra/main.tf:")


def test_a_syntax_error_on_the_old_side_is_said_and_the_change_is_compared(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES) + "resource {\n"}, "broken")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)})
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    assert [d["location"]["file"] for d in report["base"]["diagnostics"] if d["location"]] == ["infra/main.tf"]
    text = sglint("diff", "main").stdout
    assert "note: the base (main (" in text and "could not be read completely" in text


@pytest.mark.slow
def test_one_changed_module_of_a_monorepo_is_all_that_is_read_and_evaluated(
    repo: Repo, sglint, monkeypatch: pytest.MonkeyPatch, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.syspath_prepend(str(REPO / "bench"))
    from generate import generate

    cache = tmp_path / "cache"
    monkeypatch.setenv("SGLINT_CACHE_DIR", str(cache))
    generate(str(repo.root), 4)
    repo.commit({}, "four clusters")
    changed = repo.root / "clusters" / "c0003" / "locals.tf"
    changed.write_text(changed.read_text().replace("port = 4789 }", "port = 4790 }", 1))
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 1, result.stderr
    report = validate(result.json())
    assert report["roots"] == ["clusters/c0003"]
    assert report["changed_files"] == ["clusters/c0003/locals.tf"]
    module_files = len(list((repo.root / "clusters" / "c0003").iterdir()))
    assert report["base"]["files_from_git"] == module_files == 13
    assert report["head"]["files_from_git"] is None
    assert [(p["change"], p["rule_id"], p["protocol"], p["from_port"]) for p in report["paths"]
            if p["change"] == "closed"] == [("closed", "calico-vxlan", "udp", 4789)]
    # Parsed: the changed module on each side (one cache pack each), none of the other three
    # (beside them, the parser's tables).
    packs = [p for p in (cache / "parsed").rglob("*") if p.is_file() and p.name != TABLES_KEY]
    assert len(packs) == 2
    repo.commit({}, "vxlan port")  # the same change as two commits: both sides from git
    commits = sglint("diff", "HEAD~1", "--head", "HEAD", "clusters", "--format", "json")
    assert commits.code == 1
    assert (commits.json()["base"]["files_from_git"], commits.json()["head"]["files_from_git"]) == (13, 13)
    assert commits.json()["paths"] == report["paths"]
    one_file = sglint("diff", "HEAD~1", "--head", "HEAD", "clusters/c0003/locals.tf", "--format", "json")
    assert one_file.json()["paths"] == report["paths"]


def test_a_moved_block_in_a_called_module_applies_under_its_instance(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    call = 'module "k8s" {\n  source = "./modules/k8s"\n}\n'
    repo.commit({"infra/main.tf": call, "infra/modules/k8s/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster module")
    moved = '\nmoved {\n  from = aws_instance.worker\n  to   = aws_instance.workers\n}\n'
    repo.write({"infra/modules/k8s/main.tf": cluster_tf(TYPHA_ALL_NODES, worker="workers", moved=moved)})
    result = sglint("diff", "main", "infra", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    assert report["renames"] == [{"from": "module.k8s.aws_instance.worker", "to": "module.k8s.aws_instance.workers"}]
    assert report["roots"] == ["infra"] and report["paths"] == []



@pytest.mark.parametrize("moved", [False, True])
def test_a_renamed_security_group_keeps_its_exposure_only_with_moved(repo: Repo, sglint, moved: bool) -> None:  # type: ignore[no-untyped-def]
    before = cluster_tf(TYPHA_ALL_NODES + EXPOSED_KUBELET)
    repo.commit({"infra/main.tf": before}, "exposed kubelet")
    after = before.replace("aws_security_group.worker", "aws_security_group.workers").replace(
        'resource "aws_security_group" "worker"', 'resource "aws_security_group" "workers"')
    block = "\nmoved {\n  from = aws_security_group.worker\n  to   = aws_security_group.workers\n}\n"
    repo.write({"infra/main.tf": after + (block if moved else "")})
    result = sglint("diff", "main", "--format", "json")
    report = validate(result.json())
    exposures = [(c["change"], c["finding"]["message"].split(" admits ")[0]) for c in report["exposures"]]
    if moved:
        assert (result.code, exposures, report["paths"]) == (0, [], [])
    else:  # a new group exposing the kubelet, and the old one gone
        assert exposures == [("added", "aws_security_group.workers"), ("removed", "aws_security_group.worker")]
        assert result.code == 1


def test_a_new_root_module_is_compared_with_nothing(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "one cluster")
    repo.write({"staging/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)})
    result = sglint("diff", "main", "--format", "json")
    report = validate(result.json())
    assert report["roots"] == ["staging"]
    assert {(p["change"], p["base"], p["head"]) for p in report["paths"]} == {
        ("still-missing", None, "missing"), ("added", None, "open")}
    assert paths_of(report, "still-missing") == INCIDENT_CLOSED
    assert result.code == 1  # two new error-level findings
    only_new = sglint("diff", "main", "staging", "--format", "json")
    assert only_new.json()["base"]["files_from_git"] == 0 and only_new.json()["roots"] == ["staging"]


def test_from_a_subdirectory_paths_are_relative_to_it(repo: Repo, sglint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)})
    monkeypatch.chdir(repo.root / "infra")
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 1
    report = result.json()
    assert report["roots"] == ["."]
    assert {p["location"]["file"] for p in report["paths"]} == {"main.tf"}
    assert {o["base_location"]["file"] for p in report["paths"] for o in p["opened_by"]} == {"main.tf"}


CORPUS = REPO.parent / "shared" / "corpus"


@pytest.mark.slow
@pytest.mark.skipif(not (CORPUS / "kops-privatecalico").is_dir(), reason="no ../shared/corpus beside this checkout")
def test_narrowing_a_kops_rule_closes_bgp_from_nodes_to_masters(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    """Real kops output (IPIP CrossSubnet, BGP on, no Typha): a pull request that narrows the
    nodes -> masters TCP 1-2379 rule to 1-178 closes BGP and, for unencapsulated pods, TCP
    179-2378 to the masters (calico-native-routing asks every TCP port of a control-plane node
    but etcd's), and nothing else."""
    text = (CORPUS / "kops-privatecalico" / "kubernetes.tf").read_text()
    repo.commit({"kubernetes.tf": text}, "kops")
    rule = 'resource "aws_security_group_rule" "from-nodes-privatecalico-example-com-ingress-tcp-1to2379-masters'
    start = text.index(rule)
    narrowed = text[:start] + text[start:].replace("to_port                  = 2379", "to_port                  = 178", 1)
    repo.write({"kubernetes.tf": narrowed})
    result = sglint("diff", "main", "--encapsulation", "IPIPCrossSubnet", "--bgp", "--no-typha", "--format", "json")
    assert result.code == 1, result.stderr
    report = validate(result.json())
    closed = [(p["rule_id"], p["source_sg"], p["target_sg"], p["from_port"]) for p in report["paths"] if p["change"] == "closed"]
    assert closed == [
        ("calico-bgp", "aws_security_group.nodes-privatecalico-example-com",
         "aws_security_group.masters-privatecalico-example-com", 179),
        ("calico-native-routing", "aws_security_group.nodes-privatecalico-example-com",
         "aws_security_group.masters-privatecalico-example-com", 1),
    ]
    assert [o["address"] for o in report["paths"][0]["opened_by"]] == [
        "aws_security_group_rule.from-nodes-privatecalico-example-com-ingress-tcp-1to2379-masters-privatecalico-example-com"]


def test_a_linked_shared_file_is_read_on_the_old_side_too(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.write({"shared/typha.tf": TYPHA_ALL_NODES, "infra/main.tf": cluster_tf("")})
    (repo.root / "infra" / "typha.tf").symlink_to("../shared/typha.tf")
    repo.commit({}, "typha rules shared by every environment")
    repo.write({"infra/main.tf": "# reviewed\n" + cluster_tf("")})
    result = sglint("diff", "main", "infra", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    assert (report["roots"], report["paths"]) == (["infra"], [])
    assert report["base"]["files_from_git"] == 3  # main.tf, the link and what it points to


def test_links_that_leave_the_snapshot_are_not_written(repo: Repo, tmp_path: Path) -> None:
    from calico_sglint.diff.gitread import Snapshot

    (tmp_path / "outside.tf").write_text('resource "aws_security_group" "secret" {}\n')
    repo.write({"infra/main.tf": cluster_tf("")})
    links = {"infra/escape.tf": "../../outside.tf", "infra/up": "..", "infra/chain.tf": "up/../outside.tf",
             "infra/inside.tf": "main.tf", "top": "/etc"}
    for name, target in links.items():
        (repo.root / name).symlink_to(target)
    commit = repo.commit({}, "links")
    snapshot = Snapshot(str(repo.root), commit, str(tmp_path / "snapshot"))
    snapshot.write(lambda path: True)
    present = {name for name in links if os.path.lexists(os.path.join(snapshot.root, name))}
    assert present == {"infra/up", "infra/inside.tf"}
    assert Path(snapshot.root, "infra", "inside.tf").read_text() == cluster_tf("")


def test_a_port_from_a_variable_without_a_value_makes_the_paths_unverified(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    unknown = 'variable "typha_port" {\n  type = number\n}\n' + TYPHA_ALL_NODES.replace("= 5473", "= var.typha_port")
    repo.write({"infra/main.tf": cluster_tf(unknown)})
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 0, result.stderr  # unverified is not closed: said, not failed
    report = validate(result.json())
    assert {p["change"] for p in report["paths"]} == {"became-unverified"}
    assert paths_of(report, "became-unverified") == sorted([*INCIDENT_CLOSED, (
        "calico-typha", "aws_instance.worker", "aws_instance.worker", "tcp", 5473)])
    assert all(p["unknowns"] == ["var.typha_port"] for p in report["paths"])
    text = sglint("diff", "main").stdout
    assert "became unverified (3):" in text and "depends on var.typha_port" in text
    warnings = [line for line in sglint("diff", "main", "-f", "github").stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 3
    assert all("title=calico-typha%3A path unverified::this change makes" in w and "var.typha_port" in w for w in warnings)


def test_inline_rules_naming_each_other_introduce_a_cycle(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    inline = (
        '  ingress {\n    from_port       = 179\n    to_port         = 179\n    protocol        = "tcp"\n'
        '    security_groups = [aws_security_group.{peer}.id]\n  }\n'
    )
    text = cluster_tf(TYPHA_ALL_NODES)
    for group, peer in (("master", "worker"), ("worker", "master")):
        head = f'resource "aws_security_group" "{group}" {{\n'
        text = text.replace(head, head + inline.replace("{peer}", peer))
    repo.write({"infra/main.tf": text})
    result = sglint("diff", "main", "--format", "json")
    report = validate(result.json())
    assert [(c["change"], c["finding"]["rule_id"]) for c in report["cycles"]] == [("added", "sg-cycle")]
    assert result.code == 1
    assert "cycles introduced (1):" in sglint("diff", "main").stdout


def test_an_exposing_rule_renamed_exposes_nothing_new(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES + EXPOSED_KUBELET)}, "exposed kubelet")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES + EXPOSED_KUBELET.replace("kubelet_world", "kubelet_internet"))})
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    assert (report["exposures"], report["new_errors"]) == ([], [])


def test_files_a_module_reads_are_there_on_the_old_side(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    typha = TYPHA_ALL_NODES.replace("= 5473", "= local.ports.typha")
    reads = 'locals {\n  ports = jsondecode(file("${path.module}/files/ports.json"))\n}\n' + typha
    repo.commit({"infra/main.tf": cluster_tf(reads), "infra/files/ports.json": '{"typha": 5473}\n'}, "ports from a file")
    repo.write({"infra/main.tf": "# reviewed\n" + cluster_tf(reads)})
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 0, result.stderr
    report = validate(result.json())
    assert report["paths"] == [] and report["base"]["files_from_git"] == 2
    repo.write({"infra/main.tf": cluster_tf(reads), "infra/files/ports.json": '{"typha": 5474}\n'})  # only the file
    moved = sglint("diff", "main", "--format", "json")
    assert moved.code == 1
    assert moved.json()["changed_files"] == ["infra/files/ports.json"]
    assert {p["change"] for p in moved.json()["paths"]} == {"closed"}


def test_a_module_already_broken_elsewhere_does_not_stop_the_comparison(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    # It calls a module: it might call the changed one, so it is read (and does not parse).
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES), "legacy/main.tf": 'module "old" {\nresource {\n'},
                "a broken module")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)})
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 1, result.stderr
    assert paths_of(validate(result.json()), "closed") == INCIDENT_CLOSED
    warnings = result.stderr.splitlines()
    assert warnings and all("warning:" in line and "(not compared: the change does not touch it)" in line for line in warnings)
    assert any(line.startswith("legacy/main.tf:") for line in warnings)
    assert any("module legacy was not checked" in line for line in warnings)
    repo.write({"legacy/main.tf": 'module "old" {\n'})  # now the change touches it: an input error
    assert sglint("diff", "main").code == 2


def test_with_merge_base_changes_made_on_the_base_branch_since_are_not_counted(repo: Repo, sglint) -> None:  # type: ignore[no-untyped-def]
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES)}, "cluster")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY)}, "typha only between workers")
    repo.git("checkout", "-q", "main")
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES + EXPOSED_KUBELET)}, "meanwhile on main")
    repo.git("checkout", "-q", "feature")
    tip = sglint("diff", "main", "--format", "json").json()
    assert [c["change"] for c in tip["exposures"]] == ["removed"]  # main's own change, reversed
    forked = sglint("diff", "main", "--merge-base", "--format", "json")
    assert forked.code == 1
    report = validate(forked.json())
    assert report["exposures"] == [] and paths_of(report, "closed") == INCIDENT_CLOSED
    assert report["base"]["label"] == f"the merge base with main ({repo.git('rev-parse', '--short=7', 'main~1').strip()})"


def test_a_module_outside_the_repository_is_read_on_neither_side(repo: Repo, tmp_path: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    secret = "SUPERSECRET-diff-3b9d"
    write(tmp_path, {"outside/mod/main.tf": (
        f'resource "aws_security_group" "leak" {{\n  name = "{secret}"\n}}\n\nresource "aws_instance" "leak" {{\n'
        '  vpc_security_group_ids = [aws_security_group.leak.id]\n  tags                   = { Role = "worker" }\n}\n'
    )})
    call = '\nmodule "extra" {\n  source = "../../outside/mod"\n}\n'
    repo.commit({"infra/main.tf": cluster_tf(TYPHA_ALL_NODES) + call}, "cluster calling a module beside the repository")
    repo.write({"infra/main.tf": cluster_tf(TYPHA_WORKERS_ONLY) + call})
    result = sglint("diff", "main", "--format", "json")
    assert result.code == 1, result.stderr
    assert paths_of(validate(result.json()), "closed") == INCIDENT_CLOSED
    assert secret not in result.stdout + result.stderr
    assert "module.extra" not in result.stdout  # its node group would add required paths if it were read
