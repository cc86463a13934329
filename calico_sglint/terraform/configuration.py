"""The evaluator's output: the resource instances Terraform would plan, with evaluated bodies.

This is the contract between reading Terraform and everything after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from calico_sglint.source import Diagnostic, Location
from calico_sglint.terraform.values import Unknown


@dataclass(frozen=True)
class EvalAttr:
    value: Any
    location: Location


@dataclass(frozen=True)
class EvalBlock:
    """A block with its attributes evaluated; `dynamic` blocks already expanded."""

    type: str
    attrs: Mapping[str, EvalAttr]
    blocks: tuple[EvalBlock, ...]
    location: Location
    expansion: Unknown | None = None  # set when a dynamic for_each could not be evaluated

    def get(self, name: str, default: Any = None) -> Any:
        attr = self.attrs.get(name)
        return default if attr is None else attr.value

    def blocks_of(self, type_: str) -> list[EvalBlock]:
        return [b for b in self.blocks if b.type == type_]


@dataclass(frozen=True)
class ResourceInstance:
    """One instance Terraform would plan: `aws_security_group_rule.x["typha"]`."""

    address: str
    resource: str  # the address without the instance key
    mode: str  # "managed" or "data"
    type: str
    name: str
    key: int | str | None
    module: str  # module instance address, "" for the root module
    module_dir: str  # display path of the module that declares it
    body: EvalBlock
    expansion: Unknown | None = None  # count/for_each unknown: this instance stands for all


@dataclass(frozen=True)
class ModuleProblem:
    """A module call the root makes that sglint cannot read (`kind` "unreadable"), or whose
    installed version does not match its constraint ("version")."""

    kind: str
    address: str  # the call as a module address without instance keys: `module.eks.module.kms`
    source: str
    reason: str  # why it was not read, or how the version differs
    advice: str  # what to do
    location: Location  # the `source` line (the `version` line for "version")


@dataclass(frozen=True)
class OpaqueInput:
    """A resource id given to a module call sglint cannot read: that module may add rules to
    the security group it names."""

    module: str  # the call's instance address
    input: str
    resource: str  # the resource address the id belongs to
    location: Location  # the input's line
    reason: str  # why the module was not read


@dataclass(frozen=True)
class Configuration:
    root: str  # display path of the root module
    resources: tuple[ResourceInstance, ...]
    modules: tuple[tuple[str, str], ...]  # (module instance address, display dir)
    diagnostics: tuple[Diagnostic, ...]
    module_problems: tuple[ModuleProblem, ...] = ()
    root_file: str = ""  # display path of the root module's first file (for findings about the root)
    opaque_inputs: tuple[OpaqueInput, ...] = ()
    installed_modules: tuple[str, ...] = ()  # module instances whose code `terraform init` installed
    # (module instance address, output name, resource address): outputs of called modules whose
    # value is a resource's id, so `fix` can refer to a group from the calling module
    id_outputs: tuple[tuple[str, str, str], ...] = ()
