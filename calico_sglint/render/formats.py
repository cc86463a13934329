"""Report stage: the check result in the formats CI systems read.

- `sarif`: SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`);
- `github`: workflow commands (`::error file=...,line=...::...`) that annotate pull requests;
- `junit`: JUnit XML, one test per required path and per structural check;
- `markdown`: a findings table, the profile and the mermaid graph, for job summaries.

Each is a pure function of the `CheckResult` and a `ReportContext` (where the repository is,
so paths are repository-relative as GitHub wants them). See docs/formats.md.
"""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import quote

from calico_sglint import __version__
from calico_sglint.checks.findings import UNVERIFIED, Finding, RequiredPath, fingerprint
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.render.diagram import (
    LEGEND,
    Traffic,
    mermaid,
    root_graph,
    traffic_text,
)
from calico_sglint.render.text import (
    SEVERITY_RANK,
    report_json,
    report_lines,
    requirements_on,
    summary,
    summary_line,
)
from calico_sglint.result import CheckResult, RootResult
from calico_sglint.source import Diagnostic, Location
from calico_sglint.terraform.discover import repository_root as find_repository_root

CHECK_FORMATS = ("text", "json", "sarif", "github", "junit", "markdown")
TOOL_NAME = "calico-sglint"
INFORMATION_URI = "https://github.com/calico-sglint/calico-sglint"  # as in docs/report.schema.json $id
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "calicoSglint/v1"
SRCROOT = "SRCROOT"
MAX_MARKDOWN_ROWS = 200
MAX_MERMAID_CHARS = 40_000  # GitHub's mermaid refuses diagrams above 50,000 characters
MAX_MERMAID_EDGES = 400  # ... and above 500 edges


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
    absolute path when it lies outside the repository."""
    absolute = os.path.normpath(os.path.join(cwd, file))
    try:
        relative = os.path.relpath(absolute, repo_root)
    except ValueError:  # another drive on Windows
        return absolute.replace(os.sep, "/")
    if relative == ".." or relative.startswith(".." + os.sep):
        return absolute.replace(os.sep, "/")
    return "." if relative == "." else relative.replace(os.sep, "/")


def render(output_format: str, result: CheckResult, context: ReportContext) -> str:
    """The whole report of a check run in one of CHECK_FORMATS, ending with a newline."""
    if output_format == "json":
        return json.dumps(report_json(result), indent=2) + "\n"
    if output_format == "sarif":
        return json.dumps(sarif(result, context), indent=2) + "\n"
    if output_format == "github":
        return github(result, context)
    if output_format == "junit":
        return junit(result, context)
    if output_format == "markdown":
        return markdown(result, context)
    return "\n".join(text for text, _ in report_lines(result)) + "\n"


def _rule_pages(result: CheckResult) -> dict[str, PackRule]:
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


# --- SARIF -------------------------------------------------------------------------------

SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def sarif(result: CheckResult, context: ReportContext) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: the rule pages as `tool.driver.rules`, each finding a
    result with a repository-relative location and a line-independent fingerprint."""
    pages = _rule_pages(result)
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
                 "requirements": requirements_on(result, root)}
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


# --- GitHub workflow commands ------------------------------------------------------------

GITHUB_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as the runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value (file, title), escaped as the runner expects."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(level: str, message: str, location: Location | None, title: str, context: ReportContext) -> str:
    """`::error file=F,line=L,endLine=E,title=T::message`, with what is known."""
    props = []
    if location is not None:
        props.append(f"file={escape_property(repo_path(location.file, context.cwd, context.repo_root))}")
        if location.line >= 1:
            props.append(f"line={location.line}")
            props.append(f"endLine={max(location.end_line, location.line)}")
    props.append(f"title={escape_property(title)}")
    return f"::{level} {','.join(props)}::{escape_data(message)}"


def github(result: CheckResult, context: ReportContext) -> str:
    """One annotation per input problem and per finding, then a one-line summary."""
    pages = _rule_pages(result)
    lines = [
        workflow_command(GITHUB_COMMANDS[d.severity], d.message, d.location,
                         "sglint: input error" if d.severity == "error" else "sglint: input warning", context)
        for d in sorted(result.diagnostics, key=lambda d: 0 if d.severity == "error" else 1)
    ]
    for finding in result.findings:
        page = pages.get(finding.rule_id)
        title = f"{finding.rule_id}: {page.title}" if page else finding.rule_id
        message = finding.message + (f"\n\nHow to fix: {finding.hint}" if finding.hint else "")
        lines.append(workflow_command(GITHUB_COMMANDS[finding.severity], message, anchor(finding, result), title, context))
    lines.append(f"sglint: {summary_text(result.findings)}")
    return "\n".join(lines) + "\n"


