"""profile/manifests.py: what each Calico YAML source says (operator Installation, manifests, IPPool,
FelixConfiguration, kubespray variables), with exact values, lines and fields; odd and broken files."""

from __future__ import annotations

from typing import Any

import pytest
from detecthelp import (
    INSTALLATION,
    POOL,
    F,
    node_env,
    said,
    warned,
)

from calico_sglint.profile import observations
from calico_sglint.profile.manifests import observe_text

# --- operator Installation -------------------------------------------------------------------

INSTALLATION_CASES = [
    pytest.param(
        "  calicoNetwork:\n    ipPools:\n      - cidr: 192.168.0.0/16\n        encapsulation: VXLANCrossSubnet\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)"),
         ("bgp", True, 6, "Installation", "spec.calicoNetwork.bgp (unset: on)"),
         ("encapsulation", "VXLANCrossSubnet", 9, "Installation", "spec.calicoNetwork.ipPools[0].encapsulation")],
        [], id="bgp-unset-is-on",
    ),
    pytest.param(
        "  calicoNetwork:\n    bgp: Disabled\n    ipPools:\n      - cidr: 10.0.0.0/16\n        encapsulation: vxlan\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)"),
         ("bgp", False, 7, "Installation", "spec.calicoNetwork.bgp"),
         ("encapsulation", "VXLAN", 10, "Installation", "spec.calicoNetwork.ipPools[0].encapsulation")],
        [], id="bgp-disabled",
    ),
    pytest.param(
        "  kubernetesProvider: EKS\n  cni:\n    type: Calico\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)"),
         ("bgp", False, 6, "Installation", "spec.calicoNetwork.bgp (unset: off on EKS)"),
         ("encapsulation", "VXLAN", 5, "Installation",
          "spec.calicoNetwork.ipPools (unset: the operator's default pool)")],
        [], id="eks-calico-cni-defaults",
    ),
    pytest.param(
        "  kubernetesProvider: EKS\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)"),
         ("bgp", False, 6, "Installation", "spec.calicoNetwork.bgp (unset: off with the AmazonVPC CNI)")],
        [(6, "calico profile: Installation uses the AmazonVPC CNI: Calico does not route pod traffic between "
             "nodes, so no encapsulation is detected from it")],
        id="eks-default-cni-is-amazon-vpc",
    ),
    pytest.param(
        "  variant: Calico\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)"),
         ("bgp", True, 5, "Installation", "spec.calicoNetwork.bgp (unset: on)"),
         ("encapsulation", "IPIP", 5, "Installation", "spec.calicoNetwork.ipPools (unset: the operator's default pool)")],
        [], id="no-calico-network-at-all",
    ),
    pytest.param(
        "  calicoNetwork:\n    ipPools:\n      - cidr: fd00::/48\n      - cidr: 10.0.0.0/16\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)"),
         ("bgp", True, 6, "Installation", "spec.calicoNetwork.bgp (unset: on)"),
         ("encapsulation", "IPIP", 9, "Installation", "spec.calicoNetwork.ipPools[1].encapsulation (unset: IPIP)")],
        [], id="empty-encapsulation-is-ipip-ipv6-pools-skipped",
    ),
    pytest.param(
        "  calicoNetwork:\n    ipPools: []\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)"),
         ("bgp", True, 6, "Installation", "spec.calicoNetwork.bgp (unset: on)")],
        [], id="no-pools-means-no-encapsulation",
    ),
    pytest.param(
        "  calicoNetwork:\n    bgp: maybe\n    ipPools:\n      - encapsulation: GRE\n",
        [("typha", True, 2, "Installation", "(the operator always runs Typha)")],
        [(7, "calico profile: Installation spec.calicoNetwork.bgp: 'maybe' is not Enabled or Disabled; ignored"),
         (9, "calico profile: Installation spec.calicoNetwork.ipPools[0].encapsulation: 'GRE' is not IPIP, "
             "IPIPCrossSubnet, VXLAN, VXLANCrossSubnet or None; ignored")],
        id="values-not-understood-are-warnings",
    ),
]


