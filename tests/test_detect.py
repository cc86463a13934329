"""profile/detect.py: which source wins (nearest, most specific, file order), and detection end
to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import FIXTURES, write
from detecthelp import INSTALLATION, POOL, RELEASE, helm, located, node_env, warned

from calico_sglint.profile import detect, observations
from calico_sglint.profile.detect import detect_profile
from calico_sglint.profile.manifests import observe_text
from calico_sglint.profile.observations import Found, Observation, SourceFile
from calico_sglint.terraform.discover import display_path

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
