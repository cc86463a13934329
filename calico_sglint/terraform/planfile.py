"""Read the JSON of `terraform show -json PLANFILE` and index what the plan reader needs.

Checks the document is a plan in a format we read (format_version 1.x; not JSON, a state, or
`terraform show -json` of a state are one-line `InputError`s naming the file), then indexes:
every resource instance of `planned_values` at every module level (data sources too), what
`resource_changes` says Terraform does not know yet (`after_unknown`) and which instances are
being destroyed, the module instances, and the `configuration` section per module.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from calico_sglint.source import InputError
from calico_sglint.terraform.evaluate import instance_address

MAX_PLAN_BYTES = 512 * 1024 * 1024  # refuse larger files instead of exhausting memory
MAX_MODULE_DEPTH = 64
_NOT_A_PLAN = "not a Terraform plan: expected the output of `terraform show -json PLANFILE`"
_STEP = re.compile(r'\.?([A-Za-z_][\w-]*)(?:\[("(?:[^"\\]|\\.)*"|[^\]]*)\])?')
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_ADDRESS = re.compile(r'"address"\s*:\s*("(?:[^"\\\n]|\\.)*")')


class _Sensitive:
    """A value the plan marks sensitive: not read, so that no report ever prints it."""

    def __repr__(self) -> str:
        return "(sensitive)"


SENSITIVE = _Sensitive()


@dataclass(frozen=True)
class PlanInstance:
    """One resource instance as the plan will leave it (`after`, with what is unknown)."""

    address: str
    resource: str  # the address without the instance key
    mode: str  # "managed" or "data"
    type: str
    name: str
    key: int | str | None
    module: str  # module instance address, "" for the root module
    values: Mapping[str, Any]
    unknown: Any  # `after_unknown`: True, or a structure like `values` with True leaves


@dataclass(frozen=True)
class Plan:
    path: str  # as the user gave it
    instances: Mapping[str, PlanInstance]  # by address, in plan order; destroyed ones left out
    by_resource: Mapping[str, tuple[PlanInstance, ...]]  # resource address -> its instances
    modules: tuple[str, ...]  # module instance addresses, "" first
    variables: Mapping[str, Any]  # root-module variable values
    configuration: Mapping[str, Any]  # the `configuration.root_module` section ({} if absent)
    lines: Mapping[str, int]  # address -> line of its first `"address"` in the file
    errored: bool  # Terraform stopped planning with an error: the plan may be incomplete
    _resources: dict[int, dict[str, Mapping[str, Any]]] = field(default_factory=dict, compare=False, repr=False)

    def config_module(self, module: str) -> Mapping[str, Any] | None:
        """The `configuration` of the module a module instance address instantiates."""
        calls = self._calls(module)
        if calls and not isinstance(calls[-1], dict):
            return None
        current = calls[-1].get("module") if calls else self.configuration
        return current if isinstance(current, dict) else None

    def call_sources(self, module: str) -> tuple[str, ...]:
        """The `source` of each module call on the way to a module instance, outermost first
        ("?name" where the configuration does not say): what tells two modules apart."""
        names = [name for name, _ in module_steps(module)]
        sources = [call.get("source") if isinstance(call, dict) else None for call in self._calls(module)]
        sources += [None] * (len(names) - len(sources))
        return tuple(s if isinstance(s, str) and s else f"?{n}" for n, s in zip(names, sources))

    def _calls(self, module: str) -> list[Any]:
        """The `configuration` entry of each module call on the way to a module instance,
        outermost first, up to the first the configuration does not have (None there)."""
        found: list[Any] = []
        current: Any = self.configuration
        for name, _ in module_steps(module):
            calls = current.get("module_calls") if isinstance(current, dict) else None
            call = calls.get(name) if isinstance(calls, dict) else None
            found.append(call)
            if not isinstance(call, dict):
                break
            current = call.get("module")
        return found

    def config_resource(self, instance: PlanInstance) -> Mapping[str, Any] | None:
        """The `configuration` entry of the resource an instance belongs to."""
        module = self.config_module(instance.module)
        if module is None:
            return None
        key = id(module)
        if key not in self._resources:
            self._resources[key] = {
                r["address"]: r for r in _list(module.get("resources")) if isinstance(r, dict) and isinstance(r.get("address"), str)
            }
        local = f"data.{instance.type}.{instance.name}" if instance.mode == "data" else f"{instance.type}.{instance.name}"
        return self._resources[key].get(local)


def load_plan(path: str) -> Plan:
    """The plan at `path`; `InputError` (one line, naming the file) when it is not one."""
    text = _read(path)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not JSON ({err.msg} at line {err.lineno}); {_NOT_A_PLAN}", path, err.lineno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply to read", path) from None
    _check_document(document, path)
    destroyed, unknown = _changes(document.get("resource_changes"))
    instances: dict[str, PlanInstance] = {}
    modules: list[str] = []
    try:
        for module, resource in _walk(document["planned_values"].get("root_module"), "", modules, 0):
            instance = _instance(resource, module, unknown)
            if instance is not None and resource.get("address") not in destroyed:
                instances[instance.address] = instance
    except ValueError as err:
        raise InputError(f"{_NOT_A_PLAN} ({err})", path) from None
    by_resource: dict[str, list[PlanInstance]] = {}
    for instance in instances.values():
        by_resource.setdefault(instance.resource, []).append(instance)
    variables = {
        name: entry.get("value")
        for name, entry in _mapping(document.get("variables")).items()
        if isinstance(entry, dict)
    }
    configuration = _mapping(_mapping(document.get("configuration")).get("root_module"))
    lines = _address_lines(text)
    return Plan(
        path, instances, {k: tuple(v) for k, v in by_resource.items()}, tuple(dict.fromkeys(["", *modules])),
        variables, configuration, lines, document.get("errored") is True,
    )


def _read(path: str) -> str:
    if not os.path.isfile(path):
        raise InputError("no such plan file (--plan)", path)
    try:
        if os.path.getsize(path) > MAX_PLAN_BYTES:
            raise InputError(f"plan larger than {MAX_PLAN_BYTES // (1024 * 1024)} MiB; not read", path)
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as err:
        raise InputError(f"cannot read the plan: {err.strerror or err}", path) from None
    if data.startswith(b"PK"):
        raise InputError(
            "a binary plan file: convert it with `terraform show -json PLANFILE > plan.json` and pass that", path
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"not UTF-8 text; {_NOT_A_PLAN}", path) from None


def _check_document(document: Any, path: str) -> None:
    if not isinstance(document, dict):
        raise InputError(f"{_NOT_A_PLAN} (the JSON is not an object)", path)
    if "lineage" in document or ("serial" in document and "resources" in document):
        raise InputError("a Terraform state file, not a plan: run `terraform plan -out=tfplan` and "
                         "pass the output of `terraform show -json tfplan`", path)
    version = document.get("format_version")
    if not isinstance(version, str):
        raise InputError(f"{_NOT_A_PLAN} (no format_version)", path)
    if version.split(".")[0] != "1":
        raise InputError(f"unsupported plan format_version {version!r}; sglint reads 1.x", path)
    if "planned_values" not in document:
        if "values" in document:
            raise InputError("the JSON of a Terraform state (`terraform show -json` without a plan file), "
                             "not a plan: pass the output of `terraform show -json tfplan`", path)
        raise InputError(f"{_NOT_A_PLAN} (no planned_values)", path)
    if not isinstance(document["planned_values"], dict):
        raise InputError(f"{_NOT_A_PLAN} (planned_values is not an object)", path)


def _changes(changes: Any) -> tuple[set[str], dict[str, Any]]:
    """Addresses being destroyed (or forgotten), and `after_unknown` by address."""
    destroyed: set[str] = set()
    unknown: dict[str, Any] = {}
    for entry in _list(changes):
        if not isinstance(entry, dict) or not isinstance(entry.get("address"), str) or entry.get("deposed"):
            continue  # a deposed object (create_before_destroy) shares the address of the live one
        change = _mapping(entry.get("change"))
        actions = _list(change.get("actions"))
        if ("delete" in actions or "forget" in actions) and "create" not in actions:
            destroyed.add(entry["address"])
        unknown[entry["address"]] = change.get("after_unknown", False)
    return destroyed, unknown


def _walk(module: Any, address: str, modules: list[str], depth: int) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(module instance address, resource) for every resource at every module level."""
    if not isinstance(module, dict) or depth > MAX_MODULE_DEPTH:
        return
    for resource in _list(module.get("resources")):
        if isinstance(resource, dict):
            yield address, resource
    for child in _list(module.get("child_modules")):
        if isinstance(child, dict) and isinstance(child.get("address"), str):
            child_address = module_address(child["address"])
            if child_address is None or not child_address.startswith(address):
                raise ValueError(f"module address {child['address']!r} is not a Terraform module address")
            modules.append(child_address)
            yield from _walk(child, child_address, modules, depth + 1)


