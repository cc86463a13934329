"""Fix stage: failed path findings -> the minimal missing rules -> HCL patches, written safely.

Plan: the rules the findings name (ingress on the target, egress on the source), merged so
one rule serves every requirement it can, each in the style its security group already uses
(`aws_security_group_rule`, `aws_vpc_security_group_*_rule` or inline blocks) and never one
that would mix styles or make inline rules reference each other (Error: Cycle).
Render: jinja2 templates that `terraform fmt` leaves unchanged. Write: new resources go to one
generated file per module; inline blocks go just before their resource's closing brace; every
other byte stays. fix/write.py writes them, all or none.
"""

from __future__ import annotations

import difflib
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TYPE_CHECKING, Callable

from calico_sglint.checks.findings import FAILED, Finding, RuleToAdd
from calico_sglint.checks.reachability import inline_references
from calico_sglint.fix.calls import apply_entries
from calico_sglint.fix.guards import condition, guarded, split_key, with_provider
from calico_sglint.fix.hcl import hcl_string, reference, split_lines, verify_generated
from calico_sglint.fix.modules import CallEntry, id_expression
from calico_sglint.fix.through import through_module
from calico_sglint.fix.types import FilePatch, FixPlan, PlannedRule, Unfixable
from calico_sglint.model.types import SecurityGroup
from calico_sglint.result import CheckResult
from calico_sglint.source import InputError, Location
from calico_sglint.terraform.syntax import Block
from calico_sglint.terraform.workspace import ParsedModule, Workspace

if TYPE_CHECKING:
    import networkx as nx

DEFAULT_FILE = "calico_sglint.tf"
_RESOURCE_TYPE = {
    ("rule", "ingress"): "aws_security_group_rule",
    ("rule", "egress"): "aws_security_group_rule",
    ("vpc-rule", "ingress"): "aws_vpc_security_group_ingress_rule",
    ("vpc-rule", "egress"): "aws_vpc_security_group_egress_rule",
}


# --- plan --------------------------------------------------------------------------------


_Key = tuple[str, str, str, str, "str | None"]  # module path, group, direction, protocol, peer
_Ranges = list[tuple[int, int, str, str]]  # (from, to, requirement, title) wanted


@dataclass
class _Wanted:
    """What the findings ask for, gathered before merging port ranges."""

    rules: dict[_Key, _Ranges] = field(default_factory=lambda: defaultdict(list))
    meta: dict[_Key, tuple[ParsedModule, str, str]] = field(default_factory=dict)  # module, group, style
    refs: dict[_Key, PlannedRule] = field(default_factory=dict)  # rules written with references
    entries: dict[tuple[object, ...], tuple[CallEntry, _Ranges]] = field(default_factory=dict)

    def rule(self, key: _Key, add: RuleToAdd, meta: tuple[ParsedModule, str, str], ref: PlannedRule | None = None) -> None:
        self.rules[key].append((add.from_port, add.to_port, add.requirement, add.title))
        self.meta[key] = meta
        if ref is not None:
            self.refs[key] = ref

    def entry(self, entry: CallEntry, add: RuleToAdd) -> None:
        key = (entry.site.file.path, entry.site.block.line, entry.input, entry.direction, entry.protocol,
               entry.fields, entry.sg_address, entry.peer)
        self.entries.setdefault(key, (entry, []))[1].append((add.from_port, add.to_port, add.requirement, add.title))

    def planned(self) -> tuple[list[PlannedRule], list[CallEntry]]:
        rules = []
        for key in sorted(self.rules, key=lambda k: (k[0], k[1], k[2] != "ingress", k[3], k[4] or "")):
            module, sg_address, chosen = self.meta[key]
            _, local_sg, direction, protocol, local_peer = key
            for low, high, requirements, titles in _merge(self.rules[key]):
                if key in self.refs:
                    rules.append(replace(self.refs[key], from_port=low, to_port=high, requirements=requirements,
                                         titles=titles))
                else:
                    rules.append(PlannedRule(module, local_sg, sg_address, direction, protocol, low, high,
                                             local_peer, chosen, requirements, titles))
        entries = [
            replace(entry, from_port=low, to_port=high, requirements=requirements, titles=titles)
            for entry, ranges in self.entries.values() for low, high, requirements, titles in _merge(ranges)
        ]
        return rules, entries