@pytest.mark.parametrize(("spec", "expected", "warnings"), INSTALLATION_CASES)
def test_installation(spec: str, expected: list[Any], warnings: list[Any]) -> None:
    found = observe_text(INSTALLATION + spec, F)
    assert (said(found), warned(found)) == (expected, warnings)
    assert {o.rank for o in found.observations} <= {observations.INSTALLER}


def test_other_api_groups_are_not_the_operator() -> None:
    assert said(observe_text(INSTALLATION.replace("operator.tigera.io", "example.com") + "  x: 1\n", F)) == []


# --- manifests ---------------------------------------------------------------------------------

CONFIGMAP = """\
kind: ConfigMap
apiVersion: v1
metadata:
  name: calico-config
data:
  typha_service_name: "{typha}"
  calico_backend: "{backend}"
"""


@pytest.mark.parametrize(
    ("text", "expected", "warnings"),
    [
        pytest.param(
            CONFIGMAP.format(typha="none", backend="bird"),
            [("bgp", True, 7, "ConfigMap calico-config", "calico_backend"),
             ("typha", False, 6, "ConfigMap calico-config", "typha_service_name")], [], id="calico.yaml-configmap",
        ),
        pytest.param(
            CONFIGMAP.format(typha="calico-typha", backend="vxlan"),
            [("bgp", False, 7, "ConfigMap calico-config", "calico_backend"),
             ("typha", True, 6, "ConfigMap calico-config", "typha_service_name")], [], id="typha-and-vxlan-backend",
        ),
        pytest.param(
            CONFIGMAP.format(typha="none", backend="bird").replace("calico-config", "other-config"), [], [],
            id="other-configmaps-ignored",
        ),
        pytest.param(
            node_env(("CALICO_IPV4POOL_IPIP", "Always"), ("CALICO_IPV4POOL_VXLAN", "Never")),
            [("encapsulation", "IPIP", 16, "calico-node env", "CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN")],
            [], id="ipip-always",
        ),
        pytest.param(
            node_env(("CALICO_IPV4POOL_IPIP", "off"), ("CALICO_IPV4POOL_VXLAN", "crosssubnet")),
            [("encapsulation", "VXLANCrossSubnet", 18, "calico-node env",
              "CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN")], [], id="off-and-case",
        ),
        pytest.param(
            node_env(("CALICO_IPV4POOL_VXLAN", "Always")),
            [("encapsulation", "VXLAN", 16, "calico-node env", "CALICO_IPV4POOL_VXLAN")], [], id="lone-vxlan",
        ),
        pytest.param(node_env(("CALICO_IPV4POOL_IPIP", "Never")), [], [], id="lone-never-decides-nothing"),
        pytest.param(
            node_env(("CALICO_IPV4POOL_IPIP", "Always"), ("CALICO_IPV4POOL_VXLAN", "Always")), [],
            [(16, "calico profile: calico-node env: IP-in-IP (Always) and VXLAN (Always) cannot both be on; ignored")],
            id="both-on",
        ),
        pytest.param(
            node_env(("FELIX_VXLANPORT", "4790"), ("FELIX_WIREGUARDENABLED", "True"),
                     ("FELIX_WIREGUARDENABLEDV6", "false"), ("FELIX_AWSSRCDSTCHECK", "disable"),
                     ("CALICO_NETWORKING_BACKEND", "none")),
            [("vxlan_port", 4790, 16, "calico-node env", "FELIX_VXLANPORT"),
             ("wireguard", True, 18, "calico-node env", "FELIX_WIREGUARDENABLED"),
             ("wireguard_v6", False, 20, "calico-node env", "FELIX_WIREGUARDENABLEDV6"),
             ("aws_src_dst_check", "Disable", 22, "calico-node env", "FELIX_AWSSRCDSTCHECK"),
             ("bgp", False, 24, "calico-node env", "CALICO_NETWORKING_BACKEND")], [], id="felix-env",
        ),
        pytest.param(
            node_env(("FELIX_VXLANPORT", "70000")), [],
            [(16, "calico profile: calico-node env FELIX_VXLANPORT: '70000' is not a port number; ignored")],
            id="bad-port",
        ),
        pytest.param(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: calico-typha\nspec:\n  replicas: 0\n",
            [("typha", False, 6, "calico-typha Deployment", "spec.replicas")], [], id="typha-scaled-to-zero",
        ),
        pytest.param(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: calico-typha\nspec: {}\n",
            [("typha", True, 4, "calico-typha Deployment", "spec.replicas (unset: 1)")], [], id="typha-default-replicas",
        ),
    ],
)
def test_manifests(text: str, expected: list[Any], warnings: list[Any]) -> None:
    found = observe_text(text, F)
    assert (said(found), warned(found)) == (expected, warnings)


