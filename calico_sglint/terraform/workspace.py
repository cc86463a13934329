"""Files -> parsed modules: parse every discovered module and the modules they call.

The result names the root modules (those no other scanned module calls), which the
evaluator instantiates. Local calls are read in place; registry, git, S3 and HTTP calls are
read from where `terraform init` installed them (`installed.py`), walking each root's tree of
calls by its dotted call keys. A call that cannot be read is kept, per root, with the reason.
A module with a file that does not parse is reported and left out; the others are still read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from typing import AbstractSet, Callable, Iterable, Mapping, Sequence

from calico_sglint.source import Diagnostic, InputError, Location, error_diagnostic
from calico_sglint.terraform.confine import OUTSIDE, ReadBoundary, Refused
from calico_sglint.terraform.discover import (
    ModuleDir,
    discover,
    display_path,
    module_at,
)
from calico_sglint.terraform.installed import (
    InstalledModules,
    Resolution,
    ResolvedModule,
    UnreadableModule,
    is_local_source,
)
from calico_sglint.terraform.parse import parse_file
from calico_sglint.terraform.syntax import File, Literal, Template, render


@dataclass(frozen=True)
class ModuleCall:
    """A `module` block: `path` is the called directory for local sources, else None."""

    name: str
    source: str
    path: str | None
    location: Location
    version: str | None = None  # the `version` constraint, when a literal string
    source_location: Location | None = None  # the `source` line
    version_location: Location | None = None
    literal: bool = True  # False: `source` is an expression (Terraform needs a literal string)


@dataclass(frozen=True)
class UnreadableCall:
    """A module call of one root that sglint cannot read, and why."""

    key: str  # dotted call path from the root: `eks.kms`
    call: ModuleCall
    reason: str
    advice: str


@dataclass(frozen=True)
class VersionMismatch:
    """A module call whose installed version does not match its `version` constraint."""

    key: str
    call: ModuleCall
    message: str


@dataclass(frozen=True)
class ParsedModule:
    path: str  # absolute, resolved
    display: str
    files: tuple[File, ...]
    tfvars: tuple[File, ...]
    calls: tuple[ModuleCall, ...]


@dataclass(frozen=True)
class Workspace:
    modules: Mapping[str, ParsedModule]  # scanned and called modules, by absolute path
    scanned: tuple[str, ...]
    roots: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    # per root path: every non-local call key -> where its code is, or why it is unreadable
    installed: Mapping[str, Mapping[str, Resolution]] = field(default_factory=dict)
    unreadable: Mapping[str, tuple[UnreadableCall, ...]] = field(default_factory=dict)
    mismatches: Mapping[str, tuple[VersionMismatch, ...]] = field(default_factory=dict)

    def call_target(self, root: str, key: str, call: ModuleCall) -> str | UnreadableModule:
        """The directory of the module `call` at dotted `key` under `root`, or why not."""
        if call.path is not None:
            if call.path in self.modules:
                return call.path
            refused = self.installed.get(root, {}).get(key)
            if isinstance(refused, UnreadableModule):  # outside the boundary (_InstalledWalk)
                return refused
            return UnreadableModule(f'source "{call.source}" could not be read', "fix the source path")
        if not call.literal:
            return UnreadableModule(NOT_LITERAL, "write the module's source as a literal string")
        found = self.installed.get(root, {}).get(key)
        if isinstance(found, ResolvedModule) and found.path in self.modules:
            return found.path
        if isinstance(found, UnreadableModule):
            return found
        return UnreadableModule("the installed module could not be read")


NOT_CHECKED = "module {} was not checked because a file did not parse"  # `sglint diff` recognises it

ParseMany = Callable[[list[tuple[str, str]]], list["File | InputError"]]


def parse_serially(files: list[tuple[str, str]]) -> list[File | InputError]:
    """Parse (path, display) pairs one after another."""
    results: list[File | InputError] = []
    for path, display in files:
        try:
            results.append(parse_file(path, display))
        except InputError as err:
            results.append(err)
    return results


NOT_LITERAL = "its source is an expression, not a literal string (Terraform needs a literal)"
MAX_CALL_KEYS = 5000  # call paths walked per root: a bound for pathological module trees


def load_workspace(
    paths: list[str],
    cwd: str | None = None,
    parse_many: ParseMany = parse_serially,
    boundary: ReadBoundary | None = None,
    only: AbstractSet[str] | None = None,
    env: Mapping[str, str] | None = None,
    module_dirs: tuple[str, ...] = (),
    installed_mirror: tuple[str, str] | None = None,
    skip: Sequence[tuple[str, str]] = (),
) -> Workspace:
    """Discover, parse and link the modules under `paths`. With a `boundary` (confine.py),
    files that resolve outside it (symlinks) and local modules outside it are not read. With `only` (directories,
    absolute and resolved), scan just the modules there and those that may call one (a file
    has a line opening a `module` block): no other module can read them, so the rest is
    left unread. `env` (for `TF_DATA_DIR`), `module_dirs` (`--module-dir`) and
    `installed_mirror` (`InstalledModules.load`) say where installed modules are. Modules
    `skip` names (`--skip-path`, `skip_paths:`) are not scanned; modules they call are read
    all the same."""
    discovery = discover(paths, cwd, skip)
    if only is not None:
        discovery = replace(discovery, modules=tuple(m for m in discovery.modules if m.path in only or _may_call(m, boundary)))
    diagnostics = [error_diagnostic(e) for e in discovery.errors]
    modules: dict[str, ParsedModule] = {}
    _load_local(list(discovery.modules), modules, parse_many, diagnostics, cwd, boundary)
    scanned = tuple(m.path for m in discovery.modules if m.path in modules)
    roots = _roots(scanned, modules)
    installed, unreadable, mismatches = {}, {}, {}
    for root in roots:
        walk = _InstalledWalk(root, InstalledModules.load(root, env, tuple(module_dirs), installed_mirror), modules, boundary)
        while True:
            missing = walk.run()
            if not missing:
                break
            found = [m for m in (module_at(p, cwd) for p in missing) if m is not None]
            for path in set(missing) - {m.path for m in found}:
                modules.setdefault(path, ParsedModule(path, display_path(path, cwd), (), (), ()))
            _load_local(found, modules, parse_many, diagnostics, cwd, boundary)
            for path in missing:  # one that did not parse (reported) must not be walked again, forever
                modules.setdefault(path, ParsedModule(path, display_path(path, cwd), (), (), ()))
        installed[root], unreadable[root], mismatches[root] = walk.results()
    return Workspace(modules, scanned, roots, tuple(diagnostics), installed, unreadable, mismatches)


def _load_local(
    pending: list[ModuleDir], modules: dict[str, ParsedModule], parse_many: ParseMany,
    diagnostics: list[Diagnostic], cwd: str | None, boundary: ReadBoundary | None = None,
) -> None:
    """Parse `pending` and every local module they call, into `modules`; with a `boundary`,
    not what lies outside it."""
    known = set(modules) | {m.path for m in pending}
    while pending:
        batch, pending = pending, []
        if boundary is not None:
            batch = [m for m in (_inside(module, boundary, diagnostics) for module in batch) if m is not None]
        for module_dir, parsed in zip(batch, _parse_modules(batch, parse_many, diagnostics)):
            if parsed is None:
                continue
            modules[module_dir.path] = parsed
            for call in parsed.calls:
                if call.path is None or call.path in known:
                    continue
                known.add(call.path)
                if boundary is not None and not boundary.contains(call.path):
                    continue  # not read: the call is unreadable (module-unreadable), see _InstalledWalk
                called = module_at(call.path, cwd)
                if called is None:
                    diagnostics.append(
                        Diagnostic(
                            "error",
                            f'module "{call.name}": source "{call.source}" has no *.tf files',
                            call.location,
                        )
                    )
                else:
                    pending.append(called)


class _InstalledWalk:
    """The tree of module calls under one root, by dotted call key, resolving every
    non-local call through what `terraform init` installed."""

    def __init__(
        self, root: str, installed: InstalledModules, modules: Mapping[str, ParsedModule],
        boundary: ReadBoundary | None = None,
    ) -> None:
        self.root = root
        self.boundary = boundary
        self.installed = installed
        self.modules = modules
        self.resolved: dict[str, Resolution] = {}
        self.unreadable: dict[tuple[str, Location], UnreadableCall] = {}
        self.mismatches: dict[str, VersionMismatch] = {}

    def run(self) -> list[str]:
        """Walk the tree; the installed directories not parsed yet (parse them, run again)."""
        missing: list[str] = []
        stack: list[tuple[str, str, int]] = [(self.root, "", 0)]
        visited = 0
        while stack and visited < MAX_CALL_KEYS:
            path, prefix, depth = stack.pop()
            visited += 1
            module = self.modules.get(path)
            if module is None or depth > 32:
                continue
            for call in module.calls:
                key = f"{prefix}.{call.name}" if prefix else call.name
                target = self._target(key, call)
                if target is None:
                    continue
                if target not in self.modules:
                    missing.append(target)
                else:
                    stack.append((target, key, depth + 1))
        return list(dict.fromkeys(missing))

    def _target(self, key: str, call: ModuleCall) -> str | None:
        """The directory `call` reads, or None when it cannot be read (recorded, with why)."""
        path = call.path if call.path is not None else self._installed(key, call)
        if path is not None and self.boundary is not None and not self.boundary.contains(path):
            if call.path is not None:
                why = UnreadableModule(f"its source is {OUTSIDE}", "pass --allow-read DIR to read it")
            else:  # found through a `module_dirs:` of the config, which does not widen reads on CI
                why = UnreadableModule(f"its installed copy is {OUTSIDE}", "pass --module-dir DIR to read it")
            self._unreadable(key, call, why)
            return None
        return path

    def _installed(self, key: str, call: ModuleCall) -> str | None:
        """Where `terraform init` installed the non-local `call`, or None (recorded, with why)."""
        if not call.literal:
            self._unreadable(key, call, UnreadableModule(NOT_LITERAL, "write the module's source as a literal string"))
            return None
        if key not in self.resolved:
            self.resolved[key] = self.installed.resolve(key, call.source, call.version)
        found = self.resolved[key]
        if isinstance(found, UnreadableModule):
            self._unreadable(key, call, found)
            return None
        if found.warning:
            self.mismatches.setdefault(key, VersionMismatch(key, call, found.warning))
        module = self.modules.get(found.path)
        if module is not None and not module.files:
            self._unreadable(key, call, UnreadableModule(
                f"installed in {display_path(found.path, self.root)}, which has no *.tf files"))
            return None
        return found.path

    def _unreadable(self, key: str, call: ModuleCall, why: UnreadableModule) -> None:
        self.resolved[key] = why
        self.unreadable.setdefault((key, call.location), UnreadableCall(key, call, why.reason, why.advice))

    def results(self) -> tuple[dict[str, Resolution], tuple[UnreadableCall, ...], tuple[VersionMismatch, ...]]:
        return dict(self.resolved), tuple(self.unreadable.values()), tuple(self.mismatches.values())


def _in_module(path: str, module: ModuleDir) -> bool:
    """Whether `path` is a file (not a link) right in `module`'s directory, so inside
    wherever the directory is: one `lstat` instead of resolving every component again."""
    return os.path.dirname(path) == module.path and not os.path.islink(path)


def _inside(module: ModuleDir, boundary: ReadBoundary, diagnostics: list[Diagnostic]) -> ModuleDir | None:
    """`module` without the files that are symlinks to somewhere outside `boundary`; None
    when the directory itself is (a directory symlink found by the walk): one warning."""
    if not boundary.contains(module.path):
        message = f"not read: a link to a directory {OUTSIDE}"
        diagnostics.append(Diagnostic("warning", message, Location(module.display, 0, 0)))
        return None
    files = module.tf_files + module.tfvars_files
    outside = [path for path in files if not _in_module(path, module) and not boundary.contains(path)]
    for path in outside:
        message = f"not read: a link to a file {OUTSIDE}"
        diagnostics.append(Diagnostic("warning", message, Location(_display(module, path), 0, 0)))
    if not outside:
        return module
    return replace(
        module,
        tf_files=tuple(p for p in module.tf_files if p not in outside),
        tfvars_files=tuple(p for p in module.tfvars_files if p not in outside),
    )


# A line that may open a `module` block: top-level blocks start their line, so a file without
# one holds none (a comment or a heredoc that has one is only a false alarm).
_MODULE_LINE = re.compile(rb'^[ \t]*module[ \t]+["\w]', re.MULTILINE)


def may_open_module_block(text: bytes) -> bool:
    """Whether a Terraform file may hold a `module` block."""
    return _MODULE_LINE.search(text) is not None


def _may_call(module: ModuleDir, boundary: ReadBoundary | None = None) -> bool:
    """Whether a module may hold a `module` block (or has a file that cannot be read,
    which parsing will report). A file outside `boundary` is not opened (`_inside` warns)."""
    for path in module.tf_files:
        if boundary is None:
            data = _read_unconfined(path)
        elif boundary.contains(path):
            data = boundary.read(path)
        else:
            continue  # never read (`_inside` warns)
        if isinstance(data, Refused) or may_open_module_block(data):
            return True
    return False


def _read_unconfined(path: str) -> bytes | Refused:
    """The bytes of `path`, read without a boundary (callers that pass none), or why not."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as err:
        return Refused(f"cannot be read ({err.strerror or 'error'})")


