"""The parser without position propagation gives the trees python-hcl2's own parser gave.

Differential: every Terraform file and template of the fixtures, the examples, the test data,
a generated bench module and (where present) the real-world corpus, and truncations of them
(syntax errors), parsed both ways: the same `syntax` trees, lines included, or the same
error at the same line.
"""

from __future__ import annotations

import io
import os
import pickle
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, FIXTURES, REPO

from calico_sglint.source import InputError
from calico_sglint.terraform import larkparser
from calico_sglint.terraform.cache import content_key
from calico_sglint.terraform.parse import decode, parse_template, parse_text, read_bytes

CORPUS = REPO.parent / "shared" / "corpus"
TERRAFORM = (".tf", ".tfvars")
TEMPLATES = (".tpl", ".tftpl")


def _files(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name.endswith(suffixes))


def _both(text: str, name: str) -> tuple[object, object]:
    def run(reference: bool) -> object:
        try:
            return parse_text(text, name, "d", reference=reference)
        except InputError as err:
            return (err.message, err.line)

    return run(False), run(True)


def _text(path: Path) -> str:
    return decode(read_bytes(str(path), str(path)), str(path))


OURS = (
    _files(FIXTURES, TERRAFORM) + _files(EXAMPLES, TERRAFORM) + _files(REPO / "tests" / "data", TERRAFORM)
)


def test_the_inputs_are_there() -> None:
    assert len(OURS) >= 50


@pytest.mark.parametrize("path", OURS, ids=lambda p: str(p.relative_to(REPO)))
def test_same_trees_as_python_hcl2s_parser(path: Path) -> None:
    new, old = _both(_text(path), str(path))
    assert new == old


@pytest.mark.parametrize("path", _files(FIXTURES, TEMPLATES) + _files(EXAMPLES, TEMPLATES))
def test_same_templates(path: Path) -> None:
    text = _text(path)
    assert parse_template(text, "t", 1) == parse_template(text, "t", 1, reference=True)


