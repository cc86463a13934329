"""The JSON report: a versioned document (`schema_version`) for tools, described in
docs/json-output.md and docs/report.schema.json."""

from __future__ import annotations

import json
from typing import Any

from calico_sglint import __version__
from calico_sglint.checks.findings import Finding, fingerprint, summary
from calico_sglint.render.context import ReportContext
from calico_sglint.render.wording import maybe
from calico_sglint.result import CheckResult, RootResult

REPORT_SCHEMA_VERSION = 1


def render(result: CheckResult, context: ReportContext) -> str:
    return json.dumps(report_json(result), indent=2) + "\n"


def finding_json(finding: Finding) -> dict[str, Any]:
    path = finding.path
    return {
        "rule_id": finding.rule_id,
        "fingerprint": fingerprint(finding),
        "severity": finding.severity,
        "status": finding.status,
        "message": finding.message,
        "root": finding.root,
        "location": finding.location.to_json() if finding.location else None,
        "path": None if path is None else {
            "protocol": path.protocol,
            "from_port": path.from_port,
            "to_port": path.to_port,
            "source_sg": path.source_sg,
            "target_sg": path.target_sg,
            "missing": path.missing,
            "source_node_groups": list(path.source_groups),
            "target_node_groups": list(path.target_groups),
        },
        "hint": finding.hint,
        "related": [{**r.location.to_json(), "message": r.message} for r in finding.related],
        "unknowns": [maybe(u) for u in finding.unknowns],
        "fix": [
            {
                "security_group": f.security_group,
                "direction": f.direction,
                "protocol": f.protocol,
                "from_port": f.from_port,
                "to_port": f.to_port,
                "peer": f.peer,
            }
            for f in finding.fix
        ],
    }


def root_json(root: RootResult) -> dict[str, Any]:
    cluster = root.cluster
    return {
        "root": root.model.root,
        "profile": root.profile.to_json(),
        "requirements": list(root.requirements),
        "not_checked": [{"rule_id": rule_id, "reason": why} for rule_id, why in root.not_checked],
        "clusters": [m.to_json() for m in cluster.memberships],
        "nodes": {
            "origin": cluster.origin,
            "note": cluster.note,
            "groups": [
                {
                    "address": node.group.address,
                    "cluster": node.cluster,
                    "roles": sorted(node.roles),
                    "reason": node.reason,
                    "security_groups": [maybe(s) for s in node.group.security_groups],
                    "size": {"min": node.group.size_min, "max": node.group.size_max},
                }
                for node in cluster.nodes
            ],
            "excluded": [{"address": g.address, "reason": why} for g, why in cluster.excluded],
        },
    }


def report_json(result: CheckResult) -> dict[str, Any]:
    """The whole `sglint check --format json` document."""
    findings = result.findings
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "tool": {"name": "calico-sglint", "version": __version__},
        "summary": summary(findings, len(result.suppressed), result.baselined),
        "roots": [root_json(root) for root in result.roots],
        "findings": [finding_json(f) for f in findings],
        "suppressed": [
            {
                "rule_id": s.finding.rule_id,
                "fingerprint": fingerprint(s.finding),
                "message": s.finding.message,
                "location": s.finding.location.to_json() if s.finding.location else None,
                "reason": s.suppression.reason,
                "suppression": s.suppression.comment.to_json(),
            }
            for s in result.suppressed
        ],
        "diagnostics": [d.to_json() for d in result.diagnostics],
    }