def plan_fixes(result: CheckResult, style: str = "auto") -> FixPlan:
    """The rules that open every fixable failed path, and why the others cannot be fixed."""
    workspace = result.workspace
    by_display = {m.display: m for m in workspace.modules.values()}
    wanted = _Wanted()
    unfixable: list[Unfixable] = []
    unverified: list[Finding] = []
    others: list[Finding] = []
    for root in result.roots:
        groups = {sg.address: sg for sg in root.model.security_groups}
        dependencies = inline_references(root.model.security_groups)
        for finding in root.findings:
            if finding.path is None:
                if finding.status == FAILED and finding.severity == "error":
                    others.append(finding)
                continue
            if finding.status != FAILED:
                unverified.append(finding)
                continue
            if not finding.fix:
                unfixable.append(Unfixable(finding, "the security groups involved are not created in the scanned code"))
                continue
            for add in finding.fix:
                for address in (add.security_group, add.peer):
                    sg = groups.get(address)
                    reference(address, sg.location if sg else finding.location)
                through = through_module(add, groups, by_display, workspace, root.id_outputs, root.model.root)
                if isinstance(through, CallEntry):
                    wanted.entry(through, add)
                    continue
                if isinstance(through, PlannedRule):
                    key = (through.module.path, through.target_ref, add.direction, add.protocol, through.peer_ref or None)
                    wanted.rule(key, add, (through.module, through.sg_address, through.style), through)
                    continue
                decided = through if isinstance(through, str) else _decide(
                    add, groups, by_display, workspace, style, dependencies, root.id_outputs)
                if isinstance(decided, str):
                    unfixable.append(Unfixable(finding, decided))
                    continue
                _want(wanted, add, decided, groups, dependencies)
    rules, entries = wanted.planned()
    rules = _guarded_rules(rules, result, by_display)
    return FixPlan(tuple(rules), tuple(dict.fromkeys(unfixable)), tuple(unverified), tuple(entries), tuple(others))


def _want(
    wanted: _Wanted, add: RuleToAdd, decided: tuple[ParsedModule, str, str, str], groups: dict[str, SecurityGroup],
    dependencies: nx.DiGraph,
) -> None:
    module, chosen, peer_ref, target_ref = decided
    target, peer = groups[add.security_group], groups[add.peer]
    local_peer = None if add.peer == add.security_group else (peer_ref or _local(peer))
    key = (module.path, target_ref or _local(target), add.direction, add.protocol, local_peer)
    ref = None
    if peer_ref:
        ref = PlannedRule(module, target.address if target_ref else _local(target), target.address, add.direction,
                          add.protocol, 0, 0, peer.address, chosen, (), (), target_ref=target_ref, peer_ref=peer_ref)
    wanted.rule(key, add, (module, target.address, chosen), ref)
    if chosen == "inline" and local_peer is not None:
        dependencies.add_edge(target.address, peer.address)


def _guarded_rules(rules: list[PlannedRule], result: CheckResult, by_display: dict[str, ParsedModule]) -> list[PlannedRule]:
    """Rules on counted groups under the group's own condition, with its provider and region."""
    instances: dict[tuple[str, str], set[int | str]] = defaultdict(set)
    for root in result.roots:
        for sg in root.model.security_groups:
            module = by_display.get(sg.module_dir or "")
            base, key = split_key(_local(sg))
            if module is not None and key is not None:
                instances[(module.path, base)].add(key)
    out = []
    for rule in guarded(rules, instances):
        found = None if rule.style == "inline" or rule.target_ref and not rule.meta else _resource_block(rule.module, rule.security_group)
        out.append(rule if found is None else with_provider(rule, found[1], Location(found[0], found[1].line, found[1].end_line)))
    return out


