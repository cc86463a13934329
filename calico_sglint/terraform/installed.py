"""Modules that are not local, found where `terraform init` installed them.

`terraform init` downloads every registry, git, S3 or HTTP module a root module calls into
`<root>/.terraform/modules/` (or `$TF_DATA_DIR/modules/`) and records each call in
`modules.json`: the key is the dotted path of module call names from the root
(`eks.eks_managed_node_group`), with the source, the version it chose and the directory (`Dir`).
sglint reads that directory exactly like a local module. A `--module-dir DIR` laid out the same
way (a `modules.json`, or one directory per call key) is searched after it.

The public surface is `InstalledModules.load` and `InstalledModules.resolve`: a module call ->
the directory to read, or why it cannot be read and what to do. Nothing here parses Terraform.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Mapping

MANIFEST = os.path.join("modules", "modules.json")
MAX_MANIFEST_BYTES = 8 * 1024 * 1024
INIT_ADVICE = "run `terraform init -backend=false` in the root module, or give --module-dir DIR"
_REGISTRY_HOST = "registry.terraform.io/"
_REGISTRY = re.compile(r"^(?:[\w.-]+\.[a-z]{2,}/)?[\w-]+/[\w-]+/[\w-]+(?://.*)?$")


@dataclass(frozen=True)
class ResolvedModule:
    """A module call whose code is on disk: `path` is absolute and resolved."""

    path: str
    version: str | None = None  # the version `terraform init` chose (registry modules)
    warning: str | None = None  # e.g. the recorded version does not match the constraint


@dataclass(frozen=True)
class UnreadableModule:
    """A module call sglint cannot read: `reason` says why, `advice` what to do."""

    reason: str
    advice: str = INIT_ADVICE


Resolution = ResolvedModule | UnreadableModule


@dataclass(frozen=True)
class _Entry:
    source: str
    version: str | None
    dir: str  # absolute, not yet resolved


@dataclass(frozen=True)
class InstalledModules:
    """What `terraform init` (or `--module-dir`) left for one root module."""

    root: str
    entries: Mapping[str, _Entry]  # call key -> entry, from the first manifest that has it
    search_dirs: tuple[str, ...]  # --module-dir directories (absolute)
    allowed: tuple[str, ...]  # module code must live under one of these (resolved)
    problem: str | None = None  # a manifest that exists but cannot be read

    @classmethod
    def load(
        cls, root: str, env: Mapping[str, str] | None = None, module_dirs: tuple[str, ...] = (),
        mirror: tuple[str, str] | None = None,
    ) -> InstalledModules:
        """The installed modules of the root module in directory `root` (absolute). With
        `mirror` (a copy's top, the working tree's top), a root in the copy (`sglint diff`'s
        side written from git, which has no `.terraform/`) uses what `terraform init` installed
        for the same root in the working tree."""
        data_dir = (env or {}).get("TF_DATA_DIR") or ".terraform"
        if mirror is not None and _inside(root, mirror[0]):
            root = os.path.join(mirror[1], os.path.relpath(root, mirror[0]))
        data_dir = data_dir if os.path.isabs(data_dir) else os.path.join(root, data_dir)
        entries: dict[str, _Entry] = {}
        problems = []
        for manifest, base, prefix in [
            (os.path.join(data_dir, MANIFEST), root, None),
            *((os.path.join(d, "modules.json"), root, d) for d in module_dirs),
        ]:
            found, problem = _read_manifest(manifest, base, prefix)
            if problem:
                problems.append(problem)
            for key, entry in found.items():
                entries.setdefault(key, entry)
        allowed = tuple(os.path.realpath(d) for d in (root, data_dir, *module_dirs))
        return cls(root, entries, tuple(module_dirs), allowed, "; ".join(problems) or None)

    def resolve(self, key: str, source: str, version: str | None = None) -> Resolution:
        """The directory of the module call at dotted `key` with `source` (and a `version`
        constraint), or why it cannot be read."""
        if self.problem:
            return UnreadableModule(self.problem)
        entry = self.entries.get(key)
        if entry is None:
            for directory in self.search_dirs:
                candidate = os.path.join(directory, key)
                if os.path.isdir(candidate):
                    return self._checked(candidate, None, version, source)
            if not self.entries and not self.search_dirs:
                return UnreadableModule("not installed (no .terraform/modules/modules.json: `terraform init` has not run)")
            return UnreadableModule(f'not installed (.terraform/modules/modules.json has no module "{key}")')
        if not same_source(entry.source, source):
            return UnreadableModule(
                f"the source changed since `terraform init` installed {entry.source!r}"
            )
        return self._checked(entry.dir, entry.version, version, source)

    def _checked(self, directory: str, recorded: str | None, constraint: str | None, source: str) -> Resolution:
        real = os.path.realpath(directory)
        if not os.path.isdir(real):
            shown = os.path.relpath(directory, self.root)
            return UnreadableModule(f"installed in {shown}, which no longer exists")
        if not any(real == a or real.startswith(a + os.sep) for a in self.allowed):
            return UnreadableModule(
                "installed outside the root module's directory and --module-dir; not read",
                "give the module's directory with --module-dir DIR",
            )
        warning = None
        if constraint and recorded and not version_matches(constraint, recorded):
            warning = (
                f'the installed version {recorded} does not match the constraint "{constraint}" '
                f"(sglint read {recorded}; `terraform plan` would refuse it)"
            )
        return ResolvedModule(real, recorded, warning)


def _inside(path: str, top: str) -> bool:
    real, top = os.path.realpath(path), os.path.realpath(top)
    return real == top or real.startswith(top + os.sep)


def _read_manifest(path: str, base: str, prefix: str | None) -> tuple[dict[str, _Entry], str | None]:
    """The entries of one modules.json; `Dir`s are relative to `base`, or, for a --module-dir
    manifest (`prefix`), to that directory when they start with `.terraform/modules/`."""
    try:
        if os.path.getsize(path) > MAX_MANIFEST_BYTES:
            return {}, f"{path} is too large to read"
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}, None
    except (OSError, ValueError) as err:
        return {}, f"{os.path.basename(path)} cannot be read ({err.__class__.__name__}: {err})"
    modules = data.get("Modules") if isinstance(data, dict) else None
    if not isinstance(modules, list):
        return {}, f"{os.path.basename(path)} has no Modules list"
    entries: dict[str, _Entry] = {}
    for item in modules:
        if not isinstance(item, dict):
            continue
        key, source, directory = item.get("Key"), item.get("Source"), item.get("Dir")
        if not key or not isinstance(key, str) or not isinstance(directory, str) or not isinstance(source, str):
            continue
        version = item.get("Version") if isinstance(item.get("Version"), str) else None
        relative = directory.replace("\\", "/")
        if prefix is not None and relative.startswith(".terraform/modules/"):
            full = os.path.join(prefix, relative[len(".terraform/modules/"):])
        else:
            full = os.path.join(base, relative)
        entries[key] = _Entry(source, version, os.path.normpath(full))
    return entries, None


def is_local_source(source: str) -> bool:
    """Terraform reads `./x` and `../x` in place; everything else is installed by init."""
    return source.startswith("./") or source.startswith("../") or source in (".", "..")


def source_kind(source: str) -> str:
    """"local", "registry", "git", "s3", "gcs", "http", "mercurial" or "other", for messages."""
    if is_local_source(source):
        return "local"
    lowered = source.lower()
    for prefix, kind in (("git::", "git"), ("git@", "git"), ("github.com/", "git"), ("bitbucket.org/", "git"),
                         ("s3::", "s3"), ("gcs::", "gcs"), ("hg::", "mercurial"), ("http://", "http"),
                         ("https://", "http")):
        if lowered.startswith(prefix):
            return kind
    return "registry" if _REGISTRY.match(source) else "other"


def same_source(recorded: str, source: str) -> bool:
    """Whether `modules.json`'s source is the call's: registry sources are recorded with their
    host (`registry.terraform.io/ns/name/provider`)."""
    def plain(text: str) -> str:
        text = text.strip()
        return text[len(_REGISTRY_HOST):] if text.startswith(_REGISTRY_HOST) else text

    return plain(recorded) == plain(source) or recorded.strip() == "" or is_local_source(source)


# --- version constraints -------------------------------------------------------------------

_CONSTRAINT = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(?:-([0-9A-Za-z.-]+))?\s*$")


def version_matches(constraint: str, version: str) -> bool:
    """Terraform's version constraint syntax (`~> 21.0`, `>= 5.0, < 6.0`, `= 1.2.3`);
    an unparseable constraint or version counts as matching (nothing to warn about)."""
    parsed = _version(version)
    if parsed is None:
        return True
    for part in constraint.split(","):
        match = _CONSTRAINT.match(part)
        if match is None:
            return True
        operator, number, pre = match.group(1) or "=", match.group(2), match.group(3)
        wanted = tuple(int(n) for n in number.split("."))
        full = wanted + (0,) * (3 - len(wanted))
        candidate = parsed[:3]
        if operator == "~>":
            upper = list(wanted[:-1]) if len(wanted) > 1 else list(wanted)
            upper[-1] += 1
            if candidate < full or candidate >= tuple(upper) + (0,) * (3 - len(upper)):
                return False
        elif not _compare(operator, candidate, full, pre, parsed[3]):
            return False
    return True


def _compare(operator: str, candidate: tuple[int, ...], wanted: tuple[int, ...], pre: str | None, has_pre: str | None) -> bool:
    if operator == "=":
        return candidate == wanted and (pre or None) == (has_pre or None)
    if operator == "!=":
        return candidate != wanted
    return {
        ">": candidate > wanted, ">=": candidate >= wanted, "<": candidate < wanted, "<=": candidate <= wanted,
    }[operator]


def _version(text: str) -> tuple[int, int, int, str | None] | None:
    match = re.match(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", text.strip())
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3)), match.group(4)
