"""Fix stage: failed path findings -> the minimal missing rules -> HCL patches, written safely.

Plan: the rules the findings name (ingress on the target, egress on the source), merged so
one rule serves every requirement it can, each in the style its security group already uses
(`aws_security_group_rule`, `aws_vpc_security_group_*_rule` or inline blocks) and never one
that would mix styles or make inline rules reference each other (Error: Cycle).
Render: jinja2 templates that `terraform fmt` leaves unchanged. Write: new resources go to one
generated file per module; inline blocks go just before their resource's closing brace; every
other byte stays. Files are replaced atomically, and only if unchanged since they were read.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, replace

import networkx as nx

from calico_sglint.checks.findings import FAILED, Finding, RuleToAdd
from calico_sglint.checks.reachability import inline_references
from calico_sglint.model.types import SecurityGroup
from calico_sglint.render.wording import traffic_text
from calico_sglint.result import CheckResult
from calico_sglint.source import InputError
from calico_sglint.terraform.workspace import ParsedModule, Workspace

DEFAULT_FILE = "calico_sglint.tf"
_RESOURCE_TYPE = {
    ("rule", "ingress"): "aws_security_group_rule",
    ("rule", "egress"): "aws_security_group_rule",
    ("vpc-rule", "ingress"): "aws_vpc_security_group_ingress_rule",
    ("vpc-rule", "egress"): "aws_vpc_security_group_egress_rule",
}


@dataclass(frozen=True)
class PlannedRule:
    """One rule to add, in terms of the module it goes into."""

    module: ParsedModule
    security_group: str  # address within the module: aws_security_group.worker
    sg_address: str  # full Terraform address, for messages
    direction: str
    protocol: str  # "tcp", "udp", "all" or a protocol number
    from_port: int
    to_port: int
    peer: str | None  # address within the module of the peer SG; None means self
    style: str  # "rule", "vpc-rule" or "inline"
    requirements: tuple[str, ...]
    titles: tuple[str, ...]
    name: str = ""  # the resource name, chosen when rendering

    def describe(self) -> str:
        traffic = traffic_text(self.protocol, self.from_port, self.to_port)
        peer = "itself" if self.peer is None else self.peer
        preposition = "from" if self.direction == "ingress" else "to"
        return f"{self.direction} {traffic} on {self.sg_address} {preposition} {peer}"


@dataclass(frozen=True)
class Unfixable:
    finding: Finding
    reason: str


@dataclass(frozen=True)
class FixPlan:
    rules: tuple[PlannedRule, ...]
    unfixable: tuple[Unfixable, ...]
    unverified: tuple[Finding, ...]


@dataclass(frozen=True)
class FilePatch:
    path: str  # absolute
    display: str
    before: str | None  # None: a new file
    after: str
    digest: str | None  # sha256 of the bytes `before` came from
    added: tuple[str, ...]  # one line per rule added, for the summary


# --- plan --------------------------------------------------------------------------------


def plan_fixes(result: CheckResult, style: str = "auto") -> FixPlan:
    """The rules that open every fixable failed path, and why the others cannot be fixed."""
    workspace = result.workspace
    by_display = {m.display: m for m in workspace.modules.values()}
    wanted: dict[tuple[str, str, str, str, str | None], list[tuple[int, int, str, str]]] = defaultdict(list)
    meta: dict[tuple[str, str, str, str, str | None], tuple[ParsedModule, str, str]] = {}
    unfixable: list[Unfixable] = []
    unverified: list[Finding] = []
    for root in result.roots:
        groups = {sg.address: sg for sg in root.model.security_groups}
        dependencies = inline_references(root.model.security_groups)
        for finding in root.findings:
            if finding.path is None:
                continue
            if finding.status != FAILED:
                unverified.append(finding)
                continue
            if not finding.fix:
                unfixable.append(Unfixable(finding, "the security groups involved are not created in the scanned code"))
                continue
            for add in finding.fix:
                decided = _decide(add, groups, by_display, workspace, style, dependencies)
                if isinstance(decided, str):
                    unfixable.append(Unfixable(finding, decided))
                    continue
                module, chosen = decided
                target, peer = groups[add.security_group], groups[add.peer]
                local_peer = None if add.peer == add.security_group else _local(peer)
                key = (module.path, _local(target), add.direction, add.protocol, local_peer)
                wanted[key].append((add.from_port, add.to_port, add.requirement, add.title))
                meta[key] = (module, target.address, chosen)
                if chosen == "inline" and local_peer is not None:
                    dependencies.add_edge(target.address, peer.address)
    rules = []
    for key in sorted(wanted, key=lambda k: (k[0], k[1], k[2] != "ingress", k[3], k[4] or "")):
        module, sg_address, chosen = meta[key]
        _, local_sg, direction, protocol, peer = key
        for low, high, requirements, titles in _merge(wanted[key]):
            rules.append(PlannedRule(module, local_sg, sg_address, direction, protocol, low, high,
                                     peer, chosen, requirements, titles))
    return FixPlan(tuple(rules), tuple(dict.fromkeys(unfixable)), tuple(unverified))


def _decide(
    add: RuleToAdd,
    groups: dict[str, SecurityGroup],
    by_display: dict[str, ParsedModule],
    workspace: Workspace,
    style: str,
    dependencies: nx.DiGraph,
) -> tuple[ParsedModule, str] | str:
    """The module and style for `add`, or the reason it cannot be fixed."""
    target, peer = groups.get(add.security_group), groups.get(add.peer)
    if target is None or peer is None or not target.managed or target.module_dir is None:
        return f"{add.security_group} is not created in the scanned code"
    if target.module != peer.module:
        where = lambda sg: sg.module or "the root module"  # noqa: E731
        return (
            f"{target.address} and {peer.address} are in different modules ({where(target)}, "
            f"{where(peer)}): add the rule where both ids can be referenced"
        )
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
        if dependencies.has_node(peer.address) and dependencies.has_node(target.address) and nx.has_path(
            dependencies, peer.address, target.address
        ):
            return (
                f"an inline rule on {target.address} naming {peer.address} would make their inline "
                f"rules reference each other (Error: Cycle); move {target.address}'s rules into "
                "aws_security_group_rule resources"
            )
    return module, chosen


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
    for path in sorted(inline):
        patches.extend(_inline_patches(modules[path], inline[path]))
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
    """`aws_security_group.zone["a"]` -> `zone_a`."""
    name = address.split(".", 1)[1] if "." in address else address
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def _identifier(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_").lower()
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


def _inline_patches(module: ParsedModule, rules: list[PlannedRule]) -> list[FilePatch]:
    by_sg: dict[str, list[PlannedRule]] = defaultdict(list)
    for rule in rules:
        by_sg[rule.security_group].append(rule)
    by_file: dict[str, list[tuple[int, list[PlannedRule]]]] = defaultdict(list)
    for local_sg, sg_rules in by_sg.items():
        block = _sg_block(module, local_sg)
        if block is None:
            raise InputError(f"cannot find {local_sg} to add inline rules", module.display)
        file, end_line = block
        by_file[file].append((end_line, sg_rules))
    patches = []
    for display in sorted(by_file):
        path = os.path.join(module.path, os.path.basename(display))
        file = next(f for f in module.files if f.path == display)
        before = _read_text(path, display)
        after = before
        added: list[str] = []
        for end_line, sg_rules in sorted(by_file[display], key=lambda item: -item[0]):
            after = _insert_blocks(after, end_line, [_render_inline(r) for r in sg_rules], display)
            added.extend(f"inline {r.describe()}" for r in sg_rules)
        patches.append(FilePatch(path, display, before, after, file.digest, tuple(reversed(added))))
    return patches


def _sg_block(module: ParsedModule, local_sg: str) -> tuple[str, int] | None:
    """(file, closing-brace line) of the resource block that declares `local_sg`."""
    type_, _, rest = local_sg.partition(".")
    name = rest.split("[", 1)[0]
    for file in module.files:
        for block in file.body.blocks_of("resource"):
            if block.labels == (type_, name):
                return file.path, block.end_line
    return None


def _insert_blocks(text: str, end_line: int, blocks: list[str], display: str) -> str:
    """`blocks` inserted just before the closing brace on `end_line`; nothing else changes."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
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
    own = f"{rule.security_group}.id"
    other = own if rule.peer is None else f"{rule.peer}.id"
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
    return _template("resource.tf.j2").render(
        type=_RESOURCE_TYPE[(rule.style, rule.direction)], name=rule.name,
        attributes=attributes, width=max(len(k) for k, _ in attributes),
    )


