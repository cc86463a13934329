"""profile/helm.py: Helm values files and `helm_release` resources (yamlencode, set blocks,
templatefile), as observations with lines that point into the values."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from detecthelp import (
    RELEASE,
    F,
    helm,
    located,
    said,
    warned,
)

from calico_sglint.profile import helm as helm_module
from calico_sglint.profile import observations
from calico_sglint.profile.manifests import observe_text
from calico_sglint.profile.observations import Found

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


# --- helm_release ------------------------------------------------------------------------------


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


