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
class Configuration:
    root: str  # display path of the root module
    resources: tuple[ResourceInstance, ...]
    modules: tuple[tuple[str, str], ...]  # (module instance address, display dir)
    diagnostics: tuple[Diagnostic, ...]
    # (module instance address, output name, resource address): outputs of called modules whose
    # value is a resource's id, so `fix` can refer to a group from the calling module
    id_outputs: tuple[tuple[str, str, str], ...] = ()
