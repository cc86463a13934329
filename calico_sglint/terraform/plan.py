"""Plan reader: `terraform show -json PLANFILE` -> the `Configuration` the HCL evaluator makes.

Terraform has already evaluated every variable, module (registry ones too), count, for_each
and function; only values known after apply are missing. So each resource instance of
`planned_values` becomes a `ResourceInstance` with its planned values as is, except:

- ids, names and arns of resources in the plan become `Ref`s (what the HCL evaluator gives for
  `aws_security_group.master.id`), so a known `sg-...` id still names its group;
- a value Terraform does not know yet (`after_unknown`) is recovered from the `references`
  of its expression in the `configuration` section (`planrefs`), and stays an `Unknown`
  naming the expression where they do not say enough;
- nested blocks (lists of objects) become blocks; resources being destroyed are left out.

Locations come from the `.tf` sources when given (`plansource`), else the plan file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from calico_sglint.source import Diagnostic, Location
from calico_sglint.terraform.configuration import (
    Configuration,
    EvalAttr,
    EvalBlock,
    ResourceInstance,
)
from calico_sglint.terraform.planfile import SENSITIVE, Plan, PlanInstance
from calico_sglint.terraform.planrefs import Resolver
from calico_sglint.terraform.plansource import Origin, SourceMap
from calico_sglint.terraform.syntax import Block, Literal, Template
from calico_sglint.terraform.values import Ref, TfSet, Unknown

# Attributes whose strings may be ids or names of resources in the plan.
REFERENCE_ATTRIBUTES = frozenset({
    "security_group_id", "source_security_group_id", "referenced_security_group_id",
    "security_groups", "vpc_security_group_ids", "security_group_names", "launch_configuration",
    "id", "name", "launch_template_id", "launch_template_name", "subnet_id", "subnet_ids",
    "vpc_zone_identifier", "network_interface_id",
})
# Attributes holding one value; every other recovered attribute holds a list.
_LISTS = frozenset({
    "security_groups", "vpc_security_group_ids", "security_group_names", "cidr_blocks",
    "ipv6_cidr_blocks", "prefix_list_ids", "subnet_ids", "vpc_zone_identifier",
})
# Types whose ids and names are mapped back to their address.
_NAMED_TYPES = frozenset({
    "aws_security_group", "aws_launch_template", "aws_launch_configuration", "aws_subnet",
    "aws_network_interface",
})
# Nested blocks the model reads, recognised even when Terraform knows none of their values.
_BLOCKS = frozenset({
    "ingress", "egress", "network_interface", "network_interfaces", "launch_template",
    "mixed_instances_policy", "scaling_config", "tag", "tag_specifications",
})
# Computed attributes Terraform shows as unknown when the configuration leaves them null; the
# provider forbids setting them together with these, so when one of these is set, they are null.
_CONFLICTS = {
    ("aws_security_group_rule", "source_security_group_id"): ("self", "cidr_blocks", "ipv6_cidr_blocks", "prefix_list_ids"),
}
# Computed blocks that mirror what exists in AWS (rules of standalone rule resources, or made
# outside Terraform): read only when the configuration writes them.
_MIRRORS = frozenset({("aws_security_group", "ingress"), ("aws_security_group", "egress")})
# Data sources kept as resources: the model reads a subnet's CIDR the same way either way.
DATA_TYPES = frozenset({"aws_subnet"})


def read_plan(
    plan: Plan,
    sources: SourceMap,
    root: str,
    wanted: Mapping[str, frozenset[str] | None] | None = None,
) -> Configuration:
    """The resource instances of `plan` of the `wanted` types, with planned values."""
    reader = _Reader(plan, sources)
    resources = []
    for instance in plan.instances.values():
        if wanted is not None and instance.type not in wanted:
            continue
        if instance.mode == "data" and instance.type not in DATA_TYPES:
            continue
        resources.append(reader.instance(instance, wanted.get(instance.type) if wanted is not None else None))
    diagnostics = []
    at = Location(sources.plan_display, 1, 1)
    if not plan.instances:
        diagnostics.append(Diagnostic("warning", "the plan leaves no resources (a destroy plan?): nothing to check", at))
    if plan.errored:
        diagnostics.append(Diagnostic("warning", "Terraform reported errors while planning: the plan may be incomplete", at))
    modules = tuple((m, sources.module_dir(m)) for m in plan.modules)
    return Configuration(root, tuple(resources), modules, tuple(diagnostics))


@dataclass(frozen=True)
class _Context:
    """Where a value being converted sits: its instance, attribute path and expression."""

    instance: PlanInstance
    path: str  # attribute path for messages: `ingress.security_groups`
    location: Location
    expression: Any  # its `configuration` expression (a dict, a list of block dicts, or None)
    configured: bool  # the configuration sets it (False: a computed attribute nobody set)
    syntax: Any = None  # its expression in the `.tf` source, when we have it


class _Reader:
    def __init__(self, plan: Plan, sources: SourceMap) -> None:
        self.plan = plan
        self.sources = sources
        self.resolver = Resolver(plan, sources)
        self.named: dict[str, Ref] = {}  # ids, and names of launch templates and configurations
        self.group_names: dict[str, Ref] = {}  # and security group names, for `security_groups`
        for instance in plan.instances.values():
            if instance.type not in _NAMED_TYPES:
                continue
            for attribute in ("id", "name"):
                value = instance.values.get(attribute)
                if not isinstance(value, str) or not value:
                    continue
                table = self.group_names if attribute == "name" and instance.type == "aws_security_group" else self.named
                table.setdefault(value, Ref(instance.address, attribute))
        self.group_names = {**self.group_names, **self.named}

    def instance(self, instance: PlanInstance, only: frozenset[str] | None = None) -> ResourceInstance:
        """The instance with its planned values; `only` the top-level attributes and blocks
        later stages read (None: all), like the HCL evaluator."""
        origin = self.sources.origin(instance)
        config = self.plan.config_resource(instance)
        expressions = config.get("expressions") if isinstance(config, dict) else None
        body = self._block(
            "resource", instance, instance.values, instance.unknown, expressions, "", origin, origin.block,
            config is not None, only,
        )
        return ResourceInstance(
            address=instance.address, resource=instance.resource, mode=instance.mode, type=instance.type,
            name=instance.name, key=instance.key, module=instance.module, module_dir=origin.module_dir, body=body,
        )

    # --- blocks ----------------------------------------------------------------------------

    def _block(
        self, type_: str, instance: PlanInstance, values: Mapping[str, Any], unknown: Any, expressions: Any,
        prefix: str, origin: Origin, source: Block | None, has_config: bool, only: frozenset[str] | None = None,
    ) -> EvalBlock:
        attrs: dict[str, EvalAttr] = {}
        blocks: list[EvalBlock] = []
        masks = unknown if isinstance(unknown, dict) else {}
        exprs = expressions if isinstance(expressions, dict) else {}
        for name in [*values, *(k for k in masks if k not in values)]:
            if only is not None and name not in only:
                continue
            mask = True if unknown is True else masks.get(name, False)
            expr = exprs.get(name)
            location = _attribute_location(source, name, origin.location)
            context = _Context(instance, f"{prefix}{name}", location, expr, expr is not None or not has_config,
                               _syntax(source, name))
            value = values.get(name)
            if not prefix and expr is None and has_config and (instance.type, name) in _MIRRORS:
                continue
            if value is SENSITIVE:
                hidden = Unknown(f"{instance.address}.{context.path}", _HIDDEN, location)
                if name in _BLOCKS:
                    blocks.append(self._unknown_blocks(name, context, origin, hidden))
                else:
                    attrs[name] = EvalAttr(hidden, location)
                continue
            if _is_blocks(value) or (mask is True and expr is not None and (isinstance(expr, list) or name in _BLOCKS)):
                blocks.extend(self._blocks(name, value, mask, context, origin, source))
                continue
            converted = self._value(name, value, mask, context)
            if converted is not _ABSENT:
                attrs[name] = EvalAttr(_typed(name, converted, context), location)
        return EvalBlock(type_, attrs, tuple(blocks), origin.location)

    def _blocks(
        self, name: str, value: Any, mask: Any, context: _Context, origin: Origin, source: Block | None
    ) -> list[EvalBlock]:
        """Nested blocks: planned elements, or (when Terraform does not know them) the blocks
        of the configuration, or one block standing for an unknown number of them."""
        expr = context.expression
        nested = source.body.blocks_of(name) if source is not None else []
        shared = expr if isinstance(expr, dict) else None
        if mask is True and isinstance(shared, dict) and isinstance(shared.get("constant_value"), list):
            value, mask, shared = shared["constant_value"], False, None  # constant in the configuration
        elif mask is True:
            if isinstance(expr, list):
                return [self._config_block(name, e, context, origin, _nth(nested, i, len(expr))) for i, e in enumerate(expr)]
            return [self._unknown_blocks(name, context, origin)]
        items = value if isinstance(value, list) else []
        masks = mask if isinstance(mask, list) else [mask] * len(items)
        result = []
        for index, item in enumerate(items):
            if item is SENSITIVE:
                hidden = Unknown(f"{context.instance.address}.{context.path}", _HIDDEN, context.location)
                result.append(self._unknown_blocks(name, context, origin, hidden))
                continue
            item_expr = expr[index] if isinstance(expr, list) and len(expr) == len(items) else None
            has_config = item_expr is not None or shared is not None
            block_source = _matching(nested, item) if isinstance(item, dict) else None
            where = Origin(_block_location(block_source, origin.location), origin.module_dir, block_source)
            element_mask = masks[index] if index < len(masks) else False
            block = self._block(
                name, context.instance, item, element_mask, item_expr, f"{context.path}.", where, block_source,
                has_config,
            )
            if shared is not None and element_mask:
                block = self._shared(block, element_mask, shared, context, sum(1 for m in masks if m))
            result.append(block)
        return result

    def _config_block(self, name: str, expressions: Any, context: _Context, origin: Origin, source: Block | None) -> EvalBlock:
        """A block Terraform does not know, from its configuration expressions."""
        exprs = expressions if isinstance(expressions, dict) else {}
        location = _block_location(source, origin.location)
        attrs = {}
        for attribute, expr in exprs.items():
            if isinstance(expr, dict):
                sub = _Context(context.instance, f"{context.path}.{attribute}", location, expr, True, _syntax(source, attribute))
                value = self._recover(attribute, sub)
                attrs[attribute] = EvalAttr(value, _attribute_location(source, attribute, location))
        return EvalBlock(name, attrs, (), location)

    def _unknown_blocks(self, name: str, context: _Context, origin: Origin, unknown: Unknown | None = None) -> EvalBlock:
        """One block standing for blocks Terraform does not know yet (or hides): its peers are
        the groups the expression references, its ports and protocol unknown."""
        if unknown is None:
            unknown = Unknown(f"{context.instance.address}.{name}", _after_apply(context.expression), context.location)
        attrs = {a: EvalAttr(unknown, context.location) for a in ("protocol", "from_port", "to_port")}
        found = self.resolver.expression(context.expression, context.instance.module, context.instance.key, every=True)
        peers = [c for c in found if isinstance(c, Ref)]
        if peers:
            attrs["security_groups"] = EvalAttr(peers, context.location)
        return EvalBlock(name, attrs, (), origin.location, unknown)

    def _shared(self, block: EvalBlock, mask: Any, expr: Mapping[str, Any], context: _Context, unknown_count: int) -> EvalBlock:
        """Give the unknown `security_groups` of one of several blocks written as one attribute
        the groups its expression references that Terraform does not know the ids of; when
        several blocks are unknown and several groups referenced, which is which is unknown."""
        if not isinstance(mask, dict) or not mask.get("security_groups"):
            return block
        known = {v for v in self.named.values()}
        found = self.resolver.expression(expr, context.instance.module, context.instance.key, every=True)
        candidates = [c for c in found if isinstance(c, Ref) and c not in known]
        current = block.attrs.get("security_groups")
        kept = [v for v in (current.value if current and isinstance(current.value, list) else []) if not isinstance(v, Unknown)]
        if candidates and (unknown_count == 1 or len(candidates) == 1):
            value: Any = kept + [c for c in candidates if c not in kept]
        else:
            refs = ", ".join(c.expr() for c in candidates)
            reason = (f"several blocks reference groups created in this plan ({refs}); the plan does not say which "
                      "block names which") if candidates else _after_apply(expr)
            value = kept + [Unknown(f"{context.instance.address}.{context.path}", reason, block.location)]
        attrs = {**block.attrs, "security_groups": EvalAttr(value, current.location if current else block.location)}
        return EvalBlock(block.type, attrs, block.blocks, block.location, block.expansion)

    # --- values ----------------------------------------------------------------------------

    def _value(self, name: str, value: Any, mask: Any, context: _Context) -> Any:
        conflicts = _CONFLICTS.get((context.instance.type, context.path), ())
        if mask is True and any(context.instance.values.get(other) not in (None, False, []) for other in conflicts):
            return _ABSENT
        if mask is True:
            return self._recover(name, context) if context.configured else _ABSENT
        if _has_unknown(mask):
            if isinstance(value, list) and isinstance(mask, list):
                known = [self._known(context, v) for v, m in zip(value, mask) if m is not True and v is not None]
                recovered = self._recover(name, context)
                extra = recovered if isinstance(recovered, list) else [recovered]
                return known + [r for r in extra if r not in known]
            return self._recover(name, context)
        return self._known(context, value)

    def _known(self, context: _Context, value: Any) -> Any:
        """A planned value: ids and names of planned resources become `Ref`s (a resource's own
        `id` and `name` stay as they are; in a block, `id` and `name` name other resources);
        what the plan marks sensitive is unknown."""
        value = _reveal_nothing(value, f"{context.instance.address}.{context.path}", context.location)
        name = context.path.rsplit(".", 1)[-1]
        if name not in REFERENCE_ATTRIBUTES or (name in ("id", "name") and "." not in context.path):
            return value
        names = self.group_names if name in ("security_groups", "security_group_names") else self.named
        if isinstance(value, str):
            return names.get(value, value)
        if isinstance(value, list):
            return [names.get(v, v) if isinstance(v, str) else v for v in value]
        return value

    def _recover(self, name: str, context: _Context) -> Any:
        """A value Terraform does not know, from its expression's references."""
        instance = context.instance
        if "constant_value" in _mapping(context.expression):
            return self._known(context, context.expression["constant_value"])
        candidates = self.resolver.expression(context.expression, instance.module, instance.key, source=context.syntax)
        flat: list[Any] = []
        for candidate in candidates:
            items = candidate if isinstance(candidate, (list, TfSet)) else [candidate]
            flat.extend(self._known(context, item) for item in items if _plausible(name, item))
        flat = list(dict.fromkeys(flat))
        unknown = Unknown(f"{instance.address}.{context.path}", _after_apply(context.expression), context.location)
        if name in _LISTS:
            return flat if flat else unknown
        if len(flat) == 1 and isinstance(flat[0], (Ref, Unknown)):
            return flat[0]
        if len(flat) > 1:
            names = ", ".join(c.expr() if isinstance(c, Ref) else c.expr if isinstance(c, Unknown) else repr(c) for c in flat)
            return Unknown(unknown.expr, f"known only after apply: one of {names}", context.location)
        return unknown


