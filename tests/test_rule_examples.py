"""Every rule's documented example triggers it, and its documented fixed example does not (the
rule pages of `sglint explain` are tested like tflint's rule docs). Path-rule examples are
checked together with rules/examples/base.tf, as their page says."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from calico_sglint.profile.rulepack import PackRule, load_packs
from calico_sglint.profile.settings import SPECS

BASE = (REPO / "rules" / "examples" / "base.tf").read_text()
RULES = [rule for rule in load_packs().rules]


def profile_flags(rule: PackRule) -> list[str]:
    """Flags for the first profile each of the rule's `when` conditions allows."""
    flags = []
    for name, allowed in rule.when.items():
        value: Any = allowed[0]
        spec = SPECS[name]
        flags += [f"--{'no-' if value is False else ''}{spec.flag[2:]}"] if spec.kind == "switch" else [spec.flag, str(value)]
    return flags


def rule_ids(sglint: Any, tmp_path: Path, name: str, rule: PackRule, text: str) -> list[str]:
    module = tmp_path / name
    module.mkdir()
    (module / "main.tf").write_text(text)
    if rule.kind == "path":
        (module / "base.tf").write_text(BASE)
    result = sglint("check", str(module), "--format", "json", *profile_flags(rule))
    assert result.code in (0, 1), result.stderr
    return [f["rule_id"] for f in result.json()["findings"]]


def test_every_rule_documents_an_example_and_its_fix() -> None:
    assert [r.id for r in RULES if not (r.example and r.example_fixed)] == []


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_the_example_triggers_the_rule_and_the_fixed_example_clears_it(
    rule: PackRule, sglint: Any, tmp_path: Path
) -> None:
    assert rule.id in rule_ids(sglint, tmp_path, "example", rule, rule.example)
    assert rule.id not in rule_ids(sglint, tmp_path, "fixed", rule, rule.example_fixed)


def test_the_base_of_the_path_examples_is_quiet(sglint: Any, tmp_path: Path) -> None:
    """The base alone misses every path (no ingress at all) but breaks no structural check."""
    (tmp_path / "base.tf").write_text(BASE)
    findings = sglint("check", str(tmp_path), "--format", "json").json()["findings"]
    assert {f["rule_id"] for f in findings} == {"calico-typha", "calico-vxlan", "k8s-apiserver", "k8s-kubelet"}


def test_every_rule_has_a_table_test() -> None:
    """One module per rule under tests/rules/, named after it (tflint-ruleset-aws's layout)."""
    tables = {p.stem.removeprefix("test_").replace("_", "-") for p in (REPO / "tests" / "rules").glob("test_*.py")}
    assert tables == {rule.id for rule in RULES}
