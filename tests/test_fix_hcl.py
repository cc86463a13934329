"""fix/hcl.py and `sglint fix` on hostile input: nothing it writes is live HCL it did not mean.

A label that is not an identifier is an input error (one line, exit 2, no file written);
instance keys and descriptions are escaped (`${`, `%{`, quotes, U+2028); inline blocks land
where the parser's lines say; a generated file that does not parse, or that gains a block
type sglint never writes, is refused. The property test: random names, keys and descriptions
always give HCL that python-hcl2 parses to the same values, that `terraform fmt -check`
accepts, and that holds only sglint's block types.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import hcl2
import pytest
from conftest import tree_digest, write
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from calico_sglint.fix.hcl import (
    GENERATED_BLOCKS,
    block_kinds,
    hcl_string,
    reference,
    split_lines,
    verify_generated,
)
from calico_sglint.source import InputError
from calico_sglint.terraform.parse import parse_text

TERRAFORM = shutil.which("terraform")

INJECTED_LABEL = (
    'resource "aws_security_group" "worker\\n}\\nresource \\"null_resource\\" \\"p\\" {\\n  provisioner '
    '\\"local-exec\\" {\\n    command = \\"id\\"\\n  }\\n}\\nresource \\"aws_security_group\\" \\"y" {\n'
    '  name = "worker"\n}\n'
)


@pytest.mark.parametrize("mode", [(), ("--diff",), ("--check",)])
def test_a_label_that_is_not_an_identifier_is_an_input_error(tmp_path: Path, run, mode: tuple[str, ...]) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "m", {"main.tf": INJECTED_LABEL})
    before = tree_digest(tmp_path)
    result = run(tmp_path, "fix", "m", *mode)
    assert result.code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith('m/main.tf:1: "aws_security_group.worker\\n}\\nresource')
    assert "is not a valid Terraform address" in result.stderr
    assert tree_digest(tmp_path) == before


def test_for_each_keys_stay_strings(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "m", {"main.tf": (
        'resource "aws_security_group" "worker" {\n'
        '  for_each = toset(["$${path.cwd}", "%%{if true}x%%{endif}"])\n'
        '  name     = "worker"\n}\n'
    )})
    assert run(tmp_path, "fix", "m").code == 0
    text = (tmp_path / "m" / "calico_sglint.tf").read_text()
    generated = hcl2.loads(text)
    ids = {body["security_group_id"] for resource in generated["resource"] for named in resource.values()
           for body in named.values()}
    assert ids == {'${aws_security_group.worker["$${path.cwd}"].id}', "${each.value.id}",
                   '${aws_security_group.worker["%%{if true}x%%{endif}"].id}'}
    assert "${path" not in text.replace("$${path", "")
    assert run(tmp_path, "check", "m").code == 0


def test_a_line_separator_in_a_comment_does_not_move_inline_blocks(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    main = tmp_path / "m" / "main.tf"
    main.parent.mkdir()
    main.write_text(
        'resource "aws_security_group" "worker" {\n  # a comment \u2028 with a line separator\n'
        '  name = "worker"\n  ingress {\n    from_port = 22\n    to_port   = 22\n'
        '    protocol  = "tcp"\n    self      = true\n  }\n}\n'
    )
    assert run(tmp_path, "fix", "m", "--style", "inline").code == 0
    lines = main.read_text().split("\n")
    assert lines[:9] == [
        'resource "aws_security_group" "worker" {', "  # a comment \u2028 with a line separator",
        '  name = "worker"', "  ingress {", "    from_port = 22", "    to_port   = 22",
        '    protocol  = "tcp"', "    self      = true", "  }",
    ]
    assert lines[-2:] == ["}", ""]
    assert run(tmp_path, "check", "m").code == 0


def test_split_lines_counts_only_newlines() -> None:
    assert split_lines("a\u2028b\x0cc\r\nd\ne") == ["a\u2028b\x0cc\r\n", "d\n", "e"]
    assert split_lines("") == []


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("aws_security_group.x", "aws_security_group.x"),
        ('aws_security_group.x["${a}"]', 'aws_security_group.x["$${a}"]'),
        ('module.a["k\\"}"].aws_security_group.x[2]', 'module.a["k\\"}"].aws_security_group.x[2]'),
        ('aws_security_group.x["a\\u2028b"]', 'aws_security_group.x["a\\u2028b"]'),
    ],
)
def test_reference_re_escapes_keys(address: str, expected: str) -> None:
    assert reference(address, None) == expected


@pytest.mark.parametrize("address", ["aws_security_group.a b", "aws_security_group.x\n}", 'x["unterminated]', "1abc.x"])
def test_reference_refuses_what_is_not_an_address(address: str) -> None:
    with pytest.raises(InputError, match="is not a valid Terraform address"):
        reference(address, None)


def test_verify_refuses_text_that_does_not_parse() -> None:
    with pytest.raises(InputError, match="generated text that does not parse"):
        verify_generated(None, 'resource "aws_security_group_rule" "x" {\n', "m/calico_sglint.tf")


@pytest.mark.parametrize("block", [
    'resource "null_resource" "p" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n',
    'data "external" "x" {\n  program = ["id"]\n}\n',
    'module "m" {\n  source = "./x"\n}\n',
])
def test_verify_refuses_block_types_sglint_never_writes(block: str) -> None:
    before = 'resource "aws_security_group" "x" {}\n'
    with pytest.raises(InputError, match="a block it never generates"):
        verify_generated(before, before + block, "m/main.tf")


def test_verify_accepts_what_was_there_already() -> None:
    before = 'resource "null_resource" "p" {\n  provisioner "local-exec" {\n    command = "id"\n  }\n}\n'
    after = before + 'resource "aws_security_group_rule" "r" {\n  type = "ingress"\n}\n'
    verify_generated(before, after, "m/main.tf")


# --- property: random names, keys and descriptions ---------------------------------------------

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_-]{0,20}", fullmatch=True)
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)


def _string_value(quoted: str) -> str:
    """The value of a quoted HCL string, as sglint's parser reads it (escapes resolved)."""
    expr = parse_text(f"x = {quoted}\n", "t.tf").body.attributes["x"].expr
    parts = getattr(expr, "parts", None)
    if parts is None:
        return str(getattr(expr, "value"))
    assert all(isinstance(p, str) for p in parts), "a template, not a plain string"
    return "".join(parts)


