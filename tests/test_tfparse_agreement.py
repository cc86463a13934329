"""Differential test: our Terraform evaluator against trivy's, as embedded in `tfparse`.

What it proves: for every Terraform module tree among the fixtures and examples, the
security-group rules `sglint show` resolves are the rules an independent evaluator resolves
from the same files: the same security groups, and the same (SG, direction, protocol, ports,
peer) tuples wherever tfparse resolves them. Our reader re-implements Terraform's evaluation
(variables, tfvars, locals, count/for_each, dynamic blocks, modules); the fixtures' expected
models were written by us, so they can share our misunderstandings. tfparse (trivy's Go
evaluator) cannot.

How: both sides become sets of normalised rule tuples, one per peer:
    (security group address, direction, protocol, from_port, to_port, peer kind, peer value)
tfparse's raw values go through OUR public normalisation (`normalize_protocol`,
`port_range`), so a difference is about evaluation, never about notation. `self` peers
become the SG's own address, so `self = true` and `referenced_security_group_id = <own id>`
are the same tuple. A field tfparse leaves unresolved (null, `{"__attribute__": ...}`,
`${...}` text) makes its tuple a mask: a wildcard that hides our matching tuples from the
comparison, since there is nothing to compare them with. Our unknowns are skipped.

Every difference either fails the test or is an entry of KNOWN_DISAGREEMENTS with its reason;
an entry that no longer happens fails too, so the list stays true. tfparse is a test-only
dependency: without its wheel this module is skipped.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import pytest
from conftest import EXAMPLES, FIXTURES, REPO

from calico_sglint.model.resources import normalize_protocol, port_range

tfparse = pytest.importorskip("tfparse")
pytestmark = pytest.mark.slow

# (sg, direction, protocol, from_port, to_port, peer kind, peer value); peer kind is
# "sg" (self included), "cidr", "prefix_list", or "none" for a rule that names no peer.
RuleTuple = tuple[str, str, str, int, int, str, str]
# The same with None wherever tfparse left the value unresolved: matches any value.
Mask = tuple[Any, ...]

# --- what is compared, and the exceptions ------------------------------------------------

# Module trees that are not compared, and why.
SKIPPED = {
    # The parser-error scenario: `broken/` is deliberately unparseable, and the directory has
    # no *.tf of its own (tfparse returns {} for it). It tests error reporting, not evaluation.
    "fixtures/syntax-error": "deliberate HCL syntax error; not an evaluation scenario",
    # Modules only: tests/test_fix_modules.py writes the calling module for each case. Read as
    # roots, their variables have no values: we keep for_each over them unknown, tfparse takes
    # them as empty, so the comparison says nothing about either reader.
    "fixtures/fix-through-module": "modules without their callers; not an evaluation scenario",
}


@dataclass(frozen=True)
class Known:
    """A difference between the evaluators that is understood and accepted."""

    tree: str  # "fixtures/<name>" or "examples/<name>"
    kind: str  # "rule only in ours", "rule only in tfparse", "SG only in ours", "SG only in tfparse"
    item: RuleTuple | str
    reason: str  # prefixed "BUG:" when our reader is wrong


# Differences handled by the normalisation for every tree (not entries below, because they
# are our documented semantics or tfparse's input conventions, not per-fixture surprises):
#  * tfvars: tfparse loads no tfvars files by itself; we hand it the files Terraform (and our
#    reader) load automatically, in Terraform's order: terraform.tfvars, then *.auto.tfvars
#    in lexical order. Without this, fixtures/variables-tfvars would compare our tfvars values
#    with tfparse's variable defaults.
#  * unknown count/for_each: tfparse drops a resource or dynamic block whose count/for_each
#    it cannot evaluate; we keep it as a placeholder (SG `expansion`, rule `multiplicity`) so
#    a lint can say "unknown". Placeholders are unknowns on our side and are not compared.
#  * SGs we do not create: tfparse lists every `data "aws_security_group"`; we list only
#    those something references, plus literal `sg-...` ids (which are not resources at all).
#    So managed SGs must be equal, and our data-source SGs a subset of tfparse's.
KNOWN_DISAGREEMENTS: tuple[Known, ...] = (
    # Add entries as Known(tree, kind, item, reason); start `reason` with "BUG:" when tfparse
    # is right and our reader is wrong.
    Known(
        "fixtures/check-unknown-reference",
        "rule only in tfparse",
        ("aws_security_group.master", "ingress", "all", 0, 65535, "sg", "aws_security_group.master"),
        "invalid Terraform on purpose: tfparse resolves the undeclared aws_security_group.wroker "
        "to the rule's own group; we keep it unknown and report sg-unknown-reference",
    ),
    Known("fixtures/clusters-eks", "rule only in ours", ("aws_eks_cluster.al2023.vpc_config[0].cluster_security_group_id", "egress", "all", 0, 65535, "cidr", "0.0.0.0/0"),
          "we model the security group EKS creates for the cluster with AWS's default rules (all traffic from itself, all egress); tfparse has no such group"),
    Known("fixtures/clusters-eks", "rule only in ours", ("aws_eks_cluster.al2023.vpc_config[0].cluster_security_group_id", "ingress", "all", 0, 65535, "sg", "aws_eks_cluster.al2023.vpc_config[0].cluster_security_group_id"),
          "we model the security group EKS creates for the cluster with AWS's default rules (all traffic from itself, all egress); tfparse has no such group"),
    Known("fixtures/clusters-eks", "rule only in tfparse",
          ("aws_security_group.al2023_node", "ingress", "all", 0, 65535, "sg", "aws_security_group.al2023_node"),
          "tfparse resolves the unknown cluster_security_group_id the inline rule names to the rule's own group (as with any unresolved reference); we name the EKS cluster group"),
    Known("fixtures/clusters-eks", "rule only in ours", ("aws_eks_cluster.bottlerocket.vpc_config[0].cluster_security_group_id", "egress", "all", 0, 65535, "cidr", "0.0.0.0/0"),
          "we model the security group EKS creates for the cluster with AWS's default rules (all traffic from itself, all egress); tfparse has no such group"),
    Known("fixtures/clusters-eks", "rule only in ours", ("aws_eks_cluster.bottlerocket.vpc_config[0].cluster_security_group_id", "ingress", "all", 0, 65535, "sg", "aws_eks_cluster.bottlerocket.vpc_config[0].cluster_security_group_id"),
          "we model the security group EKS creates for the cluster with AWS's default rules (all traffic from itself, all egress); tfparse has no such group"),
    Known("fixtures/clusters-eks", "rule only in tfparse",
          ("aws_security_group.bottlerocket_node", "ingress", "all", 0, 65535, "sg", "aws_security_group.bottlerocket_node"),
          "tfparse resolves the unknown cluster_security_group_id the inline rule names to the rule's own group (as with any unresolved reference); we name the EKS cluster group"),
)


def module_trees() -> list[str]:
    """Every fixture and example directory that holds Terraform files, repo-relative."""
    trees = []
    for parent in (FIXTURES, EXAMPLES):
        for directory in sorted(p for p in parent.iterdir() if p.is_dir()):
            if any(directory.rglob("*.tf")):
                trees.append(directory.relative_to(REPO).as_posix())
    return trees


TREES = [t for t in module_trees() if t not in SKIPPED]


# --- one side's view ---------------------------------------------------------------------


@dataclass
class Side:
    """What one evaluator resolved for one root module."""

    managed_sgs: set[str] = field(default_factory=set)
    data_sgs: set[str] = field(default_factory=set)
    rules: set[RuleTuple] = field(default_factory=set)
    masks: set[Mask] = field(default_factory=set)  # tfparse's tuples with unresolved fields
    unresolved: int = 0  # tuples skipped because a field is unknown/unresolved

    def add(self, row: Mask) -> None:
        """A tfparse tuple: compared if complete, else kept as a mask."""
        if any(v is None for v in row):
            self.masks.add(row)
            self.unresolved += 1
        else:
            self.rules.add(row)  # type: ignore[arg-type]


# --- our side: `sglint show --format json` ------------------------------------------------


def is_unknown(value: Any) -> bool:
    return isinstance(value, dict) and "unknown" in value


def our_side(root: dict[str, Any]) -> Side:
    side = Side()
    for sg in root["security_groups"]:
        address = sg["address"]
        if sg["expansion"] is not None:  # placeholder for an unknown count/for_each
            side.unresolved += len(sg["rules"])
            continue
        if sg["managed"]:
            side.managed_sgs.add(address)
        elif address.startswith("data."):
            side.data_sgs.add(address)
        for rule in sg["rules"]:
            for row in our_rows(address, rule):
                if row is None:
                    side.unresolved += 1
                else:
                    side.rules.add(row)
    side.unresolved += len(root["unattached_rules"])  # their SG is unknown
    return side


def our_rows(sg: str, rule: dict[str, Any]) -> Iterator[RuleTuple | None]:
    """One tuple per peer; None for a tuple with an unknown field (or a placeholder rule)."""
    fields = (rule["protocol"], rule["from_port"], rule["to_port"])
    known = rule["multiplicity"] is None and not any(is_unknown(v) for v in fields)
    if not rule["peers"]:
        yield (sg, rule["direction"], *fields, "none", "") if known else None
    for peer in rule["peers"]:
        if not known or peer["kind"] == "unknown":
            yield None
        elif peer["kind"] == "self":
            yield (sg, rule["direction"], *fields, "sg", sg)
        else:
            yield (sg, rule["direction"], *fields, peer["kind"], peer["value"])


# --- tfparse's side -----------------------------------------------------------------------


def resolved(value: Any) -> bool:
    """False for what tfparse leaves unevaluated: null, a reference object, `${...}` text."""
    if value is None or isinstance(value, dict):
        return False
    return not (isinstance(value, str) and "${" in value)


def tfvars_files(root: Path) -> list[str]:
    """The tfvars files Terraform loads by itself, in its order, relative to the root."""
    names = sorted(p.name for p in root.iterdir() if p.is_file())
    auto = [n for n in names if n.endswith(".auto.tfvars")]
    return (["terraform.tfvars"] if "terraform.tfvars" in names else []) + auto


@lru_cache(maxsize=None)
def tfparse_model(root: str) -> dict[str, Any]:
    path = REPO / root
    return tfparse.load_from_path(str(path), vars_paths=tfvars_files(path))  # type: ignore[no-any-return]


def instances(parsed: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for items in parsed.values():
        yield from (i for i in items if isinstance(i, dict) and "path" in i.get("__tfmeta", {}))


def uuid_addresses(parsed: dict[str, Any]) -> dict[str, str]:
    """tfparse's synthetic `id` of every resource, data source and module -> its address."""
    return {i["id"]: i["__tfmeta"]["path"] for i in instances(parsed) if "id" in i}


