"""`sglint diff --format json`: the comparison as docs/diff.schema.json describes it
(versioned: `schema_version` changes only with an incompatible change)."""

from __future__ import annotations

import json
from typing import Any

from calico_sglint import __version__
from calico_sglint.diff.compare import FindingChange, PathChange
from calico_sglint.diff.run import DiffResult, SideResult
from calico_sglint.render.context import ReportContext
from calico_sglint.render.difftext import summary_counts, verdict
from calico_sglint.render.jsonreport import finding_json

DIFF_SCHEMA_VERSION = 1


def render(result: DiffResult, context: ReportContext) -> str:
    return json.dumps(diff_json(result), indent=2) + "\n"


def diff_json(result: DiffResult) -> dict[str, Any]:
    comparison = result.comparison
    return {
        "schema_version": DIFF_SCHEMA_VERSION,
        "tool": {"name": "calico-sglint", "version": __version__},
        "base": _side_json(result.base),
        "head": _side_json(result.head),
        "fails": comparison.fails,
        "verdict": verdict(comparison),
        "changed_files": list(result.changed),
        "roots": list(comparison.roots),
        "renames": [{"from": old, "to": new} for old, new in comparison.renames.pairs],
        "summary": summary_counts(comparison),
        "paths": [path_json(p) for p in comparison.paths],
        "exposures": [_change_json(c) for c in comparison.exposures],
        "cycles": [_change_json(c) for c in comparison.cycles],
        "findings": [_change_json(c) for c in comparison.findings],
        "new_errors": [finding_json(f) for f in comparison.new_errors],
    }


def path_json(change: PathChange) -> dict[str, Any]:
    return {
        "root": change.root,
        "rule_id": change.rule_id,
        "severity": change.severity,
        "change": change.change,
        "base": change.base,
        "head": change.head,
        "source_node_group": change.source,
        "target_node_group": change.target,
        "protocol": change.protocol,
        "from_port": change.ports[0],
        "to_port": change.ports[1],
        "source_sg": change.source_sg,
        "target_sg": change.target_sg,
        "missing": change.missing,
        "location": change.location.to_json() if change.location else None,
        "opened_by": [
            {"address": o.address, "direction": o.direction, "base_location": o.base.to_json(),
             "head_location": o.head.to_json() if o.head else None}
            for o in change.openers
        ],
        "unknowns": list(change.unknowns),
    }


def _side_json(side: SideResult) -> dict[str, Any]:
    return {"label": side.label, "files_from_git": side.from_git, "diagnostics": [d.to_json() for d in side.diagnostics]}


def _change_json(change: FindingChange) -> dict[str, Any]:
    return {"change": change.change, "finding": finding_json(change.finding)}