def _module(sg_name: str, keys: list[str]) -> str:
    values = ", ".join(hcl_string(k) for k in keys)
    return (f'resource "aws_security_group" "{sg_name}" {{\n  for_each = toset([{values}])\n'
            '  name     = "worker"\n}\n')


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@example(sg_name="w-1", keys=["${path.cwd}", "%{if 1}"], description='${file("x")} %{for} "q" \\ \u2028\x00')
@given(sg_name=names, keys=st.lists(texts, min_size=1, max_size=2, unique=True), description=texts)
def test_generated_hcl_always_parses_to_what_was_meant(tmp_path_factory: pytest.TempPathFactory, sg_name: str, keys: list[str], description: str) -> None:
    from calico_sglint.fix.patches import plan_fixes, render_patches
    from calico_sglint.pipeline import CheckOptions, ReadOptions, check

    assert _string_value(hcl_string(description)) == description

    root = tmp_path_factory.mktemp("prop")
    (root / "main.tf").write_text(_module(sg_name, keys))
    result = check(CheckOptions(ReadOptions(paths=(str(root),))))
    if result.has_errors:
        return  # keys the evaluator rejects are check's business; fix must not run
    plan = plan_fixes(result)
    plan = replace(plan, rules=tuple(replace(r, titles=(description,)) for r in plan.rules))
    patches = render_patches(plan)
    assert patches, "every random layout here misses Calico paths"
    for patch in patches:
        parsed_after = parse_text(patch.after, patch.display)
        assert set(block_kinds(parsed_after.body)) <= GENERATED_BLOCKS | {("resource", "aws_security_group")}
        values = hcl2.loads(patch.after)
        for resource in values["resource"]:
            for body in (b for named in resource.values() for b in named.values()):
                assert _string_value(body["description"]) == "calico-sglint: " + description
        if TERRAFORM:
            out = root / "fmt-check.tf"
            out.write_text(patch.after)
            fmt = subprocess.run([TERRAFORM, "fmt", "-check", str(out)], capture_output=True, text=True)
            assert fmt.returncode == 0, fmt.stdout + fmt.stderr
            out.unlink()


