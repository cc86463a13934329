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
import posixpath
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import AbstractSet, Callable, Iterator, Sequence

from calico_sglint.diff import gitread
from calico_sglint.diff.compare import Comparison, compare
from calico_sglint.diff.renames import NO_RENAMES, Renames, moved_renames
from calico_sglint.pipeline import CheckOptions, check
from calico_sglint.result import RootResult
from calico_sglint.source import Diagnostic, InputError
from calico_sglint.terraform.workspace import (
    NOT_CHECKED,
    Workspace,
    may_open_module_block,
    module_closure,
)

WORKING_TREE = "working tree"
TERRAFORM = gitread.TERRAFORM_SUFFIXES


@dataclass(frozen=True)
class DiffOptions:
    check: CheckOptions  # paths and files as the user named them, from the working directory
    base: str  # a git revision
    head: str | None = None  # a git revision; None: the working tree
    merge_base: bool = False  # compare with where HEAD (or --head) forked from `base`


@dataclass(frozen=True)
class SideResult:
    label: str  # "main (1a2b3c4)", "working tree"
    roots: tuple[RootResult, ...]
    diagnostics: tuple[Diagnostic, ...]
    renames: Renames = NO_RENAMES  # its `moved` blocks
    module_dirs: frozenset[str] = frozenset()  # repository dirs of the modules its roots read
    from_git: int | None = None  # files written from git objects (None: the working tree)

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


@dataclass(frozen=True)
class DiffResult:
    base: SideResult
    head: SideResult
    comparison: Comparison
    changed: tuple[str, ...]  # repository paths of the files sglint reads that the change touches


@dataclass(frozen=True)
class _Where:
    """Where a side is checked from: its tree (the repository's top on that side) and the
    directory mirroring the user's working directory."""

    repo: str  # the real repository, where the user's absolute paths point
    tree: str
    prefix: str  # the working directory relative to the repository root

    @property
    def cwd(self) -> str:
        return os.path.normpath(os.path.join(self.tree, self.prefix))


def run_diff(options: DiffOptions) -> DiffResult:
    """Check the new and then the old side of a change and compare them."""
    repo = gitread.toplevel(os.getcwd())
    prefix = os.path.relpath(os.path.realpath(os.getcwd()), repo)
    base_commit = gitread.resolve(repo, options.base)
    head_commit = gitread.resolve(repo, options.head) if options.head else None
    if options.merge_base:
        base_commit = gitread.merge_base(repo, base_commit, head_commit or gitread.resolve(repo, "HEAD"))
    shared = _absolute_files(options.check)
    with tempfile.TemporaryDirectory(prefix="sglint-diff-") as scratch:
        base_snapshot = gitread.Snapshot(repo, base_commit, os.path.join(scratch, "base"))
        changed = gitread.changed_files(repo, base_commit, head_commit)
        modules = base_snapshot.module_dirs | {posixpath.dirname(f) for f in changed if f.endswith(".tf")}
        changed = tuple(f for f in changed if gitread.is_read(f) or gitread.beside(f, modules))
        touched = _touched(changed, shared, repo, modules)
        if head_commit is None:
            head = _check_side(shared, _Where(repo, repo, prefix), touched, WORKING_TREE)
        else:
            snapshot = gitread.Snapshot(repo, head_commit, os.path.join(scratch, "head"))
            callers = frozenset() if touched is None else snapshot.callers(may_open_module_block)
            snapshot.write(_needed(touched, callers))
            label = f"{options.head} ({head_commit[:7]})"
            head = _check_side(shared, _Where(repo, snapshot.root, prefix), touched, label, snapshot, old=False)
        head = replace(head, diagnostics=_outside_the_change(head.diagnostics, touched, prefix))
        base_snapshot.write(_needed(touched, head.module_dirs))
        base = _check_side(shared, _Where(repo, base_snapshot.root, prefix), touched,
                           _base_label(options, base_commit), base_snapshot, old=True)
    return DiffResult(base, head, compare(base.roots, head.roots, head.renames), changed)


