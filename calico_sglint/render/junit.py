"""JUnit XML: one test per required path and per structural check."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from calico_sglint.checks.findings import UNVERIFIED, Finding, RequiredPath, at_or_above
from calico_sglint.render.context import ReportContext, repo_path, shown
from calico_sglint.render.diagram import Traffic, traffic_text
from calico_sglint.render.sarif import TOOL_NAME
from calico_sglint.result import CheckResult, RootResult
from calico_sglint.source import Location


def render(result: CheckResult, context: ReportContext) -> str:
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
                f"{traffic_text(Traffic(required.protocol, *required.ports, ()))}")
        suite.append(_junit_case(required.rule.id, name, found, context))
    for rule_id, why in root.not_checked:  # checked nothing: skipped, never passed
        case = ET.SubElement(suite, "testcase", classname=rule_id, name=_xml_text(f"{rule_id}: checked nothing"), time="0")
        ET.SubElement(case, "skipped", message=_xml_text(why))
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
        path is not None and finding.rule_id == required.rule.id and path.protocol == required.protocol
        and path.from_port <= required.ports[0] and required.ports[1] <= path.to_port
        and required.source.group.address in path.source_groups
        and required.target.group.address in path.target_groups
    )


def _junit_case(classname: str, name: str, findings: list[Finding], context: ReportContext) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name=_xml_text(name), time="0")
    failing = [f for f in findings if at_or_above(f.severity, context.fail_on)]
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
    where = f"{shown(finding.location, context)}: " if finding.location else ""
    return f"{where}[{finding.rule_id}] {finding.message}" + (f"\nHow to fix: {finding.hint}" if finding.hint else "")


def _junit_where(case: ET.Element, location: Location, context: ReportContext) -> None:
    case.set("file", repo_path(location.file, context.cwd, context.repo_root))
    if location.line >= 1:
        case.set("line", str(location.line))


def _junit_counts(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("time", "0")


_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text without the control characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("?", text)
