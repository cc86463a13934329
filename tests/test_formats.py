"""`sglint check --format sarif|github|junit|markdown`, `--output` and `--also`: SARIF of every
fixture validated against the SARIF 2.1.0 schema, with repository-relative URIs and lines,
fingerprints that survive moved lines; exact workflow commands and their escaping; JUnit
counts; the Markdown summary; locations with line 0 and findings without a location."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from conftest import EXAMPLES, FIXTURES, REPO

from calico_sglint import __version__
from calico_sglint.pipeline import CheckOptions, ReadOptions, check
from calico_sglint.render.context import ReportContext, repo_path, repository_root
from calico_sglint.render.github import escape_data, escape_property
from calico_sglint.render.github import render as github
from calico_sglint.render.markdown import md_code, md_escape
from calico_sglint.render.sarif import sarif
from calico_sglint.source import Location

# The OASIS SARIF 2.1.0 schema, as the project's shared/schemas/ has it; vendored so that a
# clone anywhere can run the tests (test_the_vendored_sarif_schema_is_the_shared_one).
SARIF_SCHEMA_PATH = REPO / "tests" / "data" / "sarif-schema-2.1.0.json"
SHARED_SARIF_SCHEMA = REPO.parent / "shared" / "schemas" / "sarif-schema-2.1.0.json"
SARIF_VALIDATOR = jsonschema.Draft7Validator(json.loads(SARIF_SCHEMA_PATH.read_text()))
CHECKED = [f"fixtures/{p.name}" for p in sorted(FIXTURES.iterdir()) if p.is_dir()] + [
    "examples/typha-blocked", "examples/cluster-sg",
]


@pytest.mark.parametrize("path", CHECKED)
def test_sarif_of_every_fixture_validates(path: str, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", path, "--format", "sarif")
    log = result.json()
    SARIF_VALIDATOR.validate(log)
    run = log["runs"][0]
    assert len(log["runs"]) == 1
    assert run["automationDetails"]["id"] == f"calico-sglint/{path}/"
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == REPO.as_uri() + "/"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    expected = json.loads((FIXTURES.parent / path / "expected" / "check.json").read_text()) if (
        FIXTURES.parent / path / "expected" / "check.json").exists() else None
    for item in run["results"]:
        assert rules[item["ruleIndex"]] == item["ruleId"]
        location = item["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert location["artifactLocation"]["uriBaseId"] == "SRCROOT"
        assert uri.startswith(path + "/") and uri.endswith(".tf") and (REPO / uri).is_file()
        assert 1 <= location["region"]["startLine"] <= location["region"]["endLine"]
        assert len(item["partialFingerprints"]["calicoSglint/v1"]) == 32
    if expected is not None:
        assert [(r["ruleId"], r["partialFingerprints"]["calicoSglint/v1"], r["level"],
                 r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in run["results"]] == [
            (f["rule_id"], f["fingerprint"], {"info": "note"}.get(f["severity"], f["severity"]), f["location"]["line"])
            for f in expected["findings"]
        ]
    assert run["invocations"][0]["executionSuccessful"] is (result.code != 2)


def test_sarif_rules_are_the_rule_pages(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    driver = sglint("check", "examples/typha-blocked", "--format", "sarif").json()["runs"][0]["tool"]["driver"]
    assert (driver["name"], driver["version"]) == ("calico-sglint", __version__)
    typha = driver["rules"][0]
    assert typha["id"] == "calico-typha" and typha["name"] == "CalicoTypha"
    assert typha["shortDescription"] == {"text": "Typha (TCP 5473) between every pair of nodes"}
    assert typha["fullDescription"]["text"].startswith("Checks that every node can reach every other node on TCP 5473")
    assert typha["defaultConfiguration"] == {"level": "error"}
    assert typha["helpUri"] == "https://docs.tigera.io/calico/latest/getting-started/kubernetes/requirements#network-requirements"
    assert "**Why it matters.** calico-node on every node connects to a Typha instance" in typha["help"]["markdown"]
    assert "```hcl\n# 5473 is open only between workers" in typha["help"]["markdown"]
    assert typha["help"]["text"].startswith("Checks that every node")
    levels = {r["id"]: r["defaultConfiguration"]["level"] for r in driver["rules"]}
    assert levels["sg-cross-reference"] == "warning"


def test_sarif_related_locations_and_messages(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    results = sglint("check", "examples/typha-blocked", "--format", "sarif").json()["runs"][0]["results"]
    first = results[0]
    assert first["message"]["text"].startswith(
        "aws_instance.worker (aws_security_group.worker) cannot reach aws_instance.master")
    assert "\n\nHow to fix: Add an ingress rule on aws_security_group.master" in first["message"]["text"]
    assert first["relatedLocations"] == [{
        "id": 1,
        "physicalLocation": {"artifactLocation": {"uri": "examples/typha-blocked/main.tf", "uriBaseId": "SRCROOT"},
                             "region": {"startLine": 33, "endLine": 41}},
        "message": {"text": "master admits aws_security_group.worker on tcp/6443, udp/4789 only"},
    }]
    assert first["properties"]["path"]["missing"] == "ingress"


def test_fingerprints_survive_moved_lines(copy_tree, sglint) -> None:  # type: ignore[no-untyped-def]
    root = copy_tree(EXAMPLES / "typha-blocked", "infra")
    before = sglint("check", "infra", "--format", "sarif").json()["runs"][0]["results"]
    main = root / "main.tf"
    main.write_text("# a comment\n\nvariable \"unused\" {\n  default = 1\n}\n\n" + main.read_text())
    after = sglint("check", "infra", "--format", "sarif").json()["runs"][0]["results"]
    lines = lambda rs: [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in rs]  # noqa: E731
    assert lines(after) == [line + 6 for line in lines(before)]
    assert [r["partialFingerprints"] for r in after] == [r["partialFingerprints"] for r in before]


def test_paths_are_relative_to_the_repository_not_the_working_directory(tmp_path: Path, sglint, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "typha-blocked", repo / "infra" / "k8s")
    (repo / ".git").write_text("gitdir: /elsewhere\n")  # a worktree's .git is a file
    monkeypatch.chdir(repo / "infra")
    log = sglint("check", "k8s", "--format", "sarif").json()
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]}
    assert uris == {"infra/k8s/main.tf"}
    assert log["runs"][0]["automationDetails"]["id"] == "calico-sglint/infra/k8s/"
    out = sglint("check", "k8s", "--format", "github").stdout
    assert out.startswith("::error file=infra/k8s/main.tf,line=21,endLine=25,")


def test_repository_root_and_repo_path(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert repository_root(str(tmp_path / "a" / "b")) == str(tmp_path / "a" / "b")
    (tmp_path / ".git").mkdir()
    assert repository_root(str(tmp_path / "a" / "b")) == str(tmp_path)
    assert repo_path("../b/main.tf", str(tmp_path / "a" / "c"), str(tmp_path)) == "a/b/main.tf"
    assert repo_path("../../x.tf", str(tmp_path / "a"), str(tmp_path)) == str(tmp_path.parent / "x.tf")


def _typha_result():  # type: ignore[no-untyped-def]
    return check(CheckOptions(ReadOptions(paths=("examples/typha-blocked",))))


def test_line_zero_and_missing_locations_still_make_valid_sarif_and_annotations(in_repo) -> None:  # type: ignore[no-untyped-def]
    result = _typha_result()
    root = result.roots[0]
    first, second, third = root.findings
    changed = (
        dataclasses.replace(first, location=Location(first.location.file, 0, 0)),
        dataclasses.replace(second, location=None, path=None),
        dataclasses.replace(third, location=None),
    )
    result = dataclasses.replace(result, roots=(dataclasses.replace(root, findings=changed),))
    context = ReportContext(str(REPO), str(REPO), "x")
    log = sarif(result, context)
    SARIF_VALIDATOR.validate(log)
    locations = [r["locations"][0]["physicalLocation"] for r in log["runs"][0]["results"]]
    assert locations == [
        {"artifactLocation": {"uri": "examples/typha-blocked/main.tf", "uriBaseId": "SRCROOT"}},
        {"artifactLocation": {"uri": "examples/typha-blocked/main.tf", "uriBaseId": "SRCROOT"}},
        # no location of its own: the target node group (aws_instance.worker)
        {"artifactLocation": {"uri": "examples/typha-blocked/main.tf", "uriBaseId": "SRCROOT"},
         "region": {"startLine": 124, "endLine": 133}},
    ]
    lines = github(result, context).splitlines()
    assert lines[0].startswith("::error file=examples/typha-blocked/main.tf,title=calico-typha")
    assert lines[1].startswith("::warning file=examples/typha-blocked/main.tf,title=sg-cross-reference")
    assert lines[2].startswith("::error file=examples/typha-blocked/main.tf,line=124,endLine=133,title=")


def test_github_annotations_are_exact(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    from test_action import TYPHA_ANNOTATIONS

    result = sglint("check", "examples/typha-blocked", "--format", "github")
    assert (result.code, result.stdout.splitlines()) == (1, TYPHA_ANNOTATIONS)


def test_github_annotates_input_problems(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "fixtures/syntax-error", "--format", "github")
    assert result.code == 2
    first = result.stdout.splitlines()[0]
    assert first == ("::error file=fixtures/syntax-error/broken/main.tf,line=8,endLine=8,title=sglint%3A input error::"
                     "unexpected end of file (is a closing brace or quote missing?)")


@pytest.mark.parametrize(
    ("text", "data", "prop"),
    [
        ("a:b,c", "a:b,c", "a%3Ab%2Cc"),
        ("100% sure\r\nnext", "100%25 sure%0D%0Anext", "100%25 sure%0D%0Anext"),
        ("%0A literal", "%250A literal", "%250A literal"),
    ],
)
def test_workflow_command_escaping(text: str, data: str, prop: str) -> None:
    assert (escape_data(text), escape_property(text)) == (data, prop)


def test_junit_has_a_case_per_required_path_and_check(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/typha-blocked", "--format", "junit")
    suites = ET.fromstring(result.stdout)
    assert suites.tag == "testsuites"
    assert {k: suites.get(k) for k in ("tests", "failures", "errors")} == {"tests": "19", "failures": "2", "errors": "0"}
    suite = suites.find("testsuite")
    assert suite is not None and suite.get("name") == "examples/typha-blocked"
    failed = [(c.get("classname"), c.get("name"), c.get("file"), c.get("line")) for c in suite.iter("testcase")
              if c.find("failure") is not None]
    assert failed == [
        ("calico-typha", "aws_instance.master -> aws_instance.worker tcp/5473", "examples/typha-blocked/main.tf", "27"),
        ("calico-typha", "aws_instance.worker -> aws_instance.master tcp/5473", "examples/typha-blocked/main.tf", "21"),
    ]
    names = [(c.get("classname"), c.get("name")) for c in suite.iter("testcase")]
    assert ("k8s-kubelet", "aws_instance.master -> aws_instance.worker tcp/10250") in names
    assert ("sg-cycle", "Security groups whose inline rules reference each other") in names
    warning = next(c for c in suite.iter("testcase") if c.get("classname") == "sg-cross-reference")
    assert warning.find("failure") is None
    assert warning.findtext("system-out", "").startswith("warning (below the fail level error): ")
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["encapsulation"] == "VXLAN (default)"


def test_junit_follows_the_fail_level(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    strict = ET.fromstring(sglint("check", "examples/typha-blocked", "--format", "junit", "--fail-on", "warning").stdout)
    assert strict.get("failures") == "3"
    lenient = ET.fromstring(sglint("check", "examples/typha-blocked", "--format", "junit", "--fail-on", "never").stdout)
    assert lenient.get("failures") == "0"
    unverified = ET.fromstring(sglint("check", "fixtures/check-unverified", "--format", "junit", "--fail-on", "warning").stdout)
    assert [f.get("type") for f in unverified.iter("failure")] == ["unverified"]


def test_junit_reports_input_errors_as_errors(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    suites = ET.fromstring(sglint("check", "fixtures/syntax-error", "--format", "junit").stdout)
    assert int(suites.get("errors", "0")) >= 1
    assert suites.find("testsuite[@name='input']/testcase/error") is not None


def test_markdown_summary(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    from test_diagram import TYPHA_MERMAID

    text = sglint("check", "examples/typha-blocked", "--format", "markdown").stdout
    lines = text.splitlines()
    assert lines[:6] == [
        "## calico-sglint",
        "",
        "**2 errors, 1 warning** in 1 root module (`examples/typha-blocked`).",
        "",
        "| Severity | Rule | Location | Message |",
        "|---|---|---|---|",
    ]
    assert lines[6] == (
        "| error | `calico-typha` | `examples/typha-blocked/main.tf:21` | aws_instance.worker "
        "(aws_security_group.worker) cannot reach aws_instance.master (aws_security_group.master) on "
        "tcp/5473: no ingress rule on aws_security_group.master admits tcp/5473 from aws_security_group.worker |"
    )
    assert "<details><summary>How to fix</summary>" in text
    assert "- **Checked:** `calico-typha`, `calico-vxlan`, `k8s-apiserver`, `k8s-kubelet`" in text
    assert "- **Profile:** encapsulation `VXLAN` (default), bgp `off` (default), typha `on` (default)" in text
    assert "### `examples/typha-blocked`\n" in text
    assert f"```mermaid\n{TYPHA_MERMAID}```\n" in text


def test_markdown_cells_cannot_break_the_table() -> None:
    assert md_escape("a|b *c* _d_ snake_case [x](y) <b> `z`") == (
        "a\\|b \\*c\\* \\_d\\_ snake_case \\[x\\](y) &lt;b&gt; \\`z\\`"
    )
    assert md_escape("two\nlines") == "two lines"
    assert md_code("a|b") == "`a\\|b`"
    assert md_code("a`b") == "`` a`b ``"


def test_markdown_without_findings(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    text = sglint("check", "examples/cluster-sg", "--format", "markdown").stdout
    assert "**0 errors, 0 warnings** in 1 root module (`examples/cluster-sg`)." in text
    assert "No findings: every required path is open and nothing is exposed." in text
    assert "| Severity |" not in text
    assert '```mermaid\n%%{init: {"flowchart": {"rankSpacing": 106}}}%%\nflowchart TB\n' in text


@pytest.mark.parametrize("name", ["text", "json", "sarif", "github", "junit", "markdown"])
def test_output_writes_every_format_to_a_file(name: str, tmp_path: Path, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / f"report.{name}"
    result = sglint("check", "examples/typha-blocked", "--format", name, "--output", str(target))
    assert (result.code, result.stdout) == (1, "")
    shown = sglint("check", "examples/typha-blocked", "--format", name).stdout
    if name == "text":
        assert target.read_text().splitlines() == shown.splitlines()
    else:
        assert target.read_text() == shown


def test_also_writes_several_reports_from_one_run(tmp_path: Path, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    sarif_file, summary_file = tmp_path / "out" / "x.sarif", tmp_path / "summary.md"
    (tmp_path / "out").mkdir()
    result = sglint("check", "examples/typha-blocked", "--format", "github",
                    "--also", f"sarif={sarif_file}", "--also", f"MARKDOWN={summary_file}")
    assert result.code == 1
    assert result.stdout.startswith("::error file=examples/typha-blocked/main.tf,line=21,")
    SARIF_VALIDATOR.validate(json.loads(sarif_file.read_text()))
    assert summary_file.read_text() == sglint("check", "examples/typha-blocked", "--format", "markdown").stdout


@pytest.mark.parametrize("value", ["sarif", "pdf=x.pdf", "sarif=", "=x"])
def test_malformed_also_is_a_usage_error(value: str, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/typha-blocked", "--also", value)
    assert result.code == 2
    assert "--also" in result.stderr and "Traceback" not in result.stderr


def test_also_refuses_the_same_file_twice(tmp_path: Path, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    same = str(tmp_path / "r")
    assert sglint("check", "examples/typha-blocked", "-o", same, "--also", f"sarif={same}").code == 2
    assert not os.path.exists(same)


def test_unwritable_output_is_an_input_error(tmp_path: Path, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/typha-blocked", "--also", f"sarif={tmp_path / 'no' / 'dir' / 'x'}")
    assert result.code == 2
    assert "cannot write the report" in result.stderr


def test_config_file_chooses_format_and_output(tmp_path: Path, sglint, copy_tree) -> None:  # type: ignore[no-untyped-def]
    root = copy_tree(EXAMPLES / "typha-blocked", "infra")
    (root / ".sglint.yaml").write_text("format: sarif\noutput: sglint.sarif\n")
    result = sglint("check", "infra")
    assert (result.code, result.stdout) == (1, "")
    SARIF_VALIDATOR.validate(json.loads((root / "sglint.sarif").read_text()))


def test_check_help_has_format_examples(sglint) -> None:  # type: ignore[no-untyped-def]
    out = " ".join(sglint("check", "--help").stdout.split())
    assert "sglint check . -f github --also sarif=out.sarif --also markdown=out.md" in out
    for name in ("sarif", "github", "junit", "markdown"):
        assert name in out


@pytest.mark.skipif(not SHARED_SARIF_SCHEMA.exists(), reason="no ../shared/schemas beside this checkout")
def test_the_vendored_sarif_schema_is_the_shared_one() -> None:
    assert SARIF_SCHEMA_PATH.read_bytes() == SHARED_SARIF_SCHEMA.read_bytes()


def test_a_requirement_that_checked_nothing_is_said_in_every_format(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    # profile-vxlan has no control-plane group: k8s-apiserver and k8s-kubelet check nothing.
    why = "no control-plane node group to check paths to"
    github = sglint("check", "fixtures/profile-vxlan", "--format", "github").stdout
    assert (f"::notice title=sglint%3A requirements that checked nothing::checked nothing in fixtures/profile-vxlan: "
            f"k8s-apiserver ({why}); k8s-kubelet (no control-plane node group to check paths from)") in github
    junit = ET.fromstring(sglint("check", "fixtures/profile-vxlan", "--format", "junit").stdout)
    skipped = [(c.get("classname"), c.find("skipped").get("message")) for c in junit.iter("testcase")
               if c.find("skipped") is not None]
    assert skipped[0] == ("k8s-apiserver", why) and len(skipped) == 2 and junit.get("skipped") == "2"
    sarif = sglint("check", "fixtures/profile-vxlan", "--format", "sarif").json()
    assert sarif["runs"][0]["properties"]["roots"][0]["not_checked"][0] == {"rule_id": "k8s-apiserver", "reason": why}
    markdown = sglint("check", "fixtures/profile-vxlan", "--format", "markdown").stdout
    assert f"- **Checked nothing:** `k8s-apiserver` ({why})" in markdown