# --- IPPool and FelixConfiguration -------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "api", "cidr", "expected"),
    [
        ("  ipipMode: Always\n", "projectcalico.org/v3", "10.0.0.0/16", ("IPIP", 7, "spec.ipipMode")),
        ("  ipipMode: CrossSubnet\n", "crd.projectcalico.org/v1", "10.0.0.0/16", ("IPIPCrossSubnet", 7, "spec.ipipMode")),
        ("  ipipMode: Never\n  vxlanMode: CrossSubnet\n", "projectcalico.org/v3", "10.0.0.0/16",
         ("VXLANCrossSubnet", 8, "spec.vxlanMode")),
        ("  vxlanMode: Never\n", "projectcalico.org/v3", "10.0.0.0/16", ("None", 7, "spec.vxlanMode")),
        ("", "projectcalico.org/v3", "10.0.0.0/16", ("None", 5, "spec (no ipipMode or vxlanMode: Never)")),
        ("  vxlanMode: Always\n  disabled: true\n", "projectcalico.org/v3", "10.0.0.0/16", None),
        ("  vxlanMode: Always\n", "projectcalico.org/v3", "fd00::/48", None),
        ("  vxlanMode: Always\n", "example.com/v1", "10.0.0.0/16", None),
    ],
)
def test_ippool(extra: str, api: str, cidr: str, expected: tuple[str, int, str] | None) -> None:
    found = observe_text(POOL.format(api=api, cidr=cidr) + extra, F)
    want = [] if expected is None else [("encapsulation", expected[0], expected[1], "IPPool", expected[2])]
    assert said(found) == want
    assert all(o.rank == observations.COMPONENT for o in found.observations)


def test_ippool_with_both_modes_on_is_a_warning() -> None:
    found = observe_text(POOL.format(api="projectcalico.org/v3", cidr="10.0.0.0/16")
                         + "  ipipMode: Always\n  vxlanMode: Always\n", F)
    assert (said(found), warned(found)) == (
        [], [(5, "calico profile: IPPool p: IP-in-IP (Always) and VXLAN (Always) cannot both be on; ignored")])


def test_felix_configuration() -> None:
    found = observe_text(
        "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata:\n  name: default\nspec:\n"
        "  vxlanPort: 8472\n  wireguardEnabled: true\n  wireguardEnabledV6: false\n  awsSrcDstCheck: DoNothing\n"
        "  wireguardListeningPort: 51999\n", F)
    assert said(found) == [
        ("vxlan_port", 8472, 6, "FelixConfiguration", "spec.vxlanPort"),
        ("wireguard", True, 7, "FelixConfiguration", "spec.wireguardEnabled"),
        ("wireguard_v6", False, 8, "FelixConfiguration", "spec.wireguardEnabledV6"),
        ("aws_src_dst_check", "DoNothing", 9, "FelixConfiguration", "spec.awsSrcDstCheck"),
    ]
    assert {o.rank for o in found.observations} == {observations.RESOURCE}


