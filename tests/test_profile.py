"""profile.py: precedence of flags, config, detected settings and defaults (with the source of
each), BGP implied by IPIP and unencapsulated pools, `matches`, `ports` and encapsulation
spelling."""

from __future__ import annotations

from typing import Any

import pytest

from calico_sglint.profile.rulepack import PackRule, load_packs
from calico_sglint.profile.settings import (
    DEFAULTS,
    SETTINGS,
    Profile,
    Setting,
    normalize_encapsulation,
    resolve_profile,
)


def table(profile: Profile) -> dict[str, tuple[Any, str]]:
    return {name: (s.value, s.source) for name, s in profile.settings.items()}


def test_defaults() -> None:
    assert table(resolve_profile()) == {
        "encapsulation": ("VXLAN", "default"),
        "bgp": (False, "default"),
        "typha": (True, "default"),
        "wireguard": (False, "default"),
        "wireguard_v6": (False, "default"),
        "vxlan_port": (4789, "default"),
        "apiserver_port": (6443, "default"),
        "aws_src_dst_check": ("DoNothing", "default"),
        "ipv6_only": (False, "default"),
    }
    assert list(DEFAULTS) == list(SETTINGS)


CONFIG = ".sglint.yaml:4"
DETECTED = "calico/installation.yaml:12"


@pytest.mark.parametrize(
    ("name", "flag", "config", "detected", "expected"),
    [
        # flags > config > detected > default, per setting
        ("typha", False, Setting(True, CONFIG), Setting(True, DETECTED), (False, "--no-typha")),
        ("typha", None, Setting(False, CONFIG), Setting(True, DETECTED), (False, CONFIG)),
        ("typha", None, None, Setting(False, DETECTED), (False, DETECTED)),
        ("typha", None, None, None, (True, "default")),
        ("bgp", True, Setting(False, CONFIG), None, (True, "--bgp")),
        ("bgp", None, None, Setting(True, DETECTED), (True, DETECTED)),
        ("encapsulation", "IPIP", Setting("VXLAN", CONFIG), Setting("None", DETECTED), ("IPIP", "--encapsulation")),
        ("encapsulation", None, Setting("VXLANCrossSubnet", CONFIG), Setting("IPIP", DETECTED),
         ("VXLANCrossSubnet", CONFIG)),
        ("wireguard", True, None, Setting(False, DETECTED), (True, "--wireguard")),
        ("wireguard_v6", True, None, None, (True, "--wireguard-v6")),
        ("wireguard_v6", False, None, Setting(True, DETECTED), (False, "--no-wireguard-v6")),
        ("bgp", False, None, None, (False, "--no-bgp")),
        ("wireguard_v6", None, None, Setting(True, DETECTED), (True, DETECTED)),
        ("vxlan_port", 4790, Setting(8472, CONFIG), None, (4790, "--vxlan-port")),
        ("vxlan_port", None, Setting(8472, CONFIG), Setting(4789, DETECTED), (8472, CONFIG)),
        ("apiserver_port", 443, None, None, (443, "--apiserver-port")),
        ("apiserver_port", None, None, Setting(8443, DETECTED), (8443, DETECTED)),
    ],
)
def test_precedence(name: str, flag: Any, config: Setting | None, detected: Setting | None,
                    expected: tuple[Any, str]) -> None:
    profile = resolve_profile(
        {name: flag},
        {name: config} if config else {},
        {name: detected} if detected else {},
    )
    assert (profile.value(name), profile.settings[name].source) == expected


def test_each_setting_comes_from_its_own_source() -> None:
    profile = resolve_profile(
        {"encapsulation": "VXLANCrossSubnet", "typha": None},
        {"typha": Setting(False, CONFIG), "vxlan_port": Setting(4790, ".sglint.yaml:7")},
        {"wireguard": Setting(True, DETECTED), "typha": Setting(True, "calico/felix.yaml:3")},
    )
    assert table(profile) == {
        "encapsulation": ("VXLANCrossSubnet", "--encapsulation"),
        "bgp": (False, "default"),
        "typha": (False, CONFIG),
        "wireguard": (True, DETECTED),
        "wireguard_v6": (False, "default"),
        "vxlan_port": (4790, ".sglint.yaml:7"),
        "apiserver_port": (6443, "default"),
        "aws_src_dst_check": ("DoNothing", "default"),
        "ipv6_only": (False, "default"),
    }


