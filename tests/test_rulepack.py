"""rulepack.py: the built-in packs, user packs that add, change or disable rules, broken packs
(exact `file:line: key: problem` messages) and config overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write

from calico_sglint.profile.rulepack import PackRule, RulePack, load_packs
from calico_sglint.source import InputError

BUILT_IN_IDS = [
    "calico-typha", "calico-vxlan", "calico-bgp", "calico-ipip", "calico-native-routing",
    "calico-src-dst-check", "calico-wireguard", "calico-wireguard-v6", "calico-apiserver-eks",
    "module-unreadable", "no-node-groups", "no-security-groups",
    "k8s-apiserver", "k8s-kubelet", "sg-cycle", "sg-cross-reference", "sg-exposed", "sg-duplicate-rule", "sg-mixed-rule-styles",
    "sg-unknown-reference", "sglint-ignore",
]

# A complete new path rule; tests take lines out or change them.
NEW_RULE = """\
pack: extra
rules:
  - id: node-exporter
    title: node-exporter (TCP 9100) from the control plane
    severity: warning
    kind: path
    protocol: tcp
    ports: [9100]
    from: control-plane
    to: any
    when: {}
    description: Prometheus on the control plane scrapes every node.
    why: Without it node metrics are missing.
    fix: Admit TCP 9100 from the control-plane security group.
    source: https://github.com/prometheus/node_exporter