def summary_text(findings: list[Finding]) -> str:
    """`2 errors, 1 warning (1 unverified)` (and the info count when there is any)."""
    return summary_line(summary(findings))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# --- JUnit XML ---------------------------------------------------------------------------


def junit(result: CheckResult, context: ReportContext) -> str:
    """JUnit XML: a test suite per root module; a test case per required path (requirement x
    source node group x target node group x ports) and per structural finding, or a passing
    case per structural check without findings. A case fails when its finding is at or above
    the fail level; findings below it pass and print in <system-out>. Input errors are <error>s."""
    suites = ET.Element("testsuites", name=TOOL_NAME)
    for root in result.roots:
        suites.append(_junit_suite(root, result, context))
    errors = [d for d in result.diagnostics if d.severity == "error"]
    if errors:
        suite = ET.SubElement(suites, "testsuite", name="input")
        for diagnostic in errors:
            case = ET.SubElement(suite, "testcase", classname="input", name=str(diagnostic), time="0")
            if diagnostic.location is not None:
                _junit_where(case, diagnostic.location, context)
            ET.SubElement(case, "error", message=_xml_text(diagnostic.message), type="input").text = _xml_text(str(diagnostic))
        _junit_counts(suite)
    for name in ("tests", "failures", "errors", "skipped"):
        suites.set(name, str(sum(int(s.get(name, "0")) for s in suites)))
    suites.set("time", "0")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _junit_suite(root: RootResult, result: CheckResult, context: ReportContext) -> ET.Element:
    suite = ET.Element("testsuite", name=root.model.root)
    properties = ET.SubElement(suite, "properties")
    for name, setting in root.profile.settings.items():
        value = setting.value
        shown = ("on" if value else "off") if isinstance(value, bool) else str(value)
        ET.SubElement(properties, "property", name=name, value=f"{shown} ({setting.source})")
    pack = root.pack or result.pack
    matched: set[int] = set()
    for required in root.paths:
        found = [f for f in root.findings if _covers(f, required)]
        matched.update(id(f) for f in found)
        name = (f"{required.source.group.address} -> {required.target.group.address} "
                f"{traffic_text(Traffic(required.rule.protocol, *required.ports, ()))}")
        suite.append(_junit_case(required.rule.id, name, found, context))
    for rule in pack.enabled():
        if rule.kind != "structural":
            continue
        found = [f for f in root.findings if f.rule_id == rule.id and id(f) not in matched]
        matched.update(id(f) for f in found)
        if not found:
            suite.append(_junit_case(rule.id, rule.title, [], context))
        for finding in found:
            suite.append(_junit_case(rule.id, finding.message, [finding], context))
    for finding in root.findings:
        if id(finding) not in matched:
            suite.append(_junit_case(finding.rule_id, finding.message, [finding], context))
    _junit_counts(suite)
    return suite


def _covers(finding: Finding, required: RequiredPath) -> bool:
    """True when `finding` reports `required` (same rule, ports and node groups)."""
    path = finding.path
    return (
        path is not None and finding.rule_id == required.rule.id
        and (path.from_port, path.to_port) == required.ports
        and required.source.group.address in path.source_groups
        and required.target.group.address in path.target_groups
    )


def _junit_case(classname: str, name: str, findings: list[Finding], context: ReportContext) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=_xml_text(name), time="0")
    failing = [f for f in findings if _at_or_above(f.severity, context.fail_on)]
    located = next((f.location for f in findings if f.location), None)
    if located is not None:
        _junit_where(case, located, context)
    for finding in failing:
        label = "unverified" if finding.status == UNVERIFIED else finding.severity
        failure = ET.SubElement(case, "failure", message=_xml_text(finding.message), type=label)
        failure.text = _xml_text(_finding_text(finding, context))
    passing = [f for f in findings if f not in failing]
    if passing:
        ET.SubElement(case, "system-out").text = _xml_text("\n\n".join(
            f"{f.severity} (below the fail level {context.fail_on}): {_finding_text(f, context)}" for f in passing
        ))
    return case


def _finding_text(finding: Finding, context: ReportContext) -> str:
    where = f"{_shown(finding.location, context)}: " if finding.location else ""
    return f"{where}[{finding.rule_id}] {finding.message}" + (f"\nHow to fix: {finding.hint}" if finding.hint else "")


def _shown(location: Location, context: ReportContext) -> str:
    path = repo_path(location.file, context.cwd, context.repo_root)
    return f"{path}:{location.line}" if location.line else path


