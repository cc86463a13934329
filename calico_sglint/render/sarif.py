"""SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

from calico_sglint import __version__
from calico_sglint.checks.findings import Finding, fingerprint
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.context import ReportContext, anchor, repo_path, rule_pages
from calico_sglint.result import CheckResult
from calico_sglint.source import Diagnostic, Location

TOOL_NAME = "calico-sglint"
INFORMATION_URI = "https://github.com/calico-sglint/calico-sglint"  # as in docs/report.schema.json $id
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "calicoSglint/v1"
SRCROOT = "SRCROOT"


def render(result: CheckResult, context: ReportContext) -> str:
    return json.dumps(sarif(result, context), indent=2) + "\n"


SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif(result: CheckResult, context: ReportContext) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: the rule pages as `tool.driver.rules`, each finding a
    result with a repository-relative location and a line-independent fingerprint."""
    pages = rule_pages(result)
    for finding in result.findings:
        pages.setdefault(finding.rule_id, _bare_page(finding))
    index = {rule_id: i for i, rule_id in enumerate(pages)}
    root_uri = Path(context.repo_root).as_uri().rstrip("/") + "/"
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": TOOL_NAME,
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [sarif_rule(rule) for rule in pages.values()],
            }
        },
        "automationDetails": {"id": f"{TOOL_NAME}/{context.category + '/' if context.category else ''}"},
        "originalUriBaseIds": {SRCROOT: {"uri": root_uri}},
        "invocations": [_invocation(result.diagnostics, context)],
        "results": [_sarif_result(f, index[f.rule_id], result, context) for f in result.findings],
        "columnKind": "unicodeCodePoints",
        "properties": {
            "roots": [
                {"root": root.model.root, "profile": root.profile.to_json(),
                 "requirements": list(root.requirements),
                 "not_checked": [{"rule_id": rule_id, "reason": why} for rule_id, why in root.not_checked],
                 "clusters": [m.to_json() for m in root.cluster.memberships]}
                for root in result.roots
            ]
        },
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def _bare_page(finding: Finding) -> PackRule:
    return PackRule(finding.rule_id, finding.rule_id, finding.severity, "path", "", "", "", "")


def sarif_rule(rule: PackRule) -> dict[str, Any]:
    """A `reportingDescriptor` from a rule's page."""
    descriptor: dict[str, Any] = {
        "id": rule.id,
        "name": "".join(word.capitalize() for word in rule.id.split("-")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description or rule.title},
        "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
        "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        "properties": {
            "tags": ["security"] if rule.id == "sg-exposed" else ["reliability"],
            "kind": rule.kind,
        },
    }
    if rule.source.startswith(("https://", "http://")):
        descriptor["helpUri"] = rule.source
    return descriptor


def _help_text(rule: PackRule) -> str:
    parts = [rule.description, f"Why it matters: {rule.why}" if rule.why else ""]
    if rule.example:
        parts.append("Example:\n" + rule.example.rstrip())
    parts += [f"How to fix:\n{rule.fix.rstrip()}" if rule.fix else "", f"Source: {rule.source}" if rule.source else ""]
    return "\n\n".join(p for p in parts if p)


def _help_markdown(rule: PackRule) -> str:
    parts = [rule.description, f"**Why it matters.** {rule.why}" if rule.why else ""]
    if rule.example:
        parts.append("**Example**\n\n" + _fence(rule.example, "hcl"))
    if rule.fix:
        parts.append("**How to fix**\n\n" + _fence(rule.fix, "text"))
    if rule.source:
        parts.append(f"Source: <{rule.source}>" if rule.source.startswith("http") else f"Source: {rule.source}")
    return "\n\n".join(p for p in parts if p)


def _fence(text: str, language: str) -> str:
    """A fenced code block that no run of backticks inside `text` can close."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _sarif_result(finding: Finding, rule_index: int, result: CheckResult, context: ReportContext) -> dict[str, Any]:
    text = finding.message + (f"\n\nHow to fix: {finding.hint}" if finding.hint else "")
    where = anchor(finding, result)
    item: dict[str, Any] = {
        "ruleId": finding.rule_id,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[finding.severity],
        "message": {"text": text},
        "locations": [{"physicalLocation": _physical(where, context)}] if where else [],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint(finding)},
        "properties": {"root": finding.root, "status": finding.status},
    }
    related = [
        {"id": i, "physicalLocation": _physical(r.location, context), "message": {"text": r.message}}
        for i, r in enumerate(finding.related, 1)
    ]
    if related:
        item["relatedLocations"] = related
    if finding.path is not None:
        path = finding.path
        item["properties"]["path"] = {
            "protocol": path.protocol, "from_port": path.from_port, "to_port": path.to_port,
            "source_sg": path.source_sg, "target_sg": path.target_sg, "missing": path.missing,
        }
    return item


def _physical(location: Location, context: ReportContext) -> dict[str, Any]:
    """A `physicalLocation`: a repository-relative URI, and a region when the line is known."""
    path = repo_path(location.file, context.cwd, context.repo_root)
    if os.path.isabs(path) or re.match(r"^[A-Za-z]:/", path):
        artifact: dict[str, Any] = {"uri": Path(path).as_uri()}
    else:
        artifact = {"uri": quote(path), "uriBaseId": SRCROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if location.line >= 1:
        physical["region"] = {"startLine": location.line, "endLine": max(location.end_line, location.line)}
    return physical


def _invocation(diagnostics: tuple[Diagnostic, ...], context: ReportContext) -> dict[str, Any]:
    notes = []
    for diagnostic in diagnostics:
        note: dict[str, Any] = {"level": diagnostic.severity, "message": {"text": diagnostic.message}}
        if diagnostic.location is not None:
            note["locations"] = [{"physicalLocation": _physical(diagnostic.location, context)}]
        notes.append(note)
    return {
        "executionSuccessful": not any(d.severity == "error" for d in diagnostics),
        "toolExecutionNotifications": notes,
    }