_ABSENT = object()


_HIDDEN = "sensitive in the plan: sglint neither reads nor prints it"
# The JSON types of the attributes the model reads one value of; a plan holding another type
# (not one Terraform writes) gives an unknown instead.
_SCALAR_TYPES: Mapping[str, tuple[type, ...]] = {
    **dict.fromkeys(("source_dest_check", "self"), (bool, str)),
    **dict.fromkeys(("from_port", "to_port", "min_size", "max_size"), (int, float, str)),
    **dict.fromkeys(("protocol", "ip_protocol"), (str, int)),
    **dict.fromkeys(("type", "description", "name", "name_prefix", "node_group_name", "node_group_name_prefix",
                     "cidr_ipv4", "cidr_ipv6", "prefix_list_id", "private_ip", "chart"), (str,)),
    **dict.fromkeys(("security_group_id", "source_security_group_id", "referenced_security_group_id",
                     "launch_configuration", "subnet_id", "network_interface_id", "id", "launch_template_id",
                     "launch_template_name"), (str, Ref)),
}
_LIST_TYPES = frozenset(_LISTS | {"values"})


def _typed(name: str, value: Any, context: _Context) -> Any:
    """`value`, or an unknown when its JSON type is not one the attribute can have."""
    if value is None or isinstance(value, Unknown):
        return value
    expected = _SCALAR_TYPES.get(name)
    if expected is not None and (not isinstance(value, expected) or (isinstance(value, bool) and bool not in expected)):
        return Unknown(f"{context.instance.address}.{context.path}", "not a value of this attribute's type in the plan", context.location)
    if name in _LIST_TYPES and not (isinstance(value, list) and all(isinstance(v, (str, Ref, Unknown)) for v in value)):
        return Unknown(f"{context.instance.address}.{context.path}", "not a list of strings in the plan", context.location)
    if name == "tags" and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
        return Unknown(f"{context.instance.address}.{context.path}", "not a map of strings in the plan", context.location)
    return value


