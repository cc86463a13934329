"""discover.py and workspace.py: which directories are modules, which modules are roots."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import write

from calico_sglint.terraform.discover import discover, is_ignored_file
from calico_sglint.terraform.workspace import load_workspace

TF = 'resource "aws_security_group" "a" {}\n'


def test_walks_recursively_and_skips_hidden_and_terraform_dirs(tmp_path: Path) -> None:
    write(tmp_path, {
        "a/main.tf": TF,
        "a/b/main.tf": TF,
        ".hidden/main.tf": TF,
        "a/.terraform/modules/x/main.tf": TF,
        "docs/readme.md": "no terraform",
    })
    found = discover([str(tmp_path)], cwd=str(tmp_path))
    assert [m.display for m in found.modules] == ["a", "a/b"]
    assert found.errors == ()


def test_symlink_loops_are_visited_once(tmp_path: Path) -> None:
    write(tmp_path, {"a/main.tf": TF})
    os.symlink(tmp_path, tmp_path / "a" / "loop")
    found = discover([str(tmp_path)], cwd=str(tmp_path))
    assert [m.display for m in found.modules] == ["a"]


def test_a_file_argument_means_its_module_once(tmp_path: Path) -> None:
    write(tmp_path, {"m/a.tf": TF, "m/b.tf": TF, "m/terraform.tfvars": "x = 1\n"})
    found = discover(
        [str(tmp_path / "m/a.tf"), str(tmp_path / "m/b.tf"), str(tmp_path / "m/terraform.tfvars")],
        cwd=str(tmp_path),
    )
    assert [(m.display, [os.path.basename(f) for f in m.tf_files]) for m in found.modules] == [
        ("m", ["a.tf", "b.tf"]),
    ]


def test_missing_paths_and_non_terraform_files_are_errors(tmp_path: Path) -> None:
    write(tmp_path, {"notes.txt": "hello"})
    found = discover([str(tmp_path / "nope"), str(tmp_path / "notes.txt")], cwd=str(tmp_path))
    assert [e.message for e in found.errors] == [
        "no such file or directory", "not a Terraform file (*.tf or *.tfvars)",
    ]


def test_tfvars_order_and_ignored_files(tmp_path: Path) -> None:
    write(tmp_path, {
        "main.tf": TF, "b.auto.tfvars": "", "a.auto.tfvars": "", "terraform.tfvars": "",
        "other.tfvars": "", "x.tf.json": "{}", "override.tf": TF, "main.tf~": TF, ".#main.tf": TF,
    })
    (module,) = discover([str(tmp_path)], cwd=str(tmp_path)).modules
    assert [os.path.basename(f) for f in module.tfvars_files] == [
        "terraform.tfvars", "a.auto.tfvars", "b.auto.tfvars",
    ]
    assert [os.path.basename(f) for f in module.ignored_files] == ["override.tf", "x.tf.json"]
    assert [os.path.basename(f) for f in module.tf_files] == ["main.tf"]


def test_terraform_ignores_editor_files() -> None:
    assert [n for n in (".x.tf", "x.tf~", "#x.tf#", "x.tf") if is_ignored_file(n)] == [".x.tf", "x.tf~", "#x.tf#"]


def test_roots_are_modules_no_other_scanned_module_calls(tmp_path: Path) -> None:
    write(tmp_path, {
        "envs/prod/main.tf": 'module "c" {\n  source = "../../modules/cluster"\n}\n',
        "envs/dev/main.tf": 'module "c" {\n  source = "../../modules/cluster"\n}\n',
        "modules/cluster/main.tf": 'module "sg" {\n  source = "../sg"\n}\n',
        "modules/sg/main.tf": TF,
        "standalone/main.tf": TF,
    })
    workspace = load_workspace([str(tmp_path)], cwd=str(tmp_path))
    displays = {path: m.display for path, m in workspace.modules.items()}
    assert [displays[r] for r in workspace.roots] == ["envs/dev", "envs/prod", "standalone"]


def test_called_modules_outside_the_scanned_path_are_loaded(tmp_path: Path) -> None:
    write(tmp_path, {
        "live/main.tf": 'module "sg" {\n  source = "../modules/sg"\n}\n',
        "modules/sg/main.tf": TF,
    })
    workspace = load_workspace([str(tmp_path / "live")], cwd=str(tmp_path))
    assert sorted(m.display for m in workspace.modules.values()) == ["live", "modules/sg"]
    assert [workspace.modules[r].display for r in workspace.roots] == ["live"]


def test_a_missing_local_module_source_is_an_error_with_its_location(tmp_path: Path) -> None:
    write(tmp_path, {"main.tf": '\nmodule "gone" {\n  source = "./gone"\n}\n'})
    workspace = load_workspace([str(tmp_path)], cwd=str(tmp_path))
    (diagnostic,) = workspace.diagnostics
    assert (diagnostic.severity, str(diagnostic.location), diagnostic.message) == (
        "error", "main.tf:2", 'module "gone": source "./gone" has no *.tf files',
    )
