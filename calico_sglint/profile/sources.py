"""Where profile detection looks: YAML under each scanned path and in the directories above
it up to the repository root (and Ansible variable directories), read once per run."""

from __future__ import annotations

import os
from typing import Iterable, Iterator, Sequence

from calico_sglint.profile.manifests import observe_text
from calico_sglint.profile.observations import (
    TOKENS,
    VARS_DIRS,
    VARS_SUFFIXES,
    YAML_SUFFIXES,
    Scan,
    SourceFile,
)
from calico_sglint.source import Diagnostic, Location
from calico_sglint.terraform.confine import ReadBoundary, Refused, boundary_for
from calico_sglint.terraform.discover import (
    display_path,
    repository_root,
    walk_directories,
)


def scan(paths: Sequence[str], cwd: str | None = None, boundary: ReadBoundary | None = None) -> Scan:
    """Read every candidate file once: cheap substring filter, then YAML. Only files inside
    `boundary` (default: the repository of `paths`, confine.py) are read, after resolving
    symlinks; others are skipped with a warning that names the file, never its content."""
    boundary = boundary or boundary_for(list(paths))
    files: list[SourceFile] = []
    diagnostics: list[Diagnostic] = []
    for path in candidate_files(paths, boundary):
        shown = display_path(path, cwd)
        data = boundary.read(path)
        if isinstance(data, Refused):
            diagnostics.append(Diagnostic("warning", f"not read: {data.reason}; skipped when "
                                          "detecting the Calico profile", Location(shown, 0, 0)))
            continue
        text = data.decode("utf-8", errors="replace")
        if not any(token in text for token in TOKENS):
            continue
        found = observe_text(text, shown)
        if found.observations or found.diagnostics:
            files.append(SourceFile(path, found.observations, found.diagnostics))
    return Scan(tuple(files), tuple(diagnostics))


def candidate_files(paths: Sequence[str], boundary: ReadBoundary | None = None) -> list[str]:
    """YAML files under each scanned path, and in each directory above it up to the repository
    root (its own files and its Ansible variable directories); absolute, resolved, sorted.
    Directories above outside `boundary` (the parent of a scanned path outside a repository)
    are not looked at."""
    found: set[str] = set()
    walked: set[str] = set()
    for raw in paths:
        if not os.path.exists(raw):
            continue
        top = os.path.realpath(raw if os.path.isdir(raw) else os.path.dirname(os.path.abspath(raw)))
        found.update(_walk(top, walked))
        for ancestor in ancestors(top):
            if boundary is not None and not boundary.contains(ancestor):
                continue
            found.update(_files_in(ancestor, in_vars=False))
            for name in (*sorted(VARS_DIRS), "inventory"):
                sub = os.path.join(ancestor, name)
                if os.path.isdir(sub):
                    found.update(_walk(sub, walked, vars_only=name == "inventory", in_vars=name in VARS_DIRS))
    return sorted(found)


def ancestors(directory: str) -> list[str]:
    """The directories above `directory` up to the repository root; without a repository,
    just its parent."""
    root = repository_root(directory)
    parent = os.path.dirname(directory)
    if root is None:
        return [parent] if parent != directory else []
    result = []
    current = directory
    while current != root:
        current = os.path.dirname(current)
        result.append(current)
    return result


def _walk(top: str, walked: set[str], vars_only: bool = False, in_vars: bool = False) -> Iterator[str]:
    """Candidate files under `top`, skipping hidden and vendored directories, Helm charts
    (their values are defaults, not the cluster's) and directories already walked."""
    for directory, entries in walk_directories(top, walked, stop=_is_chart):
        parts = os.path.relpath(directory, top).split(os.sep)
        inside = in_vars or any(part in VARS_DIRS for part in parts)
        if inside or not vars_only:
            yield from _candidates(entries, inside)


def _is_chart(entries: list[os.DirEntry[str]]) -> bool:
    return any(e.name == "Chart.yaml" for e in entries)


def _files_in(directory: str, in_vars: bool) -> list[str]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return list(_candidates(entries, in_vars))


def _candidates(entries: Iterable[os.DirEntry[str]], in_vars: bool) -> Iterator[str]:
    for entry in entries:
        if entry.name.startswith(".") or not _is_file(entry):
            continue
        suffix = os.path.splitext(entry.name)[1].lower()
        if suffix in YAML_SUFFIXES or (in_vars and suffix in VARS_SUFFIXES):
            yield os.path.realpath(entry.path)


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=True)
    except OSError:
        return False