def _parse_modules(
    batch: list[ModuleDir], parse_many: ParseMany, diagnostics: list[Diagnostic]
) -> Iterable[ParsedModule | None]:
    requests = [(path, _display(m, path)) for m in batch for path in m.tf_files + m.tfvars_files]
    results = iter(parse_many(requests))
    for module in batch:
        files, tfvars, failed = [], [], False
        for path in module.tf_files + module.tfvars_files:
            result = next(results)
            if isinstance(result, InputError):
                diagnostics.append(error_diagnostic(result))
                failed = True
            elif path in module.tf_files:
                files.append(result)
            else:
                tfvars.append(result)
        for ignored in module.ignored_files:
            diagnostics.append(
                Diagnostic(
                    "warning",
                    "not read: sglint reads HCL *.tf files, not JSON or override files",
                    Location(_display(module, ignored), 1, 1),
                )
            )
        if failed:
            diagnostics.append(
                Diagnostic(
                    "error",
                    NOT_CHECKED.format(module.display),
                    None,
                )
            )
            yield None
            continue
        yield ParsedModule(
            module.path, module.display, tuple(files), tuple(tfvars), _calls(module, files)
        )


def _display(module: ModuleDir, path: str) -> str:
    name = os.path.basename(path)
    return name if module.display in ("", ".") else f"{module.display}/{name}"


