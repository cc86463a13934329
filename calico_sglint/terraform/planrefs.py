"""What an expression of a plan's `configuration` section names, resolved per module instance.

Terraform records, for every expression it could not reduce to a constant, the `references`
it makes (`aws_security_group.master.id`, `var.sg_id`, `module.sg.id`, `count.index`). When a
value is unknown in the plan (a group created in the same plan has no id yet), these say which
resource it is: `source_security_group_id = aws_security_group.master.id` still means the
master group. References are followed through module inputs (`var.x` -> the caller's
expression) and outputs (`module.m.out` -> the output's expression), and an instance is
chosen by its key (`[0]`, `["a"]`, or `count.index`/`each.key` matching the referrer's key).

A resolution is a list of candidates: a `Ref` (the id, name or arn of a planned resource),
a constant, or an `Unknown` naming what cannot be resolved. Nothing here guesses a value
other than which resource an id belongs to.
"""

from __future__ import annotations

from typing import Any, Mapping, Protocol

from calico_sglint.terraform.evaluate import instance_address
from calico_sglint.terraform.planfile import Plan, split_reference
from calico_sglint.terraform.references import (
    expression_references,
    names_every_candidate,
)
from calico_sglint.terraform.values import Ref, Unknown

MAX_DEPTH = 32
ANY_KEY = object()  # the referrer has no instance key that could pick one instance
_KEYED = ("count.index", "each.key", "each.value")
_ID_ATTRIBUTES = ("id", "name", "arn")


class Sources(Protocol):
    """The `.tf` expressions behind a plan's (see plansource.SourceMap); None without them."""

    def local(self, module: str, name: str) -> Any: ...
    def output(self, module: str, name: str) -> Any: ...
    def call_input(self, module: str, call: str, name: str) -> Any: ...


