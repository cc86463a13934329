"""Compare two check results: what a change does to the paths Calico needs.

Pure: the check results of the old side (base) and the new side (head) in, the differences
out. Required paths are matched by (root module, rule, source node group, target node group,
ports), findings by (root module, rule, subject), with the old side's addresses renamed by
the new side's `moved` blocks. A path's state on each side is *open*, *missing* or
*unverified* (unknown values might open it), or absent when the side does not require it.

What each change means:
- closed: missing now, open (or unverified) before. The change breaks the cluster.
- opened: open now, missing or unverified before.
- still missing: missing on both sides, or newly required and missing (a new node group, or
  a Calico setting that asks for a new port).
- became unverified: unverified now, open or missing before (or newly required).
- still unverified; added (newly required and open); removed (no longer required).

The change fails (exit 1) when it closes a path or adds an error-level finding, whatever was
already broken before.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Sequence

from calico_sglint.checks.findings import FAILED, Finding, RequiredPath
from calico_sglint.checks.reachability import CLOSED, OPEN
from calico_sglint.diff.renames import NO_RENAMES, Renames
from calico_sglint.model.types import Model, Rule
from calico_sglint.result import RootResult
from calico_sglint.source import Location

MISSING, UNVERIFIED, OPEN_STATE = "missing", "unverified", "open"
CLOSED_CHANGE, OPENED, STILL_MISSING = "closed", "opened", "still-missing"
BECAME_UNVERIFIED, STILL_UNVERIFIED = "became-unverified", "still-unverified"
ADDED, REMOVED = "added", "removed"
CHANGES = (CLOSED_CHANGE, OPENED, STILL_MISSING, BECAME_UNVERIFIED, STILL_UNVERIFIED, ADDED, REMOVED)
EXPOSURE_RULE, CYCLE_RULE = "sg-exposed", "sg-cycle"


@dataclass(frozen=True)
class Opener:
    """A rule that opened a path on the old side, and where it is now (if anywhere)."""

    address: str  # the resource that declares it, as the new side names it
    direction: str
    base: Location  # where it was
    head: Location | None  # where the resource is on the new side; None: removed


@dataclass(frozen=True)
class PathChange:
    """One required path whose state changed, or that is still not open."""

    root: str
    rule_id: str
    severity: str
    source: str  # node group addresses (the new side's names)
    target: str
    protocol: str
    ports: tuple[int, int]
    change: str
    base: str | None  # "open", "missing", "unverified"; None: not required there
    head: str | None
    source_sg: str  # the groups' first security groups, on the side that has the path
    target_sg: str
    missing: str | None  # "ingress", "egress" or "both" on the new side (None: open or absent)
    location: Location | None  # the new side's finding location (annotations)
    openers: tuple[Opener, ...] = ()  # for closed paths: the old rules that opened it
    unknowns: tuple[str, ...] = ()  # for unverified paths: what could not be evaluated

    @property
    def key(self) -> tuple[str, str, str, str, int, int]:
        return (self.root, self.rule_id, self.source, self.target, *self.ports)


@dataclass(frozen=True)
class FindingChange:
    change: str  # "added" or "removed"
    finding: Finding  # the new side's finding when added, the old side's when removed


@dataclass(frozen=True)
class Comparison:
    paths: tuple[PathChange, ...]  # every path not open on both sides
    exposures: tuple[FindingChange, ...]
    cycles: tuple[FindingChange, ...]
    findings: tuple[FindingChange, ...]  # other structural findings added or removed
    new_errors: tuple[Finding, ...]  # error-level findings the old side did not have
    roots: tuple[str, ...]  # the root modules compared (those the change can touch)
    renames: Renames = NO_RENAMES

    def of(self, change: str) -> list[PathChange]:
        return [p for p in self.paths if p.change == change]

    @property
    def fails(self) -> bool:
        """Exit 1: the change closes a required path or adds an error-level finding."""
        return bool(self.of(CLOSED_CHANGE) or self.new_errors)


def compare(base: Sequence[RootResult], head: Sequence[RootResult], renames: Renames = NO_RENAMES) -> Comparison:
    """The differences between the check results of the old side and the new side."""
    base_findings = [_renamed_finding(f, renames) for r in base for f in r.findings]
    head_findings = [f for r in head for f in r.findings]
    paths = _path_changes(base, head, renames, base_findings, head_findings)
    structural = _finding_changes(base_findings, head_findings, _path_rule_ids(base, head))
    base_errors = {_finding_key(f) for f in base_findings if f.severity == "error"}
    new_errors = tuple(f for f in head_findings if f.severity == "error" and _finding_key(f) not in base_errors)
    roots = tuple(dict.fromkeys([r.model.root for r in head] + [r.model.root for r in base]))
    return Comparison(
        tuple(paths),
        tuple(c for c in structural if c.finding.rule_id == EXPOSURE_RULE),
        tuple(c for c in structural if c.finding.rule_id == CYCLE_RULE),
        tuple(c for c in structural if c.finding.rule_id not in (EXPOSURE_RULE, CYCLE_RULE)),
        new_errors, roots, renames,
    )


def path_state(path: RequiredPath) -> str:
    return {OPEN: OPEN_STATE, CLOSED: MISSING}.get(path.state.state, UNVERIFIED)


def change_of(base: str | None, head: str | None) -> str | None:
    """The change from one state to the other; None when open on both sides."""
    if head is None:
        return REMOVED
    if head == OPEN_STATE:
        return None if base == OPEN_STATE else ADDED if base is None else OPENED
    if head == MISSING:
        return CLOSED_CHANGE if base in (OPEN_STATE, UNVERIFIED) else STILL_MISSING
    return STILL_UNVERIFIED if base == UNVERIFIED else BECAME_UNVERIFIED


@dataclass(frozen=True)
class _Side:
    root: RootResult
    path: RequiredPath


def _path_changes(
    base: Sequence[RootResult], head: Sequence[RootResult], renames: Renames,
    base_findings: list[Finding], head_findings: list[Finding],
) -> list[PathChange]:
    old = {_path_key(r, p, renames): _Side(r, p) for r in base for p in r.paths}
    new = {_path_key(r, p, NO_RENAMES): _Side(r, p) for r in head for p in r.paths}
    changes = []
    for key in [*new, *(k for k in old if k not in new)]:
        before, after = old.get(key), new.get(key)
        base_state = path_state(before.path) if before else None
        head_state = path_state(after.path) if after else None
        change = change_of(base_state, head_state)
        if change is None:
            continue
        shown = after or before
        assert shown is not None
        finding = _finding_for(head_findings if after else base_findings, key, shown.path)
        if head_state not in (None, OPEN_STATE) and finding is None:
            continue  # suppressed (sglint:ignore or the config): the user decided
        changes.append(_path_change(key, change, before, after, finding, renames))
    return sorted(changes, key=lambda c: (CHANGES.index(c.change), c.key))


def _path_change(
    key: PathKey, change: str, before: _Side | None, after: _Side | None,
    finding: Finding | None, renames: Renames,
) -> PathChange:
    """One path's change, shown as the new side has it (the old side's when it is gone)."""
    shown = after or before
    assert shown is not None
    info, state = (finding.path if finding else None), shown.path.state
    head_state = path_state(after.path) if after else None
    unknowns = tuple(dict.fromkeys(u.expr for side in (state.ingress, state.egress) for u in side.unknowns))
    openers: tuple[Opener, ...] = ()
    if change == CLOSED_CHANGE and before is not None and after is not None:
        openers = _openers(before.path, after.path, after.root.model, renames)
    source, target = shown.path.source.group, shown.path.target.group
    return PathChange(
        key[0], key[1], shown.path.rule.severity, key[2], key[3], shown.path.protocol, shown.path.ports,
        change, path_state(before.path) if before else None, head_state,
        info.source_sg if info else _first_sg(source.security_groups, source.address),
        info.target_sg if info else _first_sg(target.security_groups, target.address),
        state.missing if after else None,
        finding.location if finding and after else None,
        openers, unknowns if head_state == UNVERIFIED else (),
    )


def _openers(before: RequiredPath, after: RequiredPath, model: Model, renames: Renames) -> tuple[Opener, ...]:
    """The old side's rules that opened the sides of `after` that are no longer open."""
    rules = [*(sg_rule for sg in model.security_groups for sg_rule in sg.rules), *model.unattached_rules]
    found = []
    for name, old_side, new_side in (
        ("ingress", before.state.ingress, after.state.ingress), ("egress", before.state.egress, after.state.egress),
    ):
        if new_side.state == OPEN:
            continue
        for rule in old_side.opening or old_side.possible:
            address = renames.address(rule.declared_by)
            now = _rule_location(rules, address, rule)
            found.append(Opener(address, name, rule.location, now))
    return tuple(dict.fromkeys(found))


