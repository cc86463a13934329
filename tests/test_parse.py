"""parse.py: python-hcl2's tree -> our syntax tree, with exact line spans and clean errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from calico_sglint.source import InputError
from calico_sglint.terraform.parse import (
    parse_expression,
    parse_file,
    parse_template,
    parse_text,
)
from calico_sglint.terraform.syntax import (
    BinaryOp,
    Call,
    Conditional,
    ForExpr,
    GetAttr,
    Index,
    Literal,
    Name,
    ObjectExpr,
    Splat,
    Template,
    TemplateFor,
    TemplateIf,
    TupleExpr,
    UnaryOp,
    render,
)

SG = """\
resource "aws_security_group" "worker" {
  name = "worker"

  ingress {
    from_port = 5473
    to_port   = 5473
    protocol  = "tcp"
    cidr_blocks = [
      "10.0.0.0/16",
    ]
  }
}
"""


def test_block_and_attribute_spans() -> None:
    body = parse_text(SG, "main.tf").body
    (sg,) = body.blocks
    assert (sg.type, sg.labels, sg.line, sg.end_line) == (
        "resource", ("aws_security_group", "worker"), 1, 12,
    )
    assert (sg.body.attributes["name"].line, sg.body.attributes["name"].end_line) == (2, 2)
    (ingress,) = sg.body.blocks
    assert (ingress.type, ingress.line, ingress.end_line) == ("ingress", 4, 11)
    cidrs = ingress.body.attributes["cidr_blocks"]
    assert (cidrs.line, cidrs.end_line) == (8, 10)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("5473", Literal(5473, 1)),
        ("-1", UnaryOp("-", Literal(1, 1), 1)),
        ("1.5", Literal(1.5, 1)),
        ("true", Literal(True, 1)),
        ("null", Literal(None, 1)),
        ('"tcp"', Template(("tcp",), 1)),
        ('"a\\"b\\\\c\\n"', Template(('a"b\\c\n',), 1)),
        ('"$${x} %%{y}"', Template(("${x} %{y}",), 1)),
        ("var.x", GetAttr(Name("var", 1), "x", 1)),
        ("a[0]", Index(Name("a", 1), Literal(0, 1), 1)),
        ("a.0", Index(Name("a", 1), Literal(0, 1), 1)),
        ("a[*].id", Splat(Name("a", 1), ("id",), True, 1)),
        ("a.*.id", Splat(Name("a", 1), ("id",), False, 1)),
        ("f(1, x...)", Call("f", (Literal(1, 1), Name("x", 1)), True, 1)),
        ("a ? 1 : 2", Conditional(Name("a", 1), Literal(1, 1), Literal(2, 1), 1)),
        ("!a", UnaryOp("!", Name("a", 1), 1)),
        ("1 + 2 * 3", BinaryOp("+", Literal(1, 1), BinaryOp("*", Literal(2, 1), Literal(3, 1), 1), 1)),
        ("[1, 2]", TupleExpr((Literal(1, 1), Literal(2, 1)), 1)),
        ("((((1))))", Literal(1, 1)),
    ],
)
def test_expressions(source: str, expected: object) -> None:
    assert parse_expression(source, "t.tf", 1) == expected


def test_object_keys_bare_words_are_strings_parenthesised_are_expressions() -> None:
    expr = parse_expression("{ a = 1, (b) = 2, \"c\" = 3, for = 4 }", "t.tf", 1)
    assert isinstance(expr, ObjectExpr)
    keys = [k for k, _ in expr.items]
    assert keys == [Literal("a", 1), Name("b", 1), Template(("c",), 1), Literal("for", 1)]


def test_for_expressions() -> None:
    expr = parse_expression('{ for k, v in m : k => v... if v != "" }', "t.tf", 1)
    assert isinstance(expr, ForExpr)
    assert (expr.key_var, expr.value_var, expr.group) == ("k", "v", True)
    assert render(expr) == '{for k, v in m : k => v... if v != ""}'
    tuple_for = parse_expression("[for s in var.l : s.id]", "t.tf", 1)
    assert isinstance(tuple_for, ForExpr) and tuple_for.key is None


def test_string_template_directives_nest() -> None:
    expr = parse_expression('"%{ if a }x%{ else }y%{ endif }-%{ for i in l }${i}%{ endfor }"', "t.tf", 1)
    assert isinstance(expr, Template)
    cond, dash, loop = expr.parts
    assert cond == TemplateIf(Name("a", 1), ("x",), ("y",), 1)
    assert dash == "-"
    assert loop == TemplateFor(None, "i", Name("l", 1), (Name("i", 1),), 1)


def test_heredoc_is_a_template_and_trims_indentation() -> None:
    body = parse_text('x = <<-EOT\n    hello ${name}\n      indented\n    EOT\ny = 1\n', "t.tf").body
    x = body.attributes["x"]
    assert x.expr == Template(("hello ", Name("name", 2), "\n  indented\n"), 2)
    assert (x.line, x.end_line) == (1, 4)
    assert body.attributes["y"].line == 5


def test_template_file_syntax() -> None:
    template = parse_template("a: ${x}\n%{ for p in ports ~}\n- ${p}\n%{ endfor ~}\nz: $${y}\n", "t.tpl", 1)
    assert template.parts[0] == "a: "
    assert template.parts[1] == Name("x", 1)
    assert template.parts[2] == "\n"
    assert template.parts[3] == TemplateFor(None, "p", Name("ports", 2), ("- ", Name("p", 3), "\n"), 2)
    assert template.parts[4] == "z: ${y}\n"


def test_sglint_comments_are_collected() -> None:
    file = parse_text('# sglint:ignore=sg-exposed public LB\nx = 1 // sglint:ignore=calico-bgp why\n', "t.tf")
    assert [(c.line, c.text) for c in file.directives] == [
        (1, "# sglint:ignore=sg-exposed public LB"),
        (2, "// sglint:ignore=calico-bgp why"),
    ]


def test_crlf_and_bom() -> None:
    body = parse_text('\ufeffresource "a" "b" {\r\n  x = "y"\r\n}\r\n'.lstrip("\ufeff"), "t.tf").body
    assert body.blocks[0].body.attributes["x"].expr == Template(("y",), 2)


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ('resource "a" "b" {\n  x = 1\n', 2, "unexpected end of file"),
        ('resource "a" "b" {\n  x = @\n}\n', 2, "unexpected"),
        ("x = 1\nx = 2\n", 2, 'attribute "x" is defined twice'),
        ('x = "unterminated\n', 1, "unexpected"),
        ('x = "${ 1 + }"\n', 1, "unexpected"),
    ],
)
def test_syntax_errors_name_file_and_line(source: str, line: int, message: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_text(source, "bad.tf")
    assert caught.value.file == "bad.tf"
    assert caught.value.line == line
    assert message in caught.value.message
    assert str(caught.value).startswith(f"bad.tf:{line}: ")


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "x.tf"
    path.write_bytes(b'x = 1\n\x00\x01\x02')
    with pytest.raises(InputError, match="binary file") as caught:
        parse_file(str(path), "x.tf")
    assert caught.value.line == 2


def test_non_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "x.tf"
    path.write_bytes(b'x = 1\ny = "caf\xe9"\n')
    with pytest.raises(InputError, match="not UTF-8") as caught:
        parse_file(str(path), "x.tf")
    assert caught.value.line == 2


def test_deep_parentheses_parse() -> None:
    source = "x = " + "(" * 5000 + "1" + ")" * 5000 + "\n"
    assert parse_text(source, "t.tf").body.attributes["x"].expr == Literal(1, 1)


def test_deep_lists_are_a_clean_error() -> None:
    source = "x = " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(InputError, match="nested too deeply"):
        parse_text(source, "t.tf")


@pytest.mark.parametrize("between", ["\n    ", "  # why\n    "])
def test_an_operator_on_the_next_line_inside_parentheses(between: str) -> None:
    """python-hcl2's post-lexer merges the line break before an operator into its token."""
    expr = parse_text(f"x = (\n  a{between}+ b\n)\n", "t.tf").body.attributes["x"].expr
    assert expr == BinaryOp("+", Name("a", 2), Name("b", 3), 2)


@pytest.mark.parametrize(
    ("quoted", "value"),
    [('"$${\\"}"', '${"}'), ('"$${a\\nb}"', "${a\nb}"), ('"%%{x\\\\}"', "%{x\\}")],
)
def test_escapes_inside_an_escaped_interpolation_are_resolved_like_terraform(quoted: str, value: str) -> None:
    """`length("$${\\"}")` is 4 in `terraform console`: the `\\"` is one quote."""
    expr = parse_text(f"x = {quoted}\n", "t.tf").body.attributes["x"].expr
    assert expr.parts == (value,)