def _base_label(options: DiffOptions, commit: str) -> str:
    named = f"the merge base with {options.base}" if options.merge_base else options.base
    return f"{named} ({commit[:7]})"


def _outside_the_change(
    diagnostics: tuple[Diagnostic, ...], touched: frozenset[str] | None, prefix: str
) -> tuple[Diagnostic, ...]:
    """Errors of the new side about modules the change does not touch, as warnings: a
    module that was already broken is not compared and does not stop the comparison
    (`check` reports it). Errors in changed directories, and other errors, stay errors."""
    if touched is None:
        return diagnostics
    kept = []
    for diagnostic in diagnostics:
        directory = _error_dir(diagnostic, prefix)
        if directory is not None and directory not in touched:
            diagnostic = replace(diagnostic, severity="warning",
                                 message=f"{diagnostic.message} (not compared: the change does not touch it)")
        kept.append(diagnostic)
    return tuple(kept)


def _error_dir(diagnostic: Diagnostic, prefix: str) -> str | None:
    """The repository directory an error is about: its file's, or the module's that was
    not checked; None for warnings and errors about no module."""
    if diagnostic.severity != "error":
        return None
    message = diagnostic.message
    if diagnostic.location is not None:
        shown = posixpath.dirname(diagnostic.location.file)
    elif message.startswith(_NOT_CHECKED_HEAD) and message.endswith(_NOT_CHECKED_TAIL):
        shown = message[len(_NOT_CHECKED_HEAD):len(message) - len(_NOT_CHECKED_TAIL)]
    else:
        return None
    directory = posixpath.normpath(posixpath.join(prefix, shown))
    return "" if directory == "." else directory


_NOT_CHECKED_HEAD, _NOT_CHECKED_TAIL = NOT_CHECKED.split("{}")


def _needed(touched: frozenset[str] | None, head_dirs: frozenset[str]) -> Callable[[str], bool]:
    """Which files of the old side to write: all of them (`gitread.tree_files`) when every
    root is compared; else what lies in or below the changed directories and the modules
    the new side's compared roots read (their Terraform and templates), and every YAML and
    config file (few, and they decide the profile). Modules only the old side calls are
    added when its modules name them."""
    if touched is None:
        return lambda path: True
    dirs = touched | head_dirs
    def wanted(path: str) -> bool:
        if path.endswith(TERRAFORM):
            return posixpath.dirname(path) in dirs
        return gitread.is_read(path) or gitread.beside(path, dirs)

    return wanted


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


def _touched(
    changed: Sequence[str], options: CheckOptions, repo: str, modules: AbstractSet[str]
) -> frozenset[str] | None:
    """The module directories the change touches: those of changed Terraform, and the
    modules that changed templates lie beside. None when a YAML, config or variables file
    named by --var-file changed: every root may change."""
    var_files = {os.path.realpath(f) for f in options.read.var_files}
    dirs = set()
    for path in changed:
        if os.path.join(repo, path) in var_files:
            return None
        if path.endswith(TERRAFORM):
            dirs.add(posixpath.dirname(path))
        elif gitread.is_read(path):
            return None
        else:
            dirs.add(gitread.module_of(path, modules) or posixpath.dirname(path))
    return frozenset(dirs)


