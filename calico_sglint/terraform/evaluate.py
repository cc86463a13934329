"""Evaluate stage: parsed modules -> the resource instances Terraform would plan.

For one root module: variables (defaults, `TF_VAR_*`, `terraform.tfvars`, `*.auto.tfvars`,
`--var-file`, `--var`), locals, `count`/`for_each`, `dynamic` blocks and local module calls
(inputs in, outputs out), all evaluated lazily and memoised. Every resource of a wanted type
comes out as a `ResourceInstance` with its Terraform address and evaluated attributes.
Anything that cannot be evaluated stays an `Unknown` naming the culprit expression.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from calico_sglint.source import Diagnostic, InputError, Location
from calico_sglint.terraform import budget, typeconstraints
from calico_sglint.terraform.budget import (
    MAX_MODULE_DEPTH,
    Budget,
    BudgetExceeded,
)
from calico_sglint.terraform.configuration import (
    Configuration,
    EvalAttr,
    EvalBlock,
    ModuleProblem,
    OpaqueInput,
    ResourceInstance,
)
from calico_sglint.terraform.confine import ReadBoundary, Refused, boundary_for
from calico_sglint.terraform.expansion import (
    SINGLE,
    Expansion,
    bindings,
    count_expansion,
    for_each_expansion,
    unknown_expansion,
)
from calico_sglint.terraform.expressions import (
    NO_NAMES,
    Names,
    Scope,
    evaluate,
    iterate,
)
from calico_sglint.terraform.fileset import PatternError, fileset
from calico_sglint.terraform.installed import UnreadableModule
from calico_sglint.terraform.objects import (
    ModuleObject,
    OpaqueModule,
    Placeholder,
    ResourceObject,
)
from calico_sglint.terraform.parse import (
    decode,
    parse_expression,
    parse_template,
)
from calico_sglint.terraform.syntax import (
    Attribute,
    Block,
    Body,
    Expr,
    File,
    Name,
    Template,
    render,
)
from calico_sglint.terraform.values import (
    EvalError,
    ObjectLike,
    Ref,
    UndeclaredReference,
    Unknown,
    UnknownMembers,
    find_refs,
    find_unknown,
)
from calico_sglint.terraform.workspace import ModuleCall, ParsedModule, Workspace

_RESOURCE_META = {"count", "for_each", "depends_on", "provider"}
_RESOURCE_META_BLOCKS = {"lifecycle", "provisioner", "connection", "precondition", "postcondition"}
_MODULE_META = {"source", "version", "count", "for_each", "providers", "depends_on"}


@dataclass(frozen=True)
class VarInputs:
    """Values for root-module variables from outside the module."""

    var_files: tuple[File, ...] = ()  # parsed --var-file files, lowest precedence first
    vars: tuple[tuple[str, str], ...] = ()  # --var NAME=VALUE, in order
    env: Mapping[str, str] = field(default_factory=dict)  # TF_VAR_* (without the prefix)


def evaluate_root(
    workspace: Workspace,
    root_path: str,
    inputs: VarInputs = VarInputs(),
    wanted: Mapping[str, frozenset[str] | None] | None = None,
    boundary: ReadBoundary | None = None,
) -> Configuration:
    """Evaluate the root module at `root_path` and every local module it calls.

    `wanted` maps the resource types to build instances of to the top-level attributes and
    blocks to evaluate (None: all of them); None evaluates every resource whole. Files that
    expressions read must lie inside `boundary` (default: the scanned paths' repository)."""
    run = _Run(workspace, root_path, inputs, boundary)
    root = ModuleInstance(run, workspace.modules[root_path], "", None, None)
    resources: list[ResourceInstance] = []
    modules: list[tuple[str, str]] = []
    opaque: list[OpaqueInput] = []
    installed: list[str] = []
    id_outputs: list[tuple[str, str, str]] = []
    try:
        with budget.active(run.budget):
            for instance in _instances(root):
                modules.append((instance.address, instance.parsed.display))
                if instance.installed:
                    installed.append(instance.address)
                resources.extend(instance.resource_instances(wanted))
                opaque.extend(instance.opaque_inputs())
                if instance.address:
                    id_outputs.extend(instance.id_outputs())
            problems = module_problems(workspace, root_path)
            for problem in problems:
                if problem.kind == "version":  # read anyway: a warning, not a finding
                    run.warn(f"{problem.address} (source \"{problem.source}\"): {problem.reason}; {problem.advice}",
                             problem.location)
    except BudgetExceeded as exceeded:
        message = f"{exceeded.message}; sglint stopped evaluating this root module (see Limits in docs/configuration.md)"
        run.diagnostics.append(Diagnostic("error", message, exceeded.location))
        resources, modules, opaque, installed, problems, id_outputs = [], modules[:1], [], [], (), []
    return Configuration(
        workspace.modules[root_path].display,
        tuple(resources),
        tuple(modules),
        tuple(dict.fromkeys(run.diagnostics)),
        problems,
        next((f.path for f in workspace.modules[root_path].files), ""),
        tuple(opaque),
        tuple(installed),
        tuple(id_outputs),
    )


def module_problems(workspace: Workspace, root_path: str) -> tuple[ModuleProblem, ...]:
    """The root's unreadable module calls and version mismatches, in file order."""
    problems = []
    for item in workspace.unreadable.get(root_path, ()):
        call = item.call
        problems.append(ModuleProblem("unreadable", _call_address(item.key), call.source, item.reason,
                                      item.advice, call.source_location or call.location))
    for mismatch in workspace.mismatches.get(root_path, ()):
        call = mismatch.call
        problems.append(ModuleProblem("version", _call_address(mismatch.key), call.source, mismatch.message,
                                      "run `terraform init -backend=false -upgrade` to install a matching one",
                                      call.version_location or call.location))
    return tuple(sorted(problems, key=lambda p: (p.location.file, p.location.line, p.kind)))


def _call_address(key: str) -> str:
    return ".".join(f"module.{name}" for name in key.split("."))


def _instances(instance: ModuleInstance) -> Iterator[ModuleInstance]:
    yield instance
    for child in instance.children():
        yield from _instances(child)


def instance_address(base: str, key: int | str | None) -> str:
    """`base` with Terraform's instance key: `x[0]`, `x["a"]`."""
    if key is None:
        return base
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}[{json.dumps(key)}]"


