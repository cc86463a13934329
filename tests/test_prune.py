"""prune.py: what is kept of blocks that cannot matter, and that pruning changes no finding,
diagnostic or `sglint show` output, even where the pruned blocks are referenced (their
`count`/`for_each` shaping the reference) or a reference names nothing declared. The same
comparison runs on every fixture, example and a generated monorepo in test_batch.py."""

from __future__ import annotations

from pathlib import Path

from conftest import write

from calico_sglint.pipeline import CheckOptions, ReadOptions, check, read
from calico_sglint.render.jsonreport import report_json
from calico_sglint.render.show import show_json, show_text
from calico_sglint.terraform.parse import parse_text
from calico_sglint.terraform.prune import prune_body
from calico_sglint.terraform.syntax import Body

WANTED = frozenset({"aws_security_group", "aws_instance", "aws_security_group_rule"})

MODULE = """\
terraform {
  required_version = ">= 1.5"
}

provider "aws" {
  region = var.region
}

variable "region" {
  default = "eu-west-1"
}

variable "profiles" {
  default = 2
}

locals {
  zones = toset(["a", "b"])
}

data "aws_vpc" "main" {
  tags = { Name = "main" }
}

data "aws_subnet" "zone" {
  for_each = local.zones
  vpc_id   = data.aws_vpc.main.id
}

resource "aws_iam_instance_profile" "node" {
  count = var.profiles
  name  = "node-${count.index}"
  role  = aws_iam_role.node.name
}

resource "aws_iam_role" "node" {
  name               = "node"
  assume_role_policy = jsonencode({ Version = "2012-10-17" })
  inline_policy {
    name   = "x"
    policy = "{}"
  }
}

resource "aws_lb" "api" {
  for_each        = local.zones
  security_groups = [aws_security_group.worker.id]
}

resource "aws_security_group" "worker" {
  name   = "worker"
  vpc_id = data.aws_vpc.main.id
}

resource "aws_security_group_rule" "typha" {
  type                     = "ingress"
  from_port                = 5473
  to_port                  = 5473
  protocol                 = "tcp"
  security_group_id        = aws_security_group.worker.id
  source_security_group_id = aws_security_group.worker.id
}

resource "aws_instance" "worker" {
  count                  = 2
  ami                    = "ami-0123456789abcdef0"
  instance_type          = "m6i.large"
  subnet_id              = data.aws_subnet.zone["a"].id
  iam_instance_profile   = aws_iam_instance_profile.node[1].name
  vpc_security_group_ids = [aws_security_group.worker.id, aws_lb.api["a"].id]
  tags                   = { Name = "worker", Profile = aws_iam_instance_profile.node.name }
  user_data              = aws_iam_role.node.arn
  private_ip             = aws_key_pair.missing.key_name
  name                   = aws_lb.api[*].id
}

resource "helm_release" "calico" {
  name  = "calico"
  chart = "tigera-operator"
  values = [yamlencode({ installation = { calicoNetwork = { bgp = "Disabled" } } })]
}

moved {
  from = aws_instance.old
  to   = aws_instance.worker
}

something_new "x" {
  value = 1
}
"""


def test_blocks_that_cannot_matter_become_declarations() -> None:
    body = parse_text(MODULE, "main.tf").body
    pruned = prune_body(body, WANTED)
    by_name = {(b.type, *b.labels): b for b in pruned.blocks}
    assert [(b.type, b.labels, b.line, b.end_line) for b in pruned.blocks] == [
        (b.type, b.labels, b.line, b.end_line) for b in body.blocks
    ]
    assert by_name[("terraform",)].body == Body({}, ())
    assert by_name[("provider", "aws")].body == Body({}, ())
    assert list(by_name[("data", "aws_vpc", "main")].body.attributes) == []
    assert list(by_name[("data", "aws_subnet", "zone")].body.attributes) == ["for_each"]
    assert list(by_name[("resource", "aws_iam_instance_profile", "node")].body.attributes) == ["count"]
    assert by_name[("resource", "aws_iam_role", "node")].body == Body({}, ())
    for kept in (("variable", "region"), ("locals",), ("resource", "aws_security_group", "worker"),
                 ("resource", "helm_release", "calico"),
                 ("resource", "aws_instance", "worker"), ("something_new", "x"), ("moved",)):
        original = next(b for b in body.blocks if (b.type, *b.labels) == kept)
        assert by_name[kept] is original


def test_nothing_to_prune_keeps_the_same_body() -> None:
    body = parse_text('variable "a" {}\nresource "aws_security_group" "b" {}\n', "t.tf").body
    assert prune_body(body, WANTED) is body


def test_pruning_changes_no_finding_diagnostic_or_show_output(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {"main.tf": MODULE, "modules/empty/main.tf": "terraform {}\n"})
    monkeypatch.chdir(tmp_path)
    results = []
    for prune in (False, True):
        options = ReadOptions(paths=(".",), prune=prune)
        result = read(options)
        report = report_json(check(CheckOptions(options)))
        results.append((report, show_json(result.models, list(result.diagnostics)), show_text(result.models)))
    assert results[0] == results[1]
    diagnostics = results[0][1]["diagnostics"]
    # The pruned declarations still resolve, and their count/for_each still shape the
    # references (a counted resource is a list, a for_each one a map); the undeclared one
    # is still reported.
    assert [(d["message"], d["location"]["line"]) for d in diagnostics] == [
        ('tags: aws_iam_instance_profile.node.name: a list value has no attribute "name"', 71),
        ("private_ip: aws_key_pair.missing is not declared in .", 73),
        ('name: aws_lb.api[*].id: object has no attribute "id"', 74),
    ]

