"""Report stage: findings -> text for people, JSON for tools.

The JSON document is versioned (`schema_version`) and described in docs/json-output.md and
docs/report.schema.json. The text report groups findings by file, each with `file:line`,
the message and the fix hint, then states the profile (and where each setting came from),
the requirements it switched on and the nodes it checked.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from calico_sglint import __version__
from calico_sglint.checks.findings import UNVERIFIED, Finding, fingerprint
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.wording import maybe
from calico_sglint.result import CheckResult, RootResult

REPORT_SCHEMA_VERSION = 1
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def fails(findings: Iterable[Finding], fail_on: str) -> bool:
    """True when any finding is at or above the fail level (`never` never fails)."""
    if fail_on == "never":
        return False
    threshold = SEVERITY_RANK[fail_on]
    return any(SEVERITY_RANK[f.severity] >= threshold for f in findings)


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


# --- JSON --------------------------------------------------------------------------------


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


def root_json(root: RootResult, enabled: list[str], unchecked: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    cluster = root.cluster
    return {
        "root": root.model.root,
        "profile": root.profile.to_json(),
        "requirements": enabled,
        "not_checked": [{"rule_id": rule_id, "reason": why} for rule_id, why in unchecked or []],
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
        "roots": [
            root_json(root, requirements_on(result, root), requirements_not_checked(result, root))
            for root in result.roots
        ],
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


def requirements_on(result: CheckResult, root: RootResult) -> list[str]:
    """Ids of the requirements the root's profile switched on and that checked something:
    path requirements with at least one path, and the EC2 source/destination check when pod
    traffic travels unencapsulated."""
    checked = {path.rule.id for path in root.paths}
    return [
        r.id for r in _switched_on(result, root)
        if r.id in checked or (r.kind != "path" and root.profile.routes_unencapsulated())
    ]


def requirements_not_checked(result: CheckResult, root: RootResult) -> list[tuple[str, str]]:
    """Path requirements the profile switched on that required no path, and why: a requirement
    with no source or no target group checked nothing and must not read as passed."""
    return list(root.not_checked)


def _switched_on(result: CheckResult, root: RootResult) -> list[PackRule]:
    pack = root.pack or result.pack
    return [
        r for r in pack.enabled()
        if (r.kind == "path" and root.profile.matches(r.when)) or r.id == "calico-src-dst-check"
    ]


# --- text --------------------------------------------------------------------------------


def report_lines(result: CheckResult) -> list[tuple[str, str]]:
    """The text report as (line, style) pairs; style is a rich style or ""."""
    lines: list[tuple[str, str]] = []
    by_file: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_file.setdefault(finding.location.file if finding.location else "", []).append(finding)
    for file, findings in by_file.items():
        lines.append((file or "(no file)", "bold underline"))
        for finding in findings:
            where = f"{finding.location}" if finding.location else finding.root
            label = "unverified" if finding.status == UNVERIFIED else finding.severity
            lines.append((f"  {where}: {label} [{finding.rule_id}] {finding.message}", _STYLES[finding.severity]))
            if finding.hint:
                lines.append((f"      fix: {finding.hint}", "dim"))
        lines.append(("", ""))
    for root in result.roots:
        lines.extend(_root_lines(result, root))
    counts = summary(result.findings, len(result.suppressed), result.baselined)
    lines.append((summary_line(counts), "bold red" if counts["error"] else "bold"))
    return lines


_STYLES = {"error": "red", "warning": "yellow", "info": "cyan"}


def _root_lines(result: CheckResult, root: RootResult) -> list[tuple[str, str]]:
    shown = [f"{name}={_value_text(s.value)}" for name, s in root.profile.settings.items()]
    width = max(len(text) for text in shown)
    nodes = [
        f"{n.group.address}: {'+'.join(sorted(n.roles))} ({n.reason})" for n in root.cluster.nodes
    ] or [root.cluster.note]
    lines = [
        (f"Root module {root.model.root}", "bold"),
        ("  profile:", ""),
        *((f"    {text:<{width}}  {s.source}" + (f"  {s.detail}" if s.detail else ""),
           "dim" if s.source == "default" else "")
          for text, s in zip(shown, root.profile.settings.values())),
        ("  checked: " + (", ".join(requirements_on(result, root)) or "no path requirements"), ""),
        *((f"  checked nothing: {rule_id} ({why})", "yellow") for rule_id, why in requirements_not_checked(result, root)),
        *((f"  cluster {m.name}: {', '.join(m.members)} ({m.reason})", "") for m in root.cluster.memberships
          if len(root.cluster.memberships) > 1),
        ("  nodes: " + "; ".join(nodes), ""),
    ]
    for group, why in root.cluster.excluded:
        lines.append((f"  not a node: {group.address} ({why})", "dim"))
    lines.append(("", ""))
    return lines


def _value_text(value: object) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)


def summary_line(counts: dict[str, int]) -> str:
    """`2 errors, 3 warnings (1 unverified)`: an unverified finding is a warning, counted once."""
    warnings = f"{counts['warning']} warning{'s' if counts['warning'] != 1 else ''}"
    if counts["unverified"]:
        warnings += f" ({counts['unverified']} unverified)"
    parts = [f"{counts['error']} error{'s' if counts['error'] != 1 else ''}", warnings]
    if counts["info"]:
        parts.append(f"{counts['info']} info")
    left_out = [f"{counts['suppressed']} suppressed"] if counts["suppressed"] else []
    left_out += [f"{counts['baselined']} in the baseline"] if counts["baselined"] else []
    return ", ".join(parts) + (f" ({', '.join(left_out)})" if left_out else "")
