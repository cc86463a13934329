"""Planning a fix for a group inside a module outside the scanned paths (see fix/modules.py)."""

from __future__ import annotations

from dataclasses import replace

from calico_sglint.checks.findings import RuleToAdd
from calico_sglint.fix.calls import entry_fields, entry_key, layout_problem
from calico_sglint.fix.modules import (
    CallEntry,
    call_site,
    current_value,
    entry_for,
    output_rule_refs,
    settings_of,
)
from calico_sglint.fix.types import PlannedRule
from calico_sglint.model.types import SecurityGroup
from calico_sglint.terraform.syntax import render
from calico_sglint.terraform.workspace import ParsedModule, Workspace


def through_module(
    add: RuleToAdd,
    groups: dict[str, SecurityGroup],
    by_display: dict[str, ParsedModule],
    workspace: Workspace,
    id_outputs: tuple[tuple[str, str, str], ...],
    root: str = "",
) -> CallEntry | PlannedRule | str | None:
    """For a group inside a module outside the scanned paths: the entry for the module's input,
    a rule on the module's output, or why neither works. None: not such a group."""
    target, peer = groups.get(add.security_group), groups.get(add.peer)
    if target is None or peer is None or not target.managed or not target.module or target.module_dir is None:
        return None
    called = by_display.get(target.module_dir)
    if called is None or called.path in workspace.scanned:
        return None
    site = call_site(target, called, workspace, root)
    if isinstance(site, str):
        return site
    shown_peer = "itself" if peer.address == target.address else peer.address
    found = entry_for(add, target, peer, site, called, id_outputs)
    if found is not None:
        candidate, name, fields = found
        count = ""
        computed = next((n for n in candidate.computed if current_value(site.block, n)[0] != "absent"), None)
        if computed is not None:
            name, count = computed, candidate.computed_count
        kind, attribute = current_value(site.block, name)
        entry = CallEntry(site, name, candidate.shape, add.protocol, 0, 0, tuple(fields.items()), add.direction,
                          target.address, shown_peer, count)
        counted = not count or current_value(site.block, count)[0] in ("absent", "number")
        example = replace(entry, from_port=add.from_port, to_port=add.to_port, titles=(add.title,),
                          requirements=(add.requirement,))
        if kind in ("absent", candidate.shape) and counted:
            problem = layout_problem(example)
            if problem is None:
                return entry
            return (f"{problem}; or add this entry to {name} by hand: "
                    f"{entry_key(example, set()) + ' = ' if candidate.shape == 'map' else ''}"
                    f"{settings_of(dict(entry_fields(example)))}")
        where = f"{site.file.path}:{attribute.line}" if attribute else site.file.path
        key = f"{entry_key(example, set())} = " if candidate.shape == "map" else ""
        if not counted:
            return (f"module.{site.call.name} sets {count} to an expression; sglint does not rewrite it: add this "
                    f"entry to {name} and raise {count} by one: {settings_of(dict(entry_fields(example)))}")
        return (
            f"module.{site.call.name} passes {render(attribute.expr, 60) if attribute else name} to {name} "
            f"({where}); sglint does not rewrite an expression: add this entry to it: "
            f"{key}{settings_of(dict(entry_fields(example)))}"
        )
    inline = any(r.style == "inline" for r in target.rules)
    refs = None if inline else output_rule_refs(target, peer, site, id_outputs)
    if refs is not None:
        styles = {r.style for r in target.rules}
        chosen = next(iter(styles)) if len(styles) == 1 else "rule"
        return PlannedRule(site.module, target.address, target.address, add.direction, add.protocol, add.from_port,
                           add.to_port, None if refs[1] is None else peer.address, chosen, (), (),
                           target_ref=refs[0], peer_ref=refs[1] or "")
    why = ("its rules there are inline blocks (a rule resource beside them would fight them)" if inline
           else "no output of it is the group's id (nor the peer's)")
    return (
        f"{target.address} is created inside module.{site.call.name} ({site.call.source or called.display}), "
        f"which sglint does not edit: sglint knows no input of it for extra rules, and {why}; add the rule "
        "in the module, or an output with the group's id"
    )