def _reveal_nothing(value: Any, expr: str, location: Location) -> Any:
    """`value` with its sensitive parts (`SENSITIVE`) as unknowns naming where they are."""
    if value is SENSITIVE:
        return Unknown(expr, _HIDDEN, location)
    if isinstance(value, list):
        return [_reveal_nothing(v, expr, location) for v in value]
    if isinstance(value, dict):
        return {k: _reveal_nothing(v, f"{expr}.{k}", location) for k, v in value.items()}
    return value


def _syntax(block: Block | None, name: str) -> Any:
    attribute = block.body.attributes.get(name) if block is not None else None
    return attribute.expr if attribute is not None else None


def _plausible(name: str, value: Any) -> bool:
    """Whether a candidate can be the value of attribute `name`: not null or empty, and for
    an id or name, not a bool, number or object (those are conditions or other inputs)."""
    if value is None or value == "":
        return False
    return name not in REFERENCE_ATTRIBUTES or isinstance(value, (str, Ref, Unknown))


def _after_apply(expression: Any) -> str:
    listed = _mapping(expression).get("references")
    references = [r for r in listed if isinstance(r, str)] if isinstance(listed, list) else []
    shown = ", ".join(references[:4]) + (", ..." if len(references) > 4 else "")
    return f"known only after apply (references {shown})" if references else "known only after apply"