class _Run:
    """State shared by all module instances of one root: inputs, diagnostics, file cache."""

    def __init__(
        self, workspace: Workspace, root_path: str, inputs: VarInputs, boundary: ReadBoundary | None = None
    ) -> None:
        self.workspace = workspace
        self.root_path = root_path
        self.inputs = inputs
        self.diagnostics: list[Diagnostic] = []
        self.budget = Budget()
        self.boundary = boundary or boundary_for(workspace.scanned or [root_path])
        self._bytes: dict[str, bytes | Refused] = {}
        self._texts: dict[str, str | Refused] = {}
        self._templates: dict[str, Template | Refused] = {}

    def warn(self, message: str, location: Location | None) -> None:
        self.diagnostics.append(Diagnostic("warning", message, location))

    def resolve(self, path: str) -> str:
        """Terraform resolves relative file paths against the root module's directory."""
        return path if os.path.isabs(path) else os.path.normpath(os.path.join(self.root_path, path))

    def read_bytes(self, path: str) -> bytes | Refused:
        """The bytes of a file an expression reads, through the run's `ReadBoundary` (confine.py)."""
        full = self.resolve(path)
        if full not in self._bytes:
            self._bytes[full] = self.boundary.read(full)
        return self._bytes[full]

    def fileset(self, path: str, pattern: str) -> list[str] | Refused:
        """`fileset(path, pattern)` inside the run's `ReadBoundary` (fileset.py)."""
        try:
            return fileset(self.resolve(path), pattern, self.boundary)
        except PatternError as err:
            raise EvalError(f"fileset(): {err}") from None

    def read_text(self, path: str) -> str | Refused:
        """A file an expression reads, through the run's `ReadBoundary` (confine.py)."""
        full = self.resolve(path)
        if full not in self._texts:
            data = self._bytes[full] if full in self._bytes else self.boundary.read(full)
            if isinstance(data, Refused):
                self._texts[full] = data
            else:
                try:
                    self._texts[full] = decode(data, path)
                except InputError as err:
                    self._texts[full] = Refused(err.message)
        return self._texts[full]

    def template(self, path: str, at: Location) -> tuple[Template, str] | Refused:
        full = self.resolve(path)
        if full not in self._templates:
            text = self.read_text(path)
            try:
                self._templates[full] = text if isinstance(text, Refused) else parse_template(text, path, 1)
            except InputError as err:
                self.warn(f"template {path}: {err}", at)
                self._templates[full] = Refused("the template does not parse")
        template = self._templates[full]
        return template if isinstance(template, Refused) else (template, path)


