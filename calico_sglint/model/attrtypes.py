"""Type-check the attributes the model reads against what the AWS provider accepts.

`source_dest_check = []` is valid HCL that Terraform rejects at plan time; the model must
not trip over it (a list where a bool belongs once was an internal error). Every attribute
the model reads, at the top level of a resource or in the blocks it reads, is checked here
before the model is built: a value Terraform could not convert to the provider's type
becomes an `Unknown` saying so, with a warning at its file and line, and the rest of the
configuration is checked as usual.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable

from calico_sglint.source import Diagnostic
from calico_sglint.terraform.configuration import Configuration, EvalAttr, EvalBlock
from calico_sglint.terraform.values import (
    EvalError,
    ObjectLike,
    Ref,
    TfSet,
    Unknown,
    to_bool,
    to_number,
    to_string,
    type_name,
)

# The provider's type of each attribute the model reads (same name, same type across the
# resources and blocks that have it).
BOOL, NUMBER, STRING, STRINGS, MAP = "bool", "number", "string", "list of strings", "map of strings"
ATTRIBUTE_TYPES: dict[str, str] = {
    "source_dest_check": BOOL, "self": BOOL, "propagate_at_launch": BOOL,
    "from_port": NUMBER, "to_port": NUMBER, "min_size": NUMBER, "max_size": NUMBER, "desired_size": NUMBER,
    "protocol": STRING, "ip_protocol": STRING, "type": STRING, "name": STRING, "name_prefix": STRING,
    "description": STRING, "security_group_id": STRING, "source_security_group_id": STRING,
    "referenced_security_group_id": STRING, "cidr_ipv4": STRING, "cidr_ipv6": STRING, "prefix_list_id": STRING,
    "subnet_id": STRING, "private_ip": STRING, "cidr_block": STRING, "launch_configuration": STRING,
    "node_group_name": STRING, "node_group_name_prefix": STRING, "id": STRING, "version": STRING,
    "vpc_id": STRING, "key": STRING, "value": STRING, "launch_template_id": STRING, "launch_template_name": STRING,
    "cidr_blocks": STRINGS, "ipv6_cidr_blocks": STRINGS, "prefix_list_ids": STRINGS, "security_groups": STRINGS,
    "vpc_security_group_ids": STRINGS, "security_group_names": STRINGS, "subnet_ids": STRINGS,
    "vpc_zone_identifier": STRINGS,
    "tags": MAP, "tags_all": MAP,
}


def _is_pending(value: Any) -> bool:
    return isinstance(value, (Unknown, Ref, ObjectLike))


def _primitive(value: Any) -> bool:
    if _is_pending(value) or value is None:
        return True
    try:
        to_string(value)
    except EvalError:
        return False
    return True


def _convertible(kind: str, value: Any) -> bool:
    """Whether Terraform could convert a known `value` to `kind` (unknown parts pass)."""
    if _is_pending(value) or value is None:
        return True
    checks: dict[str, Callable[[Any], bool]] = {
        BOOL: lambda v: _converts(to_bool, v),
        NUMBER: lambda v: _converts(to_number, v),
        STRING: _primitive,
        STRINGS: lambda v: isinstance(v, (list, tuple, TfSet)) and all(_primitive(item) for item in v),
        MAP: lambda v: isinstance(v, dict) and all(_primitive(item) for item in v.values()),
    }
    return checks[kind](value)


def _converts(convert: Callable[[Any], Any], value: Any) -> bool:
    try:
        convert(value)
    except EvalError:
        return False
    return True


def check_block(block: EvalBlock, address: str, diagnostics: list[Diagnostic]) -> EvalBlock:
    """`block` with every wrongly typed attribute (at any depth) replaced by an `Unknown`."""
    attrs = dict(block.attrs)
    changed = False
    for name, attr in block.attrs.items():
        kind = ATTRIBUTE_TYPES.get(name)
        if kind is None or _convertible(kind, attr.value):
            continue
        reason = f"must be a {kind}, not a {type_name(attr.value)} (Terraform rejects it)"
        diagnostics.append(Diagnostic("warning", f"{address} {name}: {reason}", attr.location))
        attrs[name] = EvalAttr(Unknown(f"{address}.{name}", reason, attr.location), attr.location)
        changed = True
    blocks = tuple(check_block(child, f"{address}.{child.type}", diagnostics) for child in block.blocks)
    if not changed and all(new is old for new, old in zip(blocks, block.blocks)):
        return block
    return replace(block, attrs=attrs, blocks=blocks)


def check_types(config: Configuration) -> Configuration:
    """`config` with wrongly typed attributes replaced by unknowns, and a warning for each."""
    diagnostics: list[Diagnostic] = []
    resources = tuple(
        replace(r, body=body) if (body := check_block(r.body, r.address, diagnostics)) is not r.body else r
        for r in config.resources
    )
    if not diagnostics:
        return config
    return replace(config, resources=resources, diagnostics=config.diagnostics + tuple(diagnostics))