class Resolver:
    """Resolves `configuration` expressions against one plan. Where an expression could name
    several groups, the `.tf` source of the expression (when `sources` has it) says whether it
    names all of them (`[a.id, b.id]`) or picks some (`var.x ? a.id : b.id`); without it, which
    one is unknown. Locals come from the sources only: the plan does not record them."""

    def __init__(self, plan: Plan, sources: Sources | None = None) -> None:
        self.plan = plan
        self.sources = sources
        self._children: dict[tuple[str, str], list[str]] = {}
        for module in plan.modules:
            steps = split_reference(module)
            if len(steps) >= 2:
                parent = _parent(module)
                self._children.setdefault((parent, steps[-1][0]), []).append(module)

    def expression(
        self, expr: Any, module: str, key: Any, depth: int = 0, source: Any = None, every: bool = False
    ) -> list[Any]:
        """The candidates an expression of the module instance `module` can evaluate to;
        `key` is the referrer's instance key (for `count.index`/`each.key`), `source` the
        expression's `.tf` syntax when known; `every`: all groups it references, even when it
        may pick some (the caller shares them out itself)."""
        if not isinstance(expr, dict):
            return []
        if "constant_value" in expr:
            return [expr["constant_value"]]
        listed = expr.get("references")
        references = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
        keyed = any(r == k or r.startswith(k + ".") for r in references for k in _KEYED)
        result: list[Any] = []
        for reference in _most_specific(references):
            result.extend(self.reference(reference, module, key if keyed else ANY_KEY, depth))
        if _refs(result) > 1 and not every and (source is None or not names_every_candidate(source)):
            return [_which(", ".join(references), result)]  # a key, a condition or an index may pick some
        return result

    def reference(self, reference: str, module: str, key: Any, depth: int) -> list[Any]:
        """The candidates one reference (`aws_x.y.id`, `var.v`, `module.m.out`) stands for."""
        if depth > MAX_DEPTH:
            return [Unknown(reference, "references nested too deeply to follow")]
        steps = split_reference(reference)
        head = steps[0][0] if steps else ""
        if head in ("count", "each", "path", "terraform", "self") or len(steps) < 2:
            return []
        if head == "var":
            return self._variable(module, steps[1][0], depth)
        if head == "local":
            source = self.sources.local(module, steps[1][0]) if self.sources is not None else None
            if source is None:
                return [Unknown(reference, "a local value: the plan does not record locals, and its source is not here")]
            return self.expression({"references": expression_references(source)}, module, ANY_KEY, depth + 1, source)
        if head == "module":
            output = steps[2][0] if len(steps) > 2 else None
            return self._module_output(module, steps[1], output, key, depth)
        if head == "data" and len(steps) >= 3:
            attribute = steps[3][0] if len(steps) > 3 else None
            return self._resource(module, f"data.{steps[1][0]}.{steps[2][0]}", steps[2][1], attribute, key, reference)
        attribute = steps[2][0] if len(steps) > 2 else None
        return self._resource(module, f"{steps[0][0]}.{steps[1][0]}", steps[1][1], attribute, key, reference)

    def _resource(
        self, module: str, local: str, index: int | str | None, attribute: str | None, key: Any, reference: str
    ) -> list[Any]:
        base = f"{module}.{local}" if module else local
        instances = self.plan.by_resource.get(base, ())
        instance, reason = _choose(instances, index, key, lambda i: i.key)
        if reason:
            return [Unknown(reference, reason)]
        if instance is None:
            return []  # not in the plan (count = 0, or being destroyed): names nothing
        if attribute in _ID_ATTRIBUTES:
            return [Ref(instance.address, attribute)]
        return [Unknown(f"{instance.address}.{attribute}" if attribute else instance.address, "known only after apply")]

    def _variable(self, module: str, name: str, depth: int) -> list[Any]:
        if not module:
            declared = _mapping(_mapping(self.plan.configuration.get("variables")).get(name))
            if declared.get("sensitive") is True:
                return [Unknown(f"var.{name}", "sensitive in the plan: sglint neither reads nor prints it")]
            if name in self.plan.variables:
                return [self.plan.variables[name]]
            return [Unknown(f"var.{name}", "the plan has no value for this variable")]
        parent, (call_name, call_key) = _parent(module), split_reference(module)[-1]
        call = _mapping(_mapping(self.plan.config_module(parent)).get("module_calls")).get(call_name)
        expressions = _mapping(_mapping(call).get("expressions"))
        if name in expressions:
            source = self.sources.call_input(parent, call_name, name) if self.sources is not None else None
            return self.expression(expressions[name], parent, call_key, depth + 1, source)
        declared = _mapping(_mapping(_mapping(call).get("module")).get("variables")).get(name)
        default = _mapping(declared).get("default")
        return [] if default is None else [default]

    def _module_output(
        self, module: str, call: tuple[str, int | str | None], output: str | None, key: Any, depth: int
    ) -> list[Any]:
        name, index = call
        children = self._children.get((module, name), [])
        child, reason = _choose(children, index, key, lambda m: split_reference(m)[-1][1])
        label = f"module.{name}.{output}" if output else f"module.{name}"
        if reason:
            return [Unknown(label, reason)]
        if child is None:
            return []
        outputs = _mapping(_mapping(self.plan.config_module(child)).get("outputs"))
        if output is None and len(outputs) == 1:
            output = next(iter(outputs))  # `module.m[each.key].out`: the only output there is
        if output is None:
            return [Unknown(label, "the plan does not record which output of the module is used")]
        entry = _mapping(outputs.get(output))
        if "expression" not in entry:
            return [Unknown(f"{child}.{output}", "the plan's configuration has no such output")]
        source = self.sources.output(child, output) if self.sources is not None else None
        return self.expression(entry["expression"], child, ANY_KEY, depth + 1, source)


def _refs(candidates: list[Any]) -> int:
    return sum(1 for c in candidates if isinstance(c, Ref))


def _which(expression: str, candidates: list[Any]) -> Unknown:
    names = ", ".join(c.expr() for c in candidates if isinstance(c, Ref))
    return Unknown(expression, f"names one or more of {names}; the plan's references do not say which")


def _choose(items: Any, index: int | str | None, key: Any, key_of: Any) -> tuple[Any, str]:
    """The one item an index or the referrer's key picks (None when there is none), or the
    reason why several could be meant."""
    items = list(items)
    if index is not None:
        return next((i for i in items if key_of(i) == index), None), ""
    if len(items) <= 1:
        return (items[0] if items else None), ""
    if key is not ANY_KEY:
        match = next((i for i in items if key_of(i) == key), None)
        if match is not None:
            return match, ""
    return None, f"one of {len(items)} instances; the plan does not say which"


def _most_specific(references: list[str]) -> list[str]:
    """Drop references that a longer one in the list extends (`aws_x.y` beside `aws_x.y.id`)."""
    kept = []
    for reference in dict.fromkeys(references):
        if not any(other != reference and other.startswith((reference + ".", reference + "[")) for other in references):
            kept.append(reference)
    return kept


def _parent(module: str) -> str:
    """`module.a["x"].module.b` -> `module.a["x"]`; a top-level module call's parent is ""."""
    steps = split_reference(module)
    parent = ""
    for index in range(0, len(steps) - 2, 2):
        name, key = steps[index + 1]
        parent = instance_address(f"{parent}.module.{name}" if parent else f"module.{name}", key)
    return parent


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
