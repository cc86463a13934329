"""The cluster's Calico profile: which settings decide which requirements apply.

Each setting knows where it came from. Precedence: flags > config file > detected from the
repository > default. The defaults are VXLAN always, BGP off, Typha on, WireGuard off; an
IPIP or unencapsulated profile implies BGP unless BGP was set explicitly. `aws_src_dst_check` is
Felix's awsSrcDstCheck (default DoNothing): whether calico-node turns the EC2 check off itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from calico_sglint.profile.rulepack import PackRule

ENCAPSULATIONS = ("IPIP", "IPIPCrossSubnet", "VXLAN", "VXLANCrossSubnet", "None")
SRC_DST_CHECK_VALUES = ("Disable", "DoNothing", "Enable")
NEEDS_BGP = ("IPIP", "IPIPCrossSubnet", "None")
UNENCAPSULATED = ("None", "IPIPCrossSubnet", "VXLANCrossSubnet")


@dataclass(frozen=True)
class SettingSpec:
    """One profile setting: its type, default and help. The config file's `profile:` keys,
    the CLI flags of check/fix/graph, the Action's inputs and the rule packs' `when:` and
    `ports:` vocabularies all derive from SETTING_SPECS."""

    name: str
    kind: str  # "choice", "switch" (on/off) or "port"
    default: Any
    help: str
    choices: tuple[str, ...] = ()

    @property
    def flag(self) -> str:
        """`--vxlan-port`; a switch also has its `--no-` form."""
        return "--" + self.name.replace("_", "-")

    def parse(self, value: Any) -> Any | None:
        """The canonical value of a config or flag value, or None when it is not valid
        (choices are case-insensitive; YAML null is a missing value, not "None")."""
        if self.kind == "choice":
            text = value.strip().lower() if isinstance(value, str) else None
            return next((c for c in self.choices if c.lower() == text), None)
        if self.kind == "port":
            valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
            return value if valid else None
        return value if isinstance(value, bool) else None

    def expected(self) -> str:
        """What a valid value looks like, for error messages."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        return "a port number from 1 to 65535" if self.kind == "port" else "true or false"


SETTING_SPECS: tuple[SettingSpec, ...] = (
    SettingSpec("encapsulation", "choice", "VXLAN", "Calico encapsulation (default: detected, else VXLAN).",
                ENCAPSULATIONS),
    SettingSpec("bgp", "switch", False, "Calico BGP networking (default: detected, else off; on with IPIP or None)."),
    SettingSpec("typha", "switch", True, "Typha (default: detected, else on: the operator always runs it)."),
    SettingSpec("wireguard", "switch", False, "WireGuard over IPv4 (UDP 51820)."),
    SettingSpec("wireguard_v6", "switch", False, "WireGuard over IPv6 (UDP 51821)."),
    SettingSpec("vxlan_port", "port", 4789, "VXLAN port (default 4789)."),
    SettingSpec("apiserver_port", "port", 6443, "API server port (default 6443)."),
    SettingSpec("aws_src_dst_check", "choice", "DoNothing",
                "Felix awsSrcDstCheck (default: detected, else DoNothing); Disable turns the EC2 check off for you.",
                SRC_DST_CHECK_VALUES),
    SettingSpec("ipv6_only", "switch", False,
                "IPv6-only pods: no IPv4 pool, so no EC2 source/destination check to turn off (default: detected "
                "from an Installation's pools, else off)."),
)
SPECS: Mapping[str, SettingSpec] = {spec.name: spec for spec in SETTING_SPECS}
SETTINGS = tuple(SPECS)
DEFAULTS: Mapping[str, Any] = {spec.name: spec.default for spec in SETTING_SPECS}
# What a rule pack may say: `when:` conditions on choices and switches, `ports:` from port settings.
CONDITIONS: Mapping[str, tuple[Any, ...]] = {
    spec.name: spec.choices if spec.kind == "choice" else (True, False)
    for spec in SETTING_SPECS if spec.kind in ("choice", "switch")
}
PORT_SETTINGS = tuple(spec.name for spec in SETTING_SPECS if spec.kind == "port")


@dataclass(frozen=True)
class Setting:
    value: Any
    source: str  # "default", "--encapsulation", ".sglint.yaml:4", "calico/installation.yaml:12"
    detail: str = ""  # for detected settings, what said it: "Installation spec.calicoNetwork.bgp (unset: on)"


@dataclass(frozen=True)
class Profile:
    settings: Mapping[str, Setting]

    def value(self, name: str) -> Any:
        return self.settings[name].value

    def matches(self, when: Mapping[str, tuple[Any, ...]]) -> bool:
        """True when every condition of a rule's `when` holds."""
        return all(self.value(key) in options for key, options in when.items())

    def routes_unencapsulated(self) -> bool:
        """True when some pod traffic between nodes carries pod IPs (None, the CrossSubnet modes)."""
        return self.value("encapsulation") in UNENCAPSULATED

    def ports(self, rule: PackRule) -> tuple[tuple[int, int], ...]:
        """A rule's port ranges with profile settings (vxlan_port) filled in."""
        result = []
        for item in rule.ports:
            if isinstance(item, str):
                port = int(self.value(item))
                result.append((port, port))
            else:
                result.append(item)
        return tuple(result)

    def to_json(self) -> dict[str, Any]:
        return {name: _setting_json(s) for name, s in self.settings.items()}


def _setting_json(setting: Setting) -> dict[str, Any]:
    shown = {"value": setting.value, "source": setting.source}
    return {**shown, "detail": setting.detail} if setting.detail else shown


def normalize_encapsulation(value: Any) -> str | None:
    """The canonical spelling of an encapsulation (case-insensitive), or None if invalid."""
    return SPECS["encapsulation"].parse(value)


def normalize_src_dst_check(value: Any) -> str | None:
    """The canonical spelling of a Felix awsSrcDstCheck value (case-insensitive), or None."""
    return SPECS["aws_src_dst_check"].parse(value)


def resolve_profile(
    flags: Mapping[str, Any] | None = None,
    config: Mapping[str, Setting] | None = None,
    detected: Mapping[str, Setting] | None = None,
) -> Profile:
    """Merge the sources by precedence: flags, then config, then detected, then defaults."""
    settings: dict[str, Setting] = {}
    for name in SETTINGS:
        if flags and flags.get(name) is not None:
            settings[name] = Setting(flags[name], flag_name(name, flags[name]))
        elif config and name in config:
            settings[name] = config[name]
        elif detected and name in detected:
            settings[name] = detected[name]
        else:
            settings[name] = Setting(DEFAULTS[name], "default")
    encapsulation = settings["encapsulation"].value
    if settings["bgp"].source == "default" and encapsulation in NEEDS_BGP:
        settings["bgp"] = Setting(True, f"implied by encapsulation={encapsulation}")
    return Profile(settings)


def flag_name(name: str, value: Any = True) -> str:
    """The `sglint check` flag that sets a profile setting to `value`: `--vxlan-port`,
    `--bgp`, `--no-typha`."""
    spec = SPECS[name]
    return f"--no-{spec.flag[2:]}" if spec.kind == "switch" and value is False else spec.flag
