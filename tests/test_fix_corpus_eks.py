"""`sglint fix` on the corpus's terraform-aws-eks example with `.terraform/modules` laid out as
`terraform init` leaves it (bench/installed.py, from the installed-modules issue): the VXLAN
entry goes into `node_security_group_additional_rules` of each of the two module calls (a new
argument: the example sets none), nothing else changes, and `check` is then clean for VXLAN.

Skipped without the corpus (../shared/corpus beside the clone) or without installed-module
reading (bench/installed.py)."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import pytest
from conftest import REPO, tree_digest

CORPUS = REPO.parent / "shared" / "corpus"
INSTALLED = REPO / "bench" / "installed.py"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CORPUS / "terraform-aws-eks").is_dir(), reason="the corpus is not beside the clone"),
    pytest.mark.skipif(not INSTALLED.is_file(), reason="installed modules (.terraform/modules) are not read yet"),
]
CALLS = ("eks-al2023.tf", "eks-bottlerocket.tf")
ENTRY = [
    "",
    "  node_security_group_additional_rules = {",
    "    calico_vxlan_ingress_self = {",
    '      description = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes"',
    '      protocol    = "udp"',
    "      from_port   = 4789",
    "      to_port     = 4789",
    '      type        = "ingress"',
    "      self        = true",
    "    }",
    "  }",
]


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    sys.path.insert(0, str(REPO / "bench"))
    try:
        from installed import eks_example  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(REPO / "bench"))
    monkeypatch.chdir(tmp_path)
    return Path(eks_example(str(CORPUS), str(tmp_path)))


def test_fix_adds_the_vxlan_entry_to_each_eks_call_and_nothing_else(example: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    before = {name: (example / name).read_text() for name in CALLS}
    untouched = {k: v for k, v in tree_digest(example).items() if k not in CALLS}
    vxlan = [f for f in sglint("check", example.name, "--format", "json").json()["findings"] if f["rule_id"] == "calico-vxlan"]
    assert vxlan, "the example misses VXLAN between the nodes of each cluster"

    result = sglint("fix", example.name)
    assert result.code in (0, 1), result.stderr
    assert {k: v for k, v in tree_digest(example).items() if k not in CALLS} == untouched
    for name in CALLS:
        old, new = before[name].splitlines(), (example / name).read_text().splitlines()
        inserted = [
            new[j1:j2] for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new).get_opcodes() if op != "equal"
        ]
        assert inserted == [ENTRY], name
        assert new[new.index("  node_security_group_additional_rules = {") + 11] == "}"

    after = sglint("check", example.name, "--format", "json").json()
    assert [f for f in after["findings"] if f["rule_id"] == "calico-vxlan"] == []