def _calls(module: ModuleDir, files: list[File]) -> tuple[ModuleCall, ...]:
    calls = []
    for file in files:
        for block in file.body.blocks_of("module"):
            if not block.labels:
                continue
            location = Location(file.path, block.line, block.end_line)
            source_attr = block.body.attributes.get("source")
            version_attr = block.body.attributes.get("version")
            source = _literal_string(source_attr)
            version = _literal_string(version_attr)
            source_at = Location(file.path, source_attr.line, source_attr.line) if source_attr else location
            version_at = Location(file.path, version_attr.line, version_attr.line) if version_attr else None
            local = source is not None and is_local_source(source)
            path = os.path.realpath(os.path.join(module.path, source)) if local and source else None
            shown = source if source is not None else render(source_attr.expr, 80) if source_attr else ""
            calls.append(ModuleCall(block.labels[0], shown, path, location, version, source_at, version_at,
                                    literal=source is not None))
    return tuple(calls)


def _literal_string(attribute: object) -> str | None:
    expr = getattr(attribute, "expr", None)
    if isinstance(expr, Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], str):
        return expr.parts[0]
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return expr.value
    return None


def _roots(scanned: tuple[str, ...], modules: Mapping[str, ParsedModule]) -> tuple[str, ...]:
    """Scanned modules that no other scanned module calls, directly or through others."""
    called: set[str] = set()
    for start in scanned:
        called |= module_closure(modules, start) - {start}
    roots = tuple(p for p in scanned if p not in called)
    return roots or scanned[:1]  # a ring of modules calling each other: start somewhere


def module_closure(modules: Mapping[str, ParsedModule], start: str) -> set[str]:
    """`start` and the read modules it calls, directly or through others (absolute paths)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        path = stack.pop()
        if path in seen or path not in modules:
            continue
        seen.add(path)
        stack.extend(c.path for c in modules[path].calls if c.path)
    return seen


def roots_using(workspace: Workspace, directories: AbstractSet[str]) -> tuple[str, ...]:
    """The root modules that read a module in one of `directories` (absolute, resolved):
    the only ones a change to files there can change."""
    return tuple(r for r in workspace.roots if module_closure(workspace.modules, r) & directories)
