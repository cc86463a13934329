"""Check both sides of a change and compare them: the stage `sglint diff` runs.

The old side (a commit) is written from git objects into a private temporary directory;
the new side is the working tree, or another commit written the same way. Each side is
checked by the ordinary pipeline, from the directory that mirrors the user's working
directory, so paths, config lookup, profile detection and reported file names are the same
on both sides. Only the root modules that read a changed directory are evaluated, on either
side, unless something other than Terraform changed (YAML, config), which may change the
profile or the settings of every root.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Iterator, Sequence

from calico_sglint.diff import gitread
from calico_sglint.diff.compare import Comparison, compare
from calico_sglint.diff.renames import Renames, moved_renames
from calico_sglint.pipeline import CheckOptions, check
from calico_sglint.result import RootResult
from calico_sglint.source import Diagnostic, InputError

WORKING_TREE = "working tree"


@dataclass(frozen=True)
class DiffOptions:
    check: CheckOptions  # paths and files as the user named them, from the working directory
    base: str  # a git revision
    head: str | None = None  # a git revision; None: the working tree


@dataclass(frozen=True)
class SideResult:
    label: str  # "main (1a2b3c4)", "working tree"
    roots: tuple[RootResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    renames: Renames = Renames()  # its `moved` blocks

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


@dataclass(frozen=True)
class DiffResult:
    base: SideResult
    head: SideResult
    comparison: Comparison
    changed: tuple[str, ...]  # repository paths of the files sglint reads that the change touches


def run_diff(options: DiffOptions) -> DiffResult:
    """Check the old and the new side of a change and compare them."""
    repo = gitread.toplevel(os.getcwd())
    prefix = os.path.relpath(os.path.realpath(os.getcwd()), repo)
    base_commit = gitread.resolve(repo, options.base)
    head_commit = gitread.resolve(repo, options.head) if options.head else None
    changed = tuple(f for f in gitread.changed_files(repo, base_commit, head_commit) if gitread.is_read(f))
    shared = _absolute_files(options.check)
    touched = _touched(changed, shared, repo)
    with tempfile.TemporaryDirectory(prefix="sglint-diff-") as scratch:
        base_tree = gitread.materialize(repo, base_commit, os.path.join(scratch, "base"))
        base = _check_side(shared, base_tree, repo, prefix, touched, f"{options.base} ({base_commit[:7]})", old=True)
        if head_commit is None:
            head = _check_side(shared, repo, repo, prefix, touched, WORKING_TREE, old=False)
        else:
            head_tree = gitread.materialize(repo, head_commit, os.path.join(scratch, "head"))
            label = f"{options.head} ({head_commit[:7]})"
            head = _check_side(shared, head_tree, repo, prefix, touched, label, old=False)
    return DiffResult(base, head, compare(base.roots, head.roots, head.renames), changed)


def _absolute_files(options: CheckOptions) -> CheckOptions:
    """Files named by flags (--var-file, --config, --rules) and the cache are read from the
    working tree for both sides: absolute paths, so changing directory keeps them."""
    read = options.read
    return replace(
        options,
        read=replace(
            read, var_files=tuple(map(os.path.abspath, read.var_files)),
            cache_dir=os.path.abspath(read.cache_dir) if read.cache_dir else None,
        ),
        config_path=os.path.abspath(options.config_path) if options.config_path else None,
        rule_paths=tuple(map(os.path.abspath, options.rule_paths)),
    )


def _touched(changed: Sequence[str], options: CheckOptions, repo: str) -> frozenset[str] | None:
    """Repository directories whose Terraform changed, when only Terraform changed; None when
    a YAML, config or variables file named by --var-file changed (every root may change)."""
    var_files = {os.path.realpath(f) for f in options.read.var_files}
    if any(not f.endswith((".tf", ".tfvars")) or os.path.join(repo, f) in var_files for f in changed):
        return None
    return frozenset(os.path.dirname(f) for f in changed)


def _check_side(
    options: CheckOptions, tree: str, repo: str, prefix: str, touched: frozenset[str] | None,
    label: str, old: bool,
) -> SideResult:
    """Check one side from `tree` (the repository's top on that side)."""
    cwd = os.path.normpath(os.path.join(tree, prefix))
    if old:
        os.makedirs(cwd, exist_ok=True)
    paths = [_on_side(p, repo, tree) for p in options.read.paths]
    with _inside(cwd):
        if old:
            paths = [p for p in paths if os.path.exists(p)]
            if not paths:
                return SideResult(label, (), ())
        dirs = None if touched is None else frozenset(os.path.realpath(os.path.join(tree, d)) for d in touched)
        side = replace(options, read=replace(options.read, paths=tuple(paths), touched=dirs))
        try:
            result = check(side)
        except InputError as err:
            if not old:
                raise
            return SideResult(label, (), (Diagnostic("error", str(err)),))
    renames = moved_renames(result.workspace.modules.values(), [r.model for r in result.roots])
    return SideResult(label, result.roots, result.diagnostics, renames)


def _on_side(path: str, repo: str, tree: str) -> str:
    """A path the user gave, on one side: relative paths stay relative to the mirrored
    working directory; absolute ones inside the repository move to the side's tree."""
    if not os.path.isabs(path):
        return path
    real = os.path.realpath(path)
    inside = os.path.relpath(real, repo)
    return path if inside.startswith("..") else os.path.join(tree, inside)


@contextmanager
def _inside(directory: str) -> Iterator[None]:
    """Run from `directory`, and come back (the pipeline reports paths relative to it)."""
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)
