"""Rules for groups created with `count`/`for_each` live and die with their group, and keep its provider.

A rule on `aws_security_group.node[0]` written as a plain reference fails with "Invalid index"
the day `count` becomes 0. So a rule resource gets the group's own condition: one resource
for every instance (`count = length(aws_security_group.node)` with `[count.index]`, or
`for_each = aws_security_group.zone` with `each.value`) when every instance needs the same
self rule, else `count = length(...) > 0 ? 1 : 0` / `contains(keys(...), "k") ? 1 : 0` on
each counted group it names. The `provider` and `region` of the group are carried over, so
the rule is made where the group is.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from typing import Iterable

from calico_sglint.fix.hcl import hcl_string, reference
from calico_sglint.fix.types import PlannedRule
from calico_sglint.source import InputError, Location
from calico_sglint.terraform.syntax import Block, Expr, GetAttr, Literal, Name, Template

_KEYED = re.compile(r'^(.*)\[("(?:[^"\\]|\\.)*"|[0-9]+)\]$')
_CHILD = re.compile(r'^(?:.*\.)?(module\.[A-Za-z_][A-Za-z0-9_-]*(?:\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\])?)\.[A-Za-z_][A-Za-z0-9_-]*\.[^.]+$')
PROVIDER_ARGUMENTS = ("provider", "region")


def split_key(address: str) -> tuple[str, int | str | None]:
    """`aws_security_group.zone["a"]` -> (`aws_security_group.zone`, "a")."""
    match = _KEYED.match(address)
    if match is None:
        return address, None
    return match[1], json.loads(match[2])


def guarded(rules: Iterable[PlannedRule], instances: dict[tuple[str, str], set[int | str]]) -> list[PlannedRule]:
    """`rules` with every-instance self rules merged and every counted reference guarded.

    `instances` maps (module path, resource address) to the instance keys the model has."""
    merged: dict[tuple[str, str, str, str, int, int, str], list[PlannedRule]] = defaultdict(list)
    out: list[PlannedRule] = []
    for rule in rules:
        base, key = split_key(rule.security_group)
        if rule.style == "inline" or rule.target_ref or key is None or rule.peer is not None:
            out.append(rule)
            continue
        merged[(rule.module.path, base, rule.direction, rule.protocol, rule.from_port, rule.to_port, rule.style)].append(rule)
    for (path, base, *_), group in merged.items():
        keys = {k for k in (split_key(r.security_group)[1] for r in group) if k is not None}
        if keys == instances.get((path, base)) and len(group) == len(keys):
            out.append(_every_instance(group[0], base, keys))
        else:
            out.extend(group)
    return [rule if rule.meta or rule.style == "inline" else _with_guard(rule) for rule in out]


def _every_instance(rule: PlannedRule, base: str, keys: set[int | str]) -> PlannedRule:
    ref = reference(base, None)
    if all(isinstance(k, int) for k in keys):
        meta, own = (("count", f"length({ref})"),), f"{ref}[count.index].id"
    else:
        meta, own = (("for_each", ref),), "each.value.id"
    return replace(rule, security_group=base, target_ref=own, meta=meta, sg_address=f"{split_key(rule.sg_address)[0]}[*]")


def _with_guard(rule: PlannedRule) -> PlannedRule:
    """A group named through a module output exists while that module instance does; a group
    of the rule's own module while its own instance does."""
    own = _module_condition(rule.sg_address) if rule.target_ref else condition(rule.security_group)
    peer = _module_condition(rule.peer) if rule.peer_ref else condition(rule.peer)
    conditions = [c for c in (own, peer) if c]
    if not conditions:
        return rule
    return replace(rule, meta=(("count", f"{' && '.join(conditions)} ? 1 : 0"),))


def _module_condition(address: str | None) -> str | None:
    """For `module.a["k"].aws_security_group.x`, named as `module.a["k"].<output>`: true while
    the instance `module.a["k"]` exists."""
    if address is None:
        return None
    match = _CHILD.match(address)
    return condition(match[1]) if match else None


def condition(address: str | None) -> str | None:
    """HCL that is true while the instance `address` exists (None: it always does)."""
    if address is None:
        return None
    base, key = split_key(address)
    if key is None:
        return None
    ref = reference(base, None)
    if isinstance(key, int):
        return f"length({ref}) > {key}"
    return f"contains(keys({ref}), {hcl_string(key)})"


def with_provider(rule: PlannedRule, block: Block, where: Location) -> PlannedRule:
    """`rule` with the group's `provider` (a meta-argument) and `region` repeated."""
    arguments = dict(provider_arguments(block, where))
    meta = rule.meta + ((("provider", arguments["provider"]),) if "provider" in arguments else ())
    carried = (("region", arguments["region"]),) if "region" in arguments else ()
    return replace(rule, meta=meta, carried=carried)


def provider_arguments(block: Block, where: Location) -> tuple[tuple[str, str], ...]:
    """The group's `provider` and `region`, as the generated rule must repeat them."""
    carried = []
    for name in PROVIDER_ARGUMENTS:
        attribute = block.body.attributes.get(name)
        if attribute is None:
            continue
        text = _simple(attribute.expr)
        if text is None:
            raise InputError(
                f"the {name} of this security group is an expression sglint does not copy into a generated "
                "rule; write the rule by hand, or give the group a plain reference or string",
                where.file, attribute.line,
            )
        carried.append((name, text))
    return tuple(carried)


def _simple(expr: Expr) -> str | None:
    """A reference (`var.region`, `aws.west`) or a plain string, as HCL; else None."""
    if isinstance(expr, Template) and all(isinstance(p, str) for p in expr.parts):
        return hcl_string("".join(p for p in expr.parts if isinstance(p, str)))
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return hcl_string(expr.value)
    steps = []
    while isinstance(expr, GetAttr):
        steps.append(expr.name)
        expr = expr.obj
    if isinstance(expr, Name):
        return reference(".".join([expr.name, *reversed(steps)]), None)
    return None
