"""What the fix stage plans and renders: rules to add, reasons not to, and file patches."""

from __future__ import annotations

from dataclasses import dataclass

from calico_sglint.checks.findings import Finding
from calico_sglint.fix.modules import CallEntry
from calico_sglint.render.wording import traffic_text
from calico_sglint.terraform.workspace import ParsedModule


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
    target_ref: str = ""  # set for a group inside a module: its id as the calling module sees it
    peer_ref: str = ""
    meta: tuple[tuple[str, str], ...] = ()  # count/for_each (and provider): the group's guard
    carried: tuple[tuple[str, str], ...] = ()  # region: arguments the group's rules must repeat

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
    entries: tuple[CallEntry, ...] = ()  # entries for module inputs (fix through the call)
    others: tuple[Finding, ...] = ()  # errors that are not a missing rule


@dataclass(frozen=True)
class FilePatch:
    path: str  # absolute
    display: str
    before: str | None  # None: a new file
    after: str
    digest: str | None  # sha256 of the bytes `before` came from
    added: tuple[str, ...]  # one line per rule added, for the summary
