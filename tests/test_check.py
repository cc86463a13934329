"""`sglint check` end to end: the incident example, a fixture per check and per profile with its
exact JSON report, flags over config, fail levels, user rule packs, `rules` and `explain`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from conftest import FIXTURES, REPO, write
from golden import assert_golden, check_view

SCHEMA = json.loads((REPO / "docs" / "report.schema.json").read_text())
SCENARIOS = sorted(p.parent.parent.name for p in FIXTURES.glob("*/expected/check.json"))


def test_the_typha_incident_is_exactly_two_errors(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/typha-blocked", "--format", "json")
    assert result.code == 1
    report = result.json()
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [
        (f["rule_id"], f["path"]["source_sg"], f["path"]["target_sg"], f["path"]["missing"],
         f["path"]["protocol"], f["path"]["from_port"], f["path"]["to_port"], f["location"]["line"])
        for f in errors
    ] == [
        ("calico-typha", "aws_security_group.worker", "aws_security_group.master", "ingress", "tcp", 5473, 5473, 21),
        ("calico-typha", "aws_security_group.master", "aws_security_group.worker", "ingress", "tcp", 5473, 5473, 27),
    ]
    assert errors[1]["related"][0]["message"] == "worker allows tcp/5473 only from self"
    assert [f["rule_id"] for f in report["findings"] if f["severity"] != "error"] == ["sg-cross-reference"]


def test_one_cluster_security_group_passes(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/cluster-sg", "--format", "json")
    assert (result.code, result.json()["findings"]) == (0, [])


def test_every_check_and_profile_has_a_scenario() -> None:
    assert set(SCENARIOS) >= {
        "profile-ipip", "profile-vxlan", "profile-crosssubnet", "profile-wireguard",
        "profile-typha-off", "wide-port-ranges", "no-egress", "check-cycle", "check-exposed",
        "check-duplicate", "check-mixed-styles", "check-unknown-reference", "check-unverified",
        "sg-module-only", "roles-config",
    }


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_check_json_matches_expected(scenario: str, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", f"fixtures/{scenario}", "--format", "json")
    report = result.json()
    jsonschema.validate(report, SCHEMA)
    assert_golden(FIXTURES / scenario / "expected" / "check.json", check_view(report))
    assert result.code == (1 if report["summary"]["error"] else 0)


def test_flags_beat_the_config_file(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    # profile-vxlan has no BGP rule and no protocol 4: fine for VXLAN, not for IPIP.
    result = sglint("check", "fixtures/profile-vxlan", "--encapsulation", "ipip", "--format", "json")
    report = result.json()
    assert result.code == 1
    assert sorted(f["rule_id"] for f in report["findings"]) == ["calico-bgp", "calico-ipip"]
    profile = report["roots"][0]["profile"]
    assert profile["encapsulation"] == {"value": "IPIP", "source": "--encapsulation"}
    assert profile["bgp"] == {"value": True, "source": "implied by encapsulation=IPIP"}
    # profile-ipip's .sglint.yaml says IPIP; the flag turns it back to VXLAN, which passes.
    assert sglint("check", "fixtures/profile-ipip", "--encapsulation", "VXLAN").code == 0
    assert sglint("check", "fixtures/profile-ipip", "--no-bgp", "--format", "json").json()["roots"][0][
        "profile"]["bgp"] == {"value": False, "source": "--no-bgp"}


def test_each_root_uses_its_nearest_config(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    report = sglint("check", "fixtures/profile-vxlan", "fixtures/profile-ipip", "--format", "json").json()
    assert [(r["root"], r["profile"]["encapsulation"]) for r in report["roots"]] == [
        ("fixtures/profile-vxlan", {"value": "VXLAN", "source": "default"}),
        ("fixtures/profile-ipip", {"value": "IPIP", "source": "fixtures/profile-ipip/.sglint.yaml:2"}),
    ]


@pytest.mark.parametrize(
    ("fixture", "fail_on", "code"),
    [
        ("check-unverified", "error", 0),
        ("check-unverified", "warning", 1),
        ("profile-ipip", "never", 0),
        ("examples/typha-blocked", "info", 1),
    ],
)
def test_fail_levels(fixture: str, fail_on: str, code: int, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    path = fixture if fixture.startswith("examples/") else f"fixtures/{fixture}"
    assert sglint("check", path, "--fail-on", fail_on).code == code


def test_a_user_pack_adds_a_requirement_changes_a_severity_and_disables_one(
    tmp_path: Path, sglint, in_repo  # type: ignore[no-untyped-def]
) -> None:
    pack = write(tmp_path, {"pack.yaml": """
