"""What checks produce: findings, the paths they are about, the rules that would fix them."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable

from calico_sglint.checks.reachability import PathState
from calico_sglint.model.roles import ClusterNode
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.source import Location
from calico_sglint.terraform.discover import repository_path, repository_root
from calico_sglint.terraform.values import Unknown

FAILED, UNVERIFIED = "failed", "unverified"


@dataclass(frozen=True)
class PathInfo:
    protocol: str
    from_port: int
    to_port: int
    source_sg: str
    target_sg: str
    missing: str  # "ingress", "egress" or "both"
    source_groups: tuple[str, ...]
    target_groups: tuple[str, ...]


@dataclass(frozen=True)
class RuleToAdd:
    """A rule that would open a path: `sglint fix` writes these."""

    security_group: str
    direction: str
    protocol: str
    from_port: int
    to_port: int
    peer: str  # an SG address; the rule's own SG means self
    requirement: str
    title: str


@dataclass(frozen=True)
class Related:
    location: Location
    message: str


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    message: str
    location: Location | None
    root: str
    status: str = FAILED
    hint: str = ""
    path: PathInfo | None = None
    related: tuple[Related, ...] = ()
    unknowns: tuple[Unknown, ...] = ()
    fix: tuple[RuleToAdd, ...] = field(default=())
    key: str = ""  # what the finding is about, independent of line numbers (for fingerprints)


def fingerprint(finding: Finding) -> str:
    """A stable id for a finding: same rule, root and subject -> same id, wherever lines move
    and whichever directory sglint runs from (the root is keyed on its path in the repository;
    keys name files relative to the root)."""
    root = repository_root_key(finding.root, os.getcwd())
    text = "\x1f".join((finding.rule_id, root, finding.key or finding.message))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@lru_cache(maxsize=4096)
def repository_root_key(root: str, cwd: str) -> str:
    """A root module's path (relative to `cwd`, as findings name it) relative to the root of
    the repository that holds it; as given outside a repository."""
    directory = os.path.normpath(os.path.join(cwd, root))
    return repository_path(root, cwd, repository_root(directory))


def finding_order(finding: Finding) -> tuple[str, int, str, str]:
    loc = finding.location
    target = finding.path.target_sg + finding.path.source_sg if finding.path else ""
    return (loc.file if loc else "", loc.line if loc else 0, finding.rule_id, target)


@dataclass(frozen=True)
class RequiredPath:
    """One path a requirement asks for between two node groups, and its state in the graph."""

    rule: PackRule
    source: ClusterNode
    target: ClusterNode
    ports: tuple[int, int]
    state: PathState
    protocol: str  # the rule's, or for a control-plane target the part it asks (rulepack.ControlPlaneTarget)


SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """True when any finding is at or above the fail level (`never` never fails)."""
    return any(at_or_above(f.severity, fail_on) for f in findings)


def at_or_above(severity: str, fail_on: str) -> bool:
    return fail_on != "never" and SEVERITY_RANK[severity] >= SEVERITY_RANK[fail_on]


def summary(findings: list[Finding], suppressed: int = 0, baselined: int = 0) -> dict[str, int]:
    """How many findings of each severity, how many are unverified, and how many were left
    out by suppressions and the baseline."""
    counts = Counter(f.severity for f in findings)
    return {
        "error": counts.get("error", 0),
        "warning": counts.get("warning", 0),
        "info": counts.get("info", 0),
        "unverified": sum(1 for f in findings if f.status == UNVERIFIED),
        "suppressed": suppressed,
        "baselined": baselined,
    }
