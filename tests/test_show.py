"""show.py end to end: `sglint show --format json` on each reader fixture equals its expected model.

Each fixture under fixtures/ with an `expected/show.json` is a named scenario for the reader
(variables + tfvars, for_each over locals, count, dynamic blocks, the three rule styles,
nested local modules, launch template + ASG, unknowns, a syntax error).
"""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

SCENARIOS = sorted(p.parent.parent.name for p in FIXTURES.glob("*/expected/show.json"))


def test_every_reader_feature_has_a_scenario() -> None:
    assert set(SCENARIOS) >= {
        "variables-tfvars", "locals-for-each", "count-instances", "dynamic-blocks",
        "rule-styles", "nested-module", "launch-template-asg", "data-source-unknowns",
        "syntax-error",
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_show_json_matches_expected_model(scenario: str, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads((FIXTURES / scenario / "expected" / "show.json").read_text())
    result = sglint("show", f"fixtures/{scenario}", "--format", "json")
    assert result.json() == expected
    has_errors = any(d["severity"] == "error" for d in expected["diagnostics"])
    assert result.code == (2 if has_errors else 0)


def test_syntax_error_is_one_line_and_other_modules_are_read(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("show", "fixtures/syntax-error")
    assert result.code == 2
    first = result.stderr.splitlines()[0]
    assert first == (
        "fixtures/syntax-error/broken/main.tf:8: "
        "unexpected end of file (is a closing brace or quote missing?)"
    )
    assert "aws_security_group.healthy" in result.stdout


def test_text_output_lists_rules_node_groups_and_unknowns(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("show", "fixtures/data-source-unknowns")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert ("    data.aws_security_group.eks_cluster  (not created here: rules unknown; named at "
            "fixtures/data-source-unknowns/main.tf:40)") in lines
    assert "    aws_instance.node  size unknown  fixtures/data-source-unknowns/main.tf:58" in lines
    assert (
        "    aws_instance.node count/for_each: var.node_count "
        "(fixtures/data-source-unknowns/main.tf:59): variable has no value and no default"
    ) in lines


def test_the_eks_control_plane_is_shown_with_the_groups_it_wears(sglint, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "main.tf").write_text(
        'resource "aws_security_group" "extra" {}\n'
        'resource "aws_eks_cluster" "this" {\n  name = "prod"\n  vpc_config {\n'
        '    subnet_ids         = ["subnet-0a"]\n    security_group_ids = [aws_security_group.extra.id]\n  }\n}\n'
    )
    monkeypatch.chdir(tmp_path)
    text = sglint("show", ".").stdout
    assert "    aws_eks_cluster.this  EKS control plane (run by AWS)  main.tf:2\n" in text
    assert ("      security groups: aws_eks_cluster.this.vpc_config[0].cluster_security_group_id, "
            "aws_security_group.extra\n") in text
    assert ("    aws_eks_cluster.this.vpc_config[0].cluster_security_group_id  main.tf:2  "
            "(created by AWS with the default rules below; rules added outside Terraform unknown)\n"
            "      ingress all traffic from self  main.tf:2 [aws-default]\n"
            "      egress  all traffic to 0.0.0.0/0  main.tf:2 [aws-default]\n") in text
