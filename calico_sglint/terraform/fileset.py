"""`fileset(path, pattern)`, confined to the repository like every other read (confine.py).

Terraform joins `path` and `pattern`, globs with doublestar (`*` and `?` within one path
component, `**` across components, `[class]`, `[^class]`, `{alt,...}`, `\\` escapes; `*`
matches dotfiles), keeps regular files only and returns their paths relative to `path`,
with `/` separators, as a set of strings (sorted). Here a `{...}` group holding a `/` is
expanded into one pattern per alternative; each walk starts at its pattern's literal
directory prefix, which must lie inside the `ReadBoundary`; a directory or file reached
through a symlink that resolves outside it makes the whole result refused (the result would
depend on what lies outside). Every walk is bounded: `MAX_ENTRIES` directory entries listed,
`MAX_MATCHES` files, `MAX_DEPTH` directories and pattern components, `MAX_PATTERN`
characters, `MAX_ALTERNATIVES` groups and expanded patterns; beyond one the result is
refused (an unknown), never a hang. Names are matched with RE2 (linear time), never a
backtracking engine.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any, Callable

import re2  # type: ignore[import-untyped]

from calico_sglint.terraform.budget import FILESET_ALTERNATIVES as MAX_ALTERNATIVES
from calico_sglint.terraform.budget import FILESET_DEPTH as MAX_DEPTH
from calico_sglint.terraform.budget import FILESET_ENTRIES as MAX_ENTRIES
from calico_sglint.terraform.budget import FILESET_MATCHES as MAX_MATCHES
from calico_sglint.terraform.budget import FILESET_PATTERN as MAX_PATTERN
from calico_sglint.terraform.confine import OUTSIDE, ReadBoundary, Refused
_GLOB_CHARS = frozenset("*?[{\\")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


class PatternError(Exception):
    """The pattern is malformed (Terraform fails the same way)."""


class _Stop(Exception):
    """The walk must end with `refused`."""

    def __init__(self, refused: Refused) -> None:
        super().__init__(refused.reason)
        self.refused = refused


def fileset(base: str, pattern: str, boundary: ReadBoundary) -> list[str] | Refused:
    """The regular files under absolute `base` matching `pattern`, relative to `base` with
    `/` separators and sorted, or why they may not be listed. `PatternError` when the
    pattern is malformed."""
    if len(pattern) > MAX_PATTERN:
        return Refused(f"the pattern is longer than {MAX_PATTERN} characters")
    if pattern.count("{") > MAX_ALTERNATIVES:
        return Refused(f"the pattern has more than {MAX_ALTERNATIVES} {{...}} groups")
    walk = _Walk(boundary)
    try:
        for each in _expand(pattern):
            _glob(walk, os.path.normpath(os.path.join(base, each)))
    except _Stop as stop:
        return stop.refused
    return sorted({os.path.relpath(path, base).replace(os.sep, "/") for path in walk.found})


def _glob(walk: _Walk, joined: str) -> None:
    """Add the files matching the absolute pattern `joined` (no `{...}` spanning a `/`)."""
    start, parts = _split(joined)
    if len(parts) > MAX_DEPTH:
        raise _Stop(Refused(f"the pattern has more than {MAX_DEPTH} path components"))
    matchers = [part if part == "**" else _component(part) for part in parts]
    if not walk.boundary.contains(start):
        raise _Stop(Refused(OUTSIDE))
    walk.visit(start, tuple(matchers), (os.path.realpath(start),))


def _expand(pattern: str) -> list[str]:
    """`pattern` with each `{...}` group that holds a `/` expanded into one pattern per
    alternative, like doublestar (groups within one path component stay for RE2)."""
    done: list[str] = []
    pending = [pattern]
    while pending:
        current = pending.pop()
        group = _spanning_group(current)
        if group is None:
            done.append(current)
            continue
        opens, closes, alternatives = group
        pending.extend(current[:opens] + each + current[closes + 1:] for each in reversed(alternatives))
        if len(done) + len(pending) > MAX_ALTERNATIVES:
            raise _Stop(Refused(f"the pattern has more than {MAX_ALTERNATIVES} alternatives"))
    return done


def _spanning_group(pattern: str) -> tuple[int, int, list[str]] | None:
    """The first outermost `{...}` group whose text holds a `/`: where it opens and closes,
    and its alternatives (split at its own commas)."""
    opened: list[int] = []
    commas: list[int] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            index += 1
        elif char == "[":
            index = _class_end(pattern, index)
        elif char == "{":
            opened.append(index)
        elif char == "," and len(opened) == 1:
            commas.append(index)
        elif char == "}" and opened:
            opens = opened.pop()
            if not opened:
                if "/" in pattern[opens:index]:
                    bounds = [opens, *commas, index]
                    return opens, index, [pattern[a + 1:b] for a, b in zip(bounds, bounds[1:])]
                commas = []
        index += 1
    return None


def _class_end(pattern: str, index: int) -> int:
    """The index of the `]` closing the class opened at `index` (the last index if none:
    translating the component reports it)."""
    inner = index + 1
    inner += inner < len(pattern) and pattern[inner] in "^!"
    inner += inner < len(pattern) and pattern[inner] == "]"
    closing = pattern.find("]", inner)
    return closing if closing >= 0 else len(pattern)


def _split(joined: str) -> tuple[str, list[str]]:
    """The longest leading directory without glob characters, and the components after it."""
    components: list[str] = []
    for part in joined.split(os.sep):
        if not (part == "**" and components and components[-1] == "**"):  # `**/**` is `**`
            components.append(part)
    literal = 0
    while literal < len(components) - 1 and not _GLOB_CHARS.intersection(components[literal]):
        literal += 1
    start = os.sep.join(components[:literal]) or os.sep
    return start, components[literal:]


@dataclass
class _Walk:
    """One fileset() walk: what was found and how much was looked at."""

    boundary: ReadBoundary
    looked: int = 0

    def __post_init__(self) -> None:
        self.found: set[str] = set()

    def visit(self, directory: str, parts: tuple[Any, ...], seen: tuple[str, ...]) -> None:
        """Match `parts` (compiled components or "**") against the tree under `directory`;
        `seen` holds the resolved directories on the way here (symlink loops, depth)."""
        if not parts:
            return
        head, rest = parts[0], parts[1:]
        if head == "**":
            self.visit(directory, rest, seen)  # zero directories
        for entry in self._entries(directory):
            if head == "**":
                if self._is_dir(entry):
                    self._descend(entry, parts, seen)
                elif not rest:  # a trailing `**` matches every file below
                    self._matched(entry, rest, seen)
            elif head.fullmatch(entry.name):
                self._matched(entry, rest, seen)

    def _matched(self, entry: os.DirEntry[str], rest: tuple[Any, ...], seen: tuple[str, ...]) -> None:
        self._confined(entry)  # a matching name that links outside: whatever it is, refused
        if rest:
            if self._is_dir(entry):
                self._descend(entry, rest, seen)
        elif self._is_file(entry):
            self.found.add(entry.path)
            if len(self.found) > MAX_MATCHES:
                raise _Stop(Refused(f"more than {MAX_MATCHES} files match"))

    def _descend(self, entry: os.DirEntry[str], parts: tuple[Any, ...], seen: tuple[str, ...]) -> None:
        real = os.path.realpath(entry.path)
        if real in seen:
            return  # a symlink loop: Terraform's walk would not end either
        if len(seen) > MAX_DEPTH:
            raise _Stop(Refused(f"more than {MAX_DEPTH} directories deep"))
        self.visit(entry.path, parts, (*seen, real))

    def _entries(self, directory: str) -> list[os.DirEntry[str]]:
        entries = []
        try:
            with os.scandir(directory) as listing:
                for entry in listing:  # counted as listed: a huge directory is not read whole
                    self.looked += 1
                    if self.looked > MAX_ENTRIES:
                        raise _Stop(Refused(f"more than {MAX_ENTRIES} directory entries to search"))
                    entries.append(entry)
        except OSError:
            return []  # missing or unreadable: no matches, as Terraform's glob
        return entries

    def _confined(self, entry: os.DirEntry[str]) -> None:
        if entry.is_symlink() and not self.boundary.contains(entry.path):
            raise _Stop(Refused(f"a link under it leads {OUTSIDE}"))

    def _is_dir(self, entry: os.DirEntry[str]) -> bool:
        return self._is(entry, entry.is_dir)

    def _is_file(self, entry: os.DirEntry[str]) -> bool:
        return self._is(entry, entry.is_file)

    def _is(self, entry: os.DirEntry[str], test: Callable[[], bool]) -> bool:
        """Whether `test` (links followed) holds for `entry`; a link that holds and leads
        outside the boundary stops the walk."""
        try:
            if not test():
                return False
        except OSError:
            return False
        self._confined(entry)
        return True


@functools.lru_cache(maxsize=256)
def _component(part: str) -> Any:
    """One path component of a doublestar pattern, compiled to an RE2 full-match regex."""
    try:
        return re2.compile(_translate(part), _RE2_OPTIONS)  # `a**b` is `a*b`, as in doublestar
    except re2.error:
        raise PatternError(f'"{part}" is not a valid pattern') from None


def _translate(part: str) -> str:
    """A doublestar component as a regular expression (`*` and `?` stop at separators)."""
    out: list[str] = []
    depth = 0  # open `{` alternatives
    index = 0
    while index < len(part):
        char = part[index]
        index += 1
        if char == "\\":
            if index >= len(part):
                raise PatternError("a pattern cannot end with a backslash")
            out.append(re2.escape(part[index]))
            index += 1
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            cls, index = _char_class(part, index)
            out.append(cls)
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(re2.escape(char))
    if depth:
        raise PatternError("a pattern has an unclosed {")
    return "".join(out)


def _char_class(part: str, index: int) -> tuple[str, int]:
    """A `[...]` class starting after the `[` at `index - 1`: its regex and where it ends."""
    negate = index < len(part) and part[index] in "^!"
    index += negate
    members: list[str] = []
    while index < len(part) and (part[index] != "]" or not members):
        char = part[index]
        if char == "\\" and index + 1 < len(part):
            index += 1
            char = part[index]
        members.append("\\" + char if char in "\\]^[" else char)
        index += 1
    if index >= len(part):
        raise PatternError("a pattern has an unclosed [")
    return ("[^/" if negate else "[") + "".join(members) + "]", index + 1