# --- property: entries written into a module call ----------------------------------------------

def _call_text(call_name: str, existing: list[str], layout: str) -> str:
    if layout == "absent":
        rules = ""
    elif layout == "one-line":
        rules = "  node_security_group_additional_rules = {}\n"
    else:
        items = "".join(f"    {k} = {{\n      from_port = 22\n    }}\n" for k in existing)
        rules = f"  node_security_group_additional_rules = {{\n{items}  }}\n"
    return f'module "{call_name}" {{\n  source = "../eks"\n\n  name = "blue"\n' + ("\n" + rules if rules else "") + "}\n"


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@example(call_name="eks", existing=["calico_vxlan_ingress_self"], layout="map", description='${x} %{y} "\\u2028')
@given(call_name=names, existing=st.lists(names, max_size=3, unique=True),
       layout=st.sampled_from(("absent", "one-line", "map")), description=texts)
def test_module_call_entries_always_parse_to_what_was_meant(tmp_path_factory: pytest.TempPathFactory, call_name: str,
                                                            existing: list[str], layout: str, description: str) -> None:
    from calico_sglint.fix.calls import apply_entries
    from calico_sglint.fix.modules import CallEntry, CallSite
    from calico_sglint.source import Location
    from calico_sglint.terraform.workspace import ModuleCall, ParsedModule

    text = _call_text(call_name, existing, layout)
    file = parse_text(text, "main.tf")
    block = file.body.blocks[0]
    site = CallSite(ParsedModule("/nowhere", ".", (file,), (), ()), file, block,
                    ModuleCall(call_name, "../eks", None, Location("main.tf", 1, block.end_line)), "")
    entry = CallEntry(site, "node_security_group_additional_rules", "map", "udp", 4789, 4789,
                      (("type", '"ingress"'), ("self", "true")), "ingress", "module.x.aws_security_group.node[0]",
                      "itself", "", ("calico-vxlan",), (description,))
    after, added = apply_entries(text, [entry], "main.tf")
    verify_generated(text, after, "main.tf")
    assert after.splitlines()[:4] == text.splitlines()[:4]
    rules = parse_text(after, "main.tf").body.blocks[0].body.attributes["node_security_group_additional_rules"].expr
    keys = [_string_value(f'"{k.value}"') if hasattr(k, "value") else "".join(k.parts) for k, _ in rules.items]
    new_keys = [k for k in keys if k not in existing]
    assert len(new_keys) == 1 and new_keys[0].startswith("calico_vxlan_ingress_self")
    assert sorted(keys) == sorted([*(existing if layout == "map" else []), new_keys[0]])
    value = dict(zip(keys, (v for _, v in rules.items)))[new_keys[0]]
    fields = {k.value if hasattr(k, "value") else "".join(k.parts): v for k, v in value.items}
    assert "".join(fields["description"].parts) == "calico-sglint: " + description
    assert added == [f'module.{call_name} node_security_group_additional_rules["{new_keys[0]}"]: ingress udp/4789 on '
                     "module.x.aws_security_group.node[0] from itself"]
    if TERRAFORM:
        out = tmp_path_factory.mktemp("call") / "main.tf"
        out.write_text(after)
        fmt = subprocess.run([TERRAFORM, "fmt", "-check", str(out)], capture_output=True, text=True)
        assert fmt.returncode == 0, fmt.stdout + after
