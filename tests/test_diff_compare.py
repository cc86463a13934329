"""The pure parts of `sglint diff`: the change table, renames from `moved` blocks, which
files of a commit are read and which tree paths are refused, and the text report's cap."""

from __future__ import annotations

import pytest

from calico_sglint.diff.compare import (
    ADDED,
    BECAME_UNVERIFIED,
    CLOSED_CHANGE,
    MISSING,
    OPEN_STATE,
    OPENED,
    REMOVED,
    STILL_MISSING,
    STILL_UNVERIFIED,
    UNVERIFIED,
    change_of,
)
from calico_sglint.diff.gitread import is_read, safe_path
from calico_sglint.diff.renames import Renames


@pytest.mark.parametrize(
    ("base", "head", "change"),
    [
        (OPEN_STATE, OPEN_STATE, None),
        (OPEN_STATE, MISSING, CLOSED_CHANGE),
        (UNVERIFIED, MISSING, CLOSED_CHANGE),
        (MISSING, MISSING, STILL_MISSING),
        (None, MISSING, STILL_MISSING),
        (MISSING, OPEN_STATE, OPENED),
        (UNVERIFIED, OPEN_STATE, OPENED),
        (None, OPEN_STATE, ADDED),
        (OPEN_STATE, UNVERIFIED, BECAME_UNVERIFIED),
        (MISSING, UNVERIFIED, BECAME_UNVERIFIED),
        (None, UNVERIFIED, BECAME_UNVERIFIED),
        (UNVERIFIED, UNVERIFIED, STILL_UNVERIFIED),
        (OPEN_STATE, None, REMOVED),
        (MISSING, None, REMOVED),
    ],
)
def test_every_pair_of_states_has_one_change(base: str | None, head: str | None, change: str | None) -> None:
    assert change_of(base, head) == change


def test_renames_follow_prefixes_instances_and_chains() -> None:
    renames = Renames((
        ("aws_instance.worker", "aws_instance.workers"),
        ("module.old", "module.new"),
        ("aws_instance.workers", "aws_instance.nodes"),
    ))
    assert renames.address("aws_instance.worker") == "aws_instance.nodes"  # a -> b -> c
    assert renames.address('aws_instance.worker["a"]') == 'aws_instance.nodes["a"]'
    assert renames.address("aws_instance.worker_2") == "aws_instance.worker_2"  # another name
    assert renames.address("module.old.aws_security_group.x") == "module.new.aws_security_group.x"
    assert renames.address("module.older.aws_security_group.x") == "module.older.aws_security_group.x"
    assert renames.address("module.k.aws_instance.worker") == "module.k.aws_instance.worker"  # another module
    assert renames.text("module.old.aws_security_group.a<>aws_instance.worker[0]:tcp") == (
        "module.new.aws_security_group.a<>aws_instance.nodes[0]:tcp"
    )


def test_a_ring_of_moved_blocks_stops() -> None:
    ring = Renames((("aws_instance.a", "aws_instance.b"), ("aws_instance.b", "aws_instance.a")))
    assert ring.address("aws_instance.a") in ("aws_instance.a", "aws_instance.b")


@pytest.mark.parametrize(
    ("path", "read"),
    [
        ("infra/main.tf", True),
        ("infra/prod.tfvars", True),
        ("calico/installation.yaml", True),
        ("values.YML", True),
        (".sglint.yaml", True),
        ("pyproject.toml", True),
        ("inventory/group_vars/k8s_cluster/k8s-net-calico", True),  # Ansible: no extension
        ("group_vars/all.json", True),
        ("README.md", False),
        ("scripts/deploy.sh", False),
        ("infra/main.tf.json", False),
        ("data/cluster.json", False),
    ],
)
def test_the_files_sglint_reads_are_taken_from_git(path: str, read: bool) -> None:
    assert is_read(path) is read


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("infra/main.tf", True),
        ("a/.gitignore.yaml", True),
        ("../outside.tf", False),
        ("a/../../outside.tf", False),
        ("/etc/passwd.tf", False),
        (".git/hooks/x.yaml", False),
        ("sub/.GIT/config.yaml", False),
        ("a//b.tf", False),
        ("./a.tf", False),
    ],
)
def test_tree_paths_that_would_leave_the_directory_are_refused(path: str, safe: bool) -> None:
    assert safe_path(path) is safe


def test_the_text_report_lists_twenty_per_section_then_counts() -> None:
    from calico_sglint.diff.compare import Comparison, PathChange
    from calico_sglint.diff.run import DiffResult, SideResult
    from calico_sglint.render.difftext import diff_lines

    closed = tuple(
        PathChange("infra", "calico-typha", "error", f"aws_instance.w{i:02d}", "aws_instance.master", "tcp", (5473, 5473),
                   CLOSED_CHANGE, OPEN_STATE, MISSING, "aws_security_group.w", "aws_security_group.m", "ingress", None)
        for i in range(25)
    )
    result = DiffResult(SideResult("main (abc1234)", (), ()), SideResult("working tree", (), ()),
                        Comparison(closed, (), (), (), (), ("infra",)), ("infra/main.tf",))
    lines = diff_lines(result)
    assert lines[:4] == [
        "sglint diff: main (abc1234) -> working tree",
        "FAIL: this change closes 25 required paths",
        "",
        "closed (25):",
    ]
    assert lines[4:6] == ["  aws_instance.w00 -> aws_instance.master tcp/5473 [calico-typha]",
                          "      missing: ingress on aws_security_group.m"]
    assert lines[-3:] == ["  ... and 5 more (--format json lists every one)", "", "1 root module compared: 25 closed"]
    assert len(lines) == 4 + 2 * 20 + 3


@pytest.mark.parametrize(
    ("path", "near"),
    [
        ("infra/user-data.sh", True),
        ("infra/templates/values.yaml.tpl", True),
        ("infra/files/nodes/cloud-init.txt", True),
        ("infra/a/b/c/too-deep.txt", False),
        ("infra/.hidden/x.tpl", False),
        ("docs/README.md", False),
        ("infrastructure/x.tpl", False),
    ],
)
def test_files_beside_a_module_are_those_at_most_two_directories_below_it(path: str, near: bool) -> None:
    from calico_sglint.diff.gitread import beside

    assert beside(path, {"infra"}) is near


def test_only_the_touched_modules_and_possible_callers_are_read(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    from calico_sglint.terraform.workspace import load_workspace

    files = {
        "changed/main.tf": 'resource "aws_security_group" "a" {}\n',
        "caller/main.tf": '# calls the changed module\nmodule "sg" {\n  source = "../changed"\n}\n',
        "unrelated/main.tf": '# this module has no module blocks\nlocals {\n  module = "x"\n}\n',
        "heredoc/main.tf": 'locals {\n  doc = <<EOT\n  module "not_really" {}\nEOT\n}\n',
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir()
        (tmp_path / name).write_text(text)
    only = {os.path.realpath(tmp_path / "changed")}
    workspace = load_workspace([str(tmp_path)], cwd=str(tmp_path), only=only)
    assert sorted(os.path.basename(p) for p in workspace.scanned) == ["caller", "changed", "heredoc"]  # heredoc: a false alarm
    assert [os.path.basename(r) for r in workspace.roots] == ["caller", "heredoc"]
    everything = load_workspace([str(tmp_path)], cwd=str(tmp_path))
    assert len(everything.scanned) == 4
