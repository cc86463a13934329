"""evaluate.py and expressions.py: Terraform's evaluation, on real files in temp directories."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write

from calico_sglint.terraform.configuration import Configuration
from calico_sglint.terraform.evaluate import VarInputs, evaluate_root
from calico_sglint.terraform.parse import parse_file
from calico_sglint.terraform.values import Ref, TfSet, Unknown, UnknownMembers
from calico_sglint.terraform.workspace import load_workspace


def configure(root: Path, files: dict[str, str], inputs: VarInputs = VarInputs()) -> Configuration:
    write(root, files)
    workspace = load_workspace([str(root)], cwd=str(root))
    assert not workspace.diagnostics, workspace.diagnostics
    return evaluate_root(workspace, workspace.roots[0], inputs)


def probe(root: Path, expression: str, preamble: str = "", inputs: VarInputs = VarInputs()) -> Any:
    """The value of `expression` as a resource argument in a module with `preamble`."""
    source = f'{preamble}\nresource "terraform_data" "probe" {{\n  input = {expression}\n}}\n'
    config = configure(root, {"main.tf": source}, inputs)
    (probe_resource,) = [r for r in config.resources if r.type == "terraform_data"]
    return probe_resource.body.get("input")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("1 + 2 * 3", 7),
        ("7 / 2", 3.5),
        ("-7 % 3", -1),
        ('"${1 + 1}"', 2),
        ('"port-${5473}"', "port-5473"),
        ("true ? 1 : 2", 1),
        ('1 == "1"', False),
        ("[for i in [1, 2, 3] : i * 10 if i != 2]", [10, 30]),
        ('{for k, v in {b = 2, a = 1} : v => k}', {"1": "a", "2": "b"}),
        ('{for s in ["a", "bb", "cc"] : length(s) => s...}', {"1": ["a"], "2": ["bb", "cc"]}),
        ('[{id = 1}, {id = 2}][*].id', [1, 2]),
        ("null[*].id", []),
        ('{a = {b = [5473]}}.a.b[0]', 5473),
        ('"%{for p in [1, 2]}${p},%{endfor}"', "1,2,"),
        ('"%{if false}yes%{else}no%{endif}"', "no"),
        ('try({}.missing, "fallback")', "fallback"),
        ("can([][0])", False),
        ('lookup({a = 1}, "b", 2)', 2),
        ('toset(["b", "a", "b"])', TfSet(["a", "b"])),
        ('cidrsubnet("10.0.0.0/16", 8, 3)', "10.0.3.0/24"),
        ("path.module", "."),
        ("terraform.workspace", "default"),
    ],
)
def test_expressions(tmp_path: Path, expression: str, expected: Any) -> None:
    assert probe(tmp_path, expression) == expected


def test_locals_in_any_order_across_files(tmp_path: Path) -> None:
    config = configure(tmp_path, {
        "a.tf": 'locals {\n  full = "${local.prefix}-${local.suffix}"\n}\n',
        "b.tf": 'locals {\n  prefix = "k8s"\n  suffix = upper(local.prefix)\n}\n'
                'resource "terraform_data" "probe" {\n  input = local.full\n}\n',
    })
    assert config.resources[0].body.get("input") == "k8s-K8S"


def test_a_local_cycle_is_a_warning_and_an_unknown(tmp_path: Path) -> None:
    config = configure(tmp_path, {"main.tf": (
        "locals {\n  a = local.b\n  b = local.a\n}\n"
        'resource "terraform_data" "probe" {\n  input = local.a\n}\n'
    )})
    value = config.resources[0].body.get("input")
    assert isinstance(value, Unknown) and "cycle" in value.reason
    assert [d.severity for d in config.diagnostics] == ["warning"]
    assert "depends on itself" in config.diagnostics[0].message


class TestUnknowns:
    def test_a_variable_without_value_names_itself_and_where_it_is_used(self, tmp_path: Path) -> None:
        value = probe(tmp_path, '"sg-${var.x}"', 'variable "x" {}')
        assert value == Unknown("var.x", "variable has no value and no default", value.location)
        assert (value.location.file, value.location.line) == ("main.tf", 3)

    def test_known_parts_of_a_collection_stay_known(self, tmp_path: Path) -> None:
        assert probe(tmp_path, "length([var.x, 1])", 'variable "x" {}') == 2

    @pytest.mark.parametrize(
        ("expression", "expected"),
        [
            ("local.ids", [UnknownMembers, Ref]),
            ("[for id in local.ids : id]", [UnknownMembers, Ref]),
            ("[for id in local.ids : 1]", [UnknownMembers, int]),
            ("[{id = var.x}, {id = 1}][*].id", [Unknown, int]),
            ("local.ids[1]", Unknown),
            ("length(local.ids)", Unknown),
        ],
    )
    def test_unknown_members_keep_the_known_elements_but_no_count(
        self, tmp_path: Path, expression: str, expected: Any
    ) -> None:
        preamble = (
            'variable "x" {}\nresource "aws_security_group" "a" {}\n'
            "locals {\n  ids = compact(concat([var.x], [aws_security_group.a.id]))\n}"
        )
        value = probe(tmp_path, expression, preamble)
        if isinstance(expected, list):
            assert [type(v) for v in value] == expected
            assert value[0].expr == "var.x"
        else:
            assert type(value) is expected

    def test_a_conditional_with_unknown_condition_but_equal_branches_is_known(self, tmp_path: Path) -> None:
        assert probe(tmp_path, "var.x ? 5473 : 5473", 'variable "x" {}') == 5473

    def test_logical_operators_decide_without_the_unknown_side(self, tmp_path: Path) -> None:
        assert probe(tmp_path, "false && var.x", 'variable "x" {}') is False
        assert probe(tmp_path, "true || var.x", 'variable "x" {}') is True

    def test_data_sources_and_remote_modules(self, tmp_path: Path) -> None:
        preamble = 'data "aws_vpc" "main" {}\nmodule "vpc" {\n  source = "terraform-aws-modules/vpc/aws"\n}'
        data = probe(tmp_path / "d", "data.aws_vpc.main.cidr_block", preamble)
        assert (data.expr, data.reason) == ("data.aws_vpc.main.cidr_block", "data source: sglint does not read AWS")
        remote = probe(tmp_path / "m", "module.vpc.private_subnets[0]", preamble)
        assert (remote.expr, remote.reason) == (
            "module.vpc.private_subnets",
            "module not read: not installed (no .terraform/modules/modules.json: `terraform init` has not run)",
        )

    def test_unsupported_function_is_unknown_not_an_error(self, tmp_path: Path) -> None:
        value = probe(tmp_path, "timestamp()")
        assert isinstance(value, Unknown) and value.expr == "timestamp()"


class TestResourceReferences:
    PREAMBLE = 'resource "aws_security_group" "a" {\n  name = "a"\n}'

    def test_id_and_name_are_refs(self, tmp_path: Path) -> None:
        assert probe(tmp_path / "1", "aws_security_group.a.id", self.PREAMBLE) == Ref("aws_security_group.a", "id")
        assert probe(tmp_path / "2", '"${aws_security_group.a.id}"', self.PREAMBLE) == Ref("aws_security_group.a", "id")
        assert probe(tmp_path / "3", "aws_security_group.a.name", self.PREAMBLE) == Ref("aws_security_group.a", "name")

    def test_other_attributes_and_string_use_are_unknown(self, tmp_path: Path) -> None:
        vpc = probe(tmp_path / "1", "aws_security_group.a.vpc_id", self.PREAMBLE)
        assert (vpc.expr, vpc.reason) == ("aws_security_group.a.vpc_id", "known only after apply")
        text = probe(tmp_path / "2", '"id=${aws_security_group.a.id}"', self.PREAMBLE)
        assert isinstance(text, Unknown) and text.expr == "aws_security_group.a.id"

    def test_count_and_for_each_collections(self, tmp_path: Path) -> None:
        preamble = (
            'resource "aws_security_group" "c" {\n  count = 2\n}\n'
            'resource "aws_security_group" "f" {\n  for_each = toset(["x", "y"])\n}'
        )
        assert probe(tmp_path / "1", "aws_security_group.c[*].id", preamble) == [
            Ref("aws_security_group.c[0]"), Ref("aws_security_group.c[1]"),
        ]
        assert probe(tmp_path / "2", '[for k, sg in aws_security_group.f : "${k}"]', preamble) == ["x", "y"]
        assert probe(tmp_path / "3", 'aws_security_group.f["y"].id', preamble) == Ref('aws_security_group.f["y"]')


class TestExpansion:
    def test_addresses_and_bindings(self, tmp_path: Path) -> None:
        config = configure(tmp_path, {"main.tf": (
            'resource "terraform_data" "n" {\n  count = 2\n  input = count.index * 10\n}\n'
            'resource "terraform_data" "m" {\n  for_each = {b = 2, a = 1}\n  input = "${each.key}=${each.value}"\n}\n'
        )})
        assert [(r.address, r.body.get("input")) for r in config.resources] == [
            ("terraform_data.n[0]", 0), ("terraform_data.n[1]", 10),
            ('terraform_data.m["a"]', "a=1"), ('terraform_data.m["b"]', "b=2"),
        ]

    def test_unknown_for_each_keeps_one_placeholder_with_unknown_each(self, tmp_path: Path) -> None:
        config = configure(tmp_path, {"main.tf": (
            'variable "rules" {}\n'
            'resource "aws_security_group" "a" {}\n'
            'resource "aws_security_group_rule" "r" {\n  for_each = var.rules\n'
            '  security_group_id = aws_security_group.a.id\n  from_port = each.value\n}\n'
        )})
        (rule,) = [r for r in config.resources if r.type == "aws_security_group_rule"]
        assert rule.address == "aws_security_group_rule.r"
        assert rule.expansion is not None and rule.expansion.expr == "var.rules"
        assert rule.body.get("security_group_id") == Ref("aws_security_group.a")
        assert rule.body.get("from_port").expr == "each.value"

    def test_for_each_over_a_list_is_rejected_like_terraform(self, tmp_path: Path) -> None:
        config = configure(tmp_path, {"main.tf": 'resource "terraform_data" "x" {\n  for_each = ["a"]\n}\n'})
        assert config.resources[0].expansion is not None
        assert "wrap the list in toset()" in config.diagnostics[0].message

    def test_dynamic_blocks_with_iterator_and_nested_dynamic(self, tmp_path: Path) -> None:
        config = configure(tmp_path, {"main.tf": '''
resource "terraform_data" "x" {
  dynamic "outer" {
    for_each = { a = [1, 2], b = [3] }
    iterator = o
    content {
      name = o.key
      dynamic "inner" {
        for_each = o.value
        content {
          n = inner.value
        }
      }
    }
  }
}
'''})
        outer = config.resources[0].body.blocks_of("outer")
        assert [(b.get("name"), [i.get("n") for i in b.blocks_of("inner")]) for b in outer] == [
            ("a", [1, 2]), ("b", [3]),
        ]


class TestVariables:
    DECL = 'variable "v" {\n  default = "default"\n}\n'

    @pytest.mark.parametrize(
        ("files", "env", "var_file", "cli", "expected"),
        [
            ({}, {}, False, None, "default"),
            ({}, {"v": "env"}, False, None, "env"),
            ({"terraform.tfvars": 'v = "tfvars"\n'}, {"v": "env"}, False, None, "tfvars"),
            ({"terraform.tfvars": 'v = "tfvars"\n', "a.auto.tfvars": 'v = "auto"\n'}, {}, False, None, "auto"),
            ({"a.auto.tfvars": 'v = "a"\n', "b.auto.tfvars": 'v = "b"\n'}, {}, False, None, "b"),
            ({"a.auto.tfvars": 'v = "auto"\n'}, {}, True, None, "var-file"),
            ({"a.auto.tfvars": 'v = "auto"\n'}, {}, True, "cli", "cli"),
        ],
    )
    def test_precedence(
        self, tmp_path: Path, files: dict[str, str], env: dict[str, str], var_file: bool,
        cli: str | None, expected: str,
    ) -> None:
        write(tmp_path, {"extra.tfvars": 'v = "var-file"\n'})
        inputs = VarInputs(
            var_files=(parse_file(str(tmp_path / "extra.tfvars"), "extra.tfvars"),) if var_file else (),
            vars=(("v", cli),) if cli else (),
            env=env,
        )
        module = write(tmp_path / "module", files)
        assert probe(module, "var.v", self.DECL, inputs) == expected

    def test_cli_values_are_hcl_for_complex_types_and_text_for_strings(self, tmp_path: Path) -> None:
        decl = 'variable "ports" {\n  type = list(number)\n}\nvariable "name" {\n  type = string\n}\n'
        inputs = VarInputs(vars=(("ports", "[5473, 4789]"), ("name", "[not a list]")))
        assert probe(tmp_path / "1", "var.ports", decl, inputs) == [5473, 4789]
        assert probe(tmp_path / "2", "var.name", decl, inputs) == "[not a list]"

    def test_type_conversion_with_optional_defaults_and_sets(self, tmp_path: Path) -> None:
        decl = '''
variable "rules" {
  type = map(object({
    port     = number
    protocol = optional(string, "tcp")
    cidrs    = optional(set(string), ["10.0.0.0/8"])
  }))
  default = { typha = { port = "5473" } }
}
'''
        assert probe(tmp_path, "var.rules", decl) == {
            "typha": {"port": 5473, "protocol": "tcp", "cidrs": TfSet(["10.0.0.0/8"])},
        }

    def test_a_value_of_the_wrong_type_is_a_warning(self, tmp_path: Path) -> None:
        config = configure(tmp_path, {"main.tf": (
            'variable "n" {\n  type    = number\n  default = "many"\n}\n'
            'resource "terraform_data" "probe" {\n  input = var.n\n}\n'
        )})
        assert isinstance(config.resources[0].body.get("input"), Unknown)
        assert config.diagnostics[0].message.startswith("var.n: value does not match its type")


class TestModules:
    def test_inputs_flow_in_and_outputs_flow_out_with_module_addresses(self, tmp_path: Path) -> None:
        config = configure(tmp_path, {
            "main.tf": (
                'module "sg" {\n  for_each = toset(["a", "b"])\n  source = "./sg"\n  name = each.key\n}\n'
                'resource "terraform_data" "probe" {\n  input = [for m in module.sg : m.id]\n}\n'
            ),
            "sg/main.tf": (
                'variable "name" {}\n'
                'resource "aws_security_group" "this" {\n  name = "sg-${var.name}"\n}\n'
                'output "id" {\n  value = aws_security_group.this.id\n}\n'
            ),
        })
        by_address = {r.address: r for r in config.resources}
        assert by_address["terraform_data.probe"].body.get("input") == [
            Ref('module.sg["a"].aws_security_group.this'), Ref('module.sg["b"].aws_security_group.this'),
        ]
        assert by_address['module.sg["b"].aws_security_group.this'].body.get("name") == "sg-b"
        assert by_address['module.sg["b"].aws_security_group.this'].module_dir == "sg"
        assert [m for m, _ in config.modules] == ["", 'module.sg["a"]', 'module.sg["b"]']

    def test_templatefile_reads_relative_to_the_root_with_path_module(self, tmp_path: Path) -> None:
        config = configure(tmp_path, {
            "main.tf": 'module "m" {\n  source = "./m"\n}\n',
            "m/main.tf": (
                'resource "terraform_data" "probe" {\n'
                '  input = templatefile("${path.module}/values.tpl", { port = 5473, pools = ["a", "b"] })\n}\n'
            ),
            "m/values.tpl": "port: ${port}\n%{ for p in pools ~}\n- ${p}\n%{ endfor ~}\n",
        })
        assert config.resources[0].body.get("input") == "port: 5473\n- a\n- b\n"


def test_only_the_attributes_later_stages_read_are_evaluated(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": '''
resource "aws_instance" "node" {
  ami                    = "ami-${1 + "x"}"
  vpc_security_group_ids = ["sg-1"]
  root_block_device {
    volume_size = 50
  }
  dynamic "ebs_block_device" {
    for_each = [1]
    content {
      device_name = "/dev/sdb"
    }
  }
  network_interface {
    network_interface_id = "eni-1"
    device_index         = 0
  }
}
'''})
    workspace = load_workspace([str(tmp_path)], cwd=str(tmp_path))
    config = evaluate_root(workspace, workspace.roots[0], wanted={"aws_instance": frozenset({"vpc_security_group_ids", "network_interface"})})
    (node,) = config.resources
    assert list(node.body.attrs) == ["vpc_security_group_ids"]
    assert [b.type for b in node.body.blocks] == ["network_interface"]
    assert node.body.blocks[0].get("device_index") == 0  # nested blocks are evaluated whole
    assert config.diagnostics == ()  # the broken `ami` was never evaluated
    everything = evaluate_root(workspace, workspace.roots[0])
    assert "ami" in everything.resources[0].body.attrs and len(everything.diagnostics) == 1


KNOWN_AFTER_APPLY = '''
resource "aws_security_group" "a" {}
resource "aws_security_group" "b" {}
locals {
  groups = { default = { sgs = [aws_security_group.a.id] } }
}
'''


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("local.groups != null", True),
        ("local.groups == null", False),
        ('local.groups == { other = {} }', False),
        ("[aws_security_group.a.id] == [aws_security_group.a.id, aws_security_group.b.id]", False),
        ("aws_security_group.a.id == aws_security_group.a.id", True),
        ("aws_security_group.a.id == aws_security_group.b.id", False),
        ("local.groups != null ? keys(local.groups) : []", ["default"]),
    ],
)
def test_equality_is_known_when_unknown_parts_cannot_change_it(tmp_path: Path, expression: str, expected: Any) -> None:
    """Terraform knows `var.node_groups != null` for a map whose values hold ids known only
    after apply (terraform-aws-eks: `for_each = var.eks_managed_node_groups != null ? ...`)."""
    assert probe(tmp_path, expression, KNOWN_AFTER_APPLY) == expected


def test_equality_with_an_unknown_value_stays_unknown(tmp_path: Path) -> None:
    value = probe(tmp_path, 'aws_security_group.a.id == "sg-123"', KNOWN_AFTER_APPLY)
    assert isinstance(value, Unknown)
    assert (value.expr, value.reason) == ("aws_security_group.a.id", "known only after apply")
