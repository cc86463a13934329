"""Build `terraform show -json PLANFILE` documents for tests, in Terraform's documented format.

A test declares module calls and resource instances (planned values, what is unknown after
apply, the configuration's expressions); `document()` lays them out the way Terraform does:
`planned_values` with nested `child_modules`, `resource_changes` with actions and
`after_unknown`, and the `configuration` section with `module_calls` and `references`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def ref(*references: str) -> dict[str, Any]:
    """An expression with references, as Terraform records it: `aws_x.y.id` and `aws_x.y`."""
    out: list[str] = []
    for reference in references:
        out.append(reference)
        parts = reference.split(".")
        if parts[0] not in ("var", "local", "count", "each") and len(parts) > 2:
            base = ".".join(parts[:3] if parts[0] in ("data", "module") else parts[:2])
            if base != reference:
                out.append(base)
            if "[" in base:
                out.append(base[: base.index("[")])
    return {"references": list(dict.fromkeys(out))}


def const(value: Any) -> dict[str, Any]:
    return {"constant_value": value}


@dataclass
class Resource:
    address: str  # within its module: aws_security_group.worker or data.aws_subnet.a
    values: dict[str, Any]
    unknown: dict[str, Any] = field(default_factory=dict)  # after_unknown
    key: int | str | None = None
    module: str = ""  # module instance address
    action: str = "create"


@dataclass
class PlanBuilder:
    resources: list[Resource] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=lambda: {"resources": []})
    variables: dict[str, Any] = field(default_factory=dict)
    module_instances: list[str] = field(default_factory=list)

    def module(self, path: tuple[str, ...], name: str, source: str, expressions: dict[str, Any] | None = None,
               variables: dict[str, Any] | None = None, outputs: dict[str, Any] | None = None,
               count: int | None = None, for_each: Any = None) -> None:
        """Declare `module "name"` inside the module configuration at call path `path`."""
        parent = self._config(path)
        call: dict[str, Any] = {"source": source, "module": {"resources": []}}
        if expressions:
            call["expressions"] = expressions
        if variables:
            call["module"]["variables"] = {k: ({"default": v} if v is not None else {}) for k, v in variables.items()}
        if outputs:
            call["module"]["outputs"] = {k: {"expression": v} for k, v in outputs.items()}
        if count is not None:
            call["count_expression"] = const(count)
        if for_each is not None:
            call["for_each_expression"] = for_each
        parent.setdefault("module_calls", {})[name] = call

    def declare(self, path: tuple[str, ...], address: str, expressions: dict[str, Any], **meta: Any) -> None:
        """The configuration of a resource in the module at call path `path`."""
        mode = "data" if address.startswith("data.") else "managed"
        parts = address.split(".")
        type_, name = (parts[1], parts[2]) if mode == "data" else (parts[0], parts[1])
        entry = {"address": address, "mode": mode, "type": type_, "name": name,
                 "provider_config_key": "aws", "expressions": expressions, "schema_version": 0, **meta}
        self._config(path)["resources"].append(entry)

    def add(self, resource: Resource) -> None:
        self.resources.append(resource)
        if resource.module and resource.module not in self.module_instances:
            self.module_instances.append(resource.module)

    def _config(self, path: tuple[str, ...]) -> dict[str, Any]:
        current = self.config
        for name in path:
            current = current["module_calls"][name]["module"]
        return current

    def document(self) -> dict[str, Any]:
        root: dict[str, Any] = {"resources": []}
        modules: dict[str, dict[str, Any]] = {"": root}
        for module in sorted(self.module_instances, key=lambda m: m.count("module.")):
            node = {"resources": [], "address": module}
            modules[module] = node
            parent = module[: module.rindex(".module.")] if ".module." in module else ""
            modules.setdefault(parent, {"resources": [], "address": parent, "child_modules": []})
            modules[parent].setdefault("child_modules", []).append(node)
        changes = []
        for resource in self.resources:
            full = self.full_address(resource)
            mode = "data" if resource.address.startswith("data.") else "managed"
            parts = resource.address.split(".")
            type_, name = (parts[1], parts[2]) if mode == "data" else (parts[0], parts[1])
            entry: dict[str, Any] = {"address": full, "mode": mode, "type": type_, "name": name}
            if resource.key is not None:
                entry["index"] = resource.key
            entry |= {"provider_name": "registry.terraform.io/hashicorp/aws", "schema_version": 1,
                      "values": resource.values, "sensitive_values": {}}
            if resource.action != "delete":
                modules[resource.module]["resources"].append(entry)
            if mode == "managed" or resource.unknown:
                change = {"actions": [resource.action] if mode == "managed" else ["read"],
                          "before": None if resource.action == "create" else resource.values,
                          "after": None if resource.action == "delete" else resource.values,
                          "after_unknown": resource.unknown, "before_sensitive": False, "after_sensitive": {}}
                item = {"address": full, "mode": mode, "type": type_, "name": name}
                if resource.module:
                    item["module_address"] = resource.module
                if resource.key is not None:
                    item["index"] = resource.key
                changes.append(item | {"provider_name": "registry.terraform.io/hashicorp/aws", "change": change})
        return {
            "format_version": "1.2",
            "terraform_version": "1.9.5",
            "variables": {k: {"value": v} for k, v in self.variables.items()},
            "planned_values": {"root_module": root},
            "resource_changes": changes,
            "configuration": {"provider_config": {"aws": {"name": "aws", "full_name": "registry.terraform.io/hashicorp/aws"}},
                              "root_module": self.config},
            "timestamp": "2026-11-30T08:00:00Z",
            "applyable": True,
            "complete": True,
            "errored": False,
        }

    @staticmethod
    def full_address(resource: Resource) -> str:
        local = resource.address
        if resource.key is not None:
            local += f"[{json.dumps(resource.key)}]"
        return f"{resource.module}.{local}" if resource.module else local

    def write(self, path: Path, indent: int | None = 2) -> Path:
        path.write_text(json.dumps(self.document(), indent=indent) + "\n", encoding="utf-8")
        return path


def sg_values(name: str, description: str = "", vpc_id: str = "vpc-0a1b2c3d4e5f60789") -> dict[str, Any]:
    """A new aws_security_group's planned values (rules managed separately)."""
    return {"description": description or "Managed by Terraform", "name": name, "revoke_rules_on_delete": False,
            "tags": None, "timeouts": None, "vpc_id": vpc_id}


SG_UNKNOWN = {"arn": True, "egress": True, "id": True, "ingress": True, "name_prefix": True, "owner_id": True,
              "tags_all": True}


def rule_values(type_: str, protocol: str, from_port: int, to_port: int, description: str = "",
                **extra: Any) -> dict[str, Any]:
    """A new aws_security_group_rule's planned values (what Terraform knows at plan time)."""
    values: dict[str, Any] = {"cidr_blocks": None, "description": description or None, "from_port": from_port,
                              "ipv6_cidr_blocks": None, "prefix_list_ids": None, "protocol": protocol,
                              "self": False, "timeouts": None, "to_port": to_port, "type": type_}
    values.update(extra)
    return values


RULE_UNKNOWN = {"id": True, "security_group_id": True, "security_group_rule_id": True,
                "source_security_group_id": True}
