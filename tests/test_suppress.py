"""suppress.py: `# sglint:ignore=...` per placement, reasons required, unused suppressions
reported, `--no-ignore`; baselines that report only new findings."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, write

NODES = '''
resource "aws_instance" "node" {
  count                  = 3
  vpc_security_group_ids = [aws_security_group.nodes.id]
}
'''

# Two sg-exposed findings: BGP from 0.0.0.0/0 (inline, line 9) and kubelet from 0.0.0.0/0
# (a rule resource). Every Calico path is open through the self rule.
EXPOSED = '''resource "aws_security_group" "nodes" {
  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }
  {BEFORE_INGRESS}
  ingress { {TRAILING}
    {INSIDE_INGRESS}
    from_port   = 179
    to_port     = 179
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
  {INSIDE_SG}
}

resource "aws_security_group" "other" {}

{BEFORE_RULE}
resource "aws_security_group_rule" "kubelet_world" {
  type              = "ingress"
  from_port         = 10250
  to_port           = 10250
  protocol          = "tcp"
  security_group_id = aws_security_group.other.id
  cidr_blocks       = ["0.0.0.0/0"]
}
''' + NODES.replace("aws_security_group.nodes.id", "aws_security_group.nodes.id, aws_security_group.other.id")


def module(**placements: str) -> str:
    text = EXPOSED
    for slot in ("BEFORE_INGRESS", "TRAILING", "INSIDE_INGRESS", "INSIDE_SG", "BEFORE_RULE"):
        text = text.replace("{" + slot + "}", placements.get(slot, ""))
    return text


@pytest.fixture
def check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint):  # type: ignore[no-untyped-def]
    def run(source: str, *flags: str) -> dict[str, Any]:
        write(tmp_path / "m", {"main.tf": source})
        monkeypatch.chdir(tmp_path)
        result = sglint("check", "m", "--format", "json", *flags)
        assert result.code in (0, 1), result.stderr
        return result.json()  # type: ignore[no-any-return]

    return run


def found(report: dict[str, Any]) -> list[tuple[str, int]]:
    return [(f["rule_id"], f["location"]["line"]) for f in report["findings"]]


def test_without_suppressions_both_exposures_are_reported(check) -> None:  # type: ignore[no-untyped-def]
    assert found(check(module())) == [("sg-exposed", 9), ("sg-exposed", 28)]


@pytest.mark.parametrize(
    ("placement", "comment"),
    [
        ("BEFORE_INGRESS", "# sglint:ignore=sg-exposed BGP peering with the datacenter, filtered upstream"),
        ("BEFORE_INGRESS", "// sglint:ignore=sg-exposed BGP peering with the datacenter, filtered upstream"),
        ("INSIDE_INGRESS", "# sglint:ignore=sg-exposed BGP peering with the datacenter, filtered upstream"),
        ("TRAILING", "# sglint:ignore=sg-exposed BGP peering with the datacenter, filtered upstream"),
        ("INSIDE_SG", "# sglint:ignore=sg-exposed,sg-cycle the whole group is a lab; nothing here is real"),
    ],
    ids=["line-above-block", "slash-comment", "inside-block", "trailing-on-opening-line", "inside-resource"],
)
def test_each_placement_suppresses_only_its_block(check, placement: str, comment: str) -> None:  # type: ignore[no-untyped-def]
    report = check(module(**{placement: comment}))
    remaining = [f for f in report["findings"] if f["rule_id"] == "sg-exposed"]
    assert [f["location"]["line"] for f in remaining] == [28]
    (hidden,) = report["suppressed"]
    assert hidden["rule_id"] == "sg-exposed" and hidden["location"]["line"] == 9
    assert hidden["reason"] == comment.split(" ", 2)[2]
    assert report["summary"]["suppressed"] == 1
    if "sg-cycle" in comment:  # the second id matched nothing: reported
        (unused,) = [f for f in report["findings"] if f["rule_id"] == "sglint-ignore"]
        assert unused["message"] == "the suppression of sg-cycle suppresses nothing; remove it"


def test_the_line_above_a_resource_with_an_ordinary_comment_between(check) -> None:  # type: ignore[no-untyped-def]
    comment = "# sglint:ignore=sg-exposed kubelet behind a NAT, see runbook 12\n# the rule below is old"
    report = check(module(BEFORE_RULE=comment))
    assert found(report) == [("sg-exposed", 9)]
    assert report["suppressed"][0]["location"]["line"] == 29


def test_a_suppression_without_a_reason_does_not_suppress_and_is_reported(check) -> None:  # type: ignore[no-untyped-def]
    report = check(module(BEFORE_INGRESS="# sglint:ignore=sg-exposed"))
    assert found(report) == [("sglint-ignore", 8), ("sg-exposed", 9), ("sg-exposed", 28)]
    problem = report["findings"][0]
    assert problem["severity"] == "warning"
    assert problem["message"] == (
        "the suppression of sg-exposed has no reason, so it suppresses nothing: write why after the rule ids"
    )


def test_unknown_rules_and_suppressions_of_nothing_are_reported(check) -> None:  # type: ignore[no-untyped-def]
    report = check(module(BEFORE_INGRESS="# sglint:ignore=sg-exposd typo in the id", BEFORE_RULE="# sglint:ignore=calico-typha nothing to hide here"))
    problems = [(f["location"]["line"], f["message"]) for f in report["findings"] if f["rule_id"] == "sglint-ignore"]
    assert problems == [
        (8, "no rule 'sg-exposd' (see `sglint rules`)"),
        (27, "the suppression of calico-typha suppresses nothing; remove it"),
    ]


def test_no_ignore_shows_everything_and_judges_no_suppression(check) -> None:  # type: ignore[no-untyped-def]
    report = check(module(BEFORE_INGRESS="# sglint:ignore=sg-exposed BGP peering", BEFORE_RULE="# sglint:ignore"), "--no-ignore")
    assert found(report) == [("sg-exposed", 9), ("sg-exposed", 28)]
    assert report["suppressed"] == []


def test_a_path_finding_is_suppressed_on_its_target_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    tree = tmp_path / "t"
    shutil.copytree(EXAMPLES / "typha-blocked", tree)
    main = tree / "main.tf"
    main.write_text(main.read_text().replace(
        'resource "aws_security_group" "master" {',
        '# sglint:ignore=calico-typha the masters run no calico-node until the migration (TICKET-42)\n'
        'resource "aws_security_group" "master" {',
    ))
    monkeypatch.chdir(tmp_path)
    report = sglint("check", "t", "--format", "json").json()
    typha = [f["path"]["target_sg"] for f in report["findings"] if f["rule_id"] == "calico-typha"]
    assert typha == ["aws_security_group.worker"]
    assert [s["reason"] for s in report["suppressed"]] == [
        "the masters run no calico-node until the migration (TICKET-42)"
    ]
    text = sglint("check", "t").stdout.splitlines()[-1]
    assert text == "1 error, 1 warning (1 suppressed)"


class TestBaseline:
    def test_adding_one_new_finding_reports_exactly_that_one(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
        tree = tmp_path / "t"
        shutil.copytree(EXAMPLES / "typha-blocked", tree)
        monkeypatch.chdir(tmp_path)
        wrote = sglint("check", "t", "--write-baseline", "baseline.json")
        assert (wrote.code, wrote.stdout.strip().splitlines()[-1]) == (0, "sglint: wrote 3 findings to the baseline baseline.json")
        recorded = json.loads((tmp_path / "baseline.json").read_text())
        assert sorted(f["rule_id"] for f in recorded["findings"]) == ["calico-typha", "calico-typha", "sg-cross-reference"]

        clean = sglint("check", "t", "--baseline", "baseline.json", "--format", "json")
        assert (clean.code, clean.json()["findings"], clean.json()["summary"]["baselined"]) == (0, [], 3)

        # Lines move (a comment on top) and one new finding appears: BGP open to the world.
        main = tree / "main.tf"
        main.write_text("# moved every line down\n\n" + main.read_text() + '''
resource "aws_security_group_rule" "bgp_world" {
  type              = "ingress"
  from_port         = 179
  to_port           = 179
  protocol          = "tcp"
  security_group_id = aws_security_group.worker.id
  cidr_blocks       = ["0.0.0.0/0"]
}
''')
        new = sglint("check", "t", "--baseline", "baseline.json", "--format", "json")
        assert new.code == 1
        assert [(f["rule_id"], f["message"]) for f in new.json()["findings"]] == [
            ("sg-exposed", "aws_security_group.worker admits tcp/179 from 0.0.0.0/0, exposing BGP to the internet"),
        ]

    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("{not json", "the baseline is not JSON"),
            ('{"schema_version": 9, "findings": []}', "not an sglint baseline (write one with --write-baseline)"),
            ('{"schema_version": 1, "findings": [{"rule_id": "x"}]}', "findings[].fingerprint: every entry needs a fingerprint string"),
        ],
    )
    def test_a_broken_baseline_is_exit_2(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint, content: str, message: str) -> None:  # type: ignore[no-untyped-def]
        (tmp_path / "b.json").write_text(content)
        monkeypatch.chdir(EXAMPLES.parent)
        result = sglint("check", "examples/cluster-sg", "--baseline", str(tmp_path / "b.json"))
        assert result.code == 2 and message in result.stderr