def _decide(
    add: RuleToAdd,
    groups: dict[str, SecurityGroup],
    by_display: dict[str, ParsedModule],
    workspace: Workspace,
    style: str,
    dependencies: nx.DiGraph,
    id_outputs: tuple[tuple[str, str, str], ...] = (),
) -> tuple[ParsedModule, str, str, str] | str:
    """The module, style, and the peer's and the group's references when the rule is written
    in another module than the group's ("" otherwise) for `add`; or why it cannot be fixed."""
    target, peer = groups.get(add.security_group), groups.get(add.peer)
    if target is None or peer is None or not target.managed or target.module_dir is None:
        return f"{add.security_group} is not created in the scanned code"
    peer_ref = target_ref = ""
    if target.module != peer.module:
        crossing = _across_modules(target, peer, style, by_display, id_outputs)
        if isinstance(crossing, str):
            return crossing
        writer, peer_ref, target_ref = crossing
        if writer is not None:
            if writer.path not in workspace.scanned:
                return f"{target.address}'s rule would go to {writer.display}, outside the scanned paths"
            styles = {r.style for r in target.rules}
            if len(styles) > 1:
                return f"{target.address} already mixes rule styles (sg-mixed-rule-styles): settle on one first"
            chosen = next(iter(styles)) if styles else ("rule" if style in ("auto", "inline") else style)
            return writer, chosen, peer_ref, target_ref
    if target.expansion is not None:
        return f"the count/for_each of {target.address} is unknown ({target.expansion.expr})"
    module = by_display.get(target.module_dir)
    if module is None or module.path not in workspace.scanned:
        return f"{target.address} is defined in {target.module_dir}, outside the scanned paths"
    styles = {r.style for r in target.rules}
    if len(styles) > 1:
        return f"{target.address} already mixes rule styles (sg-mixed-rule-styles): settle on one first"
    chosen = next(iter(styles)) if styles else ("rule" if style == "auto" else style)
    if chosen == "inline" and add.peer != add.security_group:
        import networkx as nx

        if dependencies.has_node(peer.address) and dependencies.has_node(target.address) and nx.has_path(
            dependencies, peer.address, target.address
        ):
            return (
                f"an inline rule on {target.address} naming {peer.address} would make their inline "
                f"rules reference each other (Error: Cycle); move {target.address}'s rules into "
                "aws_security_group_rule resources"
            )
    return module, chosen, peer_ref, target_ref


def _across_modules(
    target: SecurityGroup, peer: SecurityGroup, style: str, by_display: dict[str, ParsedModule],
    id_outputs: tuple[tuple[str, str, str], ...],
) -> tuple[ParsedModule | None, str, str] | str:
    """A rule between groups of two modules, written where both ids can be referenced: in the
    group's module on the peer's module output, or in the peer's module on the group's module
    output (a rule resource, never inline). (module or None for the group's, peer ref, group ref)."""
    inline = any(r.style == "inline" for r in target.rules) or (not target.rules and style == "inline")
    where = lambda sg: sg.module or "the root module"  # noqa: E731
    refused = (f"{target.address} and {peer.address} are in different modules ({where(target)}, {where(peer)}): "
               "add the rule where both ids can be referenced")
    if inline:
        return refused + f" (an inline rule on {target.address} can only name groups of its own module)"
    peer_ref = id_expression(peer, target.module, id_outputs)
    if peer_ref:
        return None, peer_ref, ""
    target_ref = id_expression(target, peer.module, id_outputs)
    module = by_display.get(peer.module_dir or "")
    if target_ref and module is not None:
        return module, f"{reference(_local(peer), peer.location)}.id", target_ref
    return refused + " (neither module has an output with the other's group id)"


def _local(sg: SecurityGroup) -> str:
    """The SG's address as its own module writes it: without the module path."""
    prefix = f"{sg.module}." if sg.module else ""
    return sg.address[len(prefix):] if sg.address.startswith(prefix) else sg.address


def _merge(ranges: list[tuple[int, int, str, str]]) -> list[tuple[int, int, tuple[str, ...], tuple[str, ...]]]:
    """Overlapping or adjacent port ranges become one rule serving every requirement in it."""
    merged: list[tuple[int, int, tuple[str, ...], tuple[str, ...]]] = []
    for low, high, requirement, title in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            last = merged[-1]
            merged[-1] = (
                last[0], max(last[1], high),
                tuple(dict.fromkeys(last[2] + (requirement,))), tuple(dict.fromkeys(last[3] + (title,))),
            )
        else:
            merged.append((low, high, (requirement,), (title,)))
    return merged


# --- render ------------------------------------------------------------------------------