def test_a_false_flag_still_wins() -> None:
    # False is a value, only None means "flag not given".
    profile = resolve_profile({"typha": False, "bgp": None}, {"typha": Setting(True, CONFIG)})
    assert table(profile)["typha"] == (False, "--no-typha")
    assert table(profile)["bgp"] == (False, "default")


@pytest.mark.parametrize(
    ("flags", "config", "detected", "expected_bgp"),
    [
        # implied when BGP is set nowhere
        ({"encapsulation": "IPIP"}, {}, {}, (True, "implied by encapsulation=IPIP")),
        ({}, {"encapsulation": Setting("IPIPCrossSubnet", CONFIG)}, {},
         (True, "implied by encapsulation=IPIPCrossSubnet")),
        ({}, {}, {"encapsulation": Setting("None", DETECTED)}, (True, "implied by encapsulation=None")),
        # not implied by VXLAN encapsulations
        ({"encapsulation": "VXLAN"}, {}, {}, (False, "default")),
        ({"encapsulation": "VXLANCrossSubnet"}, {}, {}, (False, "default")),
        ({}, {}, {}, (False, "default")),
        # an explicit BGP setting from any source is kept
        ({"encapsulation": "IPIP", "bgp": False}, {}, {}, (False, "--no-bgp")),
        ({"encapsulation": "IPIP"}, {"bgp": Setting(False, CONFIG)}, {}, (False, CONFIG)),
        ({"encapsulation": "None"}, {}, {"bgp": Setting(False, DETECTED)}, (False, DETECTED)),
        ({}, {"encapsulation": Setting("IPIP", CONFIG)}, {"bgp": Setting(False, DETECTED)}, (False, DETECTED)),
        ({"encapsulation": "VXLAN", "bgp": True}, {}, {}, (True, "--bgp")),
    ],
)
def test_implied_bgp(flags: dict[str, Any], config: dict[str, Setting], detected: dict[str, Setting],
                     expected_bgp: tuple[Any, str]) -> None:
    assert table(resolve_profile(flags, config, detected))["bgp"] == expected_bgp


def test_implied_bgp_uses_the_winning_encapsulation() -> None:
    # Detected IPIP is overridden by VXLAN from the config: nothing implies BGP.
    profile = resolve_profile({}, {"encapsulation": Setting("VXLAN", CONFIG)}, {"encapsulation": Setting("IPIP", DETECTED)})
    assert table(profile)["bgp"] == (False, "default")


def test_to_json() -> None:
    assert resolve_profile({"vxlan_port": 4790}).to_json()["vxlan_port"] == {"value": 4790, "source": "--vxlan-port"}