_NO_VALUE = object()
UNDECLARED_SECURITY_GROUP = "no such security group is declared in this module"


class ModuleInstance(Names):
    """One instance of a module: its names resolve lazily, each value computed once."""

    def __init__(
        self,
        run: _Run,
        module: ParsedModule,
        address: str,
        inputs: Mapping[str, Callable[[], Any]] | None,
        expansion: Unknown | None,
        callers: tuple[str, ...] = (),
    ) -> None:
        self.run = run
        self.parsed = module
        self.callers = callers  # the directories of the modules above this one, root first
        self.address = address
        self.inputs = inputs  # None for the root module
        self.expansion_unknown = expansion
        self.installed = False  # its code is where `terraform init` installed it (not the user's to edit)
        self.variables: dict[str, tuple[Block, File]] = {}
        self.locals: dict[str, tuple[Attribute, File]] = {}
        self.outputs: dict[str, tuple[Block, File]] = {}
        self.resources: dict[tuple[str, str], tuple[Block, File]] = {}
        self.data_sources: dict[tuple[str, str], tuple[Block, File]] = {}
        self.calls: dict[str, tuple[Block, File]] = {}
        self._memo: dict[tuple[str, ...], Any] = {}
        self._active: set[tuple[str, ...]] = set()
        self._children: dict[tuple[str, Any], ModuleInstance] = {}
        self._index()
        rel = os.path.relpath(module.path, run.root_path).replace(os.sep, "/")
        self.base = {
            "path": {"module": rel, "root": ".", "cwd": run.root_path},
            "terraform": {"workspace": "default"},
        }

    # --- declarations ---------------------------------------------------------------------

    def _index(self) -> None:
        for file in self.parsed.files:
            for block in file.body.blocks:
                self._declare(block, file)

    def _declare(self, block: Block, file: File) -> None:
        labels = block.labels
        table: dict[Any, Any] | None = None
        key: Any = None
        if block.type == "variable" and len(labels) == 1:
            table, key = self.variables, labels[0]
        elif block.type == "output" and len(labels) == 1:
            table, key = self.outputs, labels[0]
        elif block.type == "module" and len(labels) == 1:
            table, key = self.calls, labels[0]
        elif block.type == "resource" and len(labels) == 2:
            table, key = self.resources, (labels[0], labels[1])
        elif block.type == "data" and len(labels) == 2:
            table, key = self.data_sources, (labels[0], labels[1])
        elif block.type == "locals":
            for attribute in block.body.attributes.values():
                if attribute.name in self.locals:
                    self._duplicate(f"local.{attribute.name}", file, attribute.line)
                else:
                    self.locals[attribute.name] = (attribute, file)
            return
        if table is None:
            return
        if key in table:
            what = ".".join(key) if isinstance(key, tuple) else key
            self._duplicate(f"{block.type} {what}", file, block.line)
        else:
            table[key] = (block, file)

    def _duplicate(self, what: str, file: File, line: int) -> None:
        self.run.diagnostics.append(
            Diagnostic("error", f"{what} is declared twice; the first is used", Location(file.path, line, line))
        )

    def scope(self, file: File, **bindings: Any) -> Scope:
        return Scope(self, file.path, {**self.base, **bindings})

    def _once(self, key: tuple[str, ...], compute: Callable[[], Any]) -> Any:
        if key in self._memo:
            return self._memo[key]
        if key in self._active:
            raise EvalError(f"{'.'.join(key)} depends on itself (a cycle)")
        self._active.add(key)
        try:
            value = compute()
        finally:
            self._active.discard(key)
        self._memo[key] = value
        return value

    def _prefixed(self, address: str) -> str:
        return f"{self.address}.{address}" if self.address else address

    # --- Names ----------------------------------------------------------------------------

    def variable(self, name: str, at: Location) -> Any:
        if name not in self.variables:
            raise EvalError(f'var.{name} is not declared in {self.parsed.display}')
        value = self._once(("var", name), lambda: self._variable_value(name))
        if value is _NO_VALUE:
            where = "module input" if self.inputs is not None else "variable"
            return Unknown(f"var.{name}", f"{where} has no value and no default", at)
        if isinstance(value, Unknown) and value.location is None:
            return Unknown(value.expr, value.reason, at)
        return value

    def local(self, name: str, at: Location) -> Any:
        if name not in self.locals:
            raise EvalError(f"local.{name} is not declared in {self.parsed.display}")
        attribute, file = self.locals[name]
        return self._once(("local", name), lambda: evaluate(attribute.expr, self.scope(file)))

    def resource(self, type_: str, name: str, at: Location) -> Any:
        if (type_, name) not in self.resources:
            if type_ == "aws_security_group":  # reported as sg-unknown-reference
                return UndeclaredReference(f"{type_}.{name}", UNDECLARED_SECURITY_GROUP, at)
            raise EvalError(f"{type_}.{name} is not declared in {self.parsed.display}")
        return self._collection(
            ("resource", type_, name),
            self._prefixed(f"{type_}.{name}"),
            lambda address: ResourceObject(address, managed=True, type_=type_),
        )

    def data(self, type_: str, name: str, at: Location) -> Any:
        if (type_, name) not in self.data_sources:
            raise EvalError(f"data.{type_}.{name} is not declared in {self.parsed.display}")
        return self._collection(
            ("data", type_, name),
            self._prefixed(f"data.{type_}.{name}"),
            lambda address: ResourceObject(address, managed=False),
        )

    def module(self, name: str, at: Location) -> Any:
        if name not in self.calls:
            raise EvalError(f"module.{name} is not declared in {self.parsed.display}")
        return self._collection(
            ("module", name),
            self._prefixed(f"module.{name}"),
            lambda address: self._module_object(name, address),
        )

    def template(self, path: str, at: Location) -> tuple[Template, str] | Refused:
        return self.run.template(path, at)

    def read_text(self, path: str) -> str | Refused:
        return self.run.read_text(path)

    def read_bytes(self, path: str) -> bytes | Refused:
        return self.run.read_bytes(path)

    def fileset(self, path: str, pattern: str) -> list[str] | Refused:
        return self.run.fileset(path, pattern)

    # --- variables ------------------------------------------------------------------------

    def _variable_value(self, name: str) -> Any:
        block, file = self.variables[name]
        type_attr = block.body.attributes.get("type")
        type_expr = type_attr.expr if type_attr else None
        if self.inputs is None:
            value = self._root_value(name, type_expr)
        elif name in self.inputs:
            value = self.inputs[name]()
        else:
            value = _NO_VALUE
        default = block.body.attributes.get("default")
        nullable = block.body.attributes.get("nullable")
        not_nullable = nullable is not None and evaluate(nullable.expr, self.scope(file)) is False
        if (value is _NO_VALUE or (value is None and not_nullable)) and default is not None:
            value = evaluate(default.expr, Scope(NO_NAMES, file.path))
        if value is _NO_VALUE:
            return value
        try:
            return typeconstraints.convert(value, type_expr)
        except EvalError as err:
            at = Location(file.path, block.line, block.line)
            self.run.warn(f"var.{name}: value does not match its type: {err}", at)
            return Unknown(f"var.{name}", f"value does not match its type: {err}", at)

    def _root_value(self, name: str, type_expr: Expr | None) -> Any:
        value: Any = _NO_VALUE
        inputs = self.run.inputs
        if name in inputs.env:
            value = self._cli_value(inputs.env[name], type_expr, f"TF_VAR_{name}")
        for file in (*self.parsed.tfvars, *inputs.var_files):
            attribute = file.body.attributes.get(name)
            if attribute is not None:
                value = evaluate(attribute.expr, Scope(NO_NAMES, file.path))
        for key, text in inputs.vars:
            if key == name:
                value = self._cli_value(text, type_expr, f"--var {name}")
        return value

    def _cli_value(self, text: str, type_expr: Expr | None, origin: str) -> Any:
        if typeconstraints.is_primitive(type_expr):
            return text
        try:
            return evaluate(parse_expression(text, origin, 1), Scope(NO_NAMES, origin))
        except InputError as err:
            raise EvalError(f"{origin}: {err.message}") from None

    # --- count / for_each -----------------------------------------------------------------

    def _expansion(self, key: tuple[str, ...], block: Block, file: File) -> Expansion:
        return self._once(("expansion", *key), lambda: self._charged(block, file))  # type: ignore[no-any-return]

    def _charged(self, block: Block, file: File) -> Expansion:
        """The block's expansion, its instances charged to the run's budget (`budget.py`)."""
        expansion = self._expand(block, file)
        try:
            self.run.budget.spend_instances(len(expansion.keys), f"{block.type} {'.'.join(block.labels)}")
        except BudgetExceeded as exceeded:
            attribute = block.body.attributes.get("count") or block.body.attributes.get("for_each")
            line = attribute.line if attribute is not None else block.line
            exceeded.location = exceeded.location or Location(file.path, line, line)
            raise
        return expansion

    def _expand(self, block: Block, file: File) -> Expansion:
        attrs = block.body.attributes
        attribute = attrs.get("count") or attrs.get("for_each")
        if attribute is None:
            return SINGLE
        try:
            value = evaluate(attribute.expr, self.scope(file))
            if attribute.name == "count":
                return count_expansion(value, attribute, file)
            return for_each_expansion(value, attribute, file)
        except EvalError as err:
            self.run.warn(f"{attribute.name}: {err}", Location(file.path, attribute.line, attribute.line))
            return unknown_expansion(Unknown(render(attribute.expr), f"cannot be evaluated: {err}"), attribute, file)

    def _collection(
        self, key: tuple[str, ...], base: str, make: Callable[[str], Any]
    ) -> Any:
        """The value of `aws_x.y` / `module.m`: one object, a list (count) or a map (for_each)."""
        kind = key[0]
        table: Mapping[Any, tuple[Block, File]]
        if kind == "resource":
            table, name = self.resources, (key[1], key[2])
        elif kind == "data":
            table, name = self.data_sources, (key[1], key[2])
        else:
            table, name = self.calls, key[1]
        block, file = table[name]
        expansion = self._expansion(key, block, file)
        if expansion.kind == "single":
            return make(base)
        if expansion.kind == "count":
            return [make(instance_address(base, k)) for k in expansion.keys]
        if expansion.kind == "for_each":
            return {str(k): make(instance_address(base, k)) for k in expansion.keys}
        assert expansion.unknown is not None
        return Placeholder(base, make(base), expansion.unknown)

    # --- module calls ---------------------------------------------------------------------

    def _target(self, name: str) -> str | UnreadableModule:
        """The directory of the module call `name`, or why it cannot be read."""
        call = next(c for c in self.parsed.calls if c.name == name)
        key = call_key(self._prefixed(f"module.{name}"))
        target = self.run.workspace.call_target(self.run.root_path, key, call)
        refused = None if isinstance(target, UnreadableModule) else self._refused_call(call, target)
        return target if refused is None else UnreadableModule(refused, "")

    def _refused_call(self, call: ModuleCall, path: str) -> str | None:
        """Why a module call is not followed: a module that calls itself (directly or through
        others) would never end, and nesting is bounded (`budget.py`). An error at the call."""
        chain = (*self.callers, self.parsed.path)
        if path in chain:
            reason = "the module calls itself (directly or through other modules), which Terraform rejects"
        elif len(chain) > MAX_MODULE_DEPTH:
            reason = f"modules are nested more than {MAX_MODULE_DEPTH} deep"
        else:
            return None
        self.run.diagnostics.append(Diagnostic("error", f"module.{call.name}: {reason}; not evaluated", call.location))
        return reason

    def _module_object(self, name: str, address: str) -> Any:
        target = self._target(name)
        if isinstance(target, UnreadableModule):
            return OpaqueModule(address, f"module not read: {target.reason}")
        return ModuleObject(self._child(name, address, target))

    def _child(self, name: str, address: str, path: str) -> ModuleInstance:
        if (name, address) in self._children:
            return self._children[(name, address)]
        block, file = self.calls[name]
        expansion = self._expansion(("module", name), block, file)
        key = _key_of(address)
        bound = bindings(expansion, key if expansion.kind != "unknown" else None)
        scope = self.scope(file, **bound)
        inputs = {
            attr.name: _input_thunk(attr, scope, self.run)
            for attr in block.body.attributes.values()
            if attr.name not in _MODULE_META
        }
        child = ModuleInstance(
            self.run,
            self.run.workspace.modules[path],
            address,
            inputs,
            expansion.unknown or self.expansion_unknown,
            (*self.callers, self.parsed.path),
        )
        call = next(c for c in self.parsed.calls if c.name == name)
        child.installed = self.installed or call.path is None
        self._children[(name, address)] = child
        return child

    def children(self) -> list[ModuleInstance]:
        """Every instance of every readable module this instance calls, in declaration order."""
        result = []
        for name, (block, file) in self.calls.items():
            target = self._target(name)
            if isinstance(target, UnreadableModule):
                continue
            base = self._prefixed(f"module.{name}")
            expansion = self._expansion(("module", name), block, file)
            keys = expansion.keys if expansion.kind != "unknown" else (None,)
            for key in keys:
                result.append(self._child(name, instance_address(base, key), target))
        return result

    def opaque_inputs(self) -> list[OpaqueInput]:
        """The resource ids this instance gives to module calls sglint cannot read."""
        result: list[OpaqueInput] = []
        for name, (block, file) in self.calls.items():
            target = self._target(name)
            if not isinstance(target, UnreadableModule):
                continue
            base = self._prefixed(f"module.{name}")
            expansion = self._expansion(("module", name), block, file)
            for key in expansion.keys if expansion.kind != "unknown" else (None,):
                scope = self.scope(file, **bindings(expansion, key))
                for attribute in block.body.attributes.values():
                    if attribute.name in _MODULE_META:
                        continue
                    try:
                        value = evaluate(attribute.expr, scope)
                    except (EvalError, RecursionError):
                        continue  # not read by anything: no warning for it
                    at = Location(file.path, attribute.line, attribute.line)
                    result.extend(
                        OpaqueInput(instance_address(base, key), attribute.name, ref.address, at, target.reason)
                        for ref in find_refs(value) if ref.attribute == "id"
                    )
        return result

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise EvalError(f'module {self.address} has no output "{name}"')
        block, file = self.outputs[name]
        value_attr = block.body.attributes.get("value")
        if value_attr is None:
            return None
        return self._once(("output", name), lambda: evaluate(value_attr.expr, self.scope(file)))

    def id_outputs(self) -> list[tuple[str, str, str]]:
        """(module address, output, resource address) for each output that is a resource's id."""
        found = []
        for name in sorted(self.outputs):
            block, _ = self.outputs[name]
            value_attr = block.body.attributes.get("value")
            if value_attr is None or "aws_security_group." not in render(value_attr.expr, 100_000):
                continue  # only a group's id matters here: leave every other output unevaluated
            try:
                value = self.output(name)
            except Exception:  # noqa: BLE001 - an output only `fix` reads never fails the check
                continue
            if isinstance(value, Ref) and value.attribute == "id":
                found.append((self.address, name, value.address))
        return found

    # --- resources ------------------------------------------------------------------------

    def resource_instances(self, wanted: Mapping[str, frozenset[str] | None] | None) -> list[ResourceInstance]:
        """Every instance of every resource of a wanted type declared in this module."""
        result: list[ResourceInstance] = []
        for (type_, name), (block, file) in self.resources.items():
            if wanted is not None and type_ not in wanted:
                continue
            only = wanted.get(type_) if wanted is not None else None
            expansion = self._expansion(("resource", type_, name), block, file)
            base = self._prefixed(f"{type_}.{name}")
            keys = expansion.keys if expansion.kind != "unknown" else (None,)
            for key in keys:
                scope = self.scope(file, **bindings(expansion, key))
                body = self._eval_block(block, scope, top_level=True, only=only)
                result.append(
                    ResourceInstance(
                        address=instance_address(base, key),
                        resource=base,
                        mode="managed",
                        type=type_,
                        name=name,
                        key=key,
                        module=self.address,
                        module_dir=self.parsed.display,
                        body=body,
                        expansion=expansion.unknown or self.expansion_unknown,
                    )
                )
        return result

    def _eval_block(
        self, block: Block, scope: Scope, top_level: bool = False, only: frozenset[str] | None = None
    ) -> EvalBlock:
        attrs, blocks = self._eval_body(block.body, scope, top_level, only)
        return EvalBlock(block.type, attrs, tuple(blocks), Location(scope.file, block.line, block.end_line))

    def _eval_body(
        self, body: Body, scope: Scope, top_level: bool, only: frozenset[str] | None = None
    ) -> tuple[dict[str, EvalAttr], list[EvalBlock]]:
        """Attributes and blocks, evaluated; `only` limits a resource's top level to what later
        stages read (its nested blocks are evaluated whole)."""
        attrs = {
            name: EvalAttr(self._attribute(attribute, scope), Location(scope.file, attribute.line, attribute.end_line))
            for name, attribute in body.attributes.items()
            if not (top_level and name in _RESOURCE_META) and (only is None or name in only)
        }
        blocks: list[EvalBlock] = []
        for child in body.blocks:
            if top_level and child.type in _RESOURCE_META_BLOCKS:
                continue
            label = child.labels[0] if child.type == "dynamic" and child.labels else child.type
            if only is not None and label not in only:
                continue
            if child.type == "dynamic":
                blocks.extend(self._dynamic(child, scope))
            else:
                blocks.append(self._eval_block(child, scope))
        return attrs, blocks

    def _attribute(self, attribute: Attribute, scope: Scope) -> Any:
        try:
            return evaluate(attribute.expr, scope)
        except EvalError as err:
            at = Location(scope.file, attribute.line, attribute.line)
            self.run.warn(f"{attribute.name}: {err}", at)
            return Unknown(render(attribute.expr), f"cannot be evaluated: {err}", at)
        except RecursionError:
            at = Location(scope.file, attribute.line, attribute.line)
            self.run.warn(f"{attribute.name}: expression nested too deeply to evaluate", at)
            return Unknown(render(attribute.expr, 60), "nested too deeply to evaluate", at)

    def _dynamic(self, block: Block, scope: Scope) -> list[EvalBlock]:
        """Expand `dynamic "x" { for_each = ...; content { ... } }` into `x` blocks."""
        location = Location(scope.file, block.line, block.end_line)
        if not block.labels:
            self.run.warn("dynamic block without a label", location)
            return []
        type_ = block.labels[0]
        iterator = type_
        iterator_attr = block.body.attributes.get("iterator")
        if iterator_attr is not None and isinstance(iterator_attr.expr, Name):
            iterator = iterator_attr.expr.name
        content = block.body.first_block("content")
        for_each = block.body.attributes.get("for_each")
        if content is None or for_each is None:
            self.run.warn(f'dynamic "{type_}" needs for_each and a content block', location)
            return []
        collection = self._attribute(for_each, scope)
        if isinstance(collection, (Unknown, Ref, ObjectLike)):
            culprit = find_unknown(collection)
            assert culprit is not None
            reason = f"blocks depend on {culprit.expr}"
            inner = scope.bind(**{iterator: {
                "key": Unknown(f"{iterator}.key", reason, culprit.location),
                "value": Unknown(f"{iterator}.value", reason, culprit.location),
            }})
            attrs, blocks = self._eval_body(content.body, inner, top_level=False)
            return [EvalBlock(type_, attrs, tuple(blocks), location, culprit)]
        try:
            items = iterate(collection, f'dynamic "{type_}" for_each')
        except EvalError as err:
            self.run.warn(str(err), location)
            unknown = Unknown(render(for_each.expr), f"cannot be evaluated: {err}", location)
            return [EvalBlock(type_, {}, (), location, unknown)]
        result = []
        for key, value in items:
            inner = scope.bind(**{iterator: {"key": key, "value": value}})
            attrs, blocks = self._eval_body(content.body, inner, top_level=False)
            members = value if isinstance(value, UnknownMembers) else None  # an unknown number of blocks
            result.append(EvalBlock(type_, attrs, tuple(blocks), location, members))
        return result


def call_key(address: str) -> str:
    """The dotted call key of a module instance address, as `modules.json` has it:
    `module.eks["a"].module.node_group` -> `eks.node_group`."""
    parts = re.sub(r'\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]', "", address).split(".")
    return ".".join(parts[i + 1] for i in range(0, len(parts) - 1, 2) if parts[i] == "module")


def _key_of(address: str) -> int | str | None:
    """The instance key at the end of an address: `module.x["a"]` -> "a"."""
    if not address.endswith("]"):
        return None
    raw = address[address.rindex("[") + 1 : -1]
    return json.loads(raw)  # type: ignore[no-any-return]


def _input_thunk(attribute: Attribute, scope: Scope, run: _Run) -> Callable[[], Any]:
    def compute() -> Any:
        try:
            return evaluate(attribute.expr, scope)
        except EvalError as err:
            at = Location(scope.file, attribute.line, attribute.line)
            run.warn(f"{attribute.name}: {err}", at)
            return Unknown(render(attribute.expr), f"cannot be evaluated: {err}", at)

    return compute
