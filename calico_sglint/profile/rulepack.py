"""Rule packs: the requirements and checks, as data, validated when loaded.

Built-in packs live in the repository's `rules/*.yaml` and ship in the wheel as `calico_sglint.rules`. A user pack
(`--rules PATH`, or `rules:` in the config) can add path requirements, change any field of a
built-in rule (a severity, say) or switch one off with `enabled: false`. A broken pack is an
`InputError` naming the file, the line and the key.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any, Iterable, Mapping

from calico_sglint.options import SEVERITIES
from calico_sglint.profile.settings import CONDITIONS, PORT_SETTINGS
from calico_sglint.profile.yamldoc import YamlDoc, load_documents
from calico_sglint.source import InputError

ROLES = ("any", "control-plane", "worker", "eks-control-plane")
KINDS = ("path", "structural")
FAMILIES = ("ipv4", "ipv6")
_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_FIELDS = {
    "id", "title", "severity", "kind", "protocol", "ports", "family", "from", "to", "when",
    "description", "why", "example", "example_fixed", "fix", "source", "exposed", "enabled", "control_plane_target",
}
_REQUIRED = ("id", "title", "severity", "kind", "description", "why", "fix", "source")
_REQUIRED_PATH = ("protocol", "ports", "from", "to", "when")



@dataclass(frozen=True)
class ExposedPort:
    protocol: str
    ports: tuple[tuple[int, int], ...]
    name: str


@dataclass(frozen=True)
class ControlPlaneTarget:
    """What a path requirement asks of a control-plane target instead of its own traffic:
    `require` (e.g. every TCP and UDP port), less the host-network control-plane services that
    `may_stay_closed` (etcd: kops closes it from the nodes on purpose)."""

    require: tuple[ExposedPort, ...]
    may_stay_closed: tuple[ExposedPort, ...]

    def segments(self) -> list[tuple[str, tuple[int, int]]]:
        """(protocol, ports) to check: each required range with the closable ports cut out."""
        found = []
        for need in self.require:
            closable = sorted(p for c in self.may_stay_closed if c.protocol == need.protocol for p in c.ports)
            for low, high in need.ports:
                for start, end in closable:
                    if end < low or start > high:
                        continue
                    if start > low:
                        found.append((need.protocol, (low, start - 1)))
                    low = max(low, end + 1)
                if low <= high:
                    found.append((need.protocol, (low, high)))
        return found


@dataclass(frozen=True)
class PackRule:
    """One rule of a pack: a path requirement or the page of a structural check."""

    id: str
    title: str
    severity: str
    kind: str
    description: str
    why: str
    fix: str
    source: str
    example: str = ""  # HCL that triggers the rule (path rules: with rules/examples/base.tf)
    example_fixed: str = ""  # the same, fixed: the rule no longer fires
    protocol: str = ""
    ports: tuple[tuple[int, int] | str, ...] = ()
    family: str = "ipv4"
    from_role: str = "any"
    to_role: str = "any"
    when: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    exposed: tuple[ExposedPort, ...] = ()
    enabled: bool = True
    defined_in: str = ""
    control_plane_target: ControlPlaneTarget | None = None


@dataclass(frozen=True)
class RulePack:
    """Every rule in force, in the order they were defined."""

    rules: tuple[PackRule, ...]

    def get(self, rule_id: str) -> PackRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def enabled(self) -> list[PackRule]:
        return [r for r in self.rules if r.enabled]

    def with_overrides(self, severity: Mapping[str, str], disabled: Iterable[str]) -> RulePack:
        """Apply config `severity:` and `disable:` (already validated)."""
        off = set(disabled)
        return RulePack(tuple(
            replace(r, severity=severity.get(r.id, r.severity), enabled=r.enabled and r.id not in off)
            for r in self.rules
        ))


    def with_selection(self, enable: Iterable[str], disable: Iterable[str]) -> RulePack:
        """Apply `--enable-rule` and `--disable-rule` (they win over packs and config)."""
        on, off = set(enable), set(disable)
        return RulePack(tuple(
            replace(r, enabled=(r.enabled or r.id in on) and r.id not in off) for r in self.rules
        ))


def load_packs(extra: Iterable[str] = ()) -> RulePack:
    """The built-in packs, then each user pack (file or directory) in order."""
    rules: dict[str, PackRule] = {}
    for name in sorted(_builtin_names()):
        text = resources.files("calico_sglint.rules").joinpath(name).read_text("utf-8")
        _merge(rules, load_documents(text, f"rules/{name}"), builtin=True)
    for path in extra:
        for file in _pack_files(path):
            _merge(rules, _read(file), builtin=False)
    return RulePack(tuple(rules.values()))


def _builtin_names() -> list[str]:
    folder = resources.files("calico_sglint.rules")
    return [entry.name for entry in folder.iterdir() if entry.name.endswith(".yaml")]


def _pack_files(path: str) -> list[str]:
    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.endswith((".yaml", ".yml")))
        if not names:
            raise InputError("no rule packs (*.yaml) in this directory", path)
        return [os.path.join(path, n) for n in names]
    if not os.path.isfile(path):
        raise InputError("no such rule pack", path)
    return [path]


def _read(path: str) -> list[YamlDoc]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read rule pack: {err}", path) from None
    return load_documents(text, path)


def _merge(rules: dict[str, PackRule], documents: list[YamlDoc], builtin: bool) -> None:
    for doc in documents:
        if doc.data is None:
            continue
        if not isinstance(doc.data, dict) or not isinstance(doc.data.get("rules"), list):
            raise InputError("rules: a rule pack needs a `rules:` list", doc.file, doc.line("rules"))
        unknown = sorted(set(doc.data) - {"pack", "rules"})
        if unknown:
            raise InputError(f"{unknown[0]}: unknown key (expected pack, rules)", doc.file, doc.line(unknown[0]))
        for index, entry in enumerate(doc.data["rules"]):
            rule = _rule(doc, index, entry, rules, builtin)
            rules[rule.id] = rule


def _rule(doc: YamlDoc, index: int, entry: Any, rules: Mapping[str, PackRule], builtin: bool) -> PackRule:
    where = ("rules", index)

    def fail(key: str, problem: str) -> InputError:
        label = f"rules[{index}].{key}" if key else f"rules[{index}]"
        return InputError(f"{label}: {problem}", doc.file, doc.line(*where, key) if key else doc.line(*where))

    if not isinstance(entry, dict):
        raise fail("", "each rule must be a mapping")
    for key in entry:
        if key not in _FIELDS:
            raise fail(str(key), f"unknown key (expected one of {', '.join(sorted(_FIELDS))})")
    rule_id = entry.get("id")
    if rule_id is None:
        raise fail("id", "missing (every rule needs an id)")
    if not isinstance(rule_id, str) or not _ID.match(rule_id):
        raise fail("id", "must be lowercase words joined by hyphens, like calico-typha")
    base = rules.get(rule_id)
    if base is None:
        for key in _REQUIRED:
            if key not in entry:
                raise fail(key, "missing (required for a new rule)")
    kind = entry.get("kind", base.kind if base else "path")
    if kind not in KINDS:
        raise fail("kind", f"must be one of {', '.join(KINDS)}")
    if base is not None and kind != base.kind:
        raise fail("kind", f"cannot change the kind of {rule_id} ({base.kind})")
    if kind == "structural" and base is None and not builtin:
        raise fail("kind", "structural checks are built in; a pack can only add path rules")
    if base is None and kind == "path":
        for key in _REQUIRED_PATH:
            if key not in entry:
                raise fail(key, "missing (required for a path rule)")
    values: dict[str, Any] = {"id": rule_id, "kind": kind, "defined_in": doc.file}
    for key in ("title", "description", "why", "fix", "source", "example", "example_fixed"):
        if key in entry:
            verbatim = key.startswith("example")
            if not isinstance(entry[key], str) or (not verbatim and not entry[key].strip()):
                raise fail(key, "must be a non-empty string")
            values[key] = entry[key] if verbatim else entry[key].strip()
    if "severity" in entry:
        values["severity"] = _choice(entry["severity"], SEVERITIES, fail, "severity")
    if "enabled" in entry:
        if not isinstance(entry["enabled"], bool):
            raise fail("enabled", "must be true or false")
        values["enabled"] = entry["enabled"]
    if "protocol" in entry:
        values["protocol"] = _protocol(entry["protocol"], fail)
    if "ports" in entry:
        values["ports"] = _ports(entry["ports"], fail, "ports")
    if "family" in entry:
        values["family"] = _choice(entry["family"], FAMILIES, fail, "family")
    if "from" in entry:
        values["from_role"] = _choice(entry["from"], ROLES, fail, "from")
    if "to" in entry:
        values["to_role"] = _choice(entry["to"], ROLES, fail, "to")
    if "when" in entry:
        values["when"] = _when(entry["when"], fail)
    if "exposed" in entry:
        values["exposed"] = _port_sets(entry["exposed"], fail, "exposed")
    if "control_plane_target" in entry:
        values["control_plane_target"] = _control_plane_target(entry["control_plane_target"], fail)
    if base is not None:
        return replace(base, **values)
    return PackRule(**values)


def _choice(value: Any, allowed: tuple[Any, ...], fail: Any, key: str) -> Any:
    if value not in allowed:
        raise fail(key, f"must be one of {', '.join(str(a) for a in allowed)} (got {value!r})")
    return value


def _protocol(value: Any, fail: Any) -> str:
    text = str(value).strip().lower()
    if text in ("tcp", "udp", "icmp", "icmpv6", "all") or (text.isdigit() and 0 <= int(text) <= 255):
        return text
    raise fail("protocol", f"must be tcp, udp, icmp, icmpv6, all or an IP protocol number (got {value!r})")


def _ports(value: Any, fail: Any, key: str) -> tuple[tuple[int, int] | str, ...]:
    if not isinstance(value, list) or not value:
        raise fail(key, "must be a non-empty list of ports, low-high ranges or a profile setting")
    items: list[tuple[int, int] | str] = []
    for item in value:
        if isinstance(item, str) and item in PORT_SETTINGS:
            items.append(item)
            continue
        text = str(item)
        low, _, high = text.partition("-")
        try:
            pair = (int(low), int(high or low))
        except ValueError:
            raise fail(key, f"{item!r} is not a port, a low-high range or one of {', '.join(PORT_SETTINGS)}") from None
        if not 0 <= pair[0] <= pair[1] <= 65535:
            raise fail(key, f"{item!r} is not a port range within 0-65535")
        items.append(pair)
    return tuple(items)


def _when(value: Any, fail: Any) -> dict[str, tuple[Any, ...]]:
    if not isinstance(value, dict):
        raise fail("when", "must be a mapping of profile settings, e.g. {typha: true}")
    result: dict[str, tuple[Any, ...]] = {}
    for key, wanted in value.items():
        if key not in CONDITIONS:
            raise fail("when", f"unknown profile setting {key!r} (expected one of {', '.join(CONDITIONS)})")
        options = tuple(wanted) if isinstance(wanted, list) else (wanted,)
        for option in options:
            allowed = CONDITIONS[key]
            is_bool = isinstance(option, bool)
            if option not in allowed or is_bool != all(isinstance(a, bool) for a in allowed):
                shown = repr(option) if isinstance(option, str) else _yaml(option)
                raise fail("when", f"{key}: {shown} is not one of {', '.join(map(_yaml, allowed))}")
        result[key] = options
    return result


def _yaml(value: Any) -> str:
    """A value as YAML spells it, for messages: true/false rather than True/False."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _port_sets(value: Any, fail: Any, key: str) -> tuple[ExposedPort, ...]:
    """A list of {protocol, ports, name} (`exposed:`, `control_plane_target:`)."""
    if not isinstance(value, list):
        raise fail(key, "must be a list of {protocol, ports, name}")
    result = []
    for item in value:
        if not isinstance(item, dict) or not {"protocol", "ports", "name"} <= set(item):
            raise fail(key, "each entry needs protocol, ports and name")
        ports = _ports(item["ports"], fail, key)
        pairs = tuple(p for p in ports if isinstance(p, tuple))
        result.append(ExposedPort(_protocol(item["protocol"], fail), pairs, str(item["name"])))
    return tuple(result)


def _control_plane_target(value: Any, fail: Any) -> ControlPlaneTarget:
    key = "control_plane_target"
    if not isinstance(value, dict) or set(value) - {"require", "may_stay_closed"} or "require" not in value:
        raise fail(key, "must be a mapping with require and may_stay_closed lists of {protocol, ports, name}")
    require = _port_sets(value["require"], fail, key)
    if any(p.protocol not in ("tcp", "udp") for p in require):
        raise fail(key, "require: only tcp and udp port ranges can be required instead of all traffic")
    return ControlPlaneTarget(require, _port_sets(value.get("may_stay_closed", []), fail, key))
