"""How every report names things: traffic, ports, peers, unknown values."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calico_sglint.terraform.values import Unknown

if TYPE_CHECKING:
    from calico_sglint.model.types import Peer, Rule


def maybe(value: Any) -> Any:
    """A model field for JSON: unknowns become {"unknown": expression, "reason": why}."""
    if isinstance(value, Unknown):
        data: dict[str, Any] = {"unknown": value.expr, "reason": value.reason}
        if value.location is not None:
            data["location"] = value.location.to_json()
        return data
    return value


def text_value(value: Any) -> str:
    if isinstance(value, Unknown):
        return f"<unknown: {value.expr}>"
    return str(value)


def traffic_text(protocol: str | Unknown, from_port: int | Unknown, to_port: int | Unknown) -> str:
    """How every report names traffic: `tcp/5473`, `udp/4789-4790`, `tcp/all ports`,
    `all traffic`, `protocol 4`, `icmp`."""
    if isinstance(protocol, Unknown):
        return f"<unknown protocol: {protocol.expr}>"
    if protocol == "all":
        return "all traffic"
    if protocol in ("icmp", "icmpv6"):
        return protocol
    if protocol not in ("tcp", "udp"):
        return f"protocol {protocol}"
    low, high = text_value(from_port), text_value(to_port)
    if (low, high) == ("0", "65535"):
        return f"{protocol}/all ports"
    return f"{protocol}/{low}" if low == high else f"{protocol}/{low}-{high}"


def describe_ports(rule: Rule) -> str:
    """The traffic a rule carries, as `traffic_text` names it."""
    return traffic_text(rule.protocol, rule.from_port, rule.to_port)


def describe_peer(peer: Peer) -> str:
    if peer.kind == "self":
        return "self"
    if peer.kind == "unknown":
        return f"<unknown: {peer.value}>"
    return peer.value


def unknown_text(unknown: Unknown) -> str:
    """An unknown value as findings name it: the expression, where it is, and why."""
    where = f" ({unknown.location})" if unknown.location else ""
    return f"{unknown.expr}{where}: {unknown.reason}"


def count_text(number: int, noun: str) -> str:
    """`1 error`, `2 errors`."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


def summary_text(counts: dict[str, int]) -> str:
    """`2 errors, 3 warnings (1 unverified)` (and info, suppressed and baselined counts when
    there are any), from `checks.findings.summary`. An unverified finding is a warning, so it
    is counted once, among the warnings."""
    warnings = count_text(counts["warning"], "warning")
    if counts["unverified"]:
        warnings += f" ({counts['unverified']} unverified)"
    parts = [count_text(counts["error"], "error"), warnings]
    if counts["info"]:
        parts.append(f"{counts['info']} info")
    left_out = [f"{counts['suppressed']} suppressed"] if counts.get("suppressed") else []
    left_out += [f"{counts['baselined']} in the baseline"] if counts.get("baselined") else []
    return ", ".join(parts) + (f" ({', '.join(left_out)})" if left_out else "")