def render_patches(plan: FixPlan, file_name: str = DEFAULT_FILE) -> list[FilePatch]:
    """The new and changed files the plan needs, without writing anything."""
    patches: list[FilePatch] = []
    resources: dict[str, list[PlannedRule]] = defaultdict(list)
    inline: dict[str, list[PlannedRule]] = defaultdict(list)
    for rule in plan.rules:
        (inline if rule.style == "inline" else resources)[rule.module.path].append(rule)
    modules = {r.module.path: r.module for r in plan.rules}
    for path in sorted(resources):
        patches.append(_resource_patch(modules[path], _named(modules[path], resources[path]), file_name))
    patches.extend(_edited_files(inline, modules, plan.entries))
    for patch in patches:
        verify_generated(patch.before, patch.after, patch.display)
    return patches


def _named(module: ParsedModule, rules: list[PlannedRule]) -> list[PlannedRule]:
    """Give each rule a deterministic resource name that collides with nothing in the module."""
    taken = {(b.labels[0], b.labels[1]) for f in module.files for b in f.body.blocks_of("resource") if len(b.labels) == 2}
    named = []
    for rule in rules:
        type_ = _RESOURCE_TYPE[(rule.style, rule.direction)]
        peer = "self" if rule.peer is None else _label(rule.peer)
        base = _identifier(f"{rule.requirements[0]}_{_label(rule.security_group)}_{'from' if rule.direction == 'ingress' else 'to'}_{peer}")
        name, number = base, 2
        while (type_, name) in taken:
            name, number = f"{base}_{number}", number + 1
        taken.add((type_, name))
        named.append(replace(rule, name=name))
    return named


