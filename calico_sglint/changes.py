"""Which paths to check for a list of changed files, as pre-commit passes them.

A changed `.tf` file means its module. The other files that change a check's outcome mean
every module whose check reads them:

- a `.tfvars` file: its module when its directory has `*.tf` files, else every module under
  its directory;
- a config file (`.sglint.yaml`, `.sglint.yml`, `pyproject.toml` with `[tool.calico-sglint]`)
  in a directory: every module at or under it (each root takes the nearest config upward);
- a YAML file that mentions Calico, or a file in an Ansible `group_vars`/`host_vars`
  directory: every module at or under its directory, taken outside `group_vars`, `host_vars`
  and `inventory/` (profile detection reads those from every directory above a module), and
  every module in a directory above it (detection walks everything under a module).

Files that affect no module (a YAML about something else, a directory without Terraform) are
left out and named, so a commit that touches none of them checks nothing and says so.

`untracked_fixes` finds the files `sglint fix` created that git does not track yet: pre-commit
commits only what is added, so a fix left untracked would pass the check and miss the commit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import Iterable, Sequence

from calico_sglint.profile.config import CONFIG_NAMES
from calico_sglint.profile.observations import TOKENS, VARS_DIRS, YAML_SUFFIXES
from calico_sglint.profile.sources import ancestors
from calico_sglint.terraform.discover import module_at, walk_directories

MAX_PROBE_BYTES = 1 << 20  # enough of a file to see whether it mentions Calico


@dataclass(frozen=True)
class Affected:
    """The paths to check and the changed files that affect no module."""

    paths: tuple[str, ...]
    unaffecting: tuple[str, ...]


def affected_paths(paths: Sequence[str]) -> Affected:
    """The paths to check for `paths`: directories and Terraform files as given, other files
    replaced by the directory whose modules they affect."""
    chosen: dict[str, None] = {}
    left_out: list[str] = []
    for path in paths:
        scope = _scope(path)
        if scope is None:
            chosen.setdefault(path)
            continue
        directory, above = scope
        found = _readers(directory, above) if directory else []
        if not found:
            left_out.append(path)
        for item in found:
            chosen.setdefault(item)
    return Affected(tuple(chosen), tuple(left_out))


def _readers(directory: str, above: bool) -> list[str]:
    """The paths whose check reads files in `directory`: the directory itself when modules
    lie at or under it, and with `above` each module in a directory above it (up to the
    repository root), as one of its files, since profile detection walks a module's tree."""
    found = [directory] if _has_module(directory) else []
    absolute = os.path.abspath(directory)
    for ancestor in ancestors(absolute) if above else ():
        module = module_at(ancestor)
        if module is not None:
            found.append(os.path.relpath(module.tf_files[0]) if not os.path.isabs(directory) else module.tf_files[0])
    return found


def _scope(path: str) -> tuple[str, bool] | None:
    """The directory whose modules a changed non-Terraform file affects, and whether modules
    above it read it too; "" for a file that affects none (YAML that does not mention Calico);
    None for paths to check as they are (directories, `.tf` files, tfvars in a module, anything
    else, which discover judges)."""
    if os.path.isdir(path) or not os.path.isfile(path):
        return None
    directory = os.path.dirname(path) or "."
    name = os.path.basename(path)
    if name.endswith(".tf"):
        return None
    if name.endswith(".tfvars"):
        return None if module_at(directory) is not None else (directory, False)
    if name in CONFIG_NAMES or name == "pyproject.toml":
        return (directory, False)
    parts = os.path.normpath(directory).split(os.sep)
    in_vars = any(part in VARS_DIRS for part in parts)
    if not in_vars and not name.endswith(YAML_SUFFIXES):
        return None
    if not _mentions_calico(path):
        return ("", False)
    for index, part in enumerate(parts):
        if part in VARS_DIRS or part == "inventory":
            return (os.sep.join(parts[:index]) or (os.sep if os.path.isabs(directory) else "."), True)
    return (directory, True)


def _mentions_calico(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            text = handle.read(MAX_PROBE_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return any(token in text for token in TOKENS)


def _has_module(directory: str) -> bool:
    """Whether `directory` or a directory under it (walked like discover does) has `*.tf`."""
    return any(module_at(path) is not None for path, _ in walk_directories(directory))


def untracked_fixes(tf_files: Iterable[str], cwd: str) -> list[str] | None:
    """The files among `tf_files` that `sglint fix` created (they start with its header) and
    git does not track; None when git cannot tell (no git, not a repository)."""
    from calico_sglint.fix.patches import generated_mark

    mark = generated_mark()
    generated = [path for path in tf_files if _starts_with(path, mark)]
    if not generated:
        return []
    git = shutil.which("git")
    if git is None:
        return None
    # ls-files reads the index only; fsmonitor off so no configured program runs.
    command = [git, "-c", "core.fsmonitor=false", "ls-files", "-z", "--others", "--", *generated]
    try:
        listed = subprocess.run(command, cwd=cwd, capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    untracked = {os.path.realpath(os.path.join(cwd, p)) for p in listed.stdout.decode("utf-8", "replace").split("\0") if p}
    return [path for path in generated if os.path.realpath(path) in untracked]


def _starts_with(path: str, mark: str) -> bool:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().rstrip("\r\n") == mark
    except OSError:
        return False