# --- kubespray ---------------------------------------------------------------------------------


def test_kubespray_variables() -> None:
    found = observe_text(
        "calico_network_backend: vxlan\ncalico_vxlan_mode: CrossSubnet\ntypha_enabled: true\n"
        "calico_ipip_mode: \"{{ ipip | default('Never') }}\"\n", F)
    assert said(found) == [
        ("bgp", False, 1, "kubespray variables", "calico_network_backend"),
        ("typha", True, 3, "kubespray variables", "typha_enabled"),
        ("encapsulation", "VXLANCrossSubnet", 2, "kubespray variables", "calico_vxlan_mode"),
    ]
    assert warned(found) == [(4, "calico profile: kubespray variables calico_ipip_mode: \"{{ ipip | default('Never') }}\" "
                                 "is a template, not a value; not detected")]
    assert {o.rank for o in found.observations} == {observations.VARIABLES}


# --- files: several documents, lists, tags, broken YAML -----------------------------------------


def test_documents_of_other_kinds_are_skipped_unparsed_and_lines_count_from_the_file() -> None:
    text = (
        "---\napiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nspec: [not, closed\n"
        "---\napiVersion: v1\nkind: List\nitems:\n"
        "  - apiVersion: projectcalico.org/v3\n    kind: FelixConfiguration\n    metadata: {name: default}\n"
        "    spec:\n      vxlanPort: 4790\n"
    )
    found = observe_text(text, F)
    assert (said(found), warned(found)) == ([("vxlan_port", 4790, 13, "FelixConfiguration", "spec.vxlanPort")], [])


def test_application_tags_do_not_break_a_variables_file() -> None:
    found = observe_text("secret: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\ntypha_enabled: false\n", F)
    assert said(found) == [("typha", False, 4, "kubespray variables", "typha_enabled")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kind: {a: 1}\n", []),
        ("apiVersion: operator.tigera.io/v1\nkind: Installation\nspec: [1, 2]\n", ["typha", "bgp", "encapsulation"]),
        ("apiVersion: operator.tigera.io/v1\nkind: Installation\nspec:\n  cni: Calico\n  calicoNetwork:\n"
         "    ipPools: x\n", ["typha", "bgp"]),
        ("kind: DaemonSet\nmetadata: {name: calico-node}\nspec: {template: {spec: {containers: {a: 1}}}}\n", []),
        ("kind: DaemonSet\nmetadata: {name: calico-node}\nspec: {template: {spec: {containers: [{env: x}, 3]}}}\n", []),
        ("kind: List\nitems: [3, {kind: IPPool, apiVersion: projectcalico.org/v3, spec: 4}]\n", []),
        ("apiVersion: projectcalico.org/v3\nkind: IPPool\nspec: {cidr: [1]}\n", []),
        ("installation: {calicoNetwork: 5}\n", ["typha", "bgp", "encapsulation"]),
        ("- calico_ipip_mode: Always\n", []),
        ("calico\n", []),
    ],
)
def test_odd_shapes_are_read_as_far_as_they_make_sense(text: str, expected: list[str]) -> None:
    found = observe_text(text, F)
    assert ([o.setting for o in found.observations], found.diagnostics) == (expected, ())


def test_malformed_yaml_is_a_warning_with_file_and_line() -> None:
    found = observe_text("kind: ConfigMap\nmetadata:\n  name: calico-config\ndata: {a: [\n", "calico/bad.yaml")
    assert said(found) == []
    ((where, message),) = [(str(d.location), d.message) for d in found.diagnostics]
    assert where == "calico/bad.yaml:5"
    assert message.startswith("invalid YAML: ") and message.endswith("; skipped when detecting the Calico profile")


