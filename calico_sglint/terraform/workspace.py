"""Files -> parsed modules: parse every discovered module and the local modules they call.

The result names the root modules (those no other scanned module calls), which the
evaluator instantiates. A module with a file that does not parse is reported and left out;
the other modules are still read.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import AbstractSet, Callable, Iterable, Mapping

from calico_sglint.source import Diagnostic, InputError, Location, error_diagnostic
from calico_sglint.terraform.discover import ModuleDir, discover, module_at
from calico_sglint.terraform.parse import parse_file
from calico_sglint.terraform.syntax import File, Literal, Template


@dataclass(frozen=True)
class ModuleCall:
    """A `module` block: `path` is the called directory for local sources, else None."""

    name: str
    source: str
    path: str | None
    location: Location


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


def load_workspace(
    paths: list[str], cwd: str | None = None, parse_many: ParseMany = parse_serially,
    only: AbstractSet[str] | None = None,
) -> Workspace:
    """Discover, parse and link the modules under `paths`. With `only` (directories,
    absolute and resolved), scan just the modules there and those that may call one (a file
    has a line opening a `module` block): no other module can read them, so the rest is
    left unread."""
    discovery = discover(paths, cwd)
    if only is not None:
        discovery = replace(discovery, modules=tuple(m for m in discovery.modules if m.path in only or _may_call(m)))
    diagnostics = [error_diagnostic(e) for e in discovery.errors]
    modules: dict[str, ParsedModule] = {}
    pending: list[ModuleDir] = list(discovery.modules)
    known = {m.path for m in pending}
    while pending:
        batch, pending = pending, []
        for module_dir, parsed in zip(batch, _parse_modules(batch, parse_many, diagnostics)):
            if parsed is None:
                continue
            modules[module_dir.path] = parsed
            for call in parsed.calls:
                if call.path is None or call.path in known:
                    continue
                known.add(call.path)
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
    scanned = tuple(m.path for m in discovery.modules if m.path in modules)
    roots = _roots(scanned, modules)
    return Workspace(modules, scanned, roots, tuple(diagnostics))


# A line that may open a `module` block: top-level blocks start their line, so a file without
# one holds none (a comment or a heredoc that has one is only a false alarm).
_MODULE_LINE = re.compile(rb'^[ \t]*module[ \t]+["\w]', re.MULTILINE)


def may_open_module_block(text: bytes) -> bool:
    """Whether a Terraform file may hold a `module` block."""
    return _MODULE_LINE.search(text) is not None


def _may_call(module: ModuleDir) -> bool:
    """Whether a module may hold a `module` block (or has a file that cannot be read,
    which parsing will report)."""
    for path in module.tf_files:
        try:
            with open(path, "rb") as handle:
                if may_open_module_block(handle.read()):
                    return True
        except OSError:
            return True
    return False


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
            source = _literal_string(block.body.attributes.get("source"))
            if source is None:
                calls.append(ModuleCall(block.labels[0], "", None, location))
                continue
            local = source.startswith("./") or source.startswith("../")
            path = os.path.realpath(os.path.join(module.path, source)) if local else None
            calls.append(ModuleCall(block.labels[0], source, path, location))
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