def _is_blocks(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _has_unknown(mask: Any) -> bool:
    if mask is True:
        return True
    if isinstance(mask, list):
        return any(_has_unknown(m) for m in mask)
    if isinstance(mask, dict):
        return any(_has_unknown(m) for m in mask.values())
    return False


def _matching(blocks: list[Block], values: Mapping[str, Any]) -> Block | None:
    """The one source block whose literal attributes all equal a planned element's values
    (planned sets are not in source order)."""
    def agrees(block: Block) -> bool:
        literals = {n: _literal(a.expr) for n, a in block.body.attributes.items() if n in values}
        return all(str(v).lower() == str(values[n]).lower() for n, v in literals.items() if v is not None)

    found = [b for b in blocks if agrees(b)]
    return found[0] if len(found) == 1 else None


def _literal(expr: Any) -> Any:
    if isinstance(expr, Literal):
        return expr.value
    if isinstance(expr, Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], str):
        return expr.parts[0]
    return None


def _nth(blocks: list[Block], index: int, count: int) -> Block | None:
    """The source block of the `index`th of `count` planned blocks, when the counts agree."""
    return blocks[index] if len(blocks) == count and index < count else None


def _block_location(block: Block | None, default: Location) -> Location:
    return Location(default.file, block.line, block.end_line) if block is not None else default


def _attribute_location(block: Block | None, name: str, default: Location) -> Location:
    attribute = block.body.attributes.get(name) if block is not None else None
    if attribute is None:
        return default
    return Location(default.file, attribute.line, attribute.end_line)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