def _instance(resource: Mapping[str, Any], module: str, unknown: Mapping[str, Any]) -> PlanInstance | None:
    """The instance a `planned_values` resource describes. Its address is rebuilt from its
    parts (keys quoted as the HCL reading quotes them), never taken as written."""
    given, type_, name = resource.get("address"), resource.get("type"), resource.get("name")
    if not (isinstance(given, str) and isinstance(type_, str) and isinstance(name, str)):
        return None
    if not (_IDENTIFIER.fullmatch(type_) and _IDENTIFIER.fullmatch(name)):
        raise ValueError(f"resource {given!r} does not have a Terraform type and name")
    mode = "data" if resource.get("mode") == "data" else "managed"
    key = resource.get("index")
    if not isinstance(key, (int, str)) or isinstance(key, bool):
        key = None
    local = f"data.{type_}.{name}" if mode == "data" else f"{type_}.{name}"
    base = f"{module}.{local}" if module else local
    values = _mapping(_hide_sensitive(_mapping(resource.get("values")), resource.get("sensitive_values")))
    return PlanInstance(
        instance_address(base, key), base, mode, type_, name, key, module, values, unknown.get(given, False),
    )


def _hide_sensitive(value: Any, sensitive: Any) -> Any:
    """`value` with what `sensitive_values` marks replaced by `SENSITIVE`."""
    if sensitive is True:
        return SENSITIVE
    if isinstance(value, dict) and isinstance(sensitive, dict) and sensitive:
        return {k: _hide_sensitive(v, sensitive.get(k)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(sensitive, list) and sensitive:
        return [_hide_sensitive(v, sensitive[i] if i < len(sensitive) else None) for i, v in enumerate(value)]
    return value


def module_address(text: str) -> str | None:
    """A module instance address rebuilt from its parts (`module.a["x"].module.b`), or None
    when `text` is not one."""
    steps = split_reference(text)
    if not steps or len(steps) % 2:
        return None
    address = ""
    for index in range(0, len(steps), 2):
        if steps[index] != ("module", None) or not _IDENTIFIER.fullmatch(steps[index + 1][0]):
            return None
        address = instance_address(f"{address}.module.{steps[index + 1][0]}" if address else f"module.{steps[index + 1][0]}", steps[index + 1][1])
    return address


def _address_lines(text: str) -> dict[str, int]:
    lines: dict[str, int] = {}
    line, position = 1, 0
    for match in _ADDRESS.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        raw = match.group(1)
        try:
            address = json.loads(raw) if "\\" in raw else raw[1:-1]
        except json.JSONDecodeError:
            continue
        lines.setdefault(address, line)
    return lines


def module_steps(module: str) -> list[tuple[str, int | str | None]]:
    """`module.a["x"].module.b` -> [("a", "x"), ("b", None)]."""
    steps: list[tuple[str, int | str | None]] = []
    parts = split_reference(module)
    for index in range(0, len(parts) - 1, 2):
        if parts[index][0] == "module":
            steps.append((parts[index + 1][0], parts[index + 1][1]))
    return steps


def split_reference(text: str) -> list[tuple[str, int | str | None]]:
    """`module.a["x"].aws_sg.b[0].id` -> [("module", None), ("a", "x"), ("aws_sg", None),
    ("b", 0), ("id", None)]; an index that is not a literal number or string is dropped."""
    steps: list[tuple[str, int | str | None]] = []
    position = 0
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None or match.end() == position:
            break
        raw = match.group(2)
        steps.append((match.group(1), None if raw is None else _literal_key(raw)))
        position = match.end()
    return steps


def _literal_key(raw: str) -> int | str | None:
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, (int, str)) and not isinstance(value, bool) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