def _check_side(
    options: CheckOptions, where: _Where, touched: frozenset[str] | None, label: str,
    snapshot: gitread.Snapshot | None = None, old: bool = False,
) -> SideResult:
    """Check one side, from the working tree or a `snapshot` written from git, which may
    call modules not written yet (written, then checked again). The old side may lack a path
    the user named (added by the change: nothing there) and may not read (a diagnostic)."""
    if snapshot is not None:
        os.makedirs(where.cwd, exist_ok=True)
    paths = [_on_side(p, where) for p in options.read.paths]
    dirs = None if touched is None else frozenset(os.path.realpath(os.path.join(where.tree, d)) for d in touched)
    written = (lambda: len(snapshot.written)) if snapshot is not None else (lambda: None)
    with _inside(where.cwd):
        if old and snapshot is not None:
            paths = [p for p in paths if _holds_terraform(p, where.tree, snapshot)]
            if not paths:
                return SideResult(label, (), (), from_git=written())
        elif snapshot is not None:
            _make_path_dirs(paths, where.tree, snapshot)
        mirror = (where.tree, where.repo) if where.tree != where.repo else None  # modules terraform init installed
        # A snapshot has no `.git`: its tree is the repository that reads are confined to.
        allow = options.read.allow_read + ((where.tree,) if snapshot is not None else ())
        side = replace(options, read=replace(
            options.read, paths=tuple(paths), touched=dirs, installed_mirror=mirror, allow_read=allow
        ))
        try:
            result = check(side)
            while snapshot is not None and snapshot.write(_in_dirs(_unread_calls(result.workspace, where.tree))):
                result = check(side)
        except InputError as err:
            if not old:
                raise
            return SideResult(label, (), (Diagnostic("error", str(err)),), from_git=written())
    renames = moved_renames(result.workspace.modules.values(), [r.model for r in result.roots])
    return SideResult(label, result.roots, result.diagnostics, renames, _read_dirs(result.workspace, where.tree), written())


def _make_path_dirs(paths: Sequence[str], tree: str, snapshot: gitread.Snapshot) -> None:
    """What the user named, on a side written sparingly: a file's module is written whole;
    a directory the commit has but nothing was written in (no module there can change) is
    made, so that it is walked, not missing."""
    for path in paths:
        inside = _repo_dir(os.path.realpath(path), tree)
        if inside is None or os.path.exists(path):
            continue
        if any(f.path == inside for f in snapshot.files):
            snapshot.write(_in_dirs({posixpath.dirname(inside)}))
        elif any(f.path.startswith(inside + "/" if inside else "") for f in snapshot.files):
            os.makedirs(path, exist_ok=True)


def _holds_terraform(path: str, tree: str, snapshot: gitread.Snapshot) -> bool:
    """Whether the old side has Terraform to read at `path` (a directory the change added,
    or whose modules it cannot change, has none written)."""
    if os.path.isfile(path):
        return True
    inside = _repo_dir(os.path.realpath(path), tree)
    if inside is None:
        return os.path.exists(path)
    under = "" if inside == "" else inside + "/"
    return any(f.startswith(under) and f.endswith(".tf") for f in snapshot.written)


def _unread_calls(workspace: Workspace, tree: str) -> set[str]:
    """Repository dirs that modules call but that were not read (on the old side: not
    written yet)."""
    missing = {
        call.path for module in workspace.modules.values() for call in module.calls
        if call.path and call.path not in workspace.modules
    }
    return {d for d in (_repo_dir(path, tree) for path in missing) if d is not None}


def _in_dirs(dirs: set[str]) -> Callable[[str], bool]:
    return _needed(frozenset(dirs), frozenset())


def _read_dirs(workspace: Workspace, tree: str) -> frozenset[str]:
    """Repository dirs of every module the compared roots read."""
    modules = {m for root in workspace.roots for m in module_closure(workspace.modules, root)}
    return frozenset(d for d in (_repo_dir(m, tree) for m in modules) if d is not None)


def _repo_dir(path: str, tree: str) -> str | None:
    relative = os.path.relpath(path, tree)
    if relative.startswith(".."):
        return None
    return "" if relative == "." else relative.replace(os.sep, "/")


def _on_side(path: str, where: _Where) -> str:
    """A path the user gave, on one side: relative paths stay relative to the mirrored
    working directory; absolute ones inside the repository move to the side's tree."""
    if not os.path.isabs(path):
        return path
    inside = os.path.relpath(os.path.realpath(path), where.repo)
    return path if inside.startswith("..") else os.path.join(where.tree, inside)


@contextmanager
def _inside(directory: str) -> Iterator[None]:
    """Run from `directory`, and come back (the pipeline reports paths relative to it)."""
    previous = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)