def _render_inline(rule: PlannedRule) -> str:
    low, high = _ports(rule)
    attributes = [
        ("description", hcl_string("calico-sglint: " + "; ".join(rule.titles))),
        ("from_port", str(low)),
        ("to_port", str(high)),
        ("protocol", hcl_string(_protocol(rule.protocol))),
        ("self", "true") if rule.peer is None else ("security_groups", f"[{rule.peer}.id]"),
    ]
    return _template("inline.tf.j2").render(
        direction=rule.direction, attributes=attributes, width=max(len(k) for k, _ in attributes),
    )


def _ports(rule: PlannedRule) -> tuple[int, int]:
    """Ports as the AWS provider wants them: 0/0 for all traffic and protocols without ports."""
    if rule.protocol in ("tcp", "udp"):
        return rule.from_port, rule.to_port
    return 0, 0


def _protocol(protocol: str) -> str:
    return "-1" if protocol == "all" else protocol


def hcl_string(text: str) -> str:
    """`text` as a quoted HCL string: quotes, backslashes, newlines, `${` and `%{` escaped."""
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
        .replace("\t", "\\t").replace("${", "$${").replace("%{", "%%{")
    )
    return f'"{escaped}"'


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


def write_patches(patches: list[FilePatch]) -> None:
    """Write every patch atomically, after checking no file changed since it was read."""
    for patch in patches:
        if patch.before is None:
            if os.path.exists(patch.path):
                raise InputError("appeared since sglint read the module; run sglint fix again", patch.display)
            continue
        try:
            with open(patch.path, "rb") as handle:
                current = hashlib.sha256(handle.read()).hexdigest()
        except OSError as err:
            raise InputError(f"cannot read: {err.strerror or err}", patch.display) from None
        if current != patch.digest:
            raise InputError("changed since sglint read it; nothing was written, run sglint fix again", patch.display)
    for patch in patches:
        _atomic_write(patch.path, patch.after)


def _atomic_write(path: str, text: str) -> None:
    directory = os.path.dirname(path)
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else None
    handle, temporary = tempfile.mkstemp(prefix=".sglint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def unified_diff(patches: list[FilePatch]) -> str:
    """A unified diff of every patch, `a/` and `b/` prefixed like git."""
    chunks = []
    for patch in patches:
        before = (patch.before or "").splitlines(keepends=True)
        after = patch.after.splitlines(keepends=True)
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
            "open; `sglint check` names the values it could not evaluate"
        )
    return lines