class TheirReader:
    """tfparse's output for one root module -> a Side."""

    def __init__(self, parsed: dict[str, Any]) -> None:
        self.parsed = parsed
        self.uuids = uuid_addresses(parsed)
        self.side = Side()

    def read(self) -> Side:
        for sg in self.parsed.get("aws_security_group", []):
            meta = sg["__tfmeta"]
            if meta["type"] == "data":
                self.side.data_sgs.add(meta["path"])
                continue
            self.side.managed_sgs.add(meta["path"])
            for direction in ("ingress", "egress"):
                for block in as_list(sg.get(direction)):
                    self.inline(meta["path"], direction, block)
        for rule in self.parsed.get("aws_security_group_rule", []):
            self.rule_resource(rule)
        for direction in ("ingress", "egress"):
            for rule in self.parsed.get(f"aws_vpc_security_group_{direction}_rule", []):
                self.vpc_rule(direction, rule)
        return self.side

    def sg(self, value: Any) -> str | None:
        """An SG reference: a resolved id becomes the address it was made for."""
        if not resolved(value) or not isinstance(value, str):
            return None
        return self.uuids.get(value, value)

    def inline(self, sg: str, direction: str, block: dict[str, Any]) -> None:
        peers = list(self.list_peers(block))
        peers += self_peer(block.get("self"), sg)
        self.emit(sg, direction, block.get("protocol"), block, peers)

    def rule_resource(self, rule: dict[str, Any]) -> None:
        sg = self.sg(rule.get("security_group_id"))
        direction = rule.get("type") if rule.get("type") in ("ingress", "egress") else None
        peers = list(self.list_peers(rule))
        if "source_security_group_id" in rule:
            peers.append(("sg", self.sg(rule["source_security_group_id"])))
        peers += self_peer(rule.get("self"), sg)
        self.emit(sg, direction, rule.get("protocol"), rule, peers)

    def vpc_rule(self, direction: str, rule: dict[str, Any]) -> None:
        peers: list[tuple[str, str | None]] = []
        for attribute, kind in (("cidr_ipv4", "cidr"), ("cidr_ipv6", "cidr"), ("prefix_list_id", "prefix_list")):
            if attribute in rule:
                peers.append((kind, text(rule[attribute])))
        if "referenced_security_group_id" in rule:
            peers.append(("sg", self.sg(rule["referenced_security_group_id"])))
        self.emit(self.sg(rule.get("security_group_id")), direction, rule.get("ip_protocol"), rule, peers)

    def list_peers(self, block: dict[str, Any]) -> Iterator[tuple[str, str | None]]:
        """Peers from cidr_blocks, ipv6_cidr_blocks, prefix_list_ids and security_groups."""
        converters: tuple[tuple[str, str, Callable[[Any], str | None]], ...] = (
            ("cidr_blocks", "cidr", text),
            ("ipv6_cidr_blocks", "cidr", text),
            ("prefix_list_ids", "prefix_list", text),
            ("security_groups", "sg", self.sg),
        )
        for attribute, kind, convert in converters:
            if attribute not in block:
                continue
            value = block[attribute]
            if not isinstance(value, list):  # the whole list is unresolved (or null)
                yield (kind, None)
                continue
            for item in value:
                yield (kind, convert(item))

    def emit(
        self, sg: str | None, direction: str | None, raw_protocol: Any, block: dict[str, Any],
        peers: list[tuple[str, str | None]],
    ) -> None:
        protocol, low, high = normalise_ports(raw_protocol, block.get("from_port"), block.get("to_port"))
        for kind, value in peers or [("none", "")]:
            self.side.add((sg, direction, protocol, low, high, kind, value))


