"""Writing the patches of one `sglint fix` run: all of them, or none.

Every target is checked first (unchanged since it was read, writable, inside the
repository once symlinks are resolved), then every new content is staged beside its target
(a full disk fails here, before anything changed), then the staged files are renamed over
their targets; if a rename fails, the files already replaced are put back. A symlinked file
is written through to its target, which must be inside the repository, and the link stays.
"""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from typing import Sequence

from calico_sglint.files import discard, stage
from calico_sglint.fix.types import FilePatch
from calico_sglint.source import InputError
from calico_sglint.terraform.discover import repository_root


@dataclass(frozen=True)
class _Staged:
    patch: FilePatch
    target: str  # the real file the patch replaces or creates
    temporary: str  # the new content, beside the target
    backup: str | None  # the old content, for putting it back (None: a new file)


def allowed_roots(paths: Sequence[str]) -> tuple[str, ...]:
    """Where `fix` may write: the repository (nearest `.git`) of each scanned path, else the
    scanned directory itself, all with symlinks resolved."""
    roots = []
    for path in paths or (".",):
        start = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path) or ".")
        roots.append(os.path.realpath(repository_root(start) or start))
    return tuple(dict.fromkeys(roots))


def write_patches(patches: list[FilePatch], roots: Sequence[str] | None = None) -> None:
    """Write every patch, or (with a one-line `InputError`) leave every file as it was."""
    allowed = tuple(roots) if roots is not None else allowed_roots(())
    targets = [_checked_target(patch, allowed) for patch in patches]
    staged: list[_Staged] = []
    try:
        for patch, target in zip(patches, targets):
            staged.append(_stage(patch, target))
    except InputError:
        _discard_all(staged)
        raise
    _commit(staged)


def _checked_target(patch: FilePatch, allowed: tuple[str, ...]) -> str:
    """The real path the patch writes, after every check that needs no writing."""
    if os.path.islink(patch.path) and not os.path.exists(patch.path):
        raise InputError("is a symlink to nothing; sglint fix does not write through it", patch.display)
    target = os.path.realpath(patch.path)
    if not any(target == root or target.startswith(root.rstrip(os.sep) + os.sep) for root in allowed):
        how = "through a symlink " if target != os.path.abspath(patch.path) else ""
        raise InputError(f"resolves {how}to a place outside the repository; sglint fix writes nothing there", patch.display)
    directory = os.path.dirname(target)
    if not _writable(directory):
        raise InputError("its directory is read-only; nothing was written (make it writable or use --diff)", patch.display)
    if patch.before is None:
        if os.path.lexists(patch.path):
            raise InputError("appeared since sglint read the module; run sglint fix again", patch.display)
        return target
    if not _writable(target):
        raise InputError("is read-only; nothing was written (make it writable or use --diff)", patch.display)
    try:
        with open(target, "rb") as handle:
            current = hashlib.sha256(handle.read()).hexdigest()
    except OSError as err:
        raise InputError(f"cannot read: {err.strerror or err}", patch.display) from None
    if current != patch.digest:
        raise InputError("changed since sglint read it; nothing was written, run sglint fix again", patch.display)
    return target


def _writable(path: str) -> bool:
    """Writable for us, and not marked read-only (which root would otherwise ignore)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return bool(mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)) and os.access(path, os.W_OK)


def _stage(patch: FilePatch, target: str) -> _Staged:
    backup = temporary = None
    try:
        if patch.before is not None:
            with open(target, "rb") as handle:
                backup = stage(target, handle.read())
        temporary = stage(target, patch.after.encode("utf-8"))
    except OSError as err:
        for path in (backup, temporary):
            if path:
                discard(path)
        raise InputError(f"cannot write: {err.strerror or err}; nothing was written", patch.display) from None
    return _Staged(patch, target, temporary, backup)


def _commit(staged: list[_Staged]) -> None:
    done: list[_Staged] = []
    try:
        for item in staged:
            os.replace(item.temporary, item.target)
            done.append(item)
    except OSError as err:
        failed = staged[len(done)]
        for item in reversed(done):
            if item.backup is None:
                discard(item.target)
            else:
                os.replace(item.backup, item.target)
        _discard_all(staged)
        raise InputError(f"cannot write: {err.strerror or err}; nothing was written", failed.patch.display) from None
    _discard_all(staged)


def _discard_all(staged: list[_Staged]) -> None:
    for item in staged:
        for path in (item.temporary, item.backup):
            if path and os.path.lexists(path):
                discard(path)
