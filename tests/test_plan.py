"""`--plan`: checking `terraform show -json` output, with and without the `.tf` sources.

The differential tests compare `--plan` with the HCL reading of the same code: the findings
must be equal, except where the plan knows more, and those differences are listed here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

import plan_scenarios as scenarios
from calico_sglint.terraform.parse import parse_expression
from calico_sglint.terraform.planfile import module_address, split_reference
from calico_sglint.terraform.references import expression_references, names_every_candidate
from conftest import EXAMPLES, FIXTURES, REPO
from plan_scenarios import INSTANCE_UNKNOWN, instance_values
from planjson import RULE_UNKNOWN, SG_UNKNOWN, PlanBuilder, Resource, const, ref, rule_values, sg_values

TYPHA = EXAMPLES / "typha-blocked"


def _write(builder: PlanBuilder, tmp_path: Path, name: str = "tfplan.json") -> str:
    return str(builder.write(tmp_path / name))


def _findings(result: Any) -> list[tuple[str, str, str, int, str]]:
    """Rule, message, location and fingerprint (so a baseline from one reading serves the other)."""
    return [(f["rule_id"], f["message"], f["location"]["file"], f["location"]["line"], f["fingerprint"])
            for f in result.json()["findings"]]


def _differential(sglint, source: Path, plan: str) -> tuple[list[Any], list[Any], list[Any]]:  # type: ignore[no-untyped-def]
    """(findings of both readings, only the HCL reading's, only the plan's)."""
    hcl = sglint("check", str(source), "-f", "json")
    planned = sglint("check", str(source), "--plan", plan, "-f", "json")
    assert hcl.code in (0, 1) and planned.code in (0, 1), (hcl.stderr, planned.stderr)
    left, right = _findings(hcl), _findings(planned)
    return [f for f in left if f in right], [f for f in left if f not in right], [f for f in right if f not in left]


def test_the_typha_incident_from_the_plan_equals_the_hcl_reading(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = _write(scenarios.typha_incident(), tmp_path)
    both, hcl_only, plan_only = _differential(sglint, TYPHA.relative_to(in_repo), plan)
    assert (hcl_only, plan_only) == ([], [])
    assert [(rule, file, line) for rule, _, file, line, _ in both] == [
        ("calico-typha", "examples/typha-blocked/main.tf", 21),
        ("sg-cross-reference", "examples/typha-blocked/main.tf", 21),
        ("calico-typha", "examples/typha-blocked/main.tf", 27),
    ]


def test_without_sources_findings_point_at_the_plan_line_of_the_address(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    builder = scenarios.typha_incident()
    _write(builder, tmp_path)
    result = sglint("check", "--plan", "tfplan.json", "-f", "json")
    assert result.code == 1, result.stderr
    text = (tmp_path / "tfplan.json").read_text().splitlines()
    lines = {name: next(i for i, line in enumerate(text, 1) if f'"address": "aws_security_group.{name}"' in line)
             for name in ("master", "worker")}
    assert [(f[0], f[2], f[3]) for f in _findings(result)] == [
        ("calico-typha", "tfplan.json", lines["master"]),
        ("sg-cross-reference", "tfplan.json", lines["master"]),
        ("calico-typha", "tfplan.json", lines["worker"]),
    ]
    (tmp_path / "min.json").write_text(json.dumps(builder.document()))  # as terraform prints it: one line
    again = sglint("check", "--plan", "min.json", "-f", "json")
    assert {(f[2], f[3]) for f in _findings(again)} == {("min.json", 1)}


def test_modules_with_count_and_for_each_resolve_per_instance(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = _write(scenarios.node_pools(), tmp_path)
    both, hcl_only, plan_only = _differential(sglint, Path("fixtures/plan-modules"), plan)
    assert (hcl_only, plan_only) == ([], [])
    assert [f[1] for f in both if f[0] == "calico-typha"] == [
        'module.pool["worker"].aws_instance.node (module.pool["worker"].aws_security_group.this) cannot reach '
        'module.pool["master"].aws_instance.node (module.pool["master"].aws_security_group.this) on tcp/5473: '
        'no ingress rule on module.pool["master"].aws_security_group.this admits tcp/5473 from '
        'module.pool["worker"].aws_security_group.this'
    ]
    assert [f[0] for f in both].count("sg-cross-reference") == 3


def test_a_registry_module_is_read_from_the_plan_and_points_at_its_call(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = _write(scenarios.eks_registry_module(), tmp_path)
    both, hcl_only, plan_only = _differential(sglint, Path("fixtures/plan-eks"), plan)
    # The plan knows more: the HCL reading does not read the registry module's source, which
    # is not downloaded here (at most it says so).
    assert both == [] and all("module.eks" in f[1] or "terraform-aws-modules/eks/aws" in f[1] for f in hcl_only)
    node, group = 'module.eks.aws_security_group.node[0]', 'module.eks.module.eks_managed_node_group["default"].aws_eks_node_group.this[0]'
    assert [(f[0], f[2], f[3]) for f in plan_only] == [
        ("calico-typha", "fixtures/plan-eks/main.tf", 4),
        ("calico-vxlan", "fixtures/plan-eks/main.tf", 4),
        ("sg-cross-reference", "fixtures/plan-eks/main.tf", 4),
    ]
    assert plan_only[0][1] == (
        f"{group} ({node}) cannot reach {group} ({node}) on tcp/5473: no ingress rule on {node} admits tcp/5473 from itself"
    )


def test_fix_will_not_write_into_a_registry_module(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = _write(scenarios.eks_registry_module(), tmp_path)
    result = sglint("fix", "fixtures/plan-eks", "--plan", plan, "--diff")
    assert result.code == 1  # --diff exits 1 while a required path stays missing, writable or not
    assert result.stdout == ""
    assert "terraform-aws-modules/eks/aws (called at fixtures/plan-eks/main.tf:4), outside the scanned paths" in result.stderr


def test_data_sources_and_known_ids(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = _write(scenarios.data_sources(), tmp_path)
    both, hcl_only, plan_only = _differential(sglint, Path("fixtures/plan-data"), plan)
    assert (both, hcl_only, plan_only) == ([], [], [])
    hcl = sglint("show", "fixtures/plan-data", "-f", "json").json()
    planned = sglint("show", "fixtures/plan-data", "--plan", plan, "-f", "json").json()

    def view(document: Any) -> Any:
        root = document["roots"][0]
        rules = sorted((r["direction"], r["protocol"], r["from_port"], tuple(p["value"] for p in r["peers"]))
                       for sg in root["security_groups"] for r in sg["rules"])
        groups = [(n["address"], n["security_groups"], n["size"]) for n in root["node_groups"]]
        return rules, groups, [n["networks"] for n in root["node_groups"]]

    # The ids Terraform knows name the same groups the HCL reading names...
    assert view(hcl)[:2] == view(planned)[:2]
    assert ("ingress", "tcp", 10250, ("data.aws_security_group.cluster",)) in view(planned)[0]
    # ...and the plan knows more: the data source's subnet CIDR (HCL: unknown).
    assert view(planned)[2] == [["10.0.1.0/24"]]
    assert view(hcl)[2] != [["10.0.1.0/24"]]


def test_a_destroyed_rule_is_not_part_of_the_result(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    builder = scenarios.typha_rule_destroyed()
    plan = _write(builder, tmp_path)
    result = sglint("show", str(TYPHA.relative_to(in_repo)), "--plan", plan, "-f", "json")
    rules = [r["declared_by"] for sg in result.json()["roots"][0]["security_groups"] for r in sg["rules"]]
    assert "aws_security_group_rule.master_typha_from_worker" not in rules
    assert len(rules) == 8
    builder.resources[-1].action = "update"  # the same rule kept: it opens Typha to the master
    kept = sglint("check", str(TYPHA.relative_to(in_repo)), "--plan", _write(builder, tmp_path, "kept.json"), "-f", "json")
    assert [f[0] for f in _findings(kept)].count("calico-typha") == 1


def test_suppression_comments_in_the_sources_apply(sglint, copy_tree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = copy_tree(TYPHA)
    main = root / "main.tf"
    main.write_text(main.read_text().replace(
        'resource "aws_security_group" "master" {',
        '# sglint:ignore=calico-typha reason: the master runs no calico-node\nresource "aws_security_group" "master" {'))
    plan = _write(scenarios.typha_incident(), tmp_path)
    result = sglint("check", "typha-blocked", "--plan", plan, "-f", "json")
    assert [f[0] for f in _findings(result)] == ["sg-cross-reference", "calico-typha"]
    assert len(result.json()["suppressed"]) == 1


def test_fix_with_a_plan_writes_the_missing_rules_into_the_sources(sglint, copy_tree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    root = copy_tree(TYPHA)
    plan = _write(scenarios.typha_incident(), tmp_path)
    result = sglint("fix", "typha-blocked", "--plan", plan)
    assert result.code == 0, result.stdout + result.stderr
    written = (root / "calico_sglint.tf").read_text()
    assert written.count('resource "aws_security_group_rule"') == 2
    assert "security_group_id        = aws_security_group.master.id" in written
    assert sglint("check", "typha-blocked").code == 0


def test_show_and_graph_read_the_plan(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = _write(scenarios.typha_incident(), tmp_path)
    shown = sglint("show", str(TYPHA.relative_to(in_repo)), "--plan", plan)
    assert shown.code == 0 and "aws_instance.worker  13 nodes" in shown.stdout
    graph = sglint("graph", str(TYPHA.relative_to(in_repo)), "--plan", plan, "-f", "json")
    assert graph.code == 0
    assert graph.stdout == sglint("graph", str(TYPHA.relative_to(in_repo)), "-f", "json").stdout


def test_inline_rules_naming_groups_created_in_the_plan(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An SG's inline `ingress` written as blocks is one attribute to Terraform: unknown when a
    peer's id is, with the references of all blocks in one list."""

    monkeypatch.chdir(tmp_path)
    builder = PlanBuilder()
    inline = {"cidr_blocks": [], "description": "", "ipv6_cidr_blocks": [], "prefix_list_ids": [], "self": False}
    builder.add(Resource("aws_security_group.a", sg_values("a"), dict(SG_UNKNOWN)))
    builder.add(Resource("aws_security_group.b", {**sg_values("b"), "ingress": [
        {**inline, "protocol": "tcp", "from_port": 5473, "to_port": 5473, "security_groups": []},
        {**inline, "protocol": "udp", "from_port": 4789, "to_port": 4789, "self": True, "security_groups": []},
    ]}, {**SG_UNKNOWN, "ingress": [{"security_groups": [True]}, {}]}))
    builder.declare((), "aws_security_group.a", {"name": const("a")})
    builder.declare((), "aws_security_group.b", {"name": const("b"), "ingress": ref("aws_security_group.a.id")})
    _write(builder, tmp_path)
    shown = sglint("show", "--plan", "tfplan.json", "-f", "json").json()
    rules = {sg["address"]: [(r["protocol"], r["from_port"], [p["value"] for p in r["peers"]]) for r in sg["rules"]]
             for sg in shown["roots"][0]["security_groups"]}
    assert rules == {"aws_security_group.a": [],
                     "aws_security_group.b": [("tcp", 5473, ["aws_security_group.a"]), ("udp", 4789, ["aws_security_group.b"])]}


