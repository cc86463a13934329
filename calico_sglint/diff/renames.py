"""Renames across a change: the `moved` blocks of the new side, applied to old addresses.

Node groups, security groups and rules are matched across the two sides by Terraform
address, so a renamed resource is one removed and one added, unless a `moved` block says
where it went, as Terraform itself would treat it. A `moved` block in a called module
applies under every instance of that module (its address prefix on the new side).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from calico_sglint.model.types import Model
from calico_sglint.terraform.syntax import render
from calico_sglint.terraform.workspace import ParsedModule

_MAX_CHAIN = 32  # moved blocks form chains (a -> b, b -> c); a ring stops here


@dataclass(frozen=True)
class Renames:
    """Old address -> new address, from the new side's `moved` blocks (full addresses)."""

    pairs: tuple[tuple[str, str], ...] = ()

    def address(self, address: str) -> str:
        """`address` as the new side names it: a moved resource, or one inside a moved
        module or under a moved count/for_each instance."""
        for _ in range(_MAX_CHAIN):
            renamed = next((to + address[len(old):] for old, to in self.pairs if _starts(address, old)), None)
            if renamed is None or renamed == address:
                return address
            address = renamed
        return address

    def text(self, text: str) -> str:
        """Every address in `text` (a finding's key or message) as the new side names it."""
        if not self.pairs:
            return text
        return _ADDRESS.sub(lambda match: self.address(match.group(0)), text)


NO_RENAMES = Renames()

# Terraform addresses inside free text: dotted names with optional instance keys.
_ADDRESS = re.compile(r'(?<![\w.\-])[A-Za-z_][\w\-]*(?:\.[A-Za-z_][\w\-]*|\[(?:\d+|"[^"\]]*")\])+')


def _starts(address: str, prefix: str) -> bool:
    return address == prefix or (address.startswith(prefix) and address[len(prefix)] in ".[")


def moved_renames(modules: Iterable[ParsedModule], models: Iterable[Model]) -> Renames:
    """The `moved` blocks of `modules`, each under every instance address of its module in
    `models` (a root module's own blocks under no prefix)."""
    prefixes: dict[str, set[str]] = {}
    for model in models:
        prefixes.setdefault(model.root, set()).add("")
        for sg in model.security_groups:
            if sg.module_dir is not None and sg.module:
                prefixes.setdefault(sg.module_dir, set()).add(sg.module + ".")
    pairs = []
    for module in modules:
        for old, new in _moved_blocks(module):
            for prefix in sorted(prefixes.get(module.display, ())):
                pairs.append((prefix + old, prefix + new))
    return Renames(tuple(dict.fromkeys(pairs)))


def _moved_blocks(module: ParsedModule) -> list[tuple[str, str]]:
    found = []
    for file in module.files:
        for block in file.body.blocks_of("moved"):
            old, new = block.body.attributes.get("from"), block.body.attributes.get("to")
            if old is not None and new is not None:
                found.append((render(old.expr), render(new.expr)))
    return found
