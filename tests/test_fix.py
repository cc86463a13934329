"""fix.py and `sglint fix`: minimal rules, in the module's style, written safely; then re-check.

For every fixture with fixable findings, in each style: after `fix`, `check` reports none of
the fixed findings; a second `fix` changes no byte; every line that was there is still there;
no new sg-cycle; the generated HCL parses with python-hcl2 and passes `terraform fmt -check`.
"""

from __future__ import annotations

import difflib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest
from conftest import EXAMPLES, FIXTURES, tree_digest, write

from calico_sglint.fix.patches import (
    hcl_string,
    plan_fixes,
    render_patches,
)
from calico_sglint.fix.write import write_patches
from calico_sglint.pipeline import CheckOptions, ReadOptions, check
from calico_sglint.source import InputError

TERRAFORM = shutil.which("terraform")
STYLES = ("rule", "vpc-rule", "inline")


def texts(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*.tf"))}


def finding_keys(report: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {
        (f["rule_id"], f["path"]["source_sg"], f["path"]["target_sg"], f["path"]["from_port"])
        for f in report["findings"] if f["path"] and f["status"] == "failed"
    }


def fixable_trees() -> list[Path]:
    """Every fixture and example whose expected or actual report has a finding with a fix."""
    candidates = [p for p in sorted(FIXTURES.iterdir()) if p.is_dir() and p.name != "syntax-error"]
    candidates += [p for p in sorted(EXAMPLES.iterdir()) if p.is_dir()]
    return [p for p in candidates if any(p.rglob("*.tf"))]


def test_the_typha_incident_gets_exactly_two_rule_resources(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "typha-blocked"
    shutil.copytree(EXAMPLES / "typha-blocked", tree)
    result = run(tmp_path, "fix", "typha-blocked")
    assert result.code == 0, result.stdout + result.stderr
    generated = hcl2.loads((tree / "calico_sglint.tf").read_text())
    rules = [(name, body) for resource in generated["resource"] for kind, named in resource.items()
             for name, body in named.items()]
    assert [(name, body["type"], body["from_port"], body["to_port"], body["protocol"],
             body["security_group_id"], body["source_security_group_id"]) for name, body in rules] == [
        ('"calico_typha_master_from_worker"', '"ingress"', 5473, 5473, '"tcp"',
         "${aws_security_group.master.id}", "${aws_security_group.worker.id}"),
        ('"calico_typha_worker_from_master"', '"ingress"', 5473, 5473, '"tcp"',
         "${aws_security_group.worker.id}", "${aws_security_group.master.id}"),
    ]
    assert run(tmp_path, "check", "typha-blocked").code == 0


@pytest.mark.slow
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("source", fixable_trees(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fix_then_check_in_each_style(source: Path, style: str, tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / source.name
    shutil.copytree(source, tree, ignore=shutil.ignore_patterns("expected"))
    before_report = run(tmp_path, "check", source.name, "--format", "json").json()
    before_texts = texts(tree)
    cycles_before = sum(1 for f in before_report["findings"] if f["rule_id"] == "sg-cycle")

    fixed = run(tmp_path, "fix", source.name, "--style", style)
    assert fixed.code in (0, 1), fixed.stderr
    after_report = run(tmp_path, "check", source.name, "--format", "json").json()
    unfixed = {line.split("] ")[0].split("[")[-1] for line in fixed.stdout.splitlines() if line.startswith("  ") and "] " in line}
    remaining = finding_keys(after_report)
    for key in finding_keys(before_report) - remaining:
        assert key[0] not in {f["rule_id"] for f in after_report["findings"] if f["path"] and
                              (f["rule_id"], f["path"]["source_sg"], f["path"]["target_sg"], f["path"]["from_port"]) == key}
    for key in remaining:
        assert key in finding_keys(before_report), f"fix introduced a new failure: {key}"
        assert key[0] in unfixed, f"{key} is still failing but fix neither fixed it nor said why"
    assert sum(1 for f in after_report["findings"] if f["rule_id"] == "sg-cycle") <= cycles_before

    after_texts = texts(tree)
    for name, original in before_texts.items():
        opcodes = difflib.SequenceMatcher(None, original.splitlines(), after_texts[name].splitlines()).get_opcodes()
        assert all(op in ("equal", "insert") for op, *_ in opcodes), f"{name}: fix changed or removed a line"
    changed = [name for name in after_texts if after_texts[name] != before_texts.get(name)]
    for name in changed:
        hcl2.loads(after_texts[name])
    if TERRAFORM and changed:
        fmt = subprocess.run([TERRAFORM, "fmt", "-check", "-recursive", str(tree)], capture_output=True, text=True)
        assert fmt.returncode == 0, fmt.stdout + fmt.stderr

    snapshot = tree_digest(tree)
    again = run(tmp_path, "fix", source.name, "--style", style)
    assert "no missing rule to add" in again.stdout
    assert tree_digest(tree) == snapshot


def test_diff_and_check_leave_the_tree_byte_identical(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "typha-blocked"
    shutil.copytree(EXAMPLES / "typha-blocked", tree)
    snapshot = tree_digest(tree)
    diff = run(tmp_path, "fix", "typha-blocked", "--diff")
    assert diff.code == 1
    assert diff.stdout.startswith("--- /dev/null\n+++ b/typha-blocked/calico_sglint.tf\n")
    assert diff.stdout.count('\n+resource "aws_security_group_rule"') == 2
    checked = run(tmp_path, "fix", "typha-blocked", "--check")
    assert checked.code == 1
    assert checked.stdout.splitlines()[0] == "sglint fix: would add 2 rules in 1 file"
    assert tree_digest(tree) == snapshot


def test_inline_blocks_go_before_the_closing_brace_and_keep_crlf(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "m"
    shutil.copytree(FIXTURES / "fix-inline-self", tree, ignore=shutil.ignore_patterns("expected"))
    main = tree / "main.tf"
    main.write_bytes(main.read_bytes().replace(b"\n", b"\r\n"))
    assert run(tmp_path, "fix", "m").code == 0
    text = main.read_bytes()
    assert b"\n" not in text.replace(b"\r\n", b"")
    lines = text.decode().split("\r\n")
    start = lines.index("  ingress {", lines.index('    cidr_blocks = ["0.0.0.0/0"]'))
    assert lines[start - 1] == "" and lines[start + 6] == "  }" and lines[start + 7] == "}"
    assert '    description = "all nodes" # a comment that must survive' not in lines
    assert '  description = "all nodes" # a comment that must survive' in lines


def test_an_empty_one_line_group_gets_inline_rules(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "m", {"main.tf": (
        'resource "aws_security_group" "nodes" {}\n\n'
        'resource "aws_instance" "node" {\n  count                  = 2\n'
        "  vpc_security_group_ids = [aws_security_group.nodes.id]\n}\n"
    )})
    assert run(tmp_path, "fix", "m", "--style", "inline").code == 0
    text = (tmp_path / "m" / "main.tf").read_text()
    assert text.startswith('resource "aws_security_group" "nodes" {\n  ingress {\n')
    assert run(tmp_path, "check", "m").code == 0
    if TERRAFORM:
        assert subprocess.run([TERRAFORM, "fmt", "-check", str(tmp_path / "m")], capture_output=True).returncode == 0


def test_names_never_collide_and_the_generated_file_is_appended(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "t"
    shutil.copytree(EXAMPLES / "typha-blocked", tree)
    (tree / "taken.tf").write_text(
        'resource "aws_security_group_rule" "calico_typha_worker_from_master" {\n'
        '  type                     = "ingress"\n  from_port                = 22\n  to_port                  = 22\n'
        '  protocol                 = "tcp"\n  security_group_id        = aws_security_group.worker.id\n'
        '  source_security_group_id = aws_security_group.master.id\n}\n'
    )
    (tree / "calico_sglint.tf").write_text("# kept by the user\n")
    assert run(tmp_path, "fix", "t").code == 0
    generated = (tree / "calico_sglint.tf").read_text()
    assert generated.startswith("# kept by the user\n\nresource ")
    assert '"calico_typha_worker_from_master_2"' in generated
    assert '"calico_typha_master_from_worker"' in generated


def test_a_file_changed_since_it_was_read_is_not_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "m"
    shutil.copytree(FIXTURES / "fix-inline-self", tree, ignore=shutil.ignore_patterns("expected"))
    monkeypatch.chdir(tmp_path)
    result = check(CheckOptions(ReadOptions(paths=("m",))))
    patches = render_patches(plan_fixes(result))
    (tree / "main.tf").write_text((tree / "main.tf").read_text() + "# edited meanwhile\n")
    edited = (tree / "main.tf").read_bytes()
    with pytest.raises(InputError, match="changed since sglint read it"):
        write_patches(patches)
    assert (tree / "main.tf").read_bytes() == edited


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("back\\slash", '"back\\\\slash"'),
        ("${var.x} and %{if}", '"$${var.x} and %%{if}"'),
        ("two\nlines", '"two\\nlines"'),
    ],
)
def test_hcl_string_escapes(text: str, expected: str) -> None:
    assert hcl_string(text) == expected
    assert hcl2.loads(f"x = {expected}\n")["x"] == expected


def test_refusals_say_why_and_the_finding_stays(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "c"
    shutil.copytree(FIXTURES / "fix-inline-cycle", tree, ignore=shutil.ignore_patterns("expected"))
    result = run(tmp_path, "fix", "c")
    assert result.code == 1
    assert result.stdout.splitlines()[:2] == ["sglint fix: no missing rule to add", "not fixed (3):"]
    assert "would make their inline rules reference each other (Error: Cycle); move aws_security_group.worker's rules" in result.stdout
    report = run(tmp_path, "check", "c", "--format", "json").json()
    assert sorted(f["rule_id"] for f in report["findings"]) == ["calico-typha", "calico-vxlan", "k8s-kubelet"]
    assert all("would close a cycle of inline references" in f["hint"] for f in report["findings"])


def test_modules_outside_the_scanned_paths_are_not_touched(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    """The groups' module is not edited: the rules go to the calling module, on its outputs."""
    repo = _outside_the_scanned_paths(tmp_path)
    module = tree_digest(repo / "modules")
    result = run(repo, "fix", "live")
    assert result.code == 0, result.stdout
    assert tree_digest(repo / "modules") == module
    generated = (repo / "live" / "calico_sglint.tf").read_text()
    assert generated.count("  security_group_id        = module.security_groups.master_id\n") == 2
    assert generated.count("  source_security_group_id = module.security_groups.worker_id\n") == 2
    assert '"calico_typha_security_groups_master_from_security_groups_worker"' in generated
    assert run(repo, "check", "live").code == 0


def test_config_chooses_style_and_file_name(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "m"
    shutil.copytree(FIXTURES / "fix-no-rules", tree, ignore=shutil.ignore_patterns("expected"))
    (tree / ".sglint.yaml").write_text("fix:\n  style: vpc-rule\n  file: network_calico.tf\n")
    assert run(tmp_path, "fix", "m").code == 0
    generated = (tree / "network_calico.tf").read_text()
    assert "aws_vpc_security_group_ingress_rule" in generated and "aws_security_group_rule" not in generated
    assert not (tree / "calico_sglint.tf").exists()


def test_fix_refuses_to_write_when_the_input_has_errors(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "m", {"main.tf": 'resource "aws_security_group" "x" {\n'})
    result = run(tmp_path, "fix", "m")
    assert result.code == 2
    assert "sglint fix: nothing written because the input has errors" in result.stderr
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["main.tf"]


def test_json_of_the_fix_plan_is_minimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two requirements on the same SG pair and port share one rule (here: two packs)."""
    tree = tmp_path / "t"
    shutil.copytree(EXAMPLES / "typha-blocked", tree)
    pack = write(tmp_path, {"pack.yaml": """
rules:
  - id: ours-typha-again
    title: Typha again
    severity: error
    kind: path
    protocol: tcp
    ports: [5473]
    from: any
    to: any
    when: {}
    description: the same port as calico-typha
    why: to show one rule serves both
    fix: open it
    source: https://example.com/
"""}) / "pack.yaml"
    monkeypatch.chdir(tmp_path)
    result = check(CheckOptions(ReadOptions(paths=("t",)), rule_paths=(str(pack),)))
    plan = plan_fixes(result)
    assert [(r.security_group, r.requirements) for r in plan.rules] == [
        ("aws_security_group.master", ("calico-typha", "ours-typha-again")),
        ("aws_security_group.worker", ("calico-typha", "ours-typha-again")),
    ]
    assert json.dumps([r.titles for r in plan.rules]).count("Typha again") == 2


def test_exit_non_zero_on_fix_only_when_something_was_written(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(EXAMPLES / "typha-blocked", tmp_path / "t")
    assert run(tmp_path, "fix", "t", "--exit-non-zero-on-fix").code == 1
    assert run(tmp_path, "fix", "t", "--exit-non-zero-on-fix").code == 0


def _outside_the_scanned_paths(tmp_path: Path) -> Path:
    """fix-in-module with the root moved to live/: the groups' module is not scanned."""
    shutil.copytree(FIXTURES / "fix-in-module", tmp_path / "repo", ignore=shutil.ignore_patterns("expected"))
    live = tmp_path / "repo" / "live"
    live.mkdir()
    (tmp_path / "repo" / "main.tf").rename(live / "main.tf")
    (live / "main.tf").write_text((live / "main.tf").read_text().replace("./modules/", "../modules/"))
    (tmp_path / "repo" / ".git").mkdir()  # a repository: reads reach its modules (#17), fix writes stay in live/
    return tmp_path / "repo"


@pytest.mark.parametrize("mode", ["--check", "--diff"])
def test_check_and_diff_exit_1_whenever_a_path_stays_missing(tmp_path: Path, run, mode: str) -> None:  # type: ignore[no-untyped-def]
    """Nothing missing: 0. Missing and writable: 1. Missing and not writable by sglint: 1."""
    shutil.copytree(EXAMPLES / "typha-blocked", tmp_path / "t")
    assert run(tmp_path, "fix", "t", mode).code == 1
    assert run(tmp_path, "fix", "t").code == 0
    clean = run(tmp_path, "fix", "t", mode)
    assert (clean.code, clean.stdout + clean.stderr) == (0, "sglint fix: no missing rule to add\n")
    shutil.copytree(FIXTURES / "fix-inline-cycle", tmp_path / "c", ignore=shutil.ignore_patterns("expected"))
    snapshot = tree_digest(tmp_path / "c")
    refused = run(tmp_path, "fix", "c", mode)
    assert refused.code == 1
    report = refused.stderr if mode == "--diff" else refused.stdout
    assert report.startswith("sglint fix: no missing rule to add\nnot fixed (3):\n")
    assert tree_digest(tmp_path / "c") == snapshot


def test_unverified_findings_are_each_named_with_what_could_not_be_evaluated(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path / "m", {"main.tf": (
        'variable "port" {}\n\nresource "aws_security_group" "worker" {\n  name = "worker"\n}\n\n'
        'resource "aws_security_group_rule" "open" {\n  type              = "ingress"\n'
        "  from_port         = var.port\n  to_port           = var.port\n  protocol          = \"udp\"\n"
        "  security_group_id = aws_security_group.worker.id\n  self              = true\n}\n\n"
        'resource "aws_security_group_rule" "out" {\n  type              = "egress"\n  from_port         = 0\n'
        '  to_port           = 0\n  protocol          = "-1"\n  security_group_id = aws_security_group.worker.id\n'
        '  self              = true\n}\n'
    )})
    result = run(tmp_path, "fix", "m", "--check")
    assert result.code == 1
    lines = result.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("unverified, not fixed (1)"))
    assert lines[start + 1] == "  m/main.tf:3: [calico-vxlan] var.port could not be evaluated"


def test_a_rule_across_modules_is_written_where_both_ids_can_be_named(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(FIXTURES / "fix-cross-module", tmp_path / "x", ignore=shutil.ignore_patterns("expected"))
    module = tree_digest(tmp_path / "x" / "modules")
    assert run(tmp_path, "fix", "x").code == 0
    assert tree_digest(tmp_path / "x" / "modules") == module
    generated = hcl2.loads((tmp_path / "x" / "calico_sglint.tf").read_text())
    rules = {name: body for resource in generated["resource"] for named in resource.values() for name, body in named.items()}
    assert sorted(rules) == ['"calico_typha_workers_worker_from_master"', '"calico_vxlan_workers_worker_from_master"',
                             '"k8s_kubelet_workers_worker_from_master"']
    assert {(b["security_group_id"], b["source_security_group_id"]) for b in rules.values()} == {
        ("${module.workers.sg_id}", "${aws_security_group.master.id}")}
    assert run(tmp_path, "check", "x").code == 0


def test_findings_fix_does_not_handle_are_named_with_why(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    shutil.copytree(FIXTURES / "check-exposed", tmp_path / "e", ignore=shutil.ignore_patterns("expected"))
    result = run(tmp_path, "fix", "e", "--check")
    assert result.code == 0  # no required path is missing
    assert result.stdout.splitlines() == [
        "sglint fix: no missing rule to add",
        "not a missing rule, not fixed (2): sglint fix only adds rules; these need a change to what is there "
        "(`sglint explain RULE`):",
        "  e/main.tf:15: [sg-exposed] aws_security_group.nodes admits tcp/179 from 0.0.0.0/0, exposing BGP to the internet",
        "  e/main.tf:23: [sg-exposed] aws_security_group.nodes admits all traffic from ::/0, exposing every Calico, "
        "kubelet and etcd port to the internet",
    ]


def test_fix_opens_a_control_plane_to_pods_but_never_its_etcd(tmp_path: Path, run) -> None:  # type: ignore[no-untyped-def]
    # Unencapsulated pods need every TCP and UDP port of a control-plane node except its
    # host-network control-plane services (etcd and kops' etcd-manager may stay closed).
    write(tmp_path, {
        "base.tf": (Path(__file__).parents[1] / "rules" / "examples" / "base.tf").read_text(),
        "main.tf": 'resource "aws_security_group_rule" "worker_self" {\n  type = "ingress"\n  from_port = 0\n'
                   '  to_port = 0\n  protocol = "-1"\n  security_group_id = aws_security_group.worker.id\n'
                   '  self = true\n}\n',
    })
    flags = ("--encapsulation", "None", "--no-typha", "--aws-src-dst-check", "Disable")
    assert run(tmp_path, "fix", ".", *flags).code == 0
    model = run(tmp_path, "show", ".", "--format", "json").json()["roots"][0]
    master = next(g for g in model["security_groups"] if g["address"] == "aws_security_group.master")
    to_master = sorted(
        (rule["protocol"], rule["from_port"], rule["to_port"]) for rule in master["rules"]
        if rule["direction"] == "ingress" and rule["location"]["file"].endswith("calico_sglint.tf")
        and rule["protocol"] in ("tcp", "udp") and rule["to_port"] - rule["from_port"] > 1
    )
    assert ("tcp", 1, 2378) in to_master and ("udp", 1, 65535) in to_master
    assert all(not (low <= 2380 <= high or low <= 4001 <= high) for protocol, low, high in to_master if protocol == "tcp")
    report = run(tmp_path, "check", ".", *flags, "--format", "json").json()
    assert [f for f in report["findings"] if f["severity"] == "error"] == []
    before = tree_digest(tmp_path)
    assert run(tmp_path, "fix", ".", *flags).code == 0
    assert tree_digest(tmp_path) == before