def as_list(value: Any) -> list[dict[str, Any]]:
    """tfparse gives one nested block as a dict and several as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, dict) else list(value)


def text(value: Any) -> str | None:
    return value if resolved(value) and isinstance(value, str) else None


def self_peer(value: Any, sg: str | None) -> list[tuple[str, str | None]]:
    if value is True or value == "true":
        return [("sg", sg)]
    if value is None or value is False or value == "false":
        return []
    return [("sg", None)]  # unresolved: it may or may not add the SG itself


def normalise_ports(raw_protocol: Any, raw_from: Any, raw_to: Any) -> tuple[str | None, int | None, int | None]:
    """tfparse's raw protocol and ports through our normalisation; None where unresolved."""
    if not resolved(raw_protocol):
        return None, None, None
    protocol = normalize_protocol(raw_protocol)
    if not isinstance(protocol, str):
        return None, None, None
    low, high = port_range(protocol, port_value(raw_from), port_value(raw_to))
    return protocol, low if isinstance(low, int) else None, high if isinstance(high, int) else None


def port_value(value: Any) -> Any:
    if not resolved(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# --- comparing ----------------------------------------------------------------------------


def covered(row: RuleTuple, masks: Iterable[Mask]) -> bool:
    """Whether tfparse left a tuple like this unresolved (so it cannot be compared)."""
    return any(all(m is None or m == v for m, v in zip(mask, row)) for mask in masks)


@dataclass
class Comparison:
    tree: str
    compared: int  # rule tuples on either side, after masking
    agreeing: int  # rule tuples on both sides
    sgs: int  # managed SGs on either side
    sgs_agreeing: int
    skipped_ours: int
    skipped_theirs: int
    differences: set[tuple[str, RuleTuple | str]]


def compare(tree: str, ours: Side, theirs: Side) -> Comparison:
    our_rules = {r for r in ours.rules if not covered(r, theirs.masks)}
    differences: set[tuple[str, RuleTuple | str]] = set()
    differences |= {("rule only in ours", r) for r in our_rules - theirs.rules}
    differences |= {("rule only in tfparse", r) for r in theirs.rules - our_rules}
    differences |= {("SG only in ours", s) for s in ours.managed_sgs - theirs.managed_sgs}
    differences |= {("SG only in tfparse", s) for s in theirs.managed_sgs - ours.managed_sgs}
    differences |= {("SG only in ours", s) for s in ours.data_sgs - theirs.data_sgs}
    return Comparison(
        tree,
        compared=len(our_rules | theirs.rules),
        agreeing=len(our_rules & theirs.rules),
        sgs=len(ours.managed_sgs | theirs.managed_sgs),
        sgs_agreeing=len(ours.managed_sgs & theirs.managed_sgs),
        skipped_ours=ours.unresolved + len(ours.rules - our_rules),
        skipped_theirs=theirs.unresolved,
        differences=differences,
    )


def compare_tree(tree: str, sglint: Callable[..., Any]) -> list[Comparison]:
    """Both evaluators on every root module `sglint` finds in the tree."""
    result = sglint("show", tree, "--format", "json")
    assert result.code == 0, f"sglint show {tree} failed:\n{result.stderr}"
    roots = result.json()["roots"]
    assert roots, f"sglint found no root module in {tree}"
    comparisons = []
    for root in roots:
        parsed = tfparse_model(root["root"])
        assert parsed or not root["security_groups"], f"tfparse read nothing in {root['root']}"
        comparisons.append(compare(tree, our_side(root), TheirReader(parsed).read()))
    return comparisons


def unexplained(comparison: Comparison) -> tuple[list[str], list[Known]]:
    """Differences no exception explains, and exceptions that no longer happen."""
    expected = {(k.kind, k.item): k for k in KNOWN_DISAGREEMENTS if k.tree == comparison.tree}
    new = sorted(f"{kind}: {item}" for kind, item in comparison.differences if (kind, item) not in expected)
    stale = [k for key, k in expected.items() if key not in comparison.differences]
    return new, stale


def report(comparison: Comparison, new: list[str], stale: list[Known]) -> str:
    lines = [f"{comparison.tree}: our reader and tfparse disagree"]
    lines += [f"  {line}" for line in new]
    lines += [f"  exception no longer happens, remove it: {k.kind}: {k.item} ({k.reason})" for k in stale]
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def no_tf_var_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both evaluators read TF_VAR_*; the comparison must not depend on the caller's shell."""
    for name in list(os.environ):
        if name.startswith("TF_VAR_"):
            monkeypatch.delenv(name)


# --- tests --------------------------------------------------------------------------------


@pytest.mark.parametrize("tree", TREES)
def test_rules_agree_with_tfparse(tree: str, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    for comparison in compare_tree(tree, sglint):
        new, stale = unexplained(comparison)
        assert not new and not stale, report(comparison, new, stale)


def test_agreement_summary(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    """The agreement table over every tree (`pytest -rP` shows it)."""
    rows = [c for tree in TREES for c in compare_tree(tree, sglint)]
    header = f"{'tree':<30} {'rules':>6} {'agree':>6} {'SGs':>4} {'agree':>6} {'skip ours':>9} {'skip tfparse':>12}"
    lines = [header] + [
        f"{c.tree:<30} {c.compared:>6} {c.agreeing:>6} {c.sgs:>4} {c.sgs_agreeing:>6}"
        f" {c.skipped_ours:>9} {c.skipped_theirs:>12}"
        for c in rows
    ]
    compared, agreeing = sum(c.compared for c in rows), sum(c.agreeing for c in rows)
    sgs, sgs_agreeing = sum(c.sgs for c in rows), sum(c.sgs_agreeing for c in rows)
    lines.append(f"{'total':<30} {compared:>6} {agreeing:>6} {sgs:>4} {sgs_agreeing:>6}")
    print("\n".join(lines))
    accepted = sum(1 for k in KNOWN_DISAGREEMENTS if k.kind.startswith("rule"))
    assert compared > 0, "nothing was compared: the normalisation lost every tuple"
    assert compared - agreeing == accepted, "\n".join(lines)


def test_every_tree_is_compared_or_skipped_for_a_reason() -> None:
    assert set(SKIPPED) <= set(module_trees()), "a skipped tree no longer exists"
    assert {k.tree for k in KNOWN_DISAGREEMENTS} <= set(TREES)
