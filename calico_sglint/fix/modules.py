"""Fixing a group that lives in a module the user does not edit: write through the module call.

In order: the module's own input for extra rules (known per module source, as data in
modules.yaml), extended in the call when it holds a literal map or list there or is absent,
and shown (not rewritten) when the call passes an expression; else a rule resource in the
calling module on the module output that is the group's id, when the module's own rules for
the group are rule resources; else a reason naming the module and what to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

from calico_sglint.checks.findings import RuleToAdd
from calico_sglint.fix.hcl import hcl_string, reference
from calico_sglint.model.types import SecurityGroup
from calico_sglint.terraform.syntax import (
    Attribute,
    Block,
    File,
    Literal,
    ObjectExpr,
    Template,
    TupleExpr,
)
from calico_sglint.terraform.workspace import ModuleCall, ParsedModule, Workspace

_LAST_CALL = re.compile(r'^(?:(.*)\.)?module\.([A-Za-z_][A-Za-z0-9_-]*)(\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\])?$')


@dataclass(frozen=True)
class ModuleInput:
    direction: str
    peer: str  # "self", "sg" or a resource address inside the module
    names: tuple[str, ...]
    shape: str  # "map" or "list"
    fields: tuple[tuple[str, Any], ...]
    computed: tuple[str, ...] = ()
    computed_count: str = ""


@dataclass(frozen=True)
class ModuleKnowledge:
    source: str
    variables: tuple[str, ...]
    groups: tuple[tuple[tuple[str, ...], tuple[ModuleInput, ...]], ...]


@dataclass(frozen=True)
class CallSite:
    """A `module` block in a scanned module: where entries for its inputs are written."""

    module: ParsedModule  # the calling module
    file: File
    block: Block
    call: ModuleCall
    address: str  # the calling module's instance address ("" for a root)


@dataclass(frozen=True)
class CallEntry:
    """One rule, as an entry of a module input: what `fix` adds to the call."""

    site: CallSite
    input: str
    shape: str
    protocol: str
    from_port: int
    to_port: int
    fields: tuple[tuple[str, str], ...]  # extra fields, values already HCL
    direction: str
    sg_address: str
    peer: str  # "itself" or the peer's address, for messages
    count_input: str  # number_of_computed_*: raise it by one per entry ("" for none)
    requirements: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()


@lru_cache(maxsize=1)
def knowledge() -> tuple[ModuleKnowledge, ...]:
    """modules.yaml, read once."""
    import yaml

    text = resources.files("calico_sglint.fix").joinpath("modules.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    out = []
    for entry in data["modules"]:
        groups = []
        for group in entry["groups"]:
            names = group["security_group"]
            inputs = tuple(
                ModuleInput(
                    i["direction"], i["peer"], tuple(i["names"]), i["shape"], tuple(i["fields"].items()),
                    tuple(i.get("computed", {}).get("names", ())), i.get("computed", {}).get("count", ""),
                )
                for i in group["inputs"]
            )
            groups.append((tuple(names) if isinstance(names, list) else (names,), inputs))
        out.append(ModuleKnowledge(entry["source"], tuple(entry.get("variables", ())), tuple(groups)))
    return tuple(out)


def normalized_source(source: str) -> str:
    """`registry.terraform.io/a/b/c//sub?ref=x` and `git::https://github.com/a/terraform-c-b.git`
    both become `a/b/c`: the registry address the knowledge is keyed by."""
    text = source.split("?", 1)[0]
    text = re.sub(r"^git::", "", text)
    text = re.sub(r"^(https://|ssh://git@|git@)", "", text)
    text = text.replace("github.com:", "github.com/")
    text = re.sub(r"^registry\.(terraform|opentofu)\.io/", "", text)
    text = re.sub(r"(\.git)?//.*$", "", text).removesuffix(".git")
    github = re.match(r"^github\.com/([^/]+)/terraform-([a-z0-9]+)-(.+)$", text)
    return f"{github[1]}/{github[3]}/{github[2]}" if github else text


def known_module(call: ModuleCall, called: ParsedModule | None) -> ModuleKnowledge | None:
    """The knowledge for a call: by its source, or (a vendored copy) by the variables it declares."""
    source = normalized_source(call.source)
    declared = _variables(called) if called else set()
    for entry in knowledge():
        if source == entry.source or (entry.variables and set(entry.variables) <= declared):
            return entry
    return None


def _variables(module: ParsedModule) -> set[str]:
    return {b.labels[0] for f in module.files for b in f.body.blocks_of("variable") if b.labels}


def call_site(target: SecurityGroup, module: ParsedModule | None, workspace: Workspace, root: str = "") -> CallSite | str:
    """The `module` block, in a scanned module, that creates `target`'s module instance; a call
    in the root module is looked for in the root being checked (`root`, its display path)."""
    match = _LAST_CALL.match(target.module)
    if match is None or module is None:
        return f"{target.address} is not created through a module call sglint can see"
    parent, name = match[1] or "", match[2]
    candidates = [p for p in workspace.scanned if not parent and workspace.modules[p].display == root]
    sites = []
    for path in candidates or workspace.scanned:
        calling = workspace.modules[path]
        for call in calling.calls:
            if call.name == name and call.path in (module.path, None):
                for file in calling.files:
                    for block in file.body.blocks_of("module"):
                        if block.labels == (name,) and file.path == call.location.file:
                            sites.append(CallSite(calling, file, block, call, parent))
    if len(sites) != 1:
        where = "no scanned module calls it" if not sites else "several scanned modules call it"
        return (f"{target.address} is created in {module.display}, outside the scanned paths, and {where}: "
                "add the rule where the group's id can be referenced")
    return sites[0]


def entry_for(
    add: RuleToAdd, target: SecurityGroup, peer: SecurityGroup, site: CallSite, called: ParsedModule,
    id_outputs: tuple[tuple[str, str, str], ...],
) -> tuple[ModuleInput, str, dict[str, str]] | None:
    """The module input that adds `add`, its name, and its extra fields, or None."""
    entry = known_module(site.call, called)
    if entry is None:
        return None
    local = _base(_local(target))
    declared = _variables(called)
    for names, inputs in entry.groups:
        if local not in names:
            continue
        for candidate in inputs:
            if candidate.direction != add.direction:
                continue
            peer_id = peer_expression(peer, site, id_outputs)
            if candidate.peer == "self" and peer.address != target.address:
                continue
            if candidate.peer not in ("self", "sg") and (
                peer.module != target.module or _base(_local(peer)) != candidate.peer
            ):
                continue
            if candidate.peer == "sg" and (peer.address == target.address or peer_id is None
                                           or peer.module == target.module):
                continue  # a group of the same call, by the call's own output, would be a cycle
            fields = {k: _field(v, peer_id or "") for k, v in candidate.fields}
            name = next((n for n in candidate.names if n in declared), candidate.names[0])
            return candidate, name, fields
    return None


def peer_expression(peer: SecurityGroup, site: CallSite, id_outputs: tuple[tuple[str, str, str], ...]) -> str | None:
    """The peer group's id as an expression in the calling module, or None."""
    return id_expression(peer, site.address, id_outputs)


