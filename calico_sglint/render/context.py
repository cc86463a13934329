"""What every report needs besides the check result: where the repository is (report paths
are repository-relative, as GitHub wants them), the SARIF category and the fail level; and
where to anchor a finding that has no location of its own."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Iterable

from calico_sglint.checks.findings import Finding
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.result import CheckResult
from calico_sglint.source import Location
from calico_sglint.terraform.discover import repository_path
from calico_sglint.terraform.discover import repository_root as find_repository_root


@dataclass(frozen=True)
class ReportContext:
    """What a report needs besides the result: the working directory (finding files are
    relative to it), the repository root (report paths are relative to it), the SARIF
    category and the fail level."""

    cwd: str
    repo_root: str
    category: str = ""
    fail_on: str = "error"


def repository_root(start: str) -> str:
    """The repository holding `start` (`discover.repository_root`); `start` itself outside one."""
    here = os.path.realpath(start)
    return find_repository_root(here) or here


def report_context(paths: Iterable[str], fail_on: str = "error", cwd: str | None = None) -> ReportContext:
    """The context of a run from the working directory: its repository and, for the SARIF
    category, the scanned paths relative to the repository root."""
    cwd = os.path.abspath(cwd or os.getcwd())
    root = repository_root(cwd)
    scanned = sorted({repo_path(p, cwd, root).strip("/") for p in paths} - {"", "."})
    return ReportContext(cwd, root, "+".join(scanned), fail_on)


def repo_path(file: str, cwd: str, repo_root: str) -> str:
    """`file` (relative to `cwd`) relative to the repository root, with forward slashes; the
    absolute path when it lies outside the repository (`discover.repository_path`, which
    fingerprints use too)."""
    return repository_path(file, cwd, repo_root)


def rule_pages(result: CheckResult) -> dict[str, PackRule]:
    """Every enabled rule of the packs in force for any root, by id, first definition wins."""
    pages: dict[str, PackRule] = {}
    for pack in [result.pack, *(root.pack for root in result.roots if root.pack is not None)]:
        for rule in pack.enabled():
            pages.setdefault(rule.id, rule)
    return pages


def anchor(finding: Finding, result: CheckResult) -> Location | None:
    """Where to show a finding: its location, else a node group on its path, else the first
    file of its root module (GitHub rejects a SARIF result without a file)."""
    if finding.location is not None:
        return finding.location
    root = next((r for r in result.roots if r.model.root == finding.root), None)
    if root is not None and finding.path is not None:
        groups = {n.group.address: n.group for n in root.cluster.nodes}
        for address in (*finding.path.target_groups, *finding.path.source_groups):
            if address in groups:
                return groups[address].location
    module = next((m for m in result.workspace.modules.values() if m.display == finding.root), None)
    if module is not None and module.files:
        return Location(module.files[0].path, 0, 0)
    return None


def shown(location: Location, context: ReportContext) -> str:
    """A location as reports show it: repository-relative `path:line`."""
    path = repo_path(location.file, context.cwd, context.repo_root)
    return f"{path}:{location.line}" if location.line else path
