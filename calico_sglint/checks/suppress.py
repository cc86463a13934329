"""Suppressions and baselines: which findings the user has already decided about.

`# sglint:ignore=<rule-id>[,<rule-id>] <reason>` (or `//`) on the line above a block, or
inside it, suppresses those rules' findings located in that block: a resource, or an inline
ingress/egress block. A suppression needs a reason; one without a reason does not suppress,
and one that names an unknown rule or suppresses nothing is reported (`sglint-ignore`).
A baseline file records the fingerprints of findings accepted when sglint was adopted;
`--baseline` then reports only new ones.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from calico_sglint import __version__
from calico_sglint.checks.findings import Finding, fingerprint
from calico_sglint.profile.rulepack import PackRule, RulePack
from calico_sglint.source import InputError, Location
from calico_sglint.terraform.syntax import Block, File

SUPPRESSION_RULE = "sglint-ignore"
_DIRECTIVE = re.compile(r"^(?:#|//)\s*sglint:ignore(?:=(?P<ids>[^\s]*))?(?:\s+(?P<reason>.*?))?\s*$")
BASELINE_VERSION = 1


@dataclass(frozen=True)
class Suppression:
    rule_ids: tuple[str, ...]
    reason: str
    comment: Location  # where the comment is
    scope: Location  # the block it covers


@dataclass(frozen=True)
class Suppressed:
    """A finding hidden by a suppression, kept for reports (SARIF marks it as suppressed)."""

    finding: Finding
    suppression: Suppression


def collect(files: Iterable[File]) -> tuple[list[Suppression], list[tuple[Location, str]]]:
    """Every well-formed suppression, and the problems of the malformed ones."""
    suppressions: list[Suppression] = []
    problems: list[tuple[Location, str]] = []
    for file in files:
        spans = list(_block_spans(file.body.blocks))
        for comment in file.directives:
            match = _DIRECTIVE.match(comment.text.strip())
            at = Location(file.path, comment.line, comment.line)
            if match is None:
                problems.append((at, "unreadable suppression: write `# sglint:ignore=<rule-id> <reason>`"))
                continue
            ids = tuple(i for i in (match.group("ids") or "").split(",") if i)
            if not ids:
                problems.append((at, "the suppression names no rule: write `# sglint:ignore=<rule-id> <reason>`"))
                continue
            scope = _scope(spans, comment.line, comment.next_code_line, file.path)
            if scope is None:
                problems.append((at, "the suppression is not on the line above or inside a block"))
                continue
            suppressions.append(Suppression(ids, (match.group("reason") or "").strip(), at, scope))
    return suppressions, problems


def _block_spans(blocks: Iterable[Block]) -> Iterator[tuple[int, int]]:
    for block in blocks:
        yield block.line, block.end_line
        yield from _block_spans(block.body.blocks)


def _scope(spans: list[tuple[int, int]], line: int, next_code_line: int, file: str) -> Location | None:
    """The outermost block starting on the next code line, else the innermost block
    containing the comment's line."""
    starting = [s for s in spans if next_code_line and s[0] == next_code_line]
    if starting:
        return Location(file, next_code_line, max(e for _, e in starting))
    containing = [s for s in spans if s[0] <= line <= s[1]]
    if containing:
        start, end = max(containing, key=lambda s: (s[0], -s[1]))
        return Location(file, start, end)
    return None


def suppress(
    findings: Iterable[Finding], suppressions: list[Suppression]
) -> tuple[list[Finding], list[Suppressed], set[tuple[Location, str]]]:
    """Findings left, findings hidden, and which (comment, rule) pairs hid something."""
    kept: list[Finding] = []
    hidden: list[Suppressed] = []
    used: set[tuple[Location, str]] = set()
    for finding in findings:
        match = next((s for s in suppressions if s.reason and _covers(s, finding)), None)
        if match is None:
            kept.append(finding)
        else:
            hidden.append(Suppressed(finding, match))
            used.add((match.comment, finding.rule_id))
    return kept, hidden, used


def suppression_problems(
    suppressions: list[Suppression], problems: list[tuple[Location, str]],
    used: set[tuple[Location, str]], pack: RulePack, root: str,
) -> list[Finding]:
    """`sglint-ignore` findings: malformed, reasonless, unknown-rule and unused suppressions."""
    page = pack.get(SUPPRESSION_RULE)
    if page is None or not page.enabled:
        return []
    found = [_problem(page, at, problem, root) for at, problem in problems]
    known = {r.id for r in pack.rules}
    for suppression in suppressions:
        if not suppression.reason:
            found.append(_problem(page, suppression.comment, (
                f"the suppression of {', '.join(suppression.rule_ids)} has no reason, so it suppresses "
                "nothing: write why after the rule ids"), root))
            continue
        for rule_id in suppression.rule_ids:
            if rule_id not in known:
                found.append(_problem(page, suppression.comment, f"no rule {rule_id!r} (see `sglint rules`)", root))
            elif (suppression.comment, rule_id) not in used:
                found.append(_problem(page, suppression.comment,
                                      f"the suppression of {rule_id} suppresses nothing; remove it", root))
    return found


def _covers(suppression: Suppression, finding: Finding) -> bool:
    location = finding.location
    return (
        finding.rule_id in suppression.rule_ids
        and location is not None
        and location.file == suppression.scope.file
        and suppression.scope.line <= location.line <= suppression.scope.end_line
    )


def _problem(page: PackRule, at: Location, message: str, root: str) -> Finding:
    return Finding(
        page.id, page.severity, message, at, root,
        hint="Suppressions are `# sglint:ignore=<rule-id>[,<rule-id>] <reason>` on the line above or inside a block.",
        key=f"{os.path.relpath(at.file, root)}:{message}",  # the same from every working directory
    )


# --- baselines ---------------------------------------------------------------------------


def baseline_json(findings: Iterable[Finding]) -> dict[str, Any]:
    """The baseline file: the fingerprints of today's findings, with enough to read it."""
    return {
        "schema_version": BASELINE_VERSION,
        "tool": {"name": "calico-sglint", "version": __version__},
        "findings": sorted(
            (
                {
                    "fingerprint": fingerprint(f),
                    "rule_id": f.rule_id,
                    "root": f.root,
                    "message": f.message,
                    "location": f.location.to_json() if f.location else None,
                }
                for f in findings
            ),
            key=lambda item: (item["rule_id"], item["fingerprint"]),
        ),
    }


def load_baseline(path: str) -> frozenset[str]:
    """The fingerprints in a baseline file; `InputError` if it is not one."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as err:
        raise InputError(f"cannot read the baseline: {err.strerror or err}", path) from None
    except json.JSONDecodeError as err:
        raise InputError(f"the baseline is not JSON: {err.msg}", path, err.lineno) from None
    if not isinstance(data, dict) or data.get("schema_version") != BASELINE_VERSION or not isinstance(
        data.get("findings"), list
    ):
        raise InputError("not an sglint baseline (write one with --write-baseline)", path)
    prints = [item.get("fingerprint") for item in data["findings"] if isinstance(item, dict)]
    if not all(isinstance(p, str) for p in prints):
        raise InputError("findings[].fingerprint: every entry needs a fingerprint string", path)
    return frozenset(prints)  # type: ignore[arg-type]


def without_baseline(findings: list[Finding], baseline: frozenset[str]) -> tuple[list[Finding], int]:
    """Findings not in the baseline, and how many were."""
    new = [f for f in findings if fingerprint(f) not in baseline]
    return new, len(findings) - len(new)

