"""fix/modules.py and fix/calls.py: `sglint fix` writes through the module call.

The modules in fixtures/fix-through-module sit outside the scanned path (`live/`) but inside
the repository, as a registry module in `.terraform/modules` does: sglint reads them and never
edits them. For
each way of fixing through a call (a new argument, a new map key, new list elements, a
computed_* list with its count, a rule resource on the module's output) and each refusal
(an expression passed to the input, inline rules without an id output), the exact patch or
reason; then `check` is clean, terraform fmt accepts the result, and a second fix is a no-op.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES, tree_digest

from calico_sglint.fix.modules import known_module, normalized_source
from calico_sglint.source import Location
from calico_sglint.terraform.workspace import ModuleCall

TERRAFORM = shutil.which("terraform")
EKS_VXLAN = '''
  node_security_group_additional_rules = {
    calico_vxlan_ingress_self = {
      description = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes"
      protocol    = "udp"
      from_port   = 4789
      to_port     = 4789
      type        = "ingress"
      self        = true
    }
  }
'''


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES / "fix-through-module", root)
    (root / ".git").mkdir()  # a repository: live/ reads ../modules inside it
    (root / "live").mkdir()
    monkeypatch.chdir(root)
    return root


def _fixed(repo: Path, sglint, main: str, *flags: str) -> str:  # type: ignore[no-untyped-def]
    """Write live/main.tf, fix, and check what every test checks; return the new main.tf."""
    (repo / "live" / "main.tf").write_text(main)
    modules = tree_digest(repo / "modules")
    result = sglint("fix", "live", *flags)
    assert result.code == 0, result.stdout + result.stderr
    assert tree_digest(repo / "modules") == modules, "the called module is never edited"
    assert sglint("check", "live", *flags).code == 0
    again = sglint("fix", "live", *flags)
    assert again.stdout.startswith("sglint fix: no missing rule to add\n")
    if TERRAFORM:
        fmt = subprocess.run([TERRAFORM, "fmt", "-check", "-recursive", str(repo / "live")], capture_output=True, text=True)
        assert fmt.returncode == 0, fmt.stdout
    return (repo / "live" / "main.tf").read_text()


def test_eks_a_new_argument_when_the_call_has_none(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    head = 'module "eks" {\n  source = "../modules/eks"\n\n  name = "blue"\n'
    (repo / "live" / "main.tf").write_text(head + "}\n")
    diff = sglint("fix", "live", "--diff")
    assert diff.code == 1
    assert diff.stderr.splitlines()[-1] == (
        '    + module.eks node_security_group_additional_rules["calico_vxlan_ingress_self"]: ingress udp/4789 on '
        "module.eks.aws_security_group.node[0] from itself"
    )
    assert _fixed(repo, sglint, head + "}\n") == head + EKS_VXLAN + "}\n"


def test_eks_a_new_key_when_the_map_exists(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    ssh = ('  node_security_group_additional_rules = {\n    ssh = {\n      protocol  = "tcp"\n      from_port = 22\n'
           '      to_port   = 22\n      type      = "ingress"\n      self      = true\n    }\n')
    main = 'module "eks" {\n  source = "../modules/eks"\n\n  name = "blue"\n\n' + ssh + "  }\n}\n"
    entry = "\n".join(EKS_VXLAN.strip("\n").splitlines()[1:-1])
    assert _fixed(repo, sglint, main) == main.replace(ssh + "  }\n", ssh + "\n" + entry + "\n  }\n")


def test_eks_an_empty_map_on_one_line_stays_on_one_line(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    main = 'module "eks" {\n  source = "../modules/eks"\n\n  name                                 = "blue"\n  node_security_group_additional_rules = {}\n}\n'
    assert _fixed(repo, sglint, main) == main.replace("= {}\n", (
        '= { calico_vxlan_ingress_self = { description = "calico-sglint: VXLAN (UDP 4789) between every pair of '
        'nodes", protocol = "udp", from_port = 4789, to_port = 4789, type = "ingress", self = true } }\n'
    ))


@pytest.mark.parametrize("cluster_input", ["security_group_additional_rules", "cluster_security_group_additional_rules"])
def test_eks_cluster_group_input_under_its_v21_and_older_name(repo: Path, sglint, cluster_input: str) -> None:  # type: ignore[no-untyped-def]
    module = repo / "modules" / "eks" / "main.tf"
    module.write_text(module.read_text().replace("security_group_additional_rules", cluster_input)
                      .replace("node_" + cluster_input, "node_security_group_additional_rules"))
    main = 'module "eks" {\n  source = "../modules/eks"\n\n  name                    = "blue"\n  control_plane_instances = 1\n}\n'
    after = _fixed(repo, sglint, main, "--apiserver-port", "443")
    assert f"\n  {cluster_input} = {{\n" in after
    assert after.count("source_node_security_group = true") == 6  # in: typha, vxlan, API; out: typha, vxlan, kubelet
    assert after.count("source_cluster_security_group = true") == 3
    assert "module.eks." not in after, "a call never refers to its own outputs (Error: Cycle)"


def test_eks_an_expression_is_not_rewritten_and_the_entry_is_shown(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    main = ('variable "extra" {\n  default = {}\n}\n\nmodule "eks" {\n  source = "../modules/eks"\n\n  name = "blue"\n\n'
            "  node_security_group_additional_rules = var.extra\n}\n")
    (repo / "live" / "main.tf").write_text(main)
    before = tree_digest(repo)
    for flags in (("--check",), ()):
        result = sglint("fix", "live", *flags)
        assert result.code == 1
        assert result.stdout.splitlines()[:3] == [
            "sglint fix: no missing rule to add",
            "not fixed (1):",
            "  modules/eks/main.tf:55: [calico-vxlan] module.eks passes var.extra to node_security_group_additional_rules "
            "(live/main.tf:10); sglint does not rewrite an expression: add this entry to it: calico_vxlan_ingress_self = "
            '{ description = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes", protocol = "udp", '
            'from_port = 4789, to_port = 4789, type = "ingress", self = true }',
        ]
    assert tree_digest(repo) == before


def test_security_group_module_new_list_elements_first(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    ssh = '    {\n      from_port = 22\n      to_port   = 22\n      protocol  = "tcp"\n    },\n'
    main = f'module "sg" {{\n  source = "../modules/security-group"\n\n  name = "worker"\n  ingress_with_self = [\n{ssh}  ]\n}}\n'
    assert _fixed(repo, sglint, main) == main.replace("  ingress_with_self = [\n", (
        "  ingress_with_self = [\n"
        '    {\n      description = "calico-sglint: Typha (TCP 5473) between every pair of nodes"\n'
        '      protocol    = "tcp"\n      from_port   = 5473\n      to_port     = 5473\n    },\n'
        '    {\n      description = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes"\n'
        '      protocol    = "udp"\n      from_port   = 4789\n      to_port     = 4789\n    },\n'
    ))


def test_security_group_module_computed_list_and_its_count(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    main = ('module "sg" {\n  source = "../modules/security-group"\n\n  name = "worker"\n\n'
            '  computed_ingress_with_self = [\n    {\n      from_port = 22\n      to_port   = 22\n      protocol  = "tcp"\n'
            "    },\n  ]\n  number_of_computed_ingress_with_self = 1\n}\n")
    after = _fixed(repo, sglint, main)
    assert "  number_of_computed_ingress_with_self = 3\n" in after
    assert "ingress_with_self = [" not in after.replace("computed_ingress_with_self = [", "")
    assert after.count('      description = "calico-sglint: ') == 2


def test_an_unknown_module_gets_a_rule_resource_on_its_id_output(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    main = 'module "workers" {\n  source = "../modules/plain"\n}\n'
    assert _fixed(repo, sglint, main) == main
    generated = (repo / "live" / "calico_sglint.tf").read_text()
    assert generated.split("\n\n", 1)[1] == (
        'resource "aws_security_group_rule" "calico_typha_workers_workers_from_self" {\n'
        '  type              = "ingress"\n'
        '  description       = "calico-sglint: Typha (TCP 5473) between every pair of nodes"\n'
        "  from_port         = 5473\n  to_port           = 5473\n"
        '  protocol          = "tcp"\n  security_group_id = module.workers.id\n  self              = true\n}\n\n'
        'resource "aws_security_group_rule" "calico_vxlan_workers_workers_from_self" {\n'
        '  type              = "ingress"\n'
        '  description       = "calico-sglint: VXLAN (UDP 4789) between every pair of nodes"\n'
        "  from_port         = 4789\n  to_port           = 4789\n"
        '  protocol          = "udp"\n  security_group_id = module.workers.id\n  self              = true\n}\n'
    )


def test_inline_rules_without_an_id_output_are_a_reason_naming_the_module(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    (repo / "live" / "main.tf").write_text('module "workers" {\n  source = "../modules/inline"\n}\n')
    before = tree_digest(repo)
    result = sglint("fix", "live", "--diff")
    assert result.code == 1
    assert result.stdout == ""
    reason = (
        "module.workers.aws_security_group.workers is created inside module.workers (../modules/inline), which sglint "
        "does not edit: sglint knows no input of it for extra rules, and its rules there are inline blocks (a rule "
        "resource beside them would fight them); add the rule in the module, or an output with the group's id"
    )
    assert result.stderr.splitlines()[2:] == [
        f"  modules/inline/main.tf:3: [calico-typha] {reason}",
        f"  modules/inline/main.tf:3: [calico-vxlan] {reason}",
    ]
    assert tree_digest(repo) == before


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("terraform-aws-modules/eks/aws", "terraform-aws-modules/eks/aws"),
        ("registry.terraform.io/terraform-aws-modules/eks/aws", "terraform-aws-modules/eks/aws"),
        ("git::https://github.com/terraform-aws-modules/terraform-aws-eks.git?ref=v21.0.0", "terraform-aws-modules/eks/aws"),
        ("github.com/terraform-aws-modules/terraform-aws-security-group//modules/http-80", "terraform-aws-modules/security-group/aws"),
        ("git@github.com:terraform-aws-modules/terraform-aws-eks.git", "terraform-aws-modules/eks/aws"),
        ("./modules/eks", "./modules/eks"),
    ],
)
def test_sources_are_matched_in_every_spelling(source: str, expected: str) -> None:
    assert normalized_source(source) == expected


def test_a_registry_source_is_known_without_reading_the_module() -> None:
    call = ModuleCall("eks", "terraform-aws-modules/eks/aws", None, Location("main.tf", 1, 4))
    entry = known_module(call, None)
    assert entry is not None and entry.source == "terraform-aws-modules/eks/aws"
    names = {n for _, inputs in entry.groups for i in inputs for n in i.names}
    assert names == {"node_security_group_additional_rules", "security_group_additional_rules",
                     "cluster_security_group_additional_rules"}
    assert known_module(ModuleCall("x", "acme/thing/aws", None, Location("main.tf", 1, 1)), None) is None


def test_a_call_and_an_inline_group_in_one_file_are_both_written(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    """Edits go in from the bottom of the file up, so neither moves the other. (The paths
    between the two groups stay: an inline rule cannot name a module's group.)"""
    group = ('resource "aws_security_group" "extra" {\n  name = "extra"\n\n  egress {\n    from_port = 0\n'
             '    to_port   = 0\n    protocol  = "-1"\n    self      = true\n  }\n}\n\n'
             'resource "aws_instance" "worker" {\n  count                  = 2\n'
             '  vpc_security_group_ids = [aws_security_group.extra.id]\n}\n')
    call = 'module "eks" {\n  source = "../modules/eks"\n\n  name = "blue"\n}\n'
    for main in (group + "\n" + call, call + "\n" + group):
        (repo / "live" / "main.tf").write_text(main)
        result = sglint("fix", "live")
        assert result.code == 1
        assert result.stdout.startswith("sglint fix: added 5 rules in 1 file\n  live/main.tf\n")
        after = (repo / "live" / "main.tf").read_text()
        kept = iter(after.splitlines())
        assert all(any(line == other for other in kept) for line in main.splitlines()), "every line stays, in order"
        body = after[after.index('resource "aws_security_group" "extra"'):]
        body = body[:body.index("\n}\n")]
        assert body.count("\n  ingress {\n") == 2 and "node_security_group_additional_rules" not in body
        call_body = after[after.index('module "eks" {'):]
        assert call_body[:call_body.index("\n}\n")].count(" = {\n      description") == 3
        if TERRAFORM:
            fmt = subprocess.run([TERRAFORM, "fmt", "-check", str(repo / "live")], capture_output=True, text=True)
            assert fmt.returncode == 0, fmt.stdout


def test_an_input_that_does_not_open_the_path_is_reported_after_the_fix(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    """A module version that declares the input but ignores it: the fix is written, the
    re-check still fails, and fix says so per finding instead of claiming success."""
    module = repo / "modules" / "eks" / "main.tf"
    module.write_text(module.read_text().replace("merge(local.node_rules, var.node_security_group_additional_rules)",
                                                 "local.node_rules"))
    (repo / "live" / "main.tf").write_text('module "eks" {\n  source = "../modules/eks"\n\n  name = "blue"\n}\n')
    result = sglint("fix", "live")
    assert result.code == 1
    lines = result.stdout.splitlines()
    start = lines.index("still missing after the fix (1): the rules written did not open these paths; check them by hand:")
    assert lines[start + 1].startswith("  modules/eks/main.tf:55: [calico-vxlan] module.eks.aws_autoscaling_group.node")
    assert lines[start + 2] == "after fix: 1 error, 0 warnings"


def test_comments_after_brackets_are_kept(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    main = ('module "eks" {\n  source = "../modules/eks"\n\n  name = "blue"\n\n'
            "  node_security_group_additional_rules = {\n    ssh = {\n      protocol  = \"tcp\"\n      from_port = 22\n"
            '      to_port   = 22\n      type      = "ingress"\n      self      = true\n    }\n  } # extra rules\n}\n')
    after = _fixed(repo, sglint, main)
    assert after.endswith('      self        = true\n    }\n  } # extra rules\n}\n')


@pytest.mark.parametrize(("main", "reason"), [
    ('module "eks" { source = "../modules/eks" }\n',
     "live/main.tf:1: cannot add node_security_group_additional_rules to module.eks: its closing brace is not on a "
     "line of its own"),
    ('module "eks" {\n  source = "../modules/eks"\n\n  node_security_group_additional_rules = {\n'
     '    a = { from_port = 1, to_port = 1, protocol = "tcp", type = "ingress", self = true } }\n}\n',
     "live/main.tf:4: cannot add an entry: the value does not have one item per line and its closing bracket on a "
     "line of its own"),
])
def test_a_layout_sglint_cannot_extend_is_a_reason_with_the_entry(repo: Path, sglint, main: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    (repo / "live" / "main.tf").write_text(main)
    before = tree_digest(repo)
    result = sglint("fix", "live")
    assert result.code == 1
    assert result.stdout.splitlines()[1:3] == ["not fixed (1):", (
        f"  modules/eks/main.tf:55: [calico-vxlan] {reason}; or add this entry to "
        'node_security_group_additional_rules by hand: calico_vxlan_ingress_self = { description = "calico-sglint: '
        'VXLAN (UDP 4789) between every pair of nodes", protocol = "udp", from_port = 4789, to_port = 4789, '
        'type = "ingress", self = true }')]
    assert tree_digest(repo) == before


def test_a_rule_on_a_counted_module_output_is_guarded_by_the_instance(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    main = 'module "workers" {\n  source = "../modules/plain"\n  count  = 2\n}\n'
    _fixed(repo, sglint, main)
    generated = (repo / "live" / "calico_sglint.tf").read_text()
    block = generated[generated.index('"calico_vxlan_workers_0_workers_from_workers_1_workers" {'):]
    assert block.splitlines()[1:3] == ["  count = length(module.workers) > 0 && length(module.workers) > 1 ? 1 : 0", ""]
    assert "  security_group_id        = module.workers[0].id\n  source_security_group_id = module.workers[1].id\n" in block
    assert generated.count("resource ") == 8  # typha and vxlan: 0 and 1 each from itself and from the other


def test_a_computed_count_given_by_an_expression_is_not_rewritten(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    main = ('variable "n" {\n  default = 0\n}\n\nmodule "sg" {\n  source = "../modules/security-group"\n\n'
            '  name                                 = "worker"\n  computed_ingress_with_self           = []\n'
            "  number_of_computed_ingress_with_self = var.n\n}\n")
    (repo / "live" / "main.tf").write_text(main)
    before = tree_digest(repo)
    result = sglint("fix", "live", "--check")
    assert result.code == 1
    assert result.stdout.splitlines()[2] == (
        "  modules/security-group/main.tf:33: [calico-typha] module.sg sets number_of_computed_ingress_with_self to an "
        "expression; sglint does not rewrite it: add this entry to computed_ingress_with_self and raise "
        'number_of_computed_ingress_with_self by one: { description = "calico-sglint: Typha (TCP 5473) between every '
        'pair of nodes", protocol = "tcp", from_port = 5473, to_port = 5473 }'
    )
    assert tree_digest(repo) == before


def test_two_environments_calling_one_module_each_get_their_entry(repo: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    call = 'module "eks" {\n  source = "../../modules/eks"\n\n  name = "%s"\n}\n'
    for env in ("prod", "staging"):
        (repo / "envs" / env).mkdir(parents=True)
        (repo / "envs" / env / "main.tf").write_text(call % env)
    result = sglint("fix", "envs")
    assert result.code == 0, result.stdout
    for env in ("prod", "staging"):
        assert (repo / "envs" / env / "main.tf").read_text() == (call % env)[:-2] + EKS_VXLAN + "}\n"
    assert sglint("check", "envs").code == 0