def _label(address: str) -> str:
    """`aws_security_group.zone["a"]` -> `zone_a`; `module.sgs.aws_security_group.master` -> `sgs_master`."""
    name = re.sub(r"(^|\.)(module|aws_security_group)\.", r"\1", address)
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def _identifier(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower()[:64].rstrip("_")
    return cleaned if re.match(r"[a-z_]", cleaned) else f"r_{cleaned}"


def _resource_patch(module: ParsedModule, rules: list[PlannedRule], file_name: str) -> FilePatch:
    path = os.path.join(module.path, file_name)
    display = file_name if module.display in ("", ".") else f"{module.display}/{file_name}"
    existing = next((f for f in module.files if os.path.basename(f.path) == file_name), None)
    blocks = [_render_resource(rule) for rule in rules]
    added = tuple(f"{_RESOURCE_TYPE[(r.style, r.direction)]}.{r.name}: {r.describe()}" for r in rules)
    if existing is None:
        if os.path.exists(path):
            raise InputError("exists but is not a Terraform file sglint read; pass --file to choose another name", display)
        after = _template("header.tf.j2").render() + "\n" + "\n".join(blocks)
        return FilePatch(path, display, None, after, None, added)
    before = _read_text(path, display)
    newline = "\r\n" if "\r\n" in before else "\n"
    separator = "" if before.endswith("\n") or not before else newline
    after = before + separator + newline + newline.join(b.replace("\n", newline) for b in blocks)
    return FilePatch(path, display, before, after, existing.digest, added)


def _edited_files(
    inline: dict[str, list[PlannedRule]], modules: dict[str, ParsedModule], entries: tuple[CallEntry, ...],
) -> list[FilePatch]:
    """Patches for existing files: inline blocks before their groups' closing braces and
    entries in module calls, applied from the bottom of each file up so no edit moves another."""
    edits: dict[str, list[tuple[int, Callable[[str], tuple[str, list[str]]]]]] = defaultdict(list)
    places: dict[str, tuple[str, str]] = {}  # display -> (path, digest)
    for module_path, rules in inline.items():
        module = modules[module_path]
        by_sg: dict[str, list[PlannedRule]] = defaultdict(list)
        for rule in rules:
            by_sg[rule.security_group].append(rule)
        for local_sg, sg_rules in by_sg.items():
            found = _resource_block(module, local_sg)
            if found is None:
                raise InputError(f"cannot find {local_sg} to add inline rules", module.display)
            display, block = found
            file = next(f for f in module.files if f.path == display)
            places[display] = (os.path.join(module.path, os.path.basename(display)), file.digest)
            edits[display].append((block.end_line, partial(_inline_edit, block.end_line, sg_rules, display)))
    by_block: dict[tuple[str, int], list[CallEntry]] = defaultdict(list)
    for entry in entries:
        by_block[(entry.site.file.path, entry.site.block.line)].append(entry)
    for (display, line), block_entries in by_block.items():
        site = block_entries[0].site
        places[display] = (os.path.join(site.module.path, os.path.basename(display)), site.file.digest)
        edits[display].append((line, partial(apply_entries, entries=block_entries, display=display)))
    patches = []
    for display in sorted(edits):
        path, digest = places[display]
        before = after = _read_text(path, display)
        added: list[str] = []
        for _, edit in sorted(edits[display], key=lambda item: -item[0]):
            after, lines = edit(after)
            added[:0] = lines
        patches.append(FilePatch(path, display, before, after, digest, tuple(added)))
    return patches


def _inline_edit(end_line: int, rules: list[PlannedRule], display: str, text: str) -> tuple[str, list[str]]:
    after = _insert_blocks(text, end_line, [_render_inline(r) for r in rules], display)
    return after, [f"inline {r.describe()}" for r in rules]


def _sg_block(module: ParsedModule, local_sg: str) -> tuple[str, int] | None:
    """(file, closing-brace line) of the resource block that declares `local_sg`."""
    found = _resource_block(module, local_sg)
    return None if found is None else (found[0], found[1].end_line)


def _resource_block(module: ParsedModule, local_sg: str) -> tuple[str, Block] | None:
    """(file, block) of the resource that declares `local_sg` (any instance key ignored)."""
    type_, _, rest = local_sg.partition(".")
    name = rest.split("[", 1)[0]
    for file in module.files:
        for block in file.body.blocks_of("resource"):
            if block.labels == (type_, name):
                return file.path, block
    return None


def _insert_blocks(text: str, end_line: int, blocks: list[str], display: str) -> str:
    """`blocks` inserted just before the closing brace on `end_line`; nothing else changes."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = split_lines(text)
    index = end_line - 1
    if not 0 <= index < len(lines):
        raise InputError("the security group's closing brace is not where it was read", display, end_line)
    line = lines[index]
    body = newline.join(b.rstrip("\n").replace("\n", newline) for b in blocks) + newline
    if line.strip() == "}":
        opening = index > 0 and lines[index - 1].rstrip().endswith("{")
        lines[index:index] = [("" if opening else newline) + body]
        return "".join(lines)
    stripped = line.rstrip("\r\n")
    if stripped.endswith("{}"):
        ending = line[len(stripped):] or newline
        lines[index] = stripped[:-1] + newline + body + "}" + ending
        return "".join(lines)
    raise InputError(
        "cannot add inline rules: the closing brace of the security group is not on a line of its "
        "own (run terraform fmt first)", display, end_line,
    )


def _render_resource(rule: PlannedRule) -> str:
    own = rule.target_ref or f"{reference(rule.security_group, None)}.id"
    other = own if rule.peer is None else (rule.peer_ref or f"{reference(rule.peer, None)}.id")
    low, high = _ports(rule)
    description = hcl_string("calico-sglint: " + "; ".join(rule.titles))
    if rule.style == "rule":
        attributes = [
            ("type", hcl_string(rule.direction)),
            ("description", description),
            ("from_port", str(low)),
            ("to_port", str(high)),
            ("protocol", hcl_string(_protocol(rule.protocol))),
            ("security_group_id", own),
            ("self", "true") if rule.peer is None else ("source_security_group_id", other),
        ]
    else:
        attributes = [
            ("security_group_id", own),
            ("description", description),
            ("ip_protocol", hcl_string(_protocol(rule.protocol))),
        ]
        if rule.protocol in ("tcp", "udp"):
            attributes += [("from_port", str(low)), ("to_port", str(high))]
        attributes.append(("referenced_security_group_id", other))
    attributes += list(rule.carried)
    return _template("resource.tf.j2").render(
        type=_RESOURCE_TYPE[(rule.style, rule.direction)], name=rule.name,
        attributes=attributes, width=max(len(k) for k, _ in attributes),
        meta=rule.meta, meta_width=max((len(k) for k, _ in rule.meta), default=0),
    )


def _render_inline(rule: PlannedRule) -> str:
    low, high = _ports(rule)
    attributes = [
        ("description", hcl_string("calico-sglint: " + "; ".join(rule.titles))),
        ("from_port", str(low)),
        ("to_port", str(high)),
        ("protocol", hcl_string(_protocol(rule.protocol))),
        ("self", "true") if rule.peer is None else ("security_groups", f"[{reference(rule.peer, None)}.id]"),
    ]
    return _template("inline.tf.j2").render(
        direction=rule.direction, attributes=attributes, width=max(len(k) for k, _ in attributes),
        guard=condition(rule.peer),  # a counted peer: the block exists only while the peer does
    )


def _ports(rule: PlannedRule) -> tuple[int, int]:
    """Ports as the AWS provider wants them: 0/0 for all traffic and protocols without ports."""
    if rule.protocol in ("tcp", "udp"):
        return rule.from_port, rule.to_port
    return 0, 0


def _protocol(protocol: str) -> str:
    return "-1" if protocol == "all" else protocol


def generated_mark() -> str:
    """The first line of every file `sglint fix` creates, by which it is recognised later."""
    return str(_template("header.tf.j2").render().splitlines()[0])


def _template(name: str):  # type: ignore[no-untyped-def]
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("calico_sglint.fix", "templates"),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        undefined=jinja2.StrictUndefined,
    )
    return environment.get_template(name)


# --- write -------------------------------------------------------------------------------


def _read_text(path: str, display: str) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read: {err}", display) from None


def unified_diff(patches: list[FilePatch]) -> str:
    """A unified diff of every patch, `a/` and `b/` prefixed like git."""
    chunks: list[str] = []
    for patch in patches:
        before = split_lines(patch.before or "")
        after = split_lines(patch.after)
        source = "/dev/null" if patch.before is None else f"a/{patch.display}"
        chunks.extend(difflib.unified_diff(before, after, source, f"b/{patch.display}"))
    return "".join(chunks)


def summary_lines(plan: FixPlan, patches: list[FilePatch], written: bool) -> list[str]:
    """What was (or would be) added where, and what could not be fixed and why."""
    count = sum(len(p.added) for p in patches)
    verb = "added" if written else "would add"
    if not patches:
        lines = ["sglint fix: no missing rule to add"]
    else:
        lines = [f"sglint fix: {verb} {count} rule{'s' if count != 1 else ''} in {len(patches)} file{'s' if len(patches) != 1 else ''}"]
    for patch in patches:
        lines.append(f"  {patch.display}{' (new file)' if patch.before is None else ''}")
        lines.extend(f"    + {line}" for line in patch.added)
    if plan.unfixable:
        lines.append(f"not fixed ({len(plan.unfixable)}):")
        for item in plan.unfixable:
            where = f"{item.finding.location}: " if item.finding.location else ""
            lines.append(f"  {where}[{item.finding.rule_id}] {item.reason}")
    if plan.unverified:
        lines.append(
            f"unverified, not fixed ({len(plan.unverified)}): sglint cannot tell whether these paths are "
            "open; give the values it could not evaluate (--var, --var-file) or declare the rules:"
        )
        for finding in plan.unverified:
            where = f"{finding.location}: " if finding.location else ""
            unknown = finding.unknowns[0].expr if finding.unknowns else "a value"
            lines.append(f"  {where}[{finding.rule_id}] {_one_line(unknown)} could not be evaluated")
    if plan.others:
        lines.append(f"not a missing rule, not fixed ({len(plan.others)}): sglint fix only adds rules; "
                     "these need a change to what is there (`sglint explain RULE`):")
        for finding in plan.others:
            where = f"{finding.location}: " if finding.location else ""
            lines.append(f"  {where}[{finding.rule_id}] {_one_line(finding.message)}")
    return lines


def still_missing_lines(after: CheckResult, plan: FixPlan) -> list[str]:
    """After writing: path findings that still fail although sglint did not say it could not
    fix them (a module input that does not open what sglint expected, say), each named."""
    explained = {(u.finding.rule_id, u.finding.key) for u in plan.unfixable}
    left = [f for f in after.findings if f.path is not None and f.status == FAILED
            and (f.rule_id, f.key) not in explained]
    if not left:
        return []
    lines = [f"still missing after the fix ({len(left)}): the rules written did not open these paths; check them by hand:"]
    for finding in left:
        where = f"{finding.location}: " if finding.location else ""
        lines.append(f"  {where}[{finding.rule_id}] {_one_line(finding.message)}")
    return lines


def paths_stay_missing(plan: FixPlan, patches: list[FilePatch]) -> bool:
    """True when a required path is missing now: sglint would add a rule, or could not."""
    return bool(patches) or bool(plan.unfixable)


def _one_line(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 120 else flat[:117] + "..."
