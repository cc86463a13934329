"""Where a plan's resources are written: the `.tf` line of the resource, or of the module call.

The plan names resources by address; the configuration read with the existing parser (the
`.tf` files under the given paths) says where each address comes from. A resource inside a
module sglint has no source for (a registry module without `.terraform/modules`) points at
the module call; without any source, at the plan file's line that names the address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from calico_sglint.source import Location
from calico_sglint.terraform.planfile import Plan, PlanInstance, module_steps
from calico_sglint.terraform.syntax import Block, Expr, File
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
        """The display path of the module a module instance address runs. Without its source
        it is named by the plan's module call sources: two calls of different modules must
        not look like two instances of one (clusters are split by module instance)."""
        parsed, opaque = self._module(module)
        if opaque is not None:
            return opaque.module_dir
        if parsed is not None:
            return parsed.display
        if not module:
            return self.plan_display
        return f"{' > '.join(self.plan.call_sources(module))} (in {self.plan_display})"

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
    resources = plan.configuration.get("resources")
    wanted = {r["address"] for r in (resources if isinstance(resources, list) else [])
              if isinstance(r, dict) and isinstance(r.get("address"), str)}
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
