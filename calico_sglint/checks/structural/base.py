"""What every structural check receives, and how the registry declares one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from calico_sglint.checks.findings import Finding
from calico_sglint.checks.reachability import SgGraph
from calico_sglint.model.roles import Cluster
from calico_sglint.model.types import Model
from calico_sglint.profile.rulepack import PackRule
from calico_sglint.profile.settings import Profile


@dataclass(frozen=True)
class CheckContext:
    """One root's cluster as the checks see it."""

    model: Model
    cluster: Cluster
    profile: Profile
    graph: SgGraph

    def node_security_groups(self) -> set[str]:
        """The SGs the cluster's nodes wear; every managed SG when no node group is known."""
        sgs = {s for n in self.cluster.nodes for s in n.group.security_groups if isinstance(s, str)}
        return sgs or {sg.address for sg in self.model.security_groups if sg.managed}


@dataclass(frozen=True)
class StructuralCheck:
    """One structural check: its rule id and what it does. Its page, severity and the profiles
    it applies to (`when`) are its rule in rules/*.yaml."""

    id: str
    run: Callable[[PackRule, CheckContext], list[Finding]]
