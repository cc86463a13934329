"""Profile detection (profile.detect, manifests, helm, sources, observations): what each source says (exact values, lines and fields), helm_release values,
which source wins, where files are searched, and the behaviour end to end through the CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, write

from calico_sglint.pipeline import ReadOptions, read
from calico_sglint.profile import detect, observations, sources
from calico_sglint.profile import helm as helm_module
from calico_sglint.profile.detect import detect_profile
from calico_sglint.profile.manifests import observe_text
from calico_sglint.profile.observations import Found, Observation, SourceFile
from calico_sglint.terraform.discover import display_path

F = "f.yaml"


def said(found: Found) -> list[tuple[str, Any, int, str, str]]:
    """(setting, value, line, kind, field) of each observation, in the order found."""
    return [(o.setting, o.value, o.line, o.kind, o.field) for o in found.observations]


def warned(found: Found) -> list[tuple[int, str]]:
    return [(d.location.line if d.location else 0, d.message) for d in found.diagnostics]


# --- operator Installation -------------------------------------------------------------------

INSTALLATION = """\
apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
"""

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


# --- Helm values files -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "installation:\n  kubernetesProvider: ''\n  calicoNetwork:\n    bgp: Enabled\n    ipPools:\n"
            "      - cidr: 10.0.0.0/16\n        encapsulation: IPIP\n",
            [("typha", True, 1, "Helm values", "(the operator always runs Typha)"),
             ("bgp", True, 4, "Helm values", "installation.calicoNetwork.bgp"),
             ("encapsulation", "IPIP", 7, "Helm values", "installation.calicoNetwork.ipPools[0].encapsulation")],
            id="installation-is-the-spec",
        ),
        pytest.param("installation:\n  enabled: false\n  kubernetesProvider: EKS\n", [], id="installation-disabled"),
        pytest.param("installation:\n  enabled: true\n", [], id="not-recognisably-tigera"),
        pytest.param(
            "tigeraOperator:\n  version: v1.34.0\ninstallation:\n  enabled: true\n",
            [("typha", True, 3, "Helm values", "(the operator always runs Typha)"),
             ("bgp", True, 3, "Helm values", "installation.calicoNetwork.bgp (unset: on)"),
             ("encapsulation", "IPIP", 3, "Helm values",
              "installation.calicoNetwork.ipPools (unset: the operator's default pool)")],
            id="chart-defaults-with-tigeraOperator-key",
        ),
    ],
)
def test_helm_values_file(text: str, expected: list[Any]) -> None:
    assert said(observe_text(text, F)) == expected


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


def node_env(*pairs: tuple[str, str]) -> str:
    env = "".join(f"            - name: {n}\n              value: \"{v}\"\n" for n, v in pairs)
    return (
        "kind: DaemonSet\napiVersion: apps/v1\nmetadata:\n  name: calico-node\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: install-cni\n          env:\n            - name: FELIX_VXLANPORT\n"
        "              value: \"1\"\n        - name: calico-node\n          env:\n" + env
    )


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

POOL = "apiVersion: {api}\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: {cidr}\n"


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


# --- helm_release ------------------------------------------------------------------------------


def helm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Found:
    """Settings from the helm_releases of a root module written to `tmp_path`."""
    write(tmp_path, files)
    monkeypatch.chdir(tmp_path)
    result = read(ReadOptions(paths=(".",), extra_types=frozenset({"helm_release"})))
    (configuration,) = result.configurations
    return helm_module.helm_observations(configuration)


def located(found: Found) -> list[tuple[str, Any, str]]:
    return [(o.setting, o.value, o.source) for o in found.observations]


RELEASE = 'resource "helm_release" "calico" {{\n  chart = "{chart}"\n{body}}}\n'


def test_helm_release_yamlencode_and_set_blocks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = '''  values = [
    yamlencode({ installation = { calicoNetwork = { bgp = "Enabled", ipPools = [{ encapsulation = "IPIP" }] } } }),
    yamlencode({ installation = { calicoNetwork = { ipPools = [{ encapsulation = "VXLAN" }] } } }),
  ]
  set {
    name  = "installation.calicoNetwork.bgp"
    value = "Disabled"
  }
'''
    found = helm(tmp_path, monkeypatch, {"main.tf": RELEASE.format(chart="projectcalico/tigera-operator", body=body)})
    assert located(found) == [
        ("typha", True, "main.tf:1"),
        ("bgp", False, "main.tf:9"),  # the set block's value wins over values
        ("encapsulation", "VXLAN", "main.tf:3"),  # later values win
    ]
    assert found.read_files == ()


def test_helm_release_templatefile_points_into_the_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = '  values = [templatefile("${path.module}/values.tpl", { encap = "VXLANCrossSubnet", bgp = "Disabled" })]\n'
    template = "installation:\n  calicoNetwork:\n    bgp: ${bgp}\n    ipPools:\n      - encapsulation: ${encap}\n"
    found = helm(tmp_path, monkeypatch, {"main.tf": RELEASE.format(chart="tigera-operator", body=body),
                                         "values.tpl": template})
    assert located(found) == [
        ("typha", True, "main.tf:1"),
        ("bgp", False, "values.tpl:3"),
        ("encapsulation", "VXLANCrossSubnet", "values.tpl:5"),
    ]
    assert found.read_files == (str(tmp_path.resolve() / "values.tpl"),)


def test_a_template_that_renders_more_lines_points_at_the_values_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = '  values = [templatefile("values.tpl", { pools = "- encapsulation: None\\n  natOutgoing: Enabled" })]\n'
    template = "installation:\n  calicoNetwork:\n    ipPools:\n      ${indent(6, pools)}\n"
    found = helm(tmp_path, monkeypatch, {"main.tf": RELEASE.format(chart="tigera-operator", body=body),
                                         "values.tpl": template})
    assert ("encapsulation", "None", "main.tf:3") in located(found)


def test_helm_provider_3_set_lists_and_enabled_false(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = '''  set = [
    { name = "installation.kubernetesProvider", value = "EKS" },
    { name = "installation.cni.type", value = "Calico" },
    { name = "installation.calicoNetwork.ipPools[0].encapsulation", value = "VXLAN" },
  ]
'''
    found = helm(tmp_path, monkeypatch, {"main.tf": RELEASE.format(chart="tigera-operator", body=body)})
    assert located(found) == [("typha", True, "main.tf:1"), ("bgp", False, "main.tf:3"),
                              ("encapsulation", "VXLAN", "main.tf:3")]
    off = body.replace("  ]\n", '    { name = "installation.enabled", value = "false" },\n  ]\n')
    assert helm(tmp_path, monkeypatch, {"main.tf": RELEASE.format(chart="tigera-operator", body=off)}) == Found()


def test_other_charts_and_unknown_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert helm(tmp_path, monkeypatch, {"main.tf": RELEASE.format(chart="cilium", body="")}) == Found()
    body = '  values = [var.values]\n'
    found = helm(tmp_path, monkeypatch, {"main.tf": 'variable "values" {}\n' + RELEASE.format(
        chart="https://example.com/charts/tigera-operator-v3.28.0.tgz", body=body)})
    assert warned(found) == [(4, "calico profile: helm_release values[0] cannot be evaluated "
                                 "(var.values: variable has no value and no default); not detected")]
    # The chart's own defaults still apply: Typha, BGP on, the default IP-in-IP pool.
    assert located(found) == [("typha", True, "main.tf:2"), ("bgp", True, "main.tf:2"), ("encapsulation", "IPIP", "main.tf:2")]


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("installation.calicoNetwork.bgp", ("installation", "calicoNetwork", "bgp")),
        ("installation.calicoNetwork.ipPools[1].encapsulation", ("installation", "calicoNetwork", "ipPools", 1, "encapsulation")),
        (r"nodeSelector.kubernetes\.io/os", ("nodeSelector", "kubernetes.io/os")),
        ("installation.calicoNetwork.ipPools[5000].encapsulation", None),
        ("a..b", None),
        ("[0]", None),
        ("", None),
    ],
)
def test_helm_path(name: str, path: tuple[Any, ...] | None) -> None:
    assert helm_module.helm_path(name) == path


@pytest.mark.parametrize(
    ("ipip", "vxlan", "expected"),
    [
        ("Always", "Never", ("IPIP", "")),
        ("CrossSubnet", None, ("IPIPCrossSubnet", "")),
        (None, "Always", ("VXLAN", "")),
        ("Never", "Never", ("None", "")),
        ("Never", None, (None, "")),
        (None, None, (None, "")),
        ("Always", "CrossSubnet", (None, "IP-in-IP (Always) and VXLAN (CrossSubnet) cannot both be on")),
    ],
)
def test_pool_encapsulation(ipip: str | None, vxlan: str | None, expected: tuple[str | None, str]) -> None:
    assert observations.pool_encapsulation(ipip, vxlan) == expected


# --- which source wins -------------------------------------------------------------------------

ROOT, OTHER = "/repo/envs/prod", "/repo/envs/dev"


def obs(setting: str, value: Any, file: str, line: int = 1, rank: int = observations.INSTALLER, kind: str = "Installation") -> Observation:
    return Observation(setting, value, file, line, kind, "x", rank)


def source(path: str, *observations: Observation) -> SourceFile:
    return SourceFile(path, observations)


@pytest.mark.parametrize(
    ("directory", "expected"),
    [
        ("/repo/envs/prod", 0), ("/repo/envs/prod/calico/x", 0), ("/repo/envs", 1), ("/repo", 2),
        ("/repo/group_vars/all", 2), ("/repo/envs/host_vars", 1), ("/repo/inventory/prod/group_vars/k8s_cluster", 2),
        # neither inside the root nor above it: another root's, a sibling's, elsewhere
        ("/repo/k8s/calico", None), ("/repo/k8s/group_vars", None), ("/repo/inventory/prod", None),
        ("/repo/envs/dev", None), ("/repo/envs/dev/calico", None), ("/elsewhere", None),
    ],
)
def test_distance(directory: str, expected: int | None) -> None:
    assert detect.distance(ROOT, directory, [ROOT, OTHER]) == expected


def test_nearest_then_most_specific_then_file_order() -> None:
    files = [
        source("/repo/ippool.yaml", obs("encapsulation", "IPIP", "ippool.yaml", 3, observations.COMPONENT, "IPPool")),
        source("/repo/envs/prod/a.yaml", obs("encapsulation", "VXLAN", "envs/prod/a.yaml", 9),
               obs("bgp", True, "envs/prod/a.yaml", 4)),
        source("/repo/envs/prod/b.yaml", obs("bgp", False, "envs/prod/b.yaml", 2)),
        source("/repo/envs/prod/c.yaml", obs("bgp", True, "envs/prod/c.yaml", 7, observations.COMPONENT, "calico-node env")),
        source("/repo/envs/dev/d.yaml", obs("wireguard", True, "envs/dev/d.yaml")),
    ]
    detection = detect_profile(ROOT, [ROOT, OTHER], files)
    assert {k: (s.value, s.source) for k, s in detection.settings.items()} == {
        "encapsulation": ("VXLAN", "envs/prod/a.yaml:9"),  # nearer beats the more specific IPPool
        "bgp": (True, "envs/prod/c.yaml:7"),  # equally near: the higher rank
    }
    assert [(str(d.location), d.message.split(";")[1].strip()) for d in detection.diagnostics] == [
        ("ippool.yaml:3", f"using VXLAN because it is nearer to the root module {display_path(ROOT)}. "
                          "Set profile.encapsulation in .sglint.yaml or pass --encapsulation to decide"),
        ("envs/prod/b.yaml:2", "using on because calico-node env takes precedence over Installation. "
                               "Set profile.bgp in .sglint.yaml or pass --bgp to decide"),
    ]
    assert detection.diagnostics[0].message.startswith(
        "calico profile: encapsulation: IPPool x says IPIP here, but Installation x at envs/prod/a.yaml:9 says VXLAN")


def test_equal_sources_go_by_file_order_and_decided_settings_do_not_warn() -> None:
    files = [source("/repo/envs/prod/b.yaml", obs("typha", False, "envs/prod/b.yaml")),
             source("/repo/envs/prod/a.yaml", obs("typha", True, "envs/prod/a.yaml"))]
    detection = detect_profile(ROOT, [ROOT], files)
    assert (detection.settings["typha"].value, len(detection.diagnostics)) == (True, 1)
    assert "because it comes first in file order" in detection.diagnostics[0].message
    assert detect_profile(ROOT, [ROOT], files, decided=["typha"]).diagnostics == ()


def test_own_helm_releases_count_as_nearest_and_their_templates_are_not_read_twice() -> None:
    own = Found((obs("encapsulation", "VXLAN", "main.tf", 5),), (), ("/repo/envs/prod/values.yaml",))
    files = [source("/repo/envs/prod/values.yaml", obs("encapsulation", "${encap}", "envs/prod/values.yaml")),
             source("/repo/envs/prod/felix.yaml", obs("vxlan_port", 4790, "envs/prod/felix.yaml"))]
    detection = detect_profile(ROOT, [ROOT], files, own)
    assert {k: s.source for k, s in detection.settings.items()} == {
        "encapsulation": "main.tf:5", "vxlan_port": "envs/prod/felix.yaml:1"}
    assert detection.diagnostics == ()


# --- where files are searched ------------------------------------------------------------------


def test_candidate_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    write(repo, {
        ".git/HEAD": "ref: refs/heads/main\n",
        "top.yaml": "", "README.md": "", "calico/deep.yaml": "",
        "group_vars/all": "", "inventory/prod/group_vars/k8s_cluster/calico.yml": "",
        "inventory/prod/hosts.yaml": "",
        "envs/shared.yml": "", "envs/other/x.yaml": "",
        "envs/prod/main.tf": "", "envs/prod/a.yaml": "", "envs/prod/b.YML": "", "envs/prod/c.json": "",
        "envs/prod/group_vars/all": "", "envs/prod/host_vars/n1.json": "", "envs/prod/.hidden.yaml": "",
        "envs/prod/.terraform/m.yaml": "", "envs/prod/node_modules/m.yaml": "", "envs/prod/.github/w.yaml": "",
        "envs/prod/charts/tigera-operator/Chart.yaml": "", "envs/prod/charts/tigera-operator/values.yaml": "",
    })
    (tmp_path / "above-the-repo.yaml").write_text("")
    found = [os.path.relpath(p, repo) for p in sources.candidate_files([str(repo / "envs" / "prod")])]
    assert sorted(found) == sorted([
        "envs/prod/a.yaml", "envs/prod/b.YML", "envs/prod/group_vars/all", "envs/prod/host_vars/n1.json",
        "envs/shared.yml", "top.yaml", "group_vars/all", "inventory/prod/group_vars/k8s_cluster/calico.yml",
    ])


def test_without_a_repository_only_the_parent_is_searched(tmp_path: Path) -> None:
    write(tmp_path, {"a/b/c/main.tf": "", "a/b/parent.yaml": "", "a/grandparent.yaml": ""})
    found = [os.path.relpath(p, tmp_path) for p in sources.candidate_files([str(tmp_path / "a/b/c/main.tf")])]
    assert found == ["a/b/parent.yaml"]


def test_scan_reads_only_files_that_mention_calico(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"m/main.tf": "", "m/ci.yaml": "jobs: [broken\n", "m/calico.yaml": "kind: ConfigMap\nmetadata:\n  name: calico-config\ndata: [\n",
                     "m/felix.yaml": "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nspec:\n  vxlanPort: 1\n"})
    monkeypatch.chdir(tmp_path)
    scan = sources.scan(["m"])
    assert [(Path(f.path).name, said(Found(f.observations)), [str(d.location) for d in f.diagnostics])
            for f in scan.files] == [
        ("calico.yaml", [], ["m/calico.yaml:5"]),
        ("felix.yaml", [("vxlan_port", 1, 4, "FelixConfiguration", "spec.vxlanPort")], []),
    ]  # ci.yaml is never parsed
    assert scan.diagnostics == ()


# --- end to end --------------------------------------------------------------------------------


def test_a_flag_overrides_a_detected_value_and_silences_its_conflict(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    detected = sglint("check", "fixtures/detect-conflict", "--format", "json")
    assert "warning: calico profile: encapsulation:" in detected.stderr
    result = sglint("check", "fixtures/detect-conflict", "--encapsulation", "VXLAN", "--format", "json")
    report = result.json()
    profile = report["roots"][0]["profile"]
    assert (profile["encapsulation"], profile["bgp"]) == (
        {"value": "VXLAN", "source": "--encapsulation"},
        {"value": True, "source": "fixtures/detect-conflict/calico/installation.yaml:6",
         "detail": "Installation spec.calicoNetwork.bgp (unset: on)"},
    )
    assert [f["rule_id"] for f in report["findings"]] == ["calico-bgp"]
    assert (report["diagnostics"], result.stderr, result.code) == ([], "", 1)


def test_the_config_file_overrides_a_detected_value(copy_tree, sglint) -> None:  # type: ignore[no-untyped-def]
    root = copy_tree(FIXTURES / "detect-calico-manifest")
    write(root, {".sglint.yaml": "profile:\n  bgp: false\n"})
    report = sglint("check", root.name, "--format", "json").json()
    profile = report["roots"][0]["profile"]
    assert profile["bgp"] == {"value": False, "source": f"{root.name}/.sglint.yaml:2"}
    assert profile["encapsulation"] == {"value": "IPIP", "source": f"{root.name}/manifests/calico.yaml:58",
                                        "detail": "calico-node env CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN"}
    assert [f["rule_id"] for f in report["findings"]] == ["calico-ipip"]


def test_malformed_yaml_never_stops_the_terraform_check(copy_tree, sglint) -> None:  # type: ignore[no-untyped-def]
    root = copy_tree(FIXTURES / "detect-malformed")
    main = root / "main.tf"
    main.write_text(main.read_text().replace('"udp"', '"tcp"'))  # now VXLAN is blocked
    result = sglint("check", root.name)
    assert result.code == 1
    assert result.stderr.splitlines() == [
        f"{root.name}/calico.yaml:8: warning: invalid YAML: found unexpected end of stream; "
        "skipped when detecting the Calico profile"]
    assert f"  {root.name}/main.tf:4: error [calico-vxlan]" in result.stdout


def test_the_text_report_shows_each_setting_with_its_source(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    lines = sglint("check", "fixtures/detect-helm-templatefile").stdout.splitlines()
    start = lines.index("  profile:")
    assert lines[start + 1:start + 4] == [
        "    encapsulation=VXLAN          fixtures/detect-helm-templatefile/tigera-values.yaml.tpl:7  "
        "helm_release installation.calicoNetwork.ipPools[0].encapsulation",
        "    bgp=off                      fixtures/detect-helm-templatefile/tigera-values.yaml.tpl:4  "
        "helm_release installation.calicoNetwork.bgp",
        "    typha=on                     fixtures/detect-helm-templatefile/main.tf:38  "
        "helm_release (the operator always runs Typha)",
    ]
    assert lines[start + 8] == "    aws_src_dst_check=DoNothing  default"


def test_each_root_takes_its_own_and_shared_sources(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    def profile(path: str) -> dict[str, tuple[Any, str]]:
        report = sglint("check", path, "--format", "json").json()
        return {r["root"]: {k: v["source"] for k, v in r["profile"].items() if v["source"] != "default"}
                for r in report["roots"]}

    base = "fixtures/detect-multi-root"
    # Checked alone, prod still sees the shared files above it, and not staging's IPPool.
    assert profile(f"{base}/prod") == {f"{base}/prod": {
        "encapsulation": f"{base}/prod/calico/installation.yaml:10", "bgp": f"{base}/prod/calico/installation.yaml:7",
        "typha": f"{base}/prod/calico/installation.yaml:2", "wireguard": f"{base}/felix.yaml:7"}}
    assert profile(base)[f"{base}/staging"] == {
        "encapsulation": f"{base}/staging/ippool.yaml:7", "wireguard": f"{base}/felix.yaml:7"}


def test_detection_fixtures_cover_every_source() -> None:
    names = {p.name for p in FIXTURES.glob("detect-*")}
    assert names >= {
        "detect-installation", "detect-installation-bgp-disabled", "detect-installation-eks", "detect-helm-values",
        "detect-helm-templatefile", "detect-helm-yamlencode", "detect-calico-manifest", "detect-calico-typha",
        "detect-calico-vxlan", "detect-ippool", "detect-felix", "detect-kubespray", "detect-conflict",
        "detect-malformed", "detect-multi-root",
    }
    for name in names:
        report = json.loads((FIXTURES / name / "expected" / "check.json").read_text())
        detected = {s["source"] for r in report["roots"] for s in r["profile"].values()} - {"default"}
        assert name == "detect-malformed" or any(s.startswith(f"fixtures/{name}/") for s in detected), name


def test_an_unknown_value_the_defaults_depend_on_is_no_guess(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    body = '  set {\n    name  = "installation.kubernetesProvider"\n    value = var.provider\n  }\n'
    found = helm(tmp_path, monkeypatch, {"main.tf": 'variable "provider" {}\n' + RELEASE.format(chart="tigera-operator", body=body)})
    assert located(found) == [("typha", True, "main.tf:2")]  # neither BGP nor the pool is guessed
    assert warned(found) == [(6, "calico profile: helm_release installation.kubernetesProvider cannot be evaluated "
                                 "(var.provider: variable has no value and no default); not detected")]


def test_values_read_with_file_point_into_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = "installation:\n  calicoNetwork:\n    bgp: Disabled\n    ipPools:\n      - encapsulation: VXLAN\n"
    release = RELEASE.format(chart="tigera-operator", body='  values = [file("${path.module}/values.yaml")]\n')
    found = helm(tmp_path, monkeypatch, {"main.tf": release, "values.yaml": values})
    assert located(found) == [("typha", True, "main.tf:1"), ("bgp", False, "values.yaml:3"),
                              ("encapsulation", "VXLAN", "values.yaml:5")]
    assert found.read_files == (str(tmp_path.resolve() / "values.yaml"),)


def test_a_yaml_template_is_read_through_its_helm_release_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sglint) -> None:  # type: ignore[no-untyped-def]
    template = "installation:\n  calicoNetwork:\n    ipPools:\n      - encapsulation: ${encap}\n"
    release = RELEASE.format(chart="tigera-operator", body='  values = [templatefile("values.yaml", { encap = "None" })]\n')
    write(tmp_path, {"main.tf": release, "values.yaml": template})
    monkeypatch.chdir(tmp_path)
    report = sglint("check", ".", "--format", "json").json()
    assert report["roots"][0]["profile"]["encapsulation"] == {
        "value": "None", "source": "values.yaml:4", "detail": "helm_release installation.calicoNetwork.ipPools[0].encapsulation"}
    assert report["diagnostics"] == []  # no "'${encap}' is a template" warning from reading the file raw


def test_felix_env_beats_felix_configuration_and_an_ippool_beats_the_installation(tmp_path: Path) -> None:
    # Felix reads its environment before any FelixConfiguration (docs: "Configuring Felix");
    # calico-node's CALICO_IPV4POOL_* env only seeds a pool, so an IPPool beats it and the Installation.
    text = "\n---\n".join([
        "apiVersion: projectcalico.org/v3\nkind: FelixConfiguration\nmetadata: {name: default}\nspec:\n  vxlanPort: 4790",
        node_env(("FELIX_VXLANPORT", "4789"), ("CALICO_IPV4POOL_VXLAN", "Always")),
        INSTALLATION + "  calicoNetwork:\n    ipPools:\n      - encapsulation: VXLANCrossSubnet",
        POOL.format(api="projectcalico.org/v3", cidr="10.0.0.0/16") + "  ipipMode: Always",
    ])
    found = observe_text(text, "calico.yaml")
    detection = detect_profile(str(tmp_path), [str(tmp_path)], [SourceFile(str(tmp_path / "calico.yaml"), found.observations)])
    assert {k: (s.value, s.source) for k, s in detection.settings.items() if k in ("vxlan_port", "encapsulation")} == {
        "vxlan_port": (4789, "calico.yaml:22"), "encapsulation": ("IPIP", "calico.yaml:42")}
    assert [d.message.split("because ")[1].split(".")[0] for d in detection.diagnostics] == [
        "IPPool takes precedence over calico-node env",
        "IPPool takes precedence over Installation",
        "calico-node env takes precedence over FelixConfiguration",
    ]