"""


@pytest.fixture
def builtins() -> RulePack:
    return load_packs()


def test_built_in_ids_in_pack_order(builtins: RulePack) -> None:
    assert [r.id for r in builtins.rules] == BUILT_IN_IDS
    assert [r.id for r in builtins.enabled()] == BUILT_IN_IDS


@pytest.mark.parametrize("rule_id", BUILT_IN_IDS)
def test_every_built_in_rule_is_documented(builtins: RulePack, rule_id: str) -> None:
    rule = builtins.get(rule_id)
    assert rule is not None
    for text in (rule.title, rule.description, rule.why, rule.fix, rule.source):
        assert text.strip() and text == text.strip()
    assert rule.source.startswith("https://") and " " not in rule.source
    # The example is shown verbatim (not stripped) and every built-in has one.
    assert rule.example.strip()


def test_get_unknown_rule_is_none(builtins: RulePack) -> None:
    assert builtins.get("calico-typo") is None


# --- broken packs ---------------------------------------------------------------------------

BROKEN = [
    pytest.param(
        "rules:\n  - id: calico-typha\n    colour: red\n",
        "bad.yaml:3: rules[0].colour: unknown key (expected one of control_plane_target, description, enabled, "
        "example, example_fixed, exposed, family, fix, from, id, kind, ports, protocol, severity, source, title, "
        "to, when, why)",
        id="unknown-rule-key",
    ),
    pytest.param(
        "rules:\n  - id: calico-native-routing\n    control_plane_target:\n      require:\n"
        "        - {protocol: icmp, ports: [0-255], name: ping}\n",
        "bad.yaml:3: rules[0].control_plane_target: require: only tcp and udp port ranges can be required "
        "instead of all traffic",
        id="control-plane-target-icmp",
    ),
    pytest.param(
        "rules:\n  - id: calico-native-routing\n    control_plane_target: [etcd]\n",
        "bad.yaml:3: rules[0].control_plane_target: must be a mapping with require and may_stay_closed lists of "
        "{protocol, ports, name}",
        id="control-plane-target-list",
    ),
    pytest.param(
        "pack: x\nversion: 2\nrules: []\n",
        "bad.yaml:2: version: unknown key (expected pack, rules)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        "rules:\n  - id: calico-bgp\n    severity: info\n  - id: calico-typha\n    severity: fatal\n",
        "bad.yaml:5: rules[1].severity: must be one of error, warning, info (got 'fatal')",
        id="bad-severity-second-rule",
    ),
    pytest.param(
        'rules:\n  - id: calico-typha\n    ports: ["99999"]\n',
        "bad.yaml:3: rules[0].ports: '99999' is not a port range within 0-65535",
        id="port-out-of-range",
    ),
    pytest.param(
        'rules:\n  - id: calico-typha\n    ports: ["10-5"]\n',
        "bad.yaml:3: rules[0].ports: '10-5' is not a port range within 0-65535",
        id="reversed-range",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    ports: [typha_port]\n",
        "bad.yaml:3: rules[0].ports: 'typha_port' is not a port, a low-high range or one of vxlan_port, "
        "apiserver_port",
        id="unknown-port-setting",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    ports: []\n",
        "bad.yaml:3: rules[0].ports: must be a non-empty list of ports, low-high ranges or a profile setting",
        id="empty-ports",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    protocol: sctp\n",
        "bad.yaml:3: rules[0].protocol: must be tcp, udp, icmp, icmpv6, all or an IP protocol number (got 'sctp')",
        id="bad-protocol",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    when: {calico: true}\n",
        "bad.yaml:3: rules[0].when: unknown profile setting 'calico' (expected one of encapsulation, bgp, typha, "
        "wireguard, wireguard_v6, aws_src_dst_check, ipv6_only)",
        id="unknown-when-key",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    when: {encapsulation: vxlan}\n",
        "bad.yaml:3: rules[0].when: encapsulation: 'vxlan' is not one of IPIP, IPIPCrossSubnet, VXLAN, "
        "VXLANCrossSubnet, None",
        id="when-value-is-case-sensitive",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    when: [typha]\n",
        "bad.yaml:3: rules[0].when: must be a mapping of profile settings, e.g. {typha: true}",
        id="when-not-a-mapping",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    from: master\n",
        "bad.yaml:3: rules[0].from: must be one of any, control-plane, worker, eks-control-plane (got 'master')",
        id="bad-from-role",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    family: ipv5\n",
        "bad.yaml:3: rules[0].family: must be one of ipv4, ipv6 (got 'ipv5')",
        id="bad-family",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    enabled: 'no'\n",
        "bad.yaml:3: rules[0].enabled: must be true or false",
        id="enabled-not-bool",
    ),
    pytest.param(
        "rules:\n  - id: calico-typha\n    title: '  '\n",
        "bad.yaml:3: rules[0].title: must be a non-empty string",
        id="blank-title",
    ),
    pytest.param(
        NEW_RULE.replace("    why: Without it node metrics are missing.\n", ""),
        "bad.yaml:3: rules[0].why: missing (required for a new rule)",
        id="new-rule-missing-why",
    ),
    pytest.param(
        NEW_RULE.replace("    when: {}\n", ""),
        "bad.yaml:3: rules[0].when: missing (required for a path rule)",
        id="new-path-rule-missing-when",
    ),
    pytest.param(
        NEW_RULE.replace("kind: path", "kind: structural"),
        "bad.yaml:6: rules[0].kind: structural checks are built in; a pack can only add path rules",
        id="new-structural-rule",
    ),
    pytest.param(
        NEW_RULE.replace("kind: path", "kind: check"),
        "bad.yaml:6: rules[0].kind: must be one of path, structural",
        id="unknown-kind",
    ),
    pytest.param(
        "rules:\n  - id: sg-cycle\n    kind: path\n",
        "bad.yaml:3: rules[0].kind: cannot change the kind of sg-cycle (structural)",
        id="structural-to-path",
    ),
    pytest.param(
        "rules:\n  - id: Calico_Typha\n    severity: info\n",
        "bad.yaml:2: rules[0].id: must be lowercase words joined by hyphens, like calico-typha",
        id="invalid-id",
    ),
    pytest.param(
        "rules:\n  - severity: info\n",
        "bad.yaml:2: rules[0].id: missing (every rule needs an id)",
        id="missing-id",
    ),
    pytest.param(
        "rules:\n  - calico-typha\n",
        "bad.yaml:2: rules[0]: each rule must be a mapping",
        id="rule-not-a-mapping",
    ),
    pytest.param(
        "pack: x\nrules: {id: calico-typha}\n",
        "bad.yaml:2: rules: a rule pack needs a `rules:` list",
        id="rules-not-a-list",
    ),
    pytest.param(
        "pack: x\n",
        "bad.yaml:1: rules: a rule pack needs a `rules:` list",
        id="no-rules",
    ),
    pytest.param(
        "- id: calico-typha\n",
        "bad.yaml:1: rules: a rule pack needs a `rules:` list",
        id="top-level-list",
    ),
    pytest.param(
        "rules:\n  - id: sg-exposed\n    exposed: [{protocol: tcp}]\n",
        "bad.yaml:3: rules[0].exposed: each entry needs protocol, ports and name",
        id="exposed-entry-incomplete",
    ),
]


@pytest.mark.parametrize(("text", "message"), BROKEN)
def test_broken_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    write(tmp_path, {"bad.yaml": text})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        load_packs(["bad.yaml"])
    assert str(caught.value) == message


def test_invalid_yaml_names_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"bad.yaml": "pack: x\nrules:\n  - id: calico-typha\n    title: a: b\n"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        load_packs(["bad.yaml"])
    assert (caught.value.file, caught.value.line) == ("bad.yaml", 4)
    # libyaml says "... in this context", PyYAML's pure-Python parser "... here".
    assert str(caught.value).startswith("bad.yaml:4: invalid YAML: mapping values are not allowed ")


def test_a_missing_pack_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        load_packs(["missing.yaml"])
    assert str(caught.value) == "missing.yaml: no such rule pack"


def test_a_directory_without_packs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {"packs/notes.txt": "rules: []\n"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        load_packs(["packs"])
    assert str(caught.value) == "packs: no rule packs (*.yaml) in this directory"


# --- user packs -----------------------------------------------------------------------------

def test_user_pack_adds_a_path_rule(tmp_path: Path) -> None:
    write(tmp_path, {"extra.yaml": NEW_RULE})
    pack = load_packs([str(tmp_path / "extra.yaml")])
    assert [r.id for r in pack.rules] == [*BUILT_IN_IDS, "node-exporter"]
    assert pack.get("node-exporter") == PackRule(
        id="node-exporter",
        title="node-exporter (TCP 9100) from the control plane",
        severity="warning",
        kind="path",
        description="Prometheus on the control plane scrapes every node.",
        why="Without it node metrics are missing.",
        fix="Admit TCP 9100 from the control-plane security group.",
        source="https://github.com/prometheus/node_exporter",
        protocol="tcp",
        ports=((9100, 9100),),
        from_role="control-plane",
        to_role="any",
        when={},
        defined_in=str(tmp_path / "extra.yaml"),
    )


def test_user_pack_changes_a_built_in_severity_and_keeps_the_rest(tmp_path: Path, builtins: RulePack) -> None:
    write(tmp_path, {"soft.yaml": "rules:\n  - id: calico-typha\n    severity: warning\n"})
    pack = load_packs([str(tmp_path / "soft.yaml")])
    typha, original = pack.get("calico-typha"), builtins.get("calico-typha")
    assert typha is not None and original is not None
    assert (typha.severity, typha.defined_in) == ("warning", str(tmp_path / "soft.yaml"))
    assert (typha.ports, typha.when, typha.title, typha.kind) == (original.ports, original.when, original.title, "path")
    # Overriding keeps the rule in its built-in position.
    assert [r.id for r in pack.rules] == BUILT_IN_IDS


def test_user_pack_changes_ports_and_when_of_a_built_in(tmp_path: Path) -> None:
    write(tmp_path, {"p.yaml": 'rules:\n  - id: calico-typha\n    ports: [5473, "9000-9001"]\n'
                               "    when: {typha: true, encapsulation: [IPIP]}\n"})
    typha = load_packs([str(tmp_path / "p.yaml")]).get("calico-typha")
    assert typha is not None
    assert typha.ports == ((5473, 5473), (9000, 9001))
    assert dict(typha.when) == {"typha": (True,), "encapsulation": ("IPIP",)}


def test_user_pack_disables_a_rule(tmp_path: Path) -> None:
    write(tmp_path, {"off.yaml": "rules:\n  - id: sg-cross-reference\n    enabled: false\n"})
    pack = load_packs([str(tmp_path / "off.yaml")])
    rule = pack.get("sg-cross-reference")
    assert rule is not None and rule.enabled is False
    assert [r.id for r in pack.enabled()] == [i for i in BUILT_IN_IDS if i != "sg-cross-reference"]


def test_several_documents_in_one_pack(tmp_path: Path) -> None:
    write(tmp_path, {"multi.yaml": "rules:\n  - id: calico-typha\n    severity: info\n---\n"
                                   "rules:\n  - id: calico-bgp\n    enabled: false\n"})
    pack = load_packs([str(tmp_path / "multi.yaml")])
    assert [(r.id, r.severity, r.enabled) for r in pack.rules if r.id in ("calico-typha", "calico-bgp")] == [
        ("calico-typha", "info", True), ("calico-bgp", "error", False),
    ]


def test_a_directory_of_packs_is_loaded_in_sorted_order(tmp_path: Path) -> None:
    write(tmp_path, {
        # Written out of order; b.yml must see the rule a.yaml added and win over it.
        "packs/b.yml": "rules:\n  - id: node-exporter\n    severity: error\n  - id: calico-typha\n    severity: info\n",
        "packs/a.yaml": NEW_RULE,
        "packs/c.yaml": "rules:\n  - id: calico-typha\n    severity: warning\n",
        "packs/README.md": "not a pack: ignored",
    })
    pack = load_packs([str(tmp_path / "packs")])
    exporter, typha = pack.get("node-exporter"), pack.get("calico-typha")
    assert exporter is not None and typha is not None
    assert (exporter.severity, exporter.defined_in) == ("error", str(tmp_path / "packs" / "b.yml"))
    assert (typha.severity, typha.defined_in) == ("warning", str(tmp_path / "packs" / "c.yaml"))


def test_packs_given_later_win(tmp_path: Path) -> None:
    write(tmp_path, {
        "one.yaml": "rules:\n  - id: calico-typha\n    severity: info\n",
        "two.yaml": "rules:\n  - id: calico-typha\n    severity: warning\n",
    })
    forward = load_packs([str(tmp_path / "one.yaml"), str(tmp_path / "two.yaml")]).get("calico-typha")
    backward = load_packs([str(tmp_path / "two.yaml"), str(tmp_path / "one.yaml")]).get("calico-typha")
    assert forward is not None and backward is not None
    assert (forward.severity, backward.severity) == ("warning", "info")


def test_a_later_pack_can_re_enable_a_rule(tmp_path: Path) -> None:
    write(tmp_path, {
        "off.yaml": "rules:\n  - id: calico-bgp\n    enabled: false\n",
        "on.yaml": "rules:\n  - id: calico-bgp\n    enabled: true\n",
    })
    rule = load_packs([str(tmp_path / "off.yaml"), str(tmp_path / "on.yaml")]).get("calico-bgp")
    assert rule is not None and rule.enabled is True


def test_an_empty_pack_changes_nothing(tmp_path: Path, builtins: RulePack) -> None:
    write(tmp_path, {"empty.yaml": ""})
    assert load_packs([str(tmp_path / "empty.yaml")]) == builtins


# --- config overrides -----------------------------------------------------------------------

def test_with_overrides(builtins: RulePack) -> None:
    pack = builtins.with_overrides({"calico-typha": "info", "sg-cycle": "warning"}, ["calico-bgp", "sg-exposed"])
    assert [(r.id, r.severity, r.enabled) for r in pack.rules if r.id in
            ("calico-typha", "calico-bgp", "sg-cycle", "sg-exposed", "k8s-kubelet")] == [
        ("calico-typha", "info", True),
        ("calico-bgp", "error", False),
        ("k8s-kubelet", "error", True),
        ("sg-cycle", "warning", True),
        ("sg-exposed", "error", False),
    ]
    assert len(pack.enabled()) == len(BUILT_IN_IDS) - 2
    # The pack it came from is unchanged.
    typha = builtins.get("calico-typha")
    assert typha is not None and (typha.severity, typha.enabled) == ("error", True)


def test_with_overrides_never_re_enables_a_rule_a_pack_disabled(tmp_path: Path) -> None:
    write(tmp_path, {"off.yaml": "rules:\n  - id: calico-bgp\n    enabled: false\n"})
    pack = load_packs([str(tmp_path / "off.yaml")]).with_overrides({"calico-bgp": "info"}, [])
    rule = pack.get("calico-bgp")
    assert rule is not None and (rule.severity, rule.enabled) == ("info", False)


def test_with_no_overrides_is_the_same_pack(builtins: RulePack) -> None:
    assert builtins.with_overrides({}, []) == builtins


def test_a_control_plane_target_cuts_the_ports_that_may_stay_closed() -> None:
    rule = load_packs().get("calico-native-routing")
    assert rule is not None and rule.control_plane_target is not None
    assert rule.control_plane_target.segments() == [
        ("tcp", (1, 2378)), ("tcp", (2382, 4000)), ("tcp", (4003, 10256)), ("tcp", (10258, 10258)),
        ("tcp", (10260, 65535)), ("udp", (1, 65535)),
    ]