def _rule_location(rules: Iterable[Rule], address: str, old: Rule) -> Location | None:
    """Where the resource that declared `old` is on the new side: the same block when it
    declares one rule, else its rule in the same direction."""
    candidates = [r for r in rules if r.declared_by == address]
    same = [r for r in candidates if r.direction == old.direction] or candidates
    return same[0].location if same else None


def _first_sg(groups: Iterable[object], fallback: str) -> str:
    return next((g for g in groups if isinstance(g, str)), fallback)


PathKey = tuple[str, str, str, str, int, int, str, str]  # root, rule, source, target, ports, protocol, cluster


def _path_key(root: RootResult, path: RequiredPath, renames: Renames) -> PathKey:
    """What a path is across the two sides: the protocol tells a control-plane target's TCP
    and UDP parts apart; the cluster, a group that moved to another cluster."""
    return (
        root.model.root, path.rule.id, renames.address(path.source.group.address),
        renames.address(path.target.group.address), *path.ports, path.protocol, path.source.cluster,
    )


def _finding_for(findings: list[Finding], key: PathKey, path: RequiredPath) -> Finding | None:
    """The path finding that reports `path` (findings group node groups by their SGs)."""
    root, rule_id, source, target, low, high, protocol, _ = key
    for finding in findings:
        info = finding.path
        if (
            info is not None and finding.root == root and finding.rule_id == rule_id
            and (info.from_port, info.to_port) == (low, high) and info.protocol == protocol
            and source in info.source_groups and target in info.target_groups
        ):
            return finding
    return None