def _junit_where(case: ET.Element, location: Location, context: ReportContext) -> None:
    case.set("file", repo_path(location.file, context.cwd, context.repo_root))
    if location.line >= 1:
        case.set("line", str(location.line))


def _junit_counts(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", "0")
    suite.set("time", "0")


def _at_or_above(severity: str, fail_on: str) -> bool:
    return fail_on != "never" and SEVERITY_RANK[severity] >= SEVERITY_RANK[fail_on]


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text without the control characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("?", text)


# --- Markdown ----------------------------------------------------------------------------


def md_escape(text: str) -> str:
    """Inline Markdown text that renders as written, also inside a table cell."""
    text = " ".join(text.split())
    text = re.sub(r"([\\`*\[\]|~])", r"\\\1", text)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)  # intraword _ is never emphasis
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_code(text: str) -> str:
    """A code span safe inside a table cell."""
    text = " ".join(text.split()).replace("|", "\\|")
    if "`" not in text:
        return f"`{text}`"
    return f"`` {text} ``"


def markdown(result: CheckResult, context: ReportContext) -> str:
    """A job summary: counts, the findings table, how to fix them, and per root module the
    profile, the nodes and the mermaid graph of the required paths."""
    findings = result.findings
    roots = ", ".join(md_code(r.model.root) for r in result.roots) or "none"
    lines = [
        "## calico-sglint",
        "",
        f"**{summary_text(findings)}** in {_count(len(result.roots), 'root module')} ({roots}).",
        "",
    ]
    lines += _markdown_diagnostics(result.diagnostics, context)
    if findings:
        lines += _markdown_table(findings, result, context)
    else:
        lines += ["No findings: every required path is open and nothing is exposed.", ""]
    for root in result.roots:
        lines += _markdown_root(root, result)
    return "\n".join(lines).rstrip("\n") + "\n"


def _markdown_diagnostics(diagnostics: tuple[Diagnostic, ...], context: ReportContext) -> list[str]:
    if not diagnostics:
        return []
    lines = ["### Input problems", ""]
    for d in sorted(diagnostics, key=lambda d: 0 if d.severity == "error" else 1):
        where = f"{md_code(_shown(d.location, context))} " if d.location else ""
        lines.append(f"- {d.severity}: {where}{md_escape(d.message)}")
    return lines + [""]


def _markdown_table(findings: list[Finding], result: CheckResult, context: ReportContext) -> list[str]:
    lines = ["| Severity | Rule | Location | Message |", "|---|---|---|---|"]
    shown = findings[:MAX_MARKDOWN_ROWS]
    for finding in shown:
        label = "unverified" if finding.status == UNVERIFIED else finding.severity
        where = anchor(finding, result)
        location = md_code(_shown(where, context)) if where else md_escape(finding.root)
        lines.append(f"| {label} | {md_code(finding.rule_id)} | {location} | {md_escape(finding.message)} |")
    if len(findings) > len(shown):
        lines.append(f"\n… and {len(findings) - len(shown)} more: see the annotations or the SARIF report.")
    hints = [f for f in shown if f.hint]
    if hints:
        lines += ["", "<details><summary>How to fix</summary>", ""]
        for finding in hints:
            where = anchor(finding, result)
            at = f"{md_code(_shown(where, context))} " if where else ""
            lines.append(f"- {at}{md_code(finding.rule_id)}: {md_escape(finding.hint)}")
        lines += ["", "</details>"]
    return lines + [""]


def _markdown_root(root: RootResult, result: CheckResult) -> list[str]:
    settings = []
    for name, setting in root.profile.settings.items():
        value = setting.value
        shown = ("on" if value else "off") if isinstance(value, bool) else str(value)
        settings.append(f"{name} {md_code(shown)} ({md_escape(setting.source)})")
    checked = ", ".join(md_code(r) for r in requirements_on(result, root)) or "no path requirements"
    nodes = "; ".join(
        f"{md_code(n.group.address)} ({md_escape('+'.join(sorted(n.roles)))})" for n in root.cluster.nodes
    ) or md_escape(root.cluster.note)
    lines = [
        f"### {md_code(root.model.root)}",
        "",
        f"- **Profile:** {', '.join(settings)}",
        f"- **Checked:** {checked}",
        f"- **Nodes:** {nodes}",
        "",
    ]
    graph = root_graph(root)
    text = mermaid([graph])
    if len(text) > MAX_MERMAID_CHARS or len(graph.edges) > MAX_MERMAID_EDGES:
        return lines + [f"The graph has {len(graph.edges)} edges, too many to draw here: run `sglint graph`.", ""]
    return lines + ["```mermaid", text.rstrip("\n"), "```", "", f"<sub>{md_escape(LEGEND)}</sub>", ""]
