"""`sglint diff --format text`, and the wording every diff report shares.

What a reviewer reads in ten seconds: the verdict first, then the closed, opened, still
missing and unverified paths, exposures, cycles and other new or fixed findings, one line
each (and one line of why), then the counts. What sglint could not read on either side is
said before anything else.
"""

from __future__ import annotations

from calico_sglint.checks.findings import Finding
from calico_sglint.diff.compare import (
    ADDED,
    BECAME_UNVERIFIED,
    CHANGES,
    CLOSED_CHANGE,
    OPENED,
    REMOVED,
    STILL_MISSING,
    STILL_UNVERIFIED,
    Comparison,
    FindingChange,
    PathChange,
)
from calico_sglint.diff.run import DiffResult, SideResult
from calico_sglint.render.context import ReportContext
from calico_sglint.render.wording import count_text, traffic_text
from calico_sglint.source import diagnostic_lines

HEADINGS = {
    CLOSED_CHANGE: "closed", OPENED: "opened", STILL_MISSING: "still missing",
    BECAME_UNVERIFIED: "became unverified", STILL_UNVERIFIED: "still unverified",
    ADDED: "newly required, open", REMOVED: "no longer required",
}
SHOWN_IN_TEXT = (CLOSED_CHANGE, OPENED, STILL_MISSING, BECAME_UNVERIFIED)  # the rest: counts only
MAX_TEXT_ITEMS = 20  # per section: a ten-second read, not an inventory


def render(result: DiffResult, context: ReportContext) -> str:
    return "\n".join(diff_lines(result)) + "\n"


_STYLES = {"FAIL:": "bold red", "OK:": "green", "closed (": "red", "opened (": "green"}


def styled(text: str) -> list[tuple[str, str]]:
    """The text report's lines with a terminal style: the verdict, closed and opened."""
    return [(line, next((style for start, style in _STYLES.items() if line.startswith(start)), ""))
            for line in text.rstrip("\n").split("\n")]


def verdict(comparison: Comparison) -> str:
    """One sentence: does the change break something, and what."""
    closed, errors = len(comparison.of(CLOSED_CHANGE)), len(comparison.new_errors)
    if closed:
        return f"FAIL: this change closes {count_text(closed, 'required path')}" + (
            f" and adds {count_text(errors, 'error-level finding')}" if errors else ""
        )
    if errors:
        return f"FAIL: this change adds {count_text(errors, 'error-level finding')}"
    if not (comparison.paths or comparison.exposures or comparison.cycles or comparison.findings):
        return "OK: nothing sglint checks changed"
    return "OK: this change closes no required path and adds no error-level finding"


def path_text(change: PathChange, many_roots: bool) -> str:
    where = f"{change.root}: " if many_roots else ""
    return f"{where}{change.source} -> {change.target} {traffic_text(change.protocol, *change.ports)} [{change.rule_id}]"


def path_detail(change: PathChange) -> str:
    """Why, in a few words: the side now missing and the rules that opened it before."""
    parts = []
    if change.missing and change.head != "open":
        side = {"ingress": f"ingress on {change.target_sg}", "egress": f"egress on {change.source_sg}",
                "both": f"ingress on {change.target_sg} and egress on {change.source_sg}"}[change.missing]
        parts.append(f"{'not proven' if change.head == 'unverified' else 'missing'}: {side}"
                     + (f" ({change.location})" if change.location else ""))
    for opener in change.openers:
        now = f"now at {opener.head}" if opener.head else "removed"
        parts.append(f"was opened by {opener.address} ({opener.base}, {now})")
    if change.unknowns:
        parts.append("depends on " + ", ".join(change.unknowns[:3]))
    if change.base is None and change.change != ADDED:
        parts.append("newly required")
    return "; ".join(parts)


def diff_lines(result: DiffResult) -> list[str]:
    """The text report."""
    comparison = result.comparison
    many = len(comparison.roots) > 1
    lines = [f"sglint diff: {result.base.label} -> {result.head.label}", verdict(comparison)]
    lines += side_notes(result.base, "base") + side_notes(result.head, "head")
    for change in SHOWN_IN_TEXT:
        paths = comparison.of(change)
        if not paths:
            continue
        lines += ["", f"{HEADINGS[change]} ({len(paths)}):"]
        for path in paths[:MAX_TEXT_ITEMS]:
            lines.append(f"  {path_text(path, many)}")
            detail = path_detail(path)
            if detail:
                lines.append(f"      {detail}")
        lines += _more(len(paths))
    for title, changes in structural_sections(comparison):
        lines += ["", f"{title} ({len(changes)}):"]
        lines += [f"  {finding_line(c.finding)}" for c in changes[:MAX_TEXT_ITEMS]]
        lines += _more(len(changes))
    lines += ["", counts_line(comparison)]
    return lines


def _more(count: int) -> list[str]:
    hidden = count - MAX_TEXT_ITEMS
    return [f"  ... and {hidden} more (--format json lists every one)"] if hidden > 0 else []


def structural_sections(comparison: Comparison) -> list[tuple[str, list[FindingChange]]]:
    sections = [
        ("exposures added", [c for c in comparison.exposures if c.change == ADDED]),
        ("exposures removed", [c for c in comparison.exposures if c.change == REMOVED]),
        ("cycles introduced", [c for c in comparison.cycles if c.change == ADDED]),
        ("cycles removed", [c for c in comparison.cycles if c.change == REMOVED]),
        ("new findings", [c for c in comparison.findings if c.change == ADDED]),
        ("fixed findings", [c for c in comparison.findings if c.change == REMOVED]),
    ]
    return [(title, changes) for title, changes in sections if changes]


def finding_line(finding: Finding) -> str:
    where = f"{finding.location}: " if finding.location else ""
    return f"{where}{finding.severity}: {finding.message} [{finding.rule_id}]"


def side_notes(side: SideResult, name: str) -> list[str]:
    """What sglint could not read on a side: the comparison is only as good as that side."""
    if not side.diagnostics:
        return []
    errors = [d for d in side.diagnostics if d.severity == "error"]
    lead = (f"note: the {name} ({side.label}) could not be read completely; paths there may be "
            "reported as changed" if errors else f"note: warnings on the {name} ({side.label}):")
    return [lead, *(f"  {line}" for line in diagnostic_lines(side.diagnostics))]


def counts_line(comparison: Comparison) -> str:
    counts = summary_counts(comparison)
    shown = [f"{counts[c]} {HEADINGS[c]}" for c in CHANGES if counts[c]]
    roots = count_text(len(comparison.roots), "root module")
    return f"{roots} compared" + (f": {', '.join(shown)}" if shown else "; no required path changed")


def summary_counts(comparison: Comparison) -> dict[str, int]:
    counts = {change: len(comparison.of(change)) for change in CHANGES}
    counts["exposures-added"] = sum(c.change == ADDED for c in comparison.exposures)
    counts["exposures-removed"] = sum(c.change == REMOVED for c in comparison.exposures)
    counts["cycles-introduced"] = sum(c.change == ADDED for c in comparison.cycles)
    counts["cycles-removed"] = sum(c.change == REMOVED for c in comparison.cycles)
    counts["findings-added"] = sum(c.change == ADDED for c in comparison.findings)
    counts["findings-removed"] = sum(c.change == REMOVED for c in comparison.findings)
    counts["new-errors"] = len(comparison.new_errors)
    return counts