# --- matches and ports ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("flags", "when", "expected"),
    [
        ({}, {}, True),
        ({}, {"typha": (True,)}, True),
        ({"typha": False}, {"typha": (True,)}, False),
        ({}, {"encapsulation": ("VXLAN", "VXLANCrossSubnet")}, True),
        ({"encapsulation": "IPIP"}, {"encapsulation": ("VXLAN", "VXLANCrossSubnet")}, False),
        ({"encapsulation": "IPIP"}, {"encapsulation": ("IPIP", "IPIPCrossSubnet"), "bgp": (True,)}, True),
        ({"encapsulation": "IPIP", "bgp": False}, {"encapsulation": ("IPIP",), "bgp": (True,)}, False),
        ({}, {"wireguard": (True, False)}, True),
    ],
)
def test_matches(flags: dict[str, Any], when: dict[str, tuple[Any, ...]], expected: bool) -> None:
    assert resolve_profile(flags).matches(when) is expected


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({}, ["calico-typha", "calico-vxlan", "calico-apiserver-eks", "k8s-apiserver", "k8s-kubelet"]),
        ({"encapsulation": "IPIP"}, ["calico-typha", "calico-bgp", "calico-ipip", "calico-apiserver-eks", "k8s-apiserver", "k8s-kubelet"]),
        ({"encapsulation": "IPIPCrossSubnet"},
         ["calico-typha", "calico-bgp", "calico-ipip", "calico-native-routing", "calico-apiserver-eks", "k8s-apiserver", "k8s-kubelet"]),
        ({"encapsulation": "VXLANCrossSubnet"},
         ["calico-typha", "calico-vxlan", "calico-native-routing", "calico-apiserver-eks", "k8s-apiserver", "k8s-kubelet"]),
        ({"encapsulation": "None", "typha": False, "wireguard": True, "wireguard_v6": True},
         ["calico-bgp", "calico-native-routing", "calico-wireguard", "calico-wireguard-v6", "calico-apiserver-eks", "k8s-apiserver",
          "k8s-kubelet"]),
    ],
)
def test_which_built_in_path_rules_apply(flags: dict[str, Any], expected: list[str]) -> None:
    profile = resolve_profile(flags)
    paths = [r for r in load_packs().rules if r.kind == "path"]
    assert [r.id for r in paths if profile.matches(r.when)] == expected


def _rule(ports: tuple[tuple[int, int] | str, ...]) -> PackRule:
    return PackRule(id="x", title="x", severity="error", kind="path", description="d", why="w", fix="f",
                    source="https://example.com", protocol="udp", ports=ports)


@pytest.mark.parametrize(
    ("flags", "ports", "expected"),
    [
        ({}, ("vxlan_port",), ((4789, 4789),)),
        ({"vxlan_port": 8472}, ("vxlan_port",), ((8472, 8472),)),
        ({}, ("apiserver_port",), ((6443, 6443),)),
        ({"apiserver_port": 443}, ("apiserver_port",), ((443, 443),)),
        ({"vxlan_port": 4790}, ((179, 179), "vxlan_port", (2379, 2380)), ((179, 179), (4790, 4790), (2379, 2380))),
        ({}, ((0, 65535),), ((0, 65535),)),
    ],
)
def test_ports(flags: dict[str, Any], ports: tuple[tuple[int, int] | str, ...], expected: tuple[tuple[int, int], ...]) -> None:
    assert resolve_profile(flags).ports(_rule(ports)) == expected


def test_ports_of_built_in_rules() -> None:
    pack = load_packs()
    profile = resolve_profile({"vxlan_port": 4790}, {"apiserver_port": Setting(8443, CONFIG)})
    assert {rule_id: profile.ports(pack.get(rule_id)) for rule_id in  # type: ignore[arg-type]
            ("calico-vxlan", "k8s-apiserver", "calico-typha")} == {
        "calico-vxlan": ((4790, 4790),),
        "k8s-apiserver": ((8443, 8443),),
        "calico-typha": ((5473, 5473),),
    }


# --- normalize_encapsulation ----------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("VXLAN", "VXLAN"), ("vxlan", "VXLAN"), ("Vxlan", "VXLAN"),
        ("vxlancrosssubnet", "VXLANCrossSubnet"), ("VXLANCROSSSUBNET", "VXLANCrossSubnet"),
        ("ipip", "IPIP"), ("IpIpCrossSubnet", "IPIPCrossSubnet"),
        ("none", "None"), ("NONE", "None"), (" IPIP ", "IPIP"),
        # rejected: the result is Python None, not the "None" encapsulation
        ("geneve", None), ("", None), ("ipip-crosssubnet", None), ("vxlan cross subnet", None), (True, None),
        (4789, None),
    ],
)
def test_normalize_encapsulation(raw: Any, expected: str | None) -> None:
    assert normalize_encapsulation(raw) == expected


def test_normalize_encapsulation_rejects_a_missing_value() -> None:
    assert normalize_encapsulation(None) is None