BAD_PLANS = [
    ("not-json.json", "nope {", "not-json.json:1: not JSON (Expecting value at line 1)"),
    ("list.json", "[1, 2]", "list.json: not a Terraform plan: expected the output of `terraform show -json PLANFILE` (the JSON is not an object)"),
    ("state.json", '{"version": 4, "terraform_version": "1.9.5", "serial": 3, "lineage": "x", "outputs": {}, "resources": []}',
     "state.json: a Terraform state file, not a plan"),
    ("shown-state.json", '{"format_version": "1.0", "terraform_version": "1.9.5", "values": {"root_module": {}}}',
     "shown-state.json: the JSON of a Terraform state (`terraform show -json` without a plan file), not a plan"),
    ("v2.json", '{"format_version": "2.0", "planned_values": {}}', "v2.json: unsupported plan format_version '2.0'; sglint reads 1.x"),
    ("no-version.json", '{"planned_values": {}}', "no-version.json: not a Terraform plan"),
    ("binary.tfplan", "PK\u0003\u0004 binary", "binary.tfplan: a binary plan file: convert it with `terraform show -json PLANFILE > plan.json`"),
]


@pytest.mark.parametrize("name,text,message,command", [
    *((*bad, "check") for bad in BAD_PLANS), *((*BAD_PLANS[2], command) for command in ("fix", "show", "graph")),
], ids=[*(b[0] for b in BAD_PLANS), "state-fix", "state-show", "state-graph"])
def test_bad_input_is_one_line_naming_the_file_and_exit_2(
    name: str, text: str, message: str, command: str, sglint, tmp_path: Path, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    result = sglint(command, "--plan", name)
    assert result.code == 2
    assert result.stderr.startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_missing_plan_file_and_var_flags_are_usage_errors(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    assert sglint("check", "--plan", "gone.json").stderr.strip() == "gone.json: no such plan file (--plan)"
    _write(scenarios.typha_incident(), tmp_path)
    result = sglint("check", "--plan", "tfplan.json", "--var", "a=b")
    assert result.code == 2
    assert "--var and --var-file do not apply to --plan" in result.stderr


@pytest.mark.slow
def test_a_plan_of_generated_modules_models_what_the_hcl_reading_models(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """bench/plan.py lays sglint's HCL evaluation of generated cluster modules (every rule style,
    dynamic blocks, for_each, launch templates with autoscaling groups) out as a plan: reading
    it back gives each module's security groups, rules and node groups again."""
    sys.path.insert(0, str(REPO / "bench"))
    from generate import generate
    from plan import plan_document

    directories = generate(str(tmp_path / "mono"), 2)
    (tmp_path / "plan.json").write_text(json.dumps(plan_document(str(tmp_path / "mono"), directories)))
    monkeypatch.chdir(tmp_path)
    hcl = sglint("show", "mono", "-f", "json").json()["roots"]
    planned = sglint("show", "--plan", "plan.json", "-f", "json").json()["roots"]
    assert len(hcl) == 2 and len(planned) == 1

    def model(root: Any, prefix: str = "") -> Any:
        def name(value: str) -> str:
            return value[len(prefix):] if value.startswith(prefix) else value

        rules = sorted(
            (name(sg["address"]), r["direction"], r["protocol"], r["from_port"], r["to_port"], r["style"],
             tuple(sorted(name(p["value"]) for p in r["peers"])))
            for sg in root["security_groups"] if sg["address"].startswith(prefix) for r in sg["rules"])
        nodes = sorted((name(n["address"]), tuple(name(s) for s in n["security_groups"]), json.dumps(n["size"]))
                       for n in root["node_groups"] if n["address"].startswith(prefix))
        return rules, nodes

    for root, directory in zip(hcl, directories):
        expected = model(root)
        assert len(expected[0]) > 20 and len(expected[1]) == 3
        assert model(planned[0], f"module.{Path(directory).name}.") == expected


def test_a_plan_without_sources_clusters_its_modules_like_the_hcl_reading(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Two calls of two different modules are not two instances of one module: with the plan
    alone, as with the sources, they are one cluster (the plan once named every module it has
    no source for by the plan file, so they looked like replicas and were split)."""
    sys.path.insert(0, str(REPO / "bench"))
    from generate import generate
    from plan import plan_document, write_root

    directories = generate(str(tmp_path / "mono"), 2)
    (tmp_path / "plan").mkdir()
    (tmp_path / "plan" / "plan.json").write_text(json.dumps(plan_document(str(tmp_path / "mono"), directories)))
    write_root(str(tmp_path / "mono"), directories)
    monkeypatch.chdir(tmp_path / "plan")  # no sources here: the plan alone

    def clusters(*args: str) -> list[Any]:
        return [(c["name"], c["reason"], len(c["node_groups"])) for c in sglint("check", *args, "-f", "json").json()["roots"][0]["clusters"]]

    planned = clusters("--plan", "plan.json")
    assert planned == [("plan.json", "every node group of the root module", 4)]
    assert clusters(str(tmp_path / "mono" / "root")) == [("../mono/root", "every node group of the root module", 4)]


def test_locals_are_followed_through_the_sources(sglint, copy_tree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The plan records `references: ["local.master_sg"]` but not the local's value: with the
    sources it names the master group, without them it is unknown (the path unverified)."""
    root = copy_tree(TYPHA)
    main = root / "main.tf"
    main.write_text(main.read_text().replace(
        "  security_group_id        = aws_security_group.master.id\n  source_security_group_id = aws_security_group.worker.id",
        "  security_group_id        = local.master_sg\n  source_security_group_id = aws_security_group.worker.id",
    ) + '\nlocals {\n  master_sg = var.create ? aws_security_group.master.id : null\n}\n\nvariable "create" {\n  default = true\n}\n')
    builder = scenarios.typha_incident()
    builder.variables["create"] = True
    for entry in builder.config["resources"]:
        if entry["address"] in ("aws_security_group_rule.master_apiserver_from_worker",
                                "aws_security_group_rule.master_vxlan_from_worker"):
            entry["expressions"]["security_group_id"] = ref("local.master_sg")
    plan = _write(builder, tmp_path)
    with_sources = sglint("check", "typha-blocked", "--plan", plan, "-f", "json")
    assert _findings(with_sources) == _findings(sglint("check", "typha-blocked", "-f", "json"))
    (tmp_path / "elsewhere").mkdir()
    alone = sglint("check", "elsewhere", "--plan", plan, "-f", "json")
    unknowns = {u["unknown"] for f in alone.json()["findings"] for u in f["unknowns"]}
    assert "local.master_sg" in unknowns
    assert {f["status"] for f in alone.json()["findings"] if f["rule_id"] == "k8s-apiserver"} == {"unverified"}


def test_an_errored_plan_is_checked_with_a_warning(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    document = scenarios.typha_incident().document()
    document["errored"] = True
    (tmp_path / "tfplan.json").write_text(json.dumps(document, indent=2))
    result = sglint("check", "--plan", "tfplan.json")
    assert result.code == 1
    assert result.stderr == "tfplan.json:1: warning: Terraform reported errors while planning: the plan may be incomplete\n"


def test_hostile_addresses_and_nesting_are_one_line_errors(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    document = scenarios.typha_incident().document()
    document["planned_values"]["root_module"]["resources"][0]["type"] = "aws_security_group\n::error::x"
    (tmp_path / "type.json").write_text(json.dumps(document))
    result = sglint("check", "--plan", "type.json")
    assert (result.code, result.stderr.count("\n")) == (2, 1)
    assert result.stderr.startswith("type.json: not a Terraform plan: expected the output of `terraform show -json PLANFILE` "
                                    "(resource 'aws_security_group.master' does not have a Terraform type and name)")
    document = scenarios.typha_incident().document()
    document["planned_values"]["root_module"]["child_modules"] = [{"address": "aws_x.y", "resources": []}]
    (tmp_path / "module.json").write_text(json.dumps(document))
    result = sglint("check", "--plan", "module.json")
    assert (result.code, result.stderr.count("\n")) == (2, 1)
    assert "module address 'aws_x.y' is not a Terraform module address" in result.stderr
    document = scenarios.typha_incident().document()
    document["planned_values"]["root_module"]["resources"][0]["values"] = "DEEP"
    deep = '{"ingress": [' * 900 + '{"from_port": 1}' + "]}" * 900
    (tmp_path / "deep.json").write_text(json.dumps(document).replace('"DEEP"', deep))
    result = sglint("show", "--plan", "deep.json")
    assert result.code in (0, 2) and "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_instance_keys_are_quoted_like_the_hcl_reading_quotes_them(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]

    monkeypatch.chdir(tmp_path)
    builder = PlanBuilder()
    builder.add(Resource("aws_security_group.g", sg_values("g"), dict(SG_UNKNOWN), key='a"\n\u001b[31m'))
    document = builder.document()
    document["planned_values"]["root_module"]["resources"][0]["address"] = 'aws_security_group.g["a\\"\n\u001b[31m"]'
    (tmp_path / "tfplan.json").write_text(json.dumps(document))
    shown = sglint("show", "--plan", "tfplan.json", "-f", "json").json()
    assert [sg["address"] for sg in shown["roots"][0]["security_groups"]] == ['aws_security_group.g["a\\"\\n\\u001b[31m"]']


def _sg_rules(sglint, plan: str) -> dict[str, list[Any]]:  # type: ignore[no-untyped-def]
    shown = sglint("show", "--plan", plan, "-f", "json").json()["roots"][0]
    def known(value: Any) -> Any:
        return value["unknown"] if isinstance(value, dict) else value

    return {sg["address"]: sorted((r["direction"], known(r["protocol"]), known(r["from_port"]), tuple(p["value"] for p in r["peers"]))
                                  for r in sg["rules"]) for sg in shown["security_groups"]}


INLINE = {"cidr_blocks": [], "description": "", "ipv6_cidr_blocks": [], "prefix_list_ids": [], "self": False}


@pytest.mark.parametrize("case", ["blocks-known", "blocks-unknown", "attribute-unknown"])
def test_inline_blocks_terraform_does_not_know(case: str, sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Inline rules whose peer is created in the same plan: a block Terraform does not know
    comes from the configuration's blocks; written as one attribute, it stands for an
    unknown number of blocks (ports unknown) naming the referenced groups."""

    monkeypatch.chdir(tmp_path)
    builder = PlanBuilder()
    builder.add(Resource("aws_security_group.a", sg_values("a"), dict(SG_UNKNOWN)))
    builder.declare((), "aws_security_group.a", {"name": const("a")})
    blocks = [{"protocol": const("tcp"), "from_port": const(5473), "to_port": const(5473),
               "security_groups": ref("aws_security_group.a.id")},
              {"protocol": const("udp"), "from_port": const(4789), "to_port": const(4789), "self": const(True)}]
    planned = [{**INLINE, "protocol": "tcp", "from_port": 5473, "to_port": 5473, "security_groups": []},
               {**INLINE, "protocol": "udp", "from_port": 4789, "to_port": 4789, "self": True, "security_groups": []}]
    if case == "blocks-known":
        values, unknown, expression = planned, [{"security_groups": [True]}, {}], blocks
    elif case == "blocks-unknown":
        values, unknown, expression = None, True, blocks
    else:
        values, unknown, expression = None, True, ref("aws_security_group.a.id")
    builder.add(Resource("aws_security_group.b", {**sg_values("b"), "ingress": values}, {**SG_UNKNOWN, "ingress": unknown}))
    builder.declare((), "aws_security_group.b", {"name": const("b"), "ingress": expression})
    rules = _sg_rules(sglint, _write(builder, tmp_path))
    expected = [("ingress", "tcp", 5473, ("aws_security_group.a",)), ("ingress", "udp", 4789, ("aws_security_group.b",))]
    if case == "attribute-unknown":
        expected = [("ingress", "aws_security_group.b.ingress", "aws_security_group.b.ingress", ("aws_security_group.a",))]
    assert rules == {"aws_security_group.a": [], "aws_security_group.b": expected}


def test_a_launch_template_network_interface_block_names_its_group(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]

    monkeypatch.chdir(tmp_path)
    builder = PlanBuilder()
    builder.add(Resource("aws_security_group.nodes", sg_values("nodes"), dict(SG_UNKNOWN)))
    builder.declare((), "aws_security_group.nodes", {"name": const("nodes")})
    builder.add(Resource("aws_launch_template.nodes", {"name": "k8s-worker", "network_interfaces": [
        {"associate_public_ip_address": "false", "security_groups": [], "subnet_id": "subnet-0a1b2c3d4e5f60781"}]},
        {"id": True, "arn": True, "network_interfaces": [{"security_groups": [True]}]}))
    builder.declare((), "aws_launch_template.nodes", {"name": const("nodes"), "network_interfaces": [
        {"security_groups": ref("aws_security_group.nodes.id"), "subnet_id": const("subnet-0a1b2c3d4e5f60781")}]})
    builder.add(Resource("aws_autoscaling_group.nodes", {"name": "k8s-worker", "min_size": 3, "max_size": 6,
                                                         "launch_template": [{"version": "$Latest"}]},
                         {"id": True, "arn": True, "launch_template": [{"id": True, "name": True}]}))
    builder.declare((), "aws_autoscaling_group.nodes", {"min_size": const(3), "max_size": const(6), "launch_template": [
        {"id": ref("aws_launch_template.nodes.id"), "version": const("$Latest")}]})
    shown = sglint("show", "--plan", _write(builder, tmp_path), "-f", "json").json()["roots"][0]
    assert [(n["address"], n["security_groups"], n["size"], n["launch_template"], n["names"]) for n in shown["node_groups"]] == [
        ("aws_autoscaling_group.nodes", ["aws_security_group.nodes"], {"min": 3, "max": 6}, "aws_launch_template.nodes",
         ["nodes", "k8s-worker"])]  # the group's and the template's own names stay names


def test_the_root_module_the_plan_comes_from_is_found_among_several(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "repo"
    shutil.copytree(TYPHA, repo / "envs" / "prod")
    shutil.copytree(FIXTURES / "plan-data", repo / "envs" / "dev")
    monkeypatch.chdir(repo)
    _write(scenarios.typha_incident(), repo / "envs" / "prod")
    result = sglint("check", ".", "--plan", "envs/prod/tfplan.json", "-f", "json")
    assert [(f[0], f[2], f[3]) for f in _findings(result)] == [
        ("calico-typha", "envs/prod/main.tf", 21), ("sg-cross-reference", "envs/prod/main.tf", 21),
        ("calico-typha", "envs/prod/main.tf", 27)]
    assert [r["root"] for r in result.json()["roots"]] == ["envs/prod"]


def test_a_tigera_operator_helm_release_in_the_plan_sets_the_profile(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The plan has the release's rendered values (templatefile, variables and all)."""

    monkeypatch.chdir(tmp_path)
    builder = scenarios.typha_incident()
    values = "installation:\n  calicoNetwork:\n    ipPools:\n    - cidr: 10.244.0.0/16\n      encapsulation: IPIP\n"
    builder.add(Resource("helm_release.calico", {"name": "calico", "chart": "tigera-operator", "values": [values]},
                         {"id": True, "metadata": True}))
    builder.declare((), "helm_release.calico", {"chart": const("tigera-operator"), "values": ref("var.calico_values")})
    _write(builder, tmp_path)
    report = sglint("check", "--plan", "tfplan.json", "-f", "json").json()
    line = next(i for i, text in enumerate((tmp_path / "tfplan.json").read_text().splitlines(), 1)
                if '"address": "helm_release.calico"' in text)
    assert report["roots"][0]["profile"]["encapsulation"] == {
        "value": "IPIP", "source": f"tfplan.json:{line}", "detail": "helm_release installation.calicoNetwork.ipPools[0].encapsulation"}
    assert {f["rule_id"] for f in report["findings"]} >= {"calico-bgp", "calico-ipip"}


def test_known_ids_and_group_names_name_their_resources(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An update plan: every id is known. `security_groups` may name groups by name."""

    monkeypatch.chdir(tmp_path)
    builder = PlanBuilder()
    builder.add(Resource("aws_security_group.legacy", {"id": "sg-0123456789abcdef0", "name": "legacy", "ingress": [],
                                                       "egress": []}, action="no-op"))
    builder.add(Resource("aws_security_group_rule.self", rule_values(
        "ingress", "-1", 0, 0, self=True, security_group_id="sg-0123456789abcdef0"), {"id": True}, action="update"))
    builder.add(Resource("aws_instance.node", {"security_groups": ["legacy"], "vpc_security_group_ids": [],
                                               "tags": {"Name": "legacy-node"}}, action="update", key=0))
    builder.declare((), "aws_instance.node", {"security_groups": ref("aws_security_group.legacy.name")},
                    count_expression=const(1))
    shown = sglint("show", "--plan", _write(builder, tmp_path), "-f", "json").json()["roots"][0]
    assert [(sg["address"], sg["managed"], [r["declared_by"] for r in sg["rules"]]) for sg in shown["security_groups"]] == [
        ("aws_security_group.legacy", True, ["aws_security_group_rule.self"])]
    assert [n["security_groups"] for n in shown["node_groups"]] == [["aws_security_group.legacy"]]


COMMITTED_PLANS = [
    (EXAMPLES / "typha-blocked" / "tfplan.json", scenarios.typha_incident),
    (FIXTURES / "plan-modules" / "tfplan.json", scenarios.node_pools),
    (FIXTURES / "plan-eks" / "tfplan.json", scenarios.eks_registry_module),
    (FIXTURES / "plan-data" / "tfplan.json", scenarios.data_sources),
]


@pytest.mark.parametrize("path,build", COMMITTED_PLANS, ids=[p.parent.name for p, _ in COMMITTED_PLANS])
def test_the_committed_plans_are_the_scenarios(path: Path, build: Any) -> None:
    """The plans beside the fixtures (for trying `--plan` by hand) are the ones tested here."""
    assert json.loads(path.read_text()) == build().document()


def test_the_readme_example_runs(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/typha-blocked", "--plan", "examples/typha-blocked/tfplan.json")
    assert result.code == 1
    assert result.stdout.splitlines()[-1] == "2 errors, 1 warning"


NODE_SGS = [
    ("[aws_security_group.a.id, aws_security_group.b.id]", ["aws_security_group.a", "aws_security_group.b"]),
    ("concat([aws_security_group.a.id], [aws_security_group.b.id])", ["aws_security_group.a", "aws_security_group.b"]),
    ("var.pick ? [aws_security_group.a.id] : [aws_security_group.b.id]", None),
    ("[aws_security_group.a.id, aws_security_group.b.id][var.index]", None),
]


@pytest.mark.parametrize("expression,expected", NODE_SGS, ids=["list", "concat", "condition", "index"])
@pytest.mark.parametrize("through", ["attribute", "module input"])
def test_the_source_says_whether_an_expression_names_every_group_it_references(
    expression: str, expected: list[str] | None, through: str, sglint, tmp_path: Path, monkeypatch  # type: ignore[no-untyped-def]
) -> None:
    """The plan records the two groups an expression references, not whether it names both or
    picks one: the `.tf` source says; without it, the nodes' groups are unknown."""

    monkeypatch.chdir(tmp_path)
    (tmp_path / "src").mkdir()
    groups = 'resource "aws_security_group" "a" {\n  name = "a"\n}\n\nresource "aws_security_group" "b" {\n  name = "b"\n}\n'
    variables = 'variable "pick" {\n  default = true\n}\n\nvariable "index" {\n  default = 0\n}\n'
    node = 'resource "aws_instance" "node" {\n  ami = "ami-0123456789abcdef0"\n  vpc_security_group_ids = EXPR\n}\n'
    builder = PlanBuilder()
    builder.variables = {"pick": True, "index": 0}
    for name in ("a", "b"):
        builder.add(Resource(f"aws_security_group.{name}", sg_values(name), dict(SG_UNKNOWN)))
        builder.declare((), f"aws_security_group.{name}", {"name": const(name)})
    references = ref("var.pick", "var.index", "aws_security_group.a.id", "aws_security_group.b.id")
    if through == "attribute":
        (tmp_path / "src" / "main.tf").write_text(groups + variables + node.replace("EXPR", expression))
        builder.add(Resource("aws_instance.node", instance_values("m6i.large", "node"), dict(INSTANCE_UNKNOWN)))
        builder.declare((), "aws_instance.node", {"vpc_security_group_ids": references})
        address = "aws_instance.node"
    else:
        (tmp_path / "src" / "main.tf").write_text(
            groups + variables + f'module "nodes" {{\n  source = "./nodes"\n  sg_ids = {expression}\n}}\n')
        (tmp_path / "src" / "nodes").mkdir()
        (tmp_path / "src" / "nodes" / "main.tf").write_text('variable "sg_ids" {}\n\n' + node.replace("EXPR", "var.sg_ids"))
        builder.module((), "nodes", "./nodes", {"sg_ids": references}, variables={"sg_ids": None})
        builder.declare(("nodes",), "aws_instance.node", {"vpc_security_group_ids": ref("var.sg_ids")})
        builder.add(Resource("aws_instance.node", instance_values("m6i.large", "node"), dict(INSTANCE_UNKNOWN),
                             module="module.nodes"))
        address = "module.nodes.aws_instance.node"
    plan = _write(builder, tmp_path)
    (tmp_path / "empty").mkdir()
    for paths, wanted in ((["src"], expected), (["empty"], None)):
        shown = sglint("show", *paths, "--plan", plan, "-f", "json").json()["roots"][0]
        [group] = [n for n in shown["node_groups"] if n["address"] == address]
        if wanted is None:
            assert [s["reason"] for s in group["security_groups"]] == [
                "names one or more of aws_security_group.a.id, aws_security_group.b.id; the plan's references do not say which"]
        else:
            assert group["security_groups"] == wanted
    assert sglint("show", "src", "-f", "json").code == 0


def test_planned_inline_blocks_find_their_source_block_by_content(sglint, copy_tree, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Terraform prints a set of blocks in its own order: each planned block points at the
    source block with the same ports and protocol."""

    root = copy_tree(FIXTURES / "plan-data", "inline")
    (root / "sg.tf").write_text(
        'resource "aws_security_group" "inline" {\n  name = "inline"\n\n'
        '  ingress {\n    protocol  = "udp"\n    from_port = 4789\n    to_port   = 4789\n    self      = true\n  }\n\n'
        '  ingress {\n    protocol  = "tcp"\n    from_port = 5473\n    to_port   = 5473\n    self      = true\n  }\n}\n')
    builder = PlanBuilder()
    planned = [{**INLINE, "protocol": protocol, "from_port": port, "to_port": port, "self": True, "security_groups": []}
               for protocol, port in (("tcp", 5473), ("udp", 4789))]  # sorted, not in source order
    builder.add(Resource("aws_security_group.inline", {**sg_values("inline"), "ingress": planned}, dict(SG_UNKNOWN)))
    builder.declare((), "aws_security_group.inline", {"name": const("inline"), "ingress": const(planned)})
    shown = sglint("show", "inline", "--plan", _write(builder, tmp_path), "-f", "json").json()["roots"][0]
    [group] = [sg for sg in shown["security_groups"] if sg["address"] == "aws_security_group.inline"]
    assert [(r["protocol"], r["location"]["line"]) for r in group["rules"]] == [("tcp", 11), ("udp", 4)]


def test_a_plan_that_leaves_nothing_says_so(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    builder = scenarios.typha_incident()
    for resource in builder.resources:
        resource.action = "delete"
    _write(builder, tmp_path)
    result = sglint("check", "--plan", "tfplan.json")
    assert result.code == 0
    assert result.stderr == "tfplan.json:1: warning: the plan leaves no resources (a destroy plan?): nothing to check\n"


def test_sources_that_do_not_match_the_plan_are_named(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plan = _write(scenarios.typha_incident(), tmp_path)
    result = sglint("check", "examples/cluster-sg", "--plan", plan, "-f", "json")
    shown = str(Path(plan).relative_to(in_repo)) if Path(plan).is_relative_to(in_repo) else os.path.relpath(plan)
    assert result.stderr == (f"{shown}:1: warning: no root module under the given paths declares this plan's "
                             "resources: findings point at the plan file\n")
    assert {f["location"]["file"] for f in result.json()["findings"]} == {shown}


@pytest.mark.parametrize("text,steps", [
    ('module.a["x"].aws_sg.b[0].id', [("module", None), ("a", "x"), ("aws_sg", None), ("b", 0), ("id", None)]),
    ("aws_security_group.this[count.index].id", [("aws_security_group", None), ("this", None), ("id", None)]),
    ('module.a["x.y"]', [("module", None), ("a", "x.y")]),
    ("var.ids", [("var", None), ("ids", None)]),
])
def test_split_reference(text: str, steps: list[Any]) -> None:

    assert split_reference(text) == steps


@pytest.mark.parametrize("text,address", [
    ("module.a", "module.a"),
    ('module.a["x"].module.b[0]', 'module.a["x"].module.b[0]'),
    ("module.a.b", None),
    ("aws_x.y", None),
])
def test_module_address(text: str, address: str | None) -> None:

    assert module_address(text) == address


@pytest.mark.parametrize("expression,references,every", [
    ("aws_security_group.a.id", ["aws_security_group.a.id"], True),
    ("[aws_security_group.a.id, aws_security_group.b.id]", ["aws_security_group.a.id", "aws_security_group.b.id"], True),
    ("compact(concat([local.a], var.b))", ["local.a", "var.b"], True),
    ('"${aws_x.y.id}"', ["aws_x.y.id"], True),
    ('aws_x.y["k"].id', ['aws_x.y["k"].id'], True),
    ('module.m["a"].out', ['module.m["a"].out'], True),
    ("data.aws_x.y.id", ["data.aws_x.y.id"], True),
    ("var.c ? aws_x.a.id : aws_x.b.id", ["var.c", "aws_x.a.id", "aws_x.b.id"], False),
    ("aws_x.y[count.index].id", ["aws_x.y", "count.index"], False),
    ("module.m[each.key].out", ["module.m", "each.key"], False),
    ("var.ids[0]", ["var.ids[0]"], False),
    ('local.m["a"]', ['local.m["a"]'], False),
    ("[for s in var.x : s.id]", ["var.x"], False),
    ('lookup(var.m, "a", null)', ["var.m"], False),
])
def test_references_and_whether_they_all_count(expression: str, references: list[str], every: bool) -> None:
    """What Terraform would record as `references`, and whether the value names every one."""

    parsed = parse_expression(expression, "x.tf", 1)
    assert expression_references(parsed) == references
    assert names_every_candidate(parsed) is every


def test_a_deposed_object_being_destroyed_leaves_the_live_instance(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """create_before_destroy: the old object of a replaced rule is deposed and deleted under
    the same address as the new one, which stays."""
    document = scenarios.typha_incident().document()
    replaced = next(c for c in document["resource_changes"] if c["address"] == "aws_security_group_rule.worker_typha_self")
    document["resource_changes"].append({**replaced, "deposed": "00000001", "change": {
        **replaced["change"], "actions": ["delete"], "after": None, "after_unknown": {}}})
    (tmp_path / "tfplan.json").write_text(json.dumps(document, indent=2))
    shown = sglint("show", str(TYPHA.relative_to(in_repo)), "--plan", str(tmp_path / "tfplan.json"), "-f", "json").json()
    rules = [r["declared_by"] for sg in shown["roots"][0]["security_groups"] for r in sg["rules"]]
    assert "aws_security_group_rule.worker_typha_self" in rules


def test_an_existing_groups_computed_rules_are_not_inline_rules(sglint, in_repo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """After a refresh, an existing group's `ingress`/`egress` list every rule it has in AWS,
    those of its aws_security_group_rule resources too: only written blocks are inline rules."""
    builder = scenarios.typha_rule_destroyed()
    builder.resources.pop()  # keep the incident as it is
    mirrored = {**INLINE, "protocol": "tcp", "from_port": 6443, "to_port": 6443,
                "security_groups": ["sg-0bbb000000000000b"]}
    builder.resources[0].values = {**builder.resources[0].values, "ingress": [mirrored]}
    plan = _write(builder, tmp_path)
    both, hcl_only, plan_only = _differential(sglint, TYPHA.relative_to(in_repo), plan)
    assert (len(both), hcl_only, plan_only) == (3, [], [])


def test_sensitive_values_are_unknown_and_never_printed(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """What the plan marks sensitive (a CIDR from a sensitive variable) is not read, so no
    report can leak it: the path it might open is unverified, naming where it is."""
    monkeypatch.chdir(tmp_path)
    secret = "203.0.113.77/32"
    builder = scenarios.typha_incident()
    builder.add(Resource("aws_security_group_rule.master_typha_from_office",
                         rule_values("ingress", "tcp", 5473, 5473, cidr_blocks=[secret]), dict(RULE_UNKNOWN)))
    builder.declare((), "aws_security_group_rule.master_typha_from_office", {
        "security_group_id": ref("aws_security_group.master.id"), "cidr_blocks": ref("var.office")})
    builder.variables["office"] = [secret]
    builder.config["variables"] = {"office": {"sensitive": True}}
    builder.add(Resource("aws_security_group.hidden", {**sg_values("hidden"), "ingress": ["SECRET"]}, dict(SG_UNKNOWN)))
    builder.declare((), "aws_security_group.hidden", {"ingress": ref("var.office")})
    document = builder.document()
    for resource in document["planned_values"]["root_module"]["resources"]:
        if resource["address"] == "aws_security_group_rule.master_typha_from_office":
            resource["sensitive_values"] = {"cidr_blocks": [True]}
        if resource["address"] == "aws_security_group.hidden":
            resource["sensitive_values"] = {"ingress": True}
    (tmp_path / "tfplan.json").write_text(json.dumps(document))
    outputs = [sglint(command, "--plan", "tfplan.json", *extra) for command, extra in (
        ("check", ()), ("check", ("-f", "json")), ("check", ("-f", "sarif")), ("check", ("-f", "github")),
        ("check", ("-f", "markdown")), ("show", ()), ("show", ("-f", "json")), ("graph", ("-f", "json")))]
    assert all(secret not in o.stdout + o.stderr and "SECRET" not in o.stdout for o in outputs)
    shown = outputs[6].json()["roots"][0]
    [rule] = [r for sg in shown["security_groups"] for r in sg["rules"]
              if r["declared_by"] == "aws_security_group_rule.master_typha_from_office"]
    assert rule["peers"] == [{"kind": "unknown", "value": "aws_security_group_rule.master_typha_from_office.cidr_blocks",
                              "reason": "sensitive in the plan: sglint neither reads nor prints it"}]
    [hidden] = [sg for sg in shown["security_groups"] if sg["address"] == "aws_security_group.hidden"]
    assert [r["protocol"] for r in hidden["rules"]] == [
        {"unknown": "aws_security_group.hidden.ingress", "reason": "sensitive in the plan: sglint neither reads nor prints it",
         "location": {"file": "tfplan.json", "line": 1, "end_line": 1}}]


@pytest.mark.slow
def test_malformed_plans_never_crash(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Plans with random parts replaced by values of other JSON types: a result or a one-line
    error, never an internal error (fixed seed, so a failure replays)."""
    import copy
    import random

    monkeypatch.chdir(tmp_path)
    documents = [build().document() for build in (scenarios.typha_incident, scenarios.node_pools,
                                                  scenarios.eks_registry_module, scenarios.data_sources)]
    junk: list[Any] = [None, True, 0, -1, 1.5, "", "x", "module.", "aws_x.y[", [], {}, [None], {"a": None}, "sg-1",
                       ["sg-1"], {"references": 5}, {"constant_value": {"x": []}}, [{"references": ["var.x", 3]}], [True]]

    def places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
        return [path] + [p for key, child in children for p in places(child, (*path, key))]

    rng = random.Random(7)
    for _ in range(150):
        document = copy.deepcopy(rng.choice(documents))
        for _ in range(rng.randint(1, 4)):
            path = rng.choice(places(document)[1:])
            parent = document
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = copy.deepcopy(rng.choice(junk))
        (tmp_path / "tfplan.json").write_text(json.dumps(document))
        result = sglint("check", "--plan", "tfplan.json", "-f", "json")
        assert result.code in (0, 1, 2) and "internal error" not in result.stderr, result.stderr


def test_sarif_from_a_plan_alone_is_valid(sglint, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from test_formats import SARIF_VALIDATOR

    monkeypatch.chdir(tmp_path)
    _write(scenarios.typha_incident(), tmp_path)
    result = sglint("check", "--plan", "tfplan.json", "-f", "sarif")
    sarif = json.loads(result.stdout)
    SARIF_VALIDATOR.validate(sarif)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]} == {"tfplan.json"}