@pytest.mark.parametrize("path", OURS[::4], ids=lambda p: str(p.relative_to(REPO)))
def test_same_errors_at_the_same_lines(path: Path) -> None:
    """Cut each file at ten places: mostly syntax errors, each at the same line both ways."""
    text = _text(path)
    errors = 0
    for cut in range(1, 11):
        new, old = _both(text[: len(text) * cut // 11], str(path))
        assert new == old
        errors += isinstance(new, tuple)
    assert errors >= 1


def test_lines_come_from_the_first_token_of_each_node() -> None:
    source = 'locals {\n  x = (\n\n    a\n    + b\n  )\n  y = [\n    1,\n  ]\n}\n'
    new, old = _both(source, "t.tf")
    assert new == old
    attributes = new.body.blocks[0].body.attributes  # type: ignore[attr-defined]
    assert (attributes["x"].line, attributes["x"].expr.line, attributes["x"].end_line) == (2, 4, 6)
    assert (attributes["y"].expr.line, attributes["y"].end_line) == (7, 9)


def test_tree_nodes_carry_a_rule_name_and_children_only() -> None:
    tree = larkparser.parser().parse('x = [1, var.y]\n')
    nodes, seen = [tree], 0
    while nodes:
        node = nodes.pop()
        if node is None or isinstance(node, str):
            continue
        assert type(node) is larkparser.Node and not hasattr(node, "__dict__")
        seen += 1
        nodes.extend(node.children)
    assert tree.data == "start" and seen > 5


def test_a_generated_bench_module(tmp_path: Path) -> None:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    generate(str(tmp_path / "mono"), 2, 7)
    files = _files(tmp_path / "mono", TERRAFORM)
    assert len(files) >= 20
    for path in files:
        new, old = _both(_text(path), path.name)
        assert new == old, path


@pytest.mark.slow
@pytest.mark.skipif(not CORPUS.is_dir(), reason="no corpus beside the clone (../shared/corpus)")
def test_the_real_world_corpus() -> None:
    files = _files(CORPUS, TERRAFORM)
    assert len(files) >= 100
    for path in files:
        new, old = _both(_text(path), str(path.relative_to(CORPUS)))
        assert new == old, path
    templates = _files(CORPUS, TEMPLATES)
    for path in templates:
        text = _text(path)
        assert parse_template(text, "t", 1) == parse_template(text, "t", 1, reference=True), path


def test_stored_tables_make_the_same_parser() -> None:
    blob = larkparser.derive()
    assert larkparser.parser_from_blob(blob)
    text = _text(EXAMPLES / "typha-blocked" / "main.tf")
    new, old = _both(text, "main.tf")
    assert new == old


def test_tables_holding_a_class_are_refused_and_change_nothing() -> None:
    before = larkparser.parser()

    class Payload:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, ("echo pwned",))

    hostile = pickle.dumps(({"x": Payload()}, {}))
    assert not larkparser.parser_from_blob(hostile)
    assert not larkparser.parser_from_blob(b"not a pickle")
    assert not larkparser.parser_from_blob(pickle.dumps(({"rules": []}, {})))
    assert larkparser.parser() is before


def test_tables_are_plain_data() -> None:
    class Strict(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> object:
            raise AssertionError(f"{module}.{name}")

    data, memo = Strict(io.BytesIO(larkparser.derive())).load()
    assert data["options"]["parser"] == "lalr" and "postlex" not in data["options"]


def test_python_hcl2s_table_cache_is_read_when_its_header_matches() -> None:
    from hcl2.parser import PARSER_FILE, parser

    parser()  # python-hcl2 writes its cache beside its grammar when it is absent or stale
    assert os.path.exists(PARSER_FILE)
    assert larkparser._hcl2_cached_tables() == larkparser._hcl2_tables()


def test_a_table_cache_made_for_other_options_or_damaged_is_not_read(tmp_path: Path) -> None:
    from hcl2.parser import PARSER_FILE, parser

    parser()
    header, rest = Path(PARSER_FILE).read_bytes().split(b"\n", 1)
    moved = tmp_path / "moved.bin"  # the header digests the cache's path too (one of the options)
    moved.write_bytes(header + b"\n" + rest)
    assert larkparser._hcl2_cached_tables(str(moved)) is None
    moved.write_bytes(larkparser.cache_header(str(moved)).encode() + b"\n" + rest)
    assert larkparser._hcl2_cached_tables(str(moved)) == larkparser._hcl2_tables()
    damaged = tmp_path / "damaged.bin"
    damaged.write_bytes(larkparser.cache_header(str(damaged)).encode() + b"\n" + rest[: len(rest) // 2])
    assert larkparser._hcl2_cached_tables(str(damaged)) is None


# --- whole runs: the same findings, diagnostics and show output with the old parser -------


def _old_parser(files: list[tuple[str, str]]) -> list[object]:
    """`workspace.ParseMany` with python-hcl2's own parser and Lark's propagated positions."""
    results: list[object] = []
    for path, display in files:
        try:
            data = read_bytes(path, display)
            results.append(parse_text(decode(data, display), display, content_key(data), reference=True))
        except InputError as err:
            results.append(err)
    return results


def _outputs(paths: tuple[str, ...]) -> tuple[object, ...]:
    from calico_sglint.pipeline import CheckOptions, ReadOptions, check, read
    from calico_sglint.render.show import show_json, show_text
    from calico_sglint.render.jsonreport import report_json

    options = ReadOptions(paths=paths)
    result = read(options)
    report = report_json(check(CheckOptions(options)))
    return report, show_json(result.models, list(result.diagnostics)), show_text(result.models)


TREES = sorted(str(p.relative_to(REPO)) for p in [*FIXTURES.iterdir(), *EXAMPLES.iterdir()] if p.is_dir())
# A few in the quick suite (templates, dynamic blocks, a syntax error, the incident); all when slow.
QUICK = {"examples/typha-blocked", "fixtures/detect-helm-templatefile", "fixtures/dynamic-blocks", "fixtures/syntax-error"}


@pytest.mark.parametrize("tree", [t if t in QUICK else pytest.param(t, marks=pytest.mark.slow) for t in TREES])
def test_the_same_findings_with_the_old_parser(tree: str, in_repo, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from calico_sglint import pipeline

    new = _outputs((tree,))
    monkeypatch.setattr(pipeline, "parser_for", lambda options: _old_parser)
    assert _outputs((tree,)) == new


@pytest.mark.slow
def test_the_same_findings_on_a_monorepo_and_the_corpus_with_the_old_parser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calico_sglint import pipeline

    sys.path.insert(0, str(REPO / "bench"))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(REPO / "bench"))
    generate(str(tmp_path / "mono"), 10)
    trees = [str(tmp_path / "mono")]
    if CORPUS.is_dir():
        trees += [str(p) for p in sorted(CORPUS.iterdir()) if p.is_dir()]
    new = [_outputs((tree,)) for tree in trees]
    monkeypatch.setattr(pipeline, "parser_for", lambda options: _old_parser)
    for tree, expected in zip(trees, new):
        assert _outputs((tree,)) == expected, tree
