"""`sglint fix` through calls of the real registry modules in the corpus (../shared/corpus
beside the clone; skipped without it).

- terraform-aws-security-group, called from outside it: the Typha and VXLAN entries go first
  into the call's `ingress_with_self` (or `computed_ingress_with_self`, its count raised).
- terraform-aws-eks's example with `.terraform/modules` laid out as `terraform init` leaves it
  (bench/installed.py, from the installed-modules issue; skipped until it is there): the VXLAN
  entry goes into `node_security_group_additional_rules` of each of the two module calls (a
  new argument: the example sets none), nothing else changes, `check` is then clean for VXLAN.
"""

from __future__ import annotations

import difflib
import shutil
import sys
from pathlib import Path

import pytest
from conftest import REPO, tree_digest

CORPUS = REPO.parent / "shared" / "corpus"
INSTALLED = REPO / "bench" / "installed.py"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (CORPUS / "terraform-aws-eks").is_dir(), reason="the corpus is not beside the clone"),
]
needs_installed = pytest.mark.skipif(not INSTALLED.is_file(), reason="installed modules (.terraform/modules) are not read yet")
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
    example = Path(eks_example(str(CORPUS), str(tmp_path)))
    _writable(example)  # the corpus is read-only, and copies keep its modes
    return example


def _writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)


def _cluster(address: str) -> str:
    return address.split(".aws_security_group", 1)[0]


def _within_vxlan(report: dict) -> list[dict]:  # type: ignore[type-arg]
    return [f for f in report["findings"] if f["rule_id"] == "calico-vxlan" and f["path"]
            and _cluster(f["path"]["source_sg"]) == _cluster(f["path"]["target_sg"])]


@needs_installed
def test_fix_adds_the_vxlan_entry_to_each_eks_call_and_nothing_else(example: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    """Within each cluster VXLAN is missing (an error), and TCP 5443 from the EKS control plane
    (calico-apiserver-eks, a warning). Until the two clusters are told apart (issue #12), paths
    between them are asked for too: entries for those name the other call's outputs, and are
    the only other lines added."""
    before = {name: (example / name).read_text() for name in CALLS}
    untouched = {k: v for k, v in tree_digest(example).items() if k not in CALLS}
    assert _within_vxlan(sglint("check", example.name, "--format", "json").json())

    result = sglint("fix", example.name)
    assert result.code in (0, 1), result.stderr
    assert {k: v for k, v in tree_digest(example).items() if k not in CALLS} == untouched
    for name in CALLS:
        old, new = before[name].splitlines(), (example / name).read_text().splitlines()
        opcodes = difflib.SequenceMatcher(None, old, new).get_opcodes()
        inserted = [new[j1:j2] for op, i1, i2, j1, j2 in opcodes if op != "equal"]
        assert [op for op, *_ in opcodes if op != "equal"] == ["insert"], name
        added = inserted[0]
        assert added[:2] == ENTRY[:2] and added[-1] == "  }", name
        start = added.index(ENTRY[2])
        assert added[start:start + 8] == ENTRY[2:10], name
        other = "module.eks_bottlerocket" if "al2023" in name else "module.eks_al2023"
        rest = added[2:start] + added[start + 8:-1]
        keys = [line.split(" = {")[0].strip() for line in rest if line.endswith(" = {")]
        within = [k for k in keys if other.split(".")[1] not in k]
        assert within == ["calico_apiserver_eks_ingress_cluster_0"], name  # TCP 5443 from the cluster SG (a warning)
        assert all("source_security_group_id" not in line or f"= {other}." in line for line in rest), name
    assert _within_vxlan(sglint("check", example.name, "--format", "json").json()) == []


SG_CALL = """module "workers_sg" {
  source = "../modules/sg"

  name   = "workers"
  vpc_id = "vpc-0123456789abcdef0"

  %s = [
    {
      rule = "all-icmp"
    },
  ]
%s  egress_rules = ["all-all"]
}

resource "aws_instance" "worker" {
  count                  = 3
  vpc_security_group_ids = [module.workers_sg.security_group_id]
}
"""
SG_ENTRIES = """    {
      description = "calico-sglint: Typha (TCP 5473) between every pair of nodes"
      protocol    = "tcp"
      from_port   = 5473
      to_port     = 5473
    },
    {
      description = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes"
      protocol    = "udp"
      from_port   = 4789
      to_port     = 4789
    },
"""


@pytest.mark.parametrize(("input_name", "count_line"), [
    ("ingress_with_self", ""),
    ("computed_ingress_with_self", "  number_of_computed_ingress_with_self = 1\n"),
])
def test_fix_through_the_security_group_module(tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                               input_name: str, count_line: str) -> None:
    shutil.copytree(CORPUS / "terraform-aws-security-group", tmp_path / "modules" / "sg",
                    ignore=shutil.ignore_patterns("examples"))
    _writable(tmp_path / "modules")
    (tmp_path / ".git").mkdir()  # a repository: live/ calls ../modules/sg inside it
    (tmp_path / "live").mkdir()
    main = SG_CALL % (input_name, count_line)
    (tmp_path / "live" / "main.tf").write_text(main)
    module = tree_digest(tmp_path / "modules")
    monkeypatch.chdir(tmp_path)
    assert [f["rule_id"] for f in sglint("check", "live", "--format", "json").json()["findings"]] == [
        "calico-typha", "calico-vxlan"]
    assert sglint("fix", "live").code == 0
    expected = main.replace(f"  {input_name} = [\n", f"  {input_name} = [\n{SG_ENTRIES}")
    expected = expected.replace("number_of_computed_ingress_with_self = 1", "number_of_computed_ingress_with_self = 3")
    assert (tmp_path / "live" / "main.tf").read_text() == expected
    assert tree_digest(tmp_path / "modules") == module
    assert sglint("check", "live").code == 0
