"""Where a plan's resources are written: the `.tf` line of the resource, or of the module call.

The plan names resources by address; the configuration read with the existing parser (the
`.tf` files under the given paths) says where each address comes from. A resource inside a
module sglint has no source for (a registry module without `.terraform/modules`) points at
the module call; without any source, at the plan file's line that names the address.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Mapping

from calico_sglint.source import Location
from calico_sglint.terraform.planfile import Plan, PlanInstance, module_steps
from calico_sglint.terraform.syntax import (
    BinaryOp,
    Block,
    Expr,
    Call,
    Conditional,
    File,
    ForExpr,
    GetAttr,
    Index,
    Literal,
    Name,
    ObjectExpr,
    Splat,
    Template,
    TemplateFor,
    TemplateIf,
    TupleExpr,
    UnaryOp,
)
from calico_sglint.terraform.workspace import ParsedModule, Workspace


@dataclass(frozen=True)
class Origin:
    """Where an instance comes from: its location, its module's display path (the key for
    suppression comments and `fix`), and its resource block when we have its source."""

    location: Location
    module_dir: str
    block: Block | None = None


class SourceMap:
    """Plan addresses -> source locations, for one root module of the workspace (or none)."""

    def __init__(self, plan: Plan, workspace: Workspace | None, root: str | None, plan_display: str) -> None:
        self.plan = plan
        self.workspace = workspace
        self.root = workspace.modules[root] if workspace is not None and root is not None else None
        self.plan_display = plan_display
        self._blocks: dict[str, Mapping[tuple[str, str, str], tuple[Block, File]]] = {}

    def module_dir(self, module: str) -> str:
        """The display path of the module a module instance address runs."""
        parsed, opaque = self._module(module)
        if opaque is not None:
            return opaque.module_dir
        return parsed.display if parsed is not None else self.plan_display

    def origin(self, instance: PlanInstance) -> Origin:
        parsed, opaque = self._module(instance.module)
        if opaque is not None:
            return opaque
        if parsed is None:
            return self._in_plan(instance.address)
        kind = "data" if instance.mode == "data" else "resource"
        found = self._resource_blocks(parsed).get((kind, instance.type, instance.name))
        if found is None:
            line = self._in_plan(instance.address).location
            return Origin(line, parsed.display)
        block, file = found
        return Origin(Location(file.path, block.line, block.end_line), parsed.display, block)

    def local(self, module: str, name: str) -> Expr | None:
        """The expression of `local.<name>` in the module a module instance runs (the plan
        does not record locals); None without the source."""
        return self._top_level(module, "locals", None, name)

    def output(self, module: str, name: str) -> Expr | None:
        """The `value` of output `name` of the module a module instance runs."""
        return self._top_level(module, "output", name, "value")

    def call_input(self, module: str, call: str, name: str) -> Expr | None:
        """The expression a `module "call"` block of module instance `module` passes as `name`."""
        return self._top_level(module, "module", call, name)

    def _top_level(self, module: str, type_: str, label: str | None, attribute: str) -> Expr | None:
        parsed, _ = self._module(module)
        for file in parsed.files if parsed is not None else ():
            for block in file.body.blocks_of(type_):
                if label is not None and block.labels != (label,):
                    continue
                found = block.body.attributes.get(attribute)
                if found is not None:
                    return found.expr
        return None

    def _in_plan(self, address: str) -> Origin:
        line = self.plan.lines.get(address, 1)
        return Origin(Location(self.plan_display, line, line), self.plan_display)

    def _module(self, module: str) -> tuple[ParsedModule | None, Origin | None]:
        """The parsed module of a module instance, or the call we cannot follow (as an Origin)."""
        current = self.root
        if current is None or self.workspace is None:
            return None, None
        for name, _ in module_steps(module):
            call = next((c for c in current.calls if c.name == name), None)
            if call is None:
                return None, None
            if call.path is None or call.path not in self.workspace.modules:
                where = call.source or f"module.{name}"
                return None, Origin(call.location, f"{where} (called at {call.location})")
            current = self.workspace.modules[call.path]
        return current, None

    def _resource_blocks(self, module: ParsedModule) -> Mapping[tuple[str, str, str], tuple[Block, File]]:
        if module.path not in self._blocks:
            table: dict[tuple[str, str, str], tuple[Block, File]] = {}
            for file in module.files:
                for block in file.body.blocks:
                    if block.type in ("resource", "data") and len(block.labels) == 2:
                        table.setdefault((block.type, block.labels[0], block.labels[1]), (block, file))
            self._blocks[module.path] = table
        return self._blocks[module.path]


def choose_root(plan: Plan, workspace: Workspace) -> str | None:
    """The workspace root module the plan was made from: the one declaring most of the
    resources and module calls of the plan's root configuration, and at least half of them
    (None: no root does; the sources are of other code)."""
    wanted = {r.get("address") for r in plan.configuration.get("resources", []) if isinstance(r, dict)}
    calls = plan.configuration.get("module_calls")
    wanted |= {f"module.{name}" for name in calls} if isinstance(calls, dict) else set()
    if not wanted:
        wanted = {i.resource for i in plan.instances.values() if not i.module} | {
            "module." + module_steps(m)[0][0] for m in plan.modules if m
        }
    best, score = None, 0
    for root in workspace.roots:
        found = len(wanted & _declared(workspace.modules[root]))
        if found > score:
            best, score = root, found
    return best if wanted and score * 2 >= len(wanted) else None


def _declared(module: ParsedModule) -> set[str]:
    names = {f"module.{call.name}" for call in module.calls}
    for file in module.files:
        for block in file.body.blocks:
            if block.type == "resource" and len(block.labels) == 2:
                names.add(f"{block.labels[0]}.{block.labels[1]}")
            elif block.type == "data" and len(block.labels) == 2:
                names.add(f"data.{block.labels[0]}.{block.labels[1]}")
    return names


def expression_references(expr: object, bound: frozenset[str] = frozenset()) -> list[str]:
    """The references an expression makes, spelled like Terraform's `references` in a plan:
    `local.x`, `aws_x.y[0].id`, `module.m.out`; a traversal stops at an index that is not a
    literal (`module.m[each.key].out` -> `module.m`, `each.key`). `bound` are for-expression
    variables, which are not references."""
    found: list[str] = []
    _collect(expr, bound, found)
    return list(dict.fromkeys(found))


def _collect(expr: object, bound: frozenset[str], found: list[str]) -> None:
    chain = _traversal(expr)
    if chain is not None:
        root, steps, rest = chain
        if root not in bound:
            found.append(root + "".join(steps))
        for item in rest:
            _collect(item, bound, found)
        return
    if isinstance(expr, ForExpr):
        _collect(expr.collection, bound, found)
        inner = bound | {expr.value_var} | ({expr.key_var} if expr.key_var else set())
        for part in (expr.key, expr.value, expr.cond):
            _collect(part, frozenset(inner), found)
        return
    if isinstance(expr, TemplateFor):
        _collect(expr.collection, bound, found)
        inner = bound | {expr.value_var} | ({expr.key_var} if expr.key_var else set())
        for part in expr.body:
            _collect(part, frozenset(inner), found)
        return
    for child in _children(expr):
        _collect(child, bound, found)


def _traversal(expr: object) -> tuple[str, list[str], list[object]] | None:
    """(root name, static steps, expressions left to walk) of a reference chain."""
    steps: list[tuple[str, object]] = []
    node = expr
    while isinstance(node, (GetAttr, Index)):
        steps.append(("attr", node.name) if isinstance(node, GetAttr) else ("index", node.key))
        node = node.obj
    if not isinstance(node, Name):
        return None
    static: list[str] = []
    rest: list[object] = []
    for kind, value in reversed(steps):
        if rest:
            if kind == "index":
                rest.append(value)
            continue
        if kind == "attr":
            static.append(f".{value}")
        elif _literal_key(value) is not None:
            static.append(f"[{json.dumps(_literal_key(value))}]")
        else:
            rest.append(value)
    return node.name, static, rest


_LIST_FUNCTIONS = frozenset({"concat", "compact", "distinct", "toset", "tolist", "flatten", "sort"})


def names_every_candidate(expr: object) -> bool:
    """Whether every resource an expression references is part of its value: a reference, a
    list of them, `concat`/`compact`/`toset`/... of such. A condition, an index into a list or
    map, a `for` or any other function may pick some of them only."""
    if isinstance(expr, (Name, GetAttr, Index)):
        chain = _traversal(expr)
        return chain is not None and not chain[2] and _selects_nothing(chain[0], chain[1])
    if isinstance(expr, TupleExpr):
        return all(names_every_candidate(item) for item in expr.items)
    if isinstance(expr, Call) and expr.name in _LIST_FUNCTIONS and not expr.expand_last:
        return all(names_every_candidate(arg) for arg in expr.args)
    if isinstance(expr, Template) and len(expr.parts) == 1 and not isinstance(expr.parts[0], str):
        return names_every_candidate(expr.parts[0])
    return isinstance(expr, Literal)


def _selects_nothing(root: str, steps: list[str]) -> bool:
    """A traversal indexes only where an instance key goes (`aws_x.y[0].id`, `module.m["a"].out`),
    not into a value (`var.ids[0]`, `local.sgs["a"]`)."""
    keyed_at = {"var": -1, "local": -1, "module": 1, "data": 2}.get(root, 1)
    return all(not step.startswith("[") or index == keyed_at for index, step in enumerate(steps))


def _literal_key(expr: object) -> int | str | None:
    if isinstance(expr, Template) and len(expr.parts) == 1 and isinstance(expr.parts[0], str):
        return expr.parts[0]
    if isinstance(expr, Literal) and isinstance(expr.value, (int, str)) and not isinstance(expr.value, bool):
        return expr.value
    return None


def _children(expr: object) -> list[object]:
    if isinstance(expr, Template):
        return list(expr.parts)
    if isinstance(expr, TemplateIf):
        return [expr.cond, *expr.then, *expr.otherwise]
    if isinstance(expr, TupleExpr):
        return list(expr.items)
    if isinstance(expr, ObjectExpr):
        return [part for item in expr.items for part in item]
    if isinstance(expr, Splat):
        return [expr.obj, *(s for s in expr.steps if not isinstance(s, str))]
    if isinstance(expr, Call):
        return list(expr.args)
    if isinstance(expr, Conditional):
        return [expr.cond, expr.then, expr.otherwise]
    if isinstance(expr, BinaryOp):
        return [expr.left, expr.right]
    if isinstance(expr, UnaryOp):
        return [expr.operand]
    return []