def _renamed_finding(finding: Finding, renames: Renames) -> Finding:
    if not renames.pairs:
        return finding
    path = finding.path
    if path is not None:
        path = replace(
            path, source_sg=renames.address(path.source_sg), target_sg=renames.address(path.target_sg),
            source_groups=tuple(map(renames.address, path.source_groups)),
            target_groups=tuple(map(renames.address, path.target_groups)),
        )
    return replace(finding, key=renames.text(finding.key), message=renames.text(finding.message), path=path)


def _finding_key(finding: Finding) -> tuple[str, str, str]:
    """What a finding is about. An exposure is the group, ports and networks its message
    names, whichever resource declares the rule (its key also names the resource, so that
    suppressions stay put): restyling or renaming the rule exposes nothing new."""
    if finding.rule_id == EXPOSURE_RULE:
        return (finding.root, finding.rule_id, finding.message)
    return (finding.root, finding.rule_id, finding.key or finding.message)


def _path_rule_ids(base: Sequence[RootResult], head: Sequence[RootResult]) -> set[str]:
    return {r.id for root in (*base, *head) if root.pack for r in root.pack.rules if r.kind == "path"}


def _finding_changes(base: list[Finding], head: list[Finding], path_rules: set[str]) -> list[FindingChange]:
    """Findings of structural checks on one side only (path findings are path changes)."""
    old = {_finding_key(f): f for f in base if f.rule_id not in path_rules and f.status == FAILED}
    new = {_finding_key(f): f for f in head if f.rule_id not in path_rules and f.status == FAILED}
    added = [FindingChange(ADDED, f) for k, f in new.items() if k not in old]
    removed = [FindingChange(REMOVED, f) for k, f in old.items() if k not in new]
    return added + removed