def id_expression(sg: SecurityGroup, module_address: str, id_outputs: tuple[tuple[str, str, str], ...]) -> str | None:
    """`sg`'s id as the module instance at `module_address` can write it: its own resource, or
    the output of a module it calls directly; None when neither."""
    if sg.module == module_address:
        return f"{reference(_local(sg), sg.location)}.id"
    for child_address, output, resource in id_outputs:
        match = _LAST_CALL.match(child_address)
        if resource == sg.address and match is not None and (match[1] or "") == module_address:
            child = child_address[len(module_address) + 1:] if module_address else child_address
            return f"{reference(child, sg.location)}.{reference(output, sg.location)}"
    return None


def output_rule_refs(
    target: SecurityGroup, peer: SecurityGroup, site: CallSite, id_outputs: tuple[tuple[str, str, str], ...],
) -> tuple[str, str | None] | None:
    """(target id, peer id or None for self) as the calling module can write them, or None."""
    own = peer_expression(target, site, id_outputs)
    if own is None:
        return None
    if peer.address == target.address:
        return own, None
    other = peer_expression(peer, site, id_outputs)
    return None if other is None else (own, other)


def _field(value: Any, peer_id: str) -> str:
    if value is True or value is False:
        return "true" if value else "false"
    if value == "{peer_id}":
        return peer_id
    if isinstance(value, (int, float)):
        return str(value)
    return hcl_string(str(value))


def _base(address: str) -> str:
    return re.sub(r"\[[^\]]*\]$", "", address)


def _local(sg: SecurityGroup) -> str:
    prefix = f"{sg.module}." if sg.module else ""
    return sg.address[len(prefix):] if sg.address.startswith(prefix) else sg.address


# --- the call's current value for an input ------------------------------------------------------


def current_value(block: Block, name: str) -> tuple[str, Attribute | None]:
    """How the call sets input `name`: "absent", "map", "list", "number" or "expression"."""
    attribute = block.body.attributes.get(name)
    if attribute is None:
        return "absent", None
    expr = attribute.expr
    if isinstance(expr, ObjectExpr):
        return "map", attribute
    if isinstance(expr, TupleExpr):
        return "list", attribute
    if isinstance(expr, Literal) and isinstance(expr.value, int) and not isinstance(expr.value, bool):
        return "number", attribute
    return "expression", attribute


def map_keys(attribute: Attribute | None) -> set[str]:
    if attribute is None or not isinstance(attribute.expr, ObjectExpr):
        return set()
    keys = set()
    for key, _ in attribute.expr.items:
        if isinstance(key, Literal):
            keys.add(str(key.value))
        elif isinstance(key, Template) and all(isinstance(p, str) for p in key.parts):
            keys.add("".join(p for p in key.parts if isinstance(p, str)))
    return keys


def settings_of(mapping: Mapping[str, Any]) -> str:
    """`{ a = 1, b = "x" }` for messages."""
    return "{ " + ", ".join(f"{k} = {v}" for k, v in mapping.items()) + " }"