pack: ours
rules:
  - id: ours-node-exporter
    title: node-exporter (TCP 9100) from the control plane
    severity: warning
    kind: path
    protocol: tcp
    ports: [9100]
    from: control-plane
    to: any
    when: {}
    description: Prometheus on the control plane scrapes node-exporter on every node.
    why: Without it there are no node metrics.
    fix: Admit TCP 9100 from the control-plane security group.
    source: https://prometheus.io/docs/guides/node-exporter/
  - id: calico-typha
    severity: warning
  - id: sg-cross-reference
    enabled: false
"""}) / "pack.yaml"
    result = sglint("check", "examples/typha-blocked", "--rules", str(pack), "--format", "json")
    findings = [(f["rule_id"], f["severity"], f["path"]["target_sg"] if f["path"] else None) for f in result.json()["findings"]]
    assert findings == [
        ("calico-typha", "warning", "aws_security_group.master"),
        ("calico-typha", "warning", "aws_security_group.worker"),
        ("ours-node-exporter", "warning", "aws_security_group.worker"),
    ]
    assert result.code == 0


@pytest.mark.parametrize(
    ("pack", "message"),
    [
        ("rules:\n  - id: calico-typha\n    severity: critical\n",
         "rules[0].severity: must be one of error, warning, info (got 'critical')"),
        ("rules:\n  - id: Calico_Typha\n", "rules[0].id: must be lowercase words joined by hyphens, like calico-typha"),
        ("rules: [\n", "invalid YAML"),
    ],
)
def test_a_broken_pack_is_one_line_and_exit_2(tmp_path: Path, pack: str, message: str, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    path = write(tmp_path, {"broken.yaml": pack}) / "broken.yaml"
    result = sglint("check", "examples/cluster-sg", "--rules", str(path))
    assert result.code == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"{path}:") and message in line


def test_a_broken_config_is_one_line_and_exit_2(tmp_path: Path, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    config = write(tmp_path, {"c.yaml": "profile:\n  encapsulation: GRE\n"}) / "c.yaml"
    result = sglint("check", "examples/cluster-sg", "--config", str(config))
    assert (result.code, result.stderr.strip()) == (
        2, f"{config}:2: profile.encapsulation: must be one of IPIP, IPIPCrossSubnet, VXLAN, VXLANCrossSubnet, None (got 'GRE')",
    )


def test_text_report_groups_by_root_with_hints_and_profile(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    result = sglint("check", "examples/typha-blocked")
    lines = result.stdout.splitlines()
    assert lines[0] == "examples/typha-blocked"
    assert lines[1].startswith("  examples/typha-blocked/main.tf:21: error [calico-typha] aws_instance.worker")
    assert lines[2].startswith("      fix: Add an ingress rule on aws_security_group.master for tcp/5473")
    assert "  requirements: calico-typha, calico-vxlan, k8s-apiserver, k8s-kubelet" in lines
    assert lines[-1] == "2 errors, 1 warning"
    assert "\x1b[" not in result.stdout  # plain when not a terminal


def test_output_file(tmp_path: Path, sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "report.json"
    result = sglint("check", "examples/typha-blocked", "-f", "json", "-o", str(out))
    assert (result.code, result.stdout) == (1, "")
    assert json.loads(out.read_text())["summary"]["error"] == 2


def test_rules_lists_every_rule(sglint) -> None:  # type: ignore[no-untyped-def]
    result = sglint("rules")
    ids = [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert ids == [
        "calico-typha", "calico-vxlan", "calico-bgp", "calico-ipip", "calico-native-routing",
        "calico-src-dst-check", "calico-wireguard", "calico-wireguard-v6", "calico-apiserver-eks",
        "module-unreadable", "no-node-groups", "no-security-groups",
        "k8s-apiserver", "k8s-kubelet", "sg-cycle",
        "sg-cross-reference", "sg-exposed", "sg-duplicate-rule", "sg-mixed-rule-styles",
        "sg-unknown-reference", "sglint-ignore",
    ]
    assert "TCP 5473 from every node to every node; applies when typha=True" in result.stdout


def test_explain_reads_like_a_rule_page(sglint) -> None:  # type: ignore[no-untyped-def]
    page = sglint("explain", "calico-typha")
    assert page.code == 0
    headings = [l for l in page.stdout.splitlines() if l and not l.startswith(" ")]
    assert headings == [
        "calico-typha: Typha (TCP 5473) between every pair of nodes",
        "What it does", "Why it matters", "Example (with the master and worker groups of rules/examples/base.tf)",
        "Fixed", "How to fix", "Source",
    ]
    assert "https://docs.tigera.io/" in page.stdout
    missing = sglint("explain", "calico-nope")
    assert missing.code == 2 and missing.stderr.startswith("sglint: no rule 'calico-nope'; known rules: calico-typha")


def test_changed_files_of_one_module_check_the_module_once(tmp_path: Path, sglint, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    source = (REPO / "examples" / "typha-blocked" / "main.tf").read_text()
    head, tail = source.split('resource "aws_instance" "master"')
    write(tmp_path / "m", {"sgs.tf": head, "instances.tf": 'resource "aws_instance" "master"' + tail, "terraform.tfvars": "worker_count = 13\n"})
    monkeypatch.chdir(tmp_path)
    report = sglint("check", "m/sgs.tf", "m/instances.tf", "m/terraform.tfvars", "--format", "json").json()
    assert [r["root"] for r in report["roots"]] == ["m"]
    assert [f["rule_id"] for f in report["findings"]] == ["calico-typha", "sg-cross-reference", "calico-typha"]


def test_the_summary_line_counts_an_unverified_finding_once(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    text = sglint("check", "fixtures/unverified-external-groups").stdout
    assert text.rstrip().splitlines()[-1] == "0 errors, 8 warnings (8 unverified)"
    one = sglint("check", "fixtures/check-unverified").stdout
    assert one.rstrip().splitlines()[-1] == "0 errors, 1 warning (1 unverified)"


def test_a_setting_turned_off_by_a_flag_is_reported_in_its_no_form(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    report = sglint("check", "fixtures/profile-vxlan", "--no-typha", "--no-wireguard", "--format", "json").json()
    profile = report["roots"][0]["profile"]
    assert (profile["typha"], profile["wireguard"]) == (
        {"value": False, "source": "--no-typha"}, {"value": False, "source": "--no-wireguard"})
    text = sglint("check", "fixtures/profile-vxlan", "--no-typha").stdout
    assert "typha=off" in text and "--no-typha" in text


def test_a_roots_profile_does_not_depend_on_what_else_is_checked(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    # team-b/ippool.yaml (IP-in-IP) is beside root `a`, not above it: `a` keeps the defaults
    # whether it is checked alone, with team-b/prod, or as part of the whole tree.
    def root_a(*paths: str) -> tuple[object, list[object]]:
        report = sglint("check", *paths, "--format", "json").json()
        root = next(r for r in report["roots"] if r["root"] == "fixtures/profile-scope/a")
        return root["profile"]["encapsulation"], [f for f in report["findings"] if f["root"] == root["root"]]

    alone = root_a("fixtures/profile-scope/a/main.tf")
    assert alone == ({"value": "VXLAN", "source": "default"}, [])
    assert root_a("fixtures/profile-scope/a/main.tf", "fixtures/profile-scope/team-b/prod/main.tf") == alone
    assert root_a("fixtures/profile-scope") == alone


def test_an_ipv6_only_cluster_needs_no_source_destination_check(sglint, in_repo) -> None:  # type: ignore[no-untyped-def]
    # Detected from the Installation's IPv6-only pool; the IPv6-only subnets say so as well.
    report = sglint("check", "fixtures/ipv6-only", "--format", "json").json()
    assert report["roots"][0]["profile"]["ipv6_only"]["value"] is True
    assert "calico-src-dst-check" not in report["roots"][0]["requirements"]
    assert report["findings"] == []
    by_subnets = sglint("check", "fixtures/ipv6-only", "--no-ipv6-only", "--format", "json").json()
    assert [f["rule_id"] for f in by_subnets["findings"]] == []
    # The same CrossSubnet profile on IPv4 nodes wants the check off.
    ipv4 = sglint("check", "fixtures/profile-crosssubnet", "--format", "json").json()
    assert "calico-src-dst-check" in [f["rule_id"] for f in ipv4["findings"]]
    flagged = sglint("check", "fixtures/profile-crosssubnet", "--ipv6-only", "--format", "json").json()
    assert "calico-src-dst-check" not in [f["rule_id"] for f in flagged["findings"]]


def test_a_control_plane_target_may_keep_etcd_but_not_a_whole_protocol_closed(
    sglint, copy_tree  # type: ignore[no-untyped-def]
) -> None:
    tree = copy_tree(FIXTURES / "native-routing-control-plane")
    main = tree / "main.tf"
    main.write_text(main.read_text().replace('    "udp-1to65535"    = { protocol = "udp", from = 1, to = 65535 }\n', ""))
    report = sglint("check", tree.name, "--format", "json").json()
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["rule_id"], f["path"]["protocol"], f["path"]["from_port"], f["path"]["to_port"], f["path"]["missing"],
             f["fix"]) for f in errors] == [
        ("calico-native-routing", "udp", 1, 65535, "ingress", [{
            "security_group": "aws_security_group.masters", "direction": "ingress", "protocol": "udp",
            "from_port": 1, "to_port": 65535, "peer": "aws_security_group.nodes"}]),
    ]
    # The fix reopens UDP, never etcd.
    diff = sglint("fix", tree.name, "--diff").stdout
    assert 'protocol                 = "udp"' in diff and "2380" not in diff and "4001" not in diff


def test_a_requirement_that_checks_nothing_in_one_cluster_says_so(tmp_path: Path, sglint) -> None:  # type: ignore[no-untyped-def]
    write(tmp_path, {"main.tf": """
resource "aws_security_group" "a" {}
resource "aws_security_group" "b" {}
resource "aws_instance" "a_master" {
  vpc_security_group_ids = [aws_security_group.a.id]
  tags                   = { KubernetesCluster = "a" }
}
resource "aws_instance" "a_worker" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.a.id]
  tags                   = { KubernetesCluster = "a" }
}
resource "aws_instance" "b_node" {
  count                  = 2
  vpc_security_group_ids = [aws_security_group.b.id]
  tags                   = { KubernetesCluster = "b" }
}
"""})
    root = sglint("check", str(tmp_path), "--format", "json").json()["roots"][0]
    assert root["requirements"] == ["calico-typha", "calico-vxlan", "k8s-apiserver", "k8s-kubelet"]
    assert root["not_checked"] == [
        {"rule_id": "k8s-apiserver", "reason": "no control-plane node group to check paths to in cluster b"},
        {"rule_id": "k8s-kubelet", "reason": "no control-plane node group to check paths from in cluster b"},
    ]
    assert [(c["name"], c["node_groups"]) for c in root["clusters"]] == [
        ("a", ["aws_instance.a_master", "aws_instance.a_worker"]), ("b", ["aws_instance.b_node"]),
    ]
