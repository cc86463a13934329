"""Find the Terraform modules under the paths the user gave.

A directory argument is walked recursively; every directory holding `*.tf` files is a module.
A file argument means the module that contains it (pre-commit passes changed files).
`.terraform/` (and a `$TF_DATA_DIR` elsewhere), hidden directories and symlink loops are
skipped: modules `terraform init` installed are read through the calls to them.
"""

from __future__ import annotations

import fnmatch
import os
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence

from calico_sglint.source import InputError

SKIPPED_DIRS = frozenset({".terraform", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class ModuleDir:
    """A directory of Terraform files: `path` is absolute and resolved, `display` is for users."""

    path: str
    display: str
    tf_files: tuple[str, ...]  # absolute paths, sorted like Terraform reads them
    tfvars_files: tuple[str, ...]  # terraform.tfvars, then *.auto.tfvars in lexical order
    ignored_files: tuple[str, ...]  # *.tf.json and override files, which we do not read


@dataclass(frozen=True)
class Discovery:
    modules: tuple[ModuleDir, ...]
    errors: tuple[InputError, ...]


def display_path(path: str, cwd: str | None = None) -> str:
    """`path` relative to the working directory, with forward slashes."""
    base = cwd or os.getcwd()
    try:
        rel = os.path.relpath(path, base)
    except ValueError:  # a different drive on Windows
        rel = path
    return rel.replace(os.sep, "/")


def is_ignored_file(name: str) -> bool:
    """Files Terraform itself skips: hidden, editor backups, emacs locks."""
    return name.startswith(".") or name.endswith("~") or (name.startswith("#") and name.endswith("#"))


def repository_root(directory: str) -> str | None:
    """The nearest directory at or above `directory` holding `.git` (a directory, or a file in
    worktrees and submodules)."""
    current = directory
    while True:
        if os.path.exists(os.path.join(current, ".git")):
            return current
        parent = os.path.dirname(current)
        if parent == current:
            return None
        current = parent


def repository_path(path: str, cwd: str, repo_root: str | None) -> str:
    """`path` (relative to `cwd`) relative to the repository root, with forward slashes; the
    absolute path when it lies outside the repository, `path` itself without one."""
    if repo_root is None:
        return path.replace(os.sep, "/")
    absolute = os.path.normpath(os.path.join(cwd, path))
    try:
        relative = os.path.relpath(absolute, repo_root)
    except ValueError:  # another drive on Windows
        return absolute.replace(os.sep, "/")
    if relative == ".." or relative.startswith(".." + os.sep):
        return absolute.replace(os.sep, "/")
    return "." if relative == "." else relative.replace(os.sep, "/")


def skipped(module_path: str, skip: Sequence[tuple[str, str]]) -> bool:
    """Whether a module directory matches a `--skip-path`/`skip_paths` glob: `(base, glob)`
    with the glob matched against the module's path relative to `base` (the working
    directory, or the config file's directory), and against every directory above it there
    (`legacy` skips `legacy/a/b`)."""
    for base, pattern in skip:
        relative = os.path.relpath(module_path, base).replace(os.sep, "/")
        if relative.startswith("../"):
            continue
        parts = relative.split("/")
        pattern = pattern.strip("/") or "."
        if any(fnmatch.fnmatchcase("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)):
            return True
    return False


def discover(paths: list[str], cwd: str | None = None, skip: Sequence[tuple[str, str]] = ()) -> Discovery:
    """The modules at or under `paths`, each once, in the order first seen, except those
    `skip` names (`skipped`)."""
    found: dict[str, ModuleDir] = {}
    errors: list[InputError] = []
    for raw in paths:
        if not os.path.exists(raw):
            errors.append(InputError("no such file or directory", raw))
            continue
        if os.path.isdir(raw):
            for directory, _ in walk_directories(raw):
                module = module_at(directory, cwd)
                if module is not None:
                    found.setdefault(module.path, module)
            continue
        directory = os.path.dirname(os.path.abspath(raw))
        name = os.path.basename(raw)
        if not (name.endswith(".tf") or name.endswith(".tfvars")):
            errors.append(InputError("not a Terraform file (*.tf or *.tfvars)", raw))
            continue
        module = module_at(directory, cwd)
        if module is None:
            errors.append(InputError("no *.tf files in this file's directory", raw))
        else:
            found.setdefault(module.path, module)
    kept = tuple(m for m in found.values() if not skip or not skipped(m.path, skip))
    return Discovery(kept, tuple(errors))


def walk_directories(
    top: str, seen: set[str] | None = None, stop: Callable[[list[os.DirEntry[str]]], bool] | None = None,
) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """Each directory under `top` (inclusive) with its entries sorted by name, depth first in
    name order: hidden and vendored directories (`is_walked_dir`), symlink loops and the
    directories already in `seen` (shared between walks) are skipped, and so is a directory,
    with everything below it, whose entries make `stop` true. Module discovery and profile
    detection both walk with it."""
    seen = set() if seen is None else seen
    stack = [os.path.abspath(top)]
    while stack:
        directory = stack.pop()
        real = os.path.realpath(directory)
        if real in seen:
            continue
        seen.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            entries = []
        if stop is not None and stop(entries):
            continue
        yield directory, entries
        stack.extend(reversed([e.path for e in entries if is_walked_dir(e)]))


def is_walked_dir(entry: os.DirEntry[str]) -> bool:
    """A directory a walk descends into: not hidden (`.git`, `.terraform`), not vendored, not
    a Terraform data directory elsewhere (`$TF_DATA_DIR`, holding `modules/modules.json`)."""
    if entry.name.startswith(".") or entry.name in SKIPPED_DIRS:
        return False
    try:
        if not entry.is_dir(follow_symlinks=True):
            return False
    except OSError:
        return False
    return not os.path.isfile(os.path.join(entry.path, "modules", "modules.json"))


def module_at(directory: str, cwd: str | None = None) -> ModuleDir | None:
    """The module in `directory`, or None if it holds no `*.tf` files."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return None
    tf_files, tfvars, ignored = [], [], []
    for name in names:
        full = os.path.join(directory, name)
        if is_ignored_file(name) or not os.path.isfile(full):
            continue
        if name.endswith(".tf.json") or name.endswith(".tfvars.json"):
            ignored.append(full)
        elif name.endswith(".tf"):
            if name == "override.tf" or name.endswith("_override.tf"):
                ignored.append(full)
            else:
                tf_files.append(full)
        elif name == "terraform.tfvars":
            tfvars.insert(0, full)
        elif name.endswith(".auto.tfvars"):
            tfvars.append(full)
    if not tf_files:
        return None
    real = os.path.realpath(directory)
    return ModuleDir(
        real,
        display_path(directory, cwd),
        tuple(tf_files),
        tuple(tfvars),
        tuple(ignored),
    )
