"""The cluster's Calico profile: which settings decide which requirements apply.

Each setting knows where it came from. Precedence: flags > config file > detected from the
repository > default. The defaults are VXLAN always, BGP off, Typha on, WireGuard off; an
IPIP or unencapsulated profile implies BGP unless BGP was set explicitly. `aws_src_dst_check` is
Felix's awsSrcDstCheck (default DoNothing): whether calico-node turns the EC2 check off itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from calico_sglint.profile.rulepack import ENCAPSULATIONS, PackRule

SETTINGS = (
    "encapsulation", "bgp", "typha", "wireguard", "wireguard_v6", "vxlan_port", "apiserver_port",
    "aws_src_dst_check",
)
DEFAULTS: Mapping[str, Any] = {
    "encapsulation": "VXLAN",
    "bgp": False,
    "typha": True,
    "wireguard": False,
    "wireguard_v6": False,
    "vxlan_port": 4789,
    "apiserver_port": 6443,
    "aws_src_dst_check": "DoNothing",
}
NEEDS_BGP = ("IPIP", "IPIPCrossSubnet", "None")
UNENCAPSULATED = ("None", "IPIPCrossSubnet", "VXLANCrossSubnet")
SRC_DST_CHECK_VALUES = ("Disable", "DoNothing", "Enable")


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
    if not isinstance(value, str):
        return None  # YAML null is a missing value, not the "None" encapsulation
    text = value.strip().lower()
    return next((e for e in ENCAPSULATIONS if e.lower() == text), None)


def normalize_src_dst_check(value: Any) -> str | None:
    """The canonical spelling of a Felix awsSrcDstCheck value (case-insensitive), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().lower()
    return next((v for v in SRC_DST_CHECK_VALUES if v.lower() == text), None)


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


def flag_name(name: str, value: Any = None) -> str:
    """The `sglint check` flag that sets a profile setting: `--vxlan-port`, `--bgp`; for an
    on/off setting turned off, its `--no-` form (`--no-typha`)."""
    flag = name.replace("_", "-")
    return f"--no-{flag}" if value is False else f"--{flag}"
