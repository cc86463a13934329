"""config.py: finding the config upward, `.sglint.yaml` and `[tool.calico-sglint]` read into
`Config` (with `file:line` sources), exact messages for invalid configs, and rule ids checked
against the loaded packs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import write

from calico_sglint.profile.config import (
    Config,
    check_rule_ids,
    find_config,
    load_config,
)
from calico_sglint.profile.rulepack import load_packs
from calico_sglint.profile.settings import Setting
from calico_sglint.source import InputError

PYPROJECT_TABLE = '[tool.calico-sglint]\nfail_on = "warning"\n'
PYPROJECT_OTHER = '[project]\nname = "infra"\n\n[tool.black]\nline-length = 100\n'


# --- find_config ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("files", "start", "expected"),
    [
        pytest.param({".git/HEAD": "", ".sglint.yaml": ""}, "infra/prod", ".sglint.yaml", id="upward-from-nested"),
        pytest.param({".git/HEAD": "", ".sglint.yaml": "", "infra/prod/main.tf": ""}, "infra/prod/main.tf",
                     ".sglint.yaml", id="start-is-a-file"),
        pytest.param({".git/HEAD": "", ".sglint.yml": ""}, "infra", ".sglint.yml", id="yml-spelling"),
        pytest.param({".git/HEAD": "", "infra/.sglint.yaml": "", ".sglint.yaml": ""}, "infra/prod",
                     "infra/.sglint.yaml", id="nearest-wins"),
        pytest.param({".git/HEAD": "", "infra/.sglint.yaml": "", "infra/pyproject.toml": PYPROJECT_TABLE},
                     "infra", "infra/.sglint.yaml", id="sglint-yaml-beats-pyproject-in-same-dir"),
        pytest.param({".git/HEAD": "", ".sglint.yaml": "", "infra/pyproject.toml": PYPROJECT_TABLE}, "infra/prod",
                     "infra/pyproject.toml", id="nearer-pyproject-beats-farther-sglint-yaml"),
        pytest.param({".git/HEAD": "", ".sglint.yaml": "", "infra/pyproject.toml": PYPROJECT_OTHER}, "infra/prod",
                     ".sglint.yaml", id="pyproject-without-the-table-is-ignored"),
        pytest.param({".git/HEAD": "", "pyproject.toml": PYPROJECT_TABLE}, "infra", "pyproject.toml",
                     id="pyproject-with-the-table"),
        pytest.param({"repo/.git/HEAD": "", ".sglint.yaml": ""}, "repo/infra", None, id="stops-at-git"),
        pytest.param({"repo/.git/HEAD": "", "repo/.sglint.yaml": ""}, "repo", "repo/.sglint.yaml",
                     id="config-beside-git-is-found"),
        pytest.param({".git/HEAD": ""}, "infra/prod", None, id="none"),
    ],
)
def test_find_config(tmp_path: Path, files: dict[str, str], start: str, expected: str | None) -> None:
    write(tmp_path, files)
    if not (tmp_path / start).exists():
        (tmp_path / start).mkdir(parents=True)
    found = find_config(str(tmp_path / start))
    assert found == (str(tmp_path / expected) if expected else None)


def test_find_config_stops_at_a_git_file(tmp_path: Path) -> None:
    write(tmp_path, {
        ".sglint.yaml": "fail_on: never\n",  # the superproject's config
        "vendor/cluster/.git": "gitdir: ../../.git/modules/cluster\n",
        "vendor/cluster/main.tf": "",
    })
    assert find_config(str(tmp_path / "vendor" / "cluster")) is None


# --- load_config: valid ---------------------------------------------------------------------

FULL = """\
profile:
  encapsulation: ipipcrosssubnet
  bgp: false
  typha: true
  wireguard: true
  wireguard_v6: false
  vxlan_port: 4790
  apiserver_port: 443
roles:
  aws_instance.master: control-plane
  module.nodes.aws_autoscaling_group.workers: worker
  aws_launch_template.infra: both
  aws_instance.bastion: none
rules:
  - packs/extra.yaml
  - /abs/packs
severity:
  calico-typha: warning
  sg-cross-reference: info
disable: [sg-duplicate-rule]
fail_on: warning
fix:
  style: vpc-rule
  file: calico_rules.tf
format: sarif
output: report.sarif
"""


def test_full_config(tmp_path: Path) -> None:
    write(tmp_path, {"infra/.sglint.yaml": FULL})
    base = tmp_path / "infra"
    path = str(base / ".sglint.yaml")
    config = load_config(path)
    assert config == Config(
        file=path,
        profile={
            "encapsulation": Setting("IPIPCrossSubnet", f"{path}:2"),
            "bgp": Setting(False, f"{path}:3"),
            "typha": Setting(True, f"{path}:4"),
            "wireguard": Setting(True, f"{path}:5"),
            "wireguard_v6": Setting(False, f"{path}:6"),
            "vxlan_port": Setting(4790, f"{path}:7"),
            "apiserver_port": Setting(443, f"{path}:8"),
        },
        roles={
            "aws_instance.master": ("control-plane", f"{path}:10"),
            "module.nodes.aws_autoscaling_group.workers": ("worker", f"{path}:11"),
            "aws_launch_template.infra": ("both", f"{path}:12"),
            "aws_instance.bastion": ("none", f"{path}:13"),
        },
        rule_paths=(str(base / "packs" / "extra.yaml"), "/abs/packs"),
        severity={"calico-typha": "warning", "sg-cross-reference": "info"},
        disable=("sg-duplicate-rule",),
        fail_on="warning",
        fix_style="vpc-rule",
        fix_file="calico_rules.tf",
        format="sarif",
        output=str(tmp_path / "infra" / "report.sarif"),  # relative to the config, like `rules:`
        key_lines={"severity.calico-typha": 18, "severity.sg-cross-reference": 19, "disable": 20, "rules": 14, "output": 26},
    )


def test_shown_name_is_used_for_file_and_sources(tmp_path: Path) -> None:
    write(tmp_path, {".sglint.yaml": "profile:\n  typha: false\n"})
    config = load_config(str(tmp_path / ".sglint.yaml"), ".sglint.yaml")
    assert config.file == ".sglint.yaml"
    assert config.profile == {"typha": Setting(False, ".sglint.yaml:2")}


def test_a_single_rule_path_may_be_a_string(tmp_path: Path) -> None:
    write(tmp_path, {".sglint.yaml": "rules: packs\n"})
    assert load_config(str(tmp_path / ".sglint.yaml")).rule_paths == (str(tmp_path / "packs"),)


@pytest.mark.parametrize("text", ["", "# nothing yet\n", "---\n"])
def test_an_empty_config_is_empty(tmp_path: Path, text: str) -> None:
    write(tmp_path, {".sglint.yaml": text})
    path = str(tmp_path / ".sglint.yaml")
    assert load_config(path) == Config(file=path)


def test_no_config() -> None:
    assert load_config(None) == Config()


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        load_config(str(tmp_path / "nope.yaml"), "nope.yaml")
    assert str(caught.value) == "nope.yaml: no such config file"


# --- load_config: invalid -------------------------------------------------------------------

INVALID = [
    pytest.param("fail_on: error\nprofil:\n  bgp: true\n",
                 ".sglint.yaml:2: profil: unknown key (expected one of profile, roles, clusters, rules, severity, disable, "
                 "fail_on, fix, format, output, module_dirs, skip_paths, allow_read)", id="unknown-top-level-key"),
    pytest.param("profile:\n  typha: true\n  mtu: 1450\n",
                 ".sglint.yaml:3: profile.mtu: unknown setting (expected one of encapsulation, bgp, typha, "
                 "wireguard, wireguard_v6, vxlan_port, apiserver_port, aws_src_dst_check, ipv6_only)", id="unknown-profile-setting"),
    pytest.param("profile:\n  encapsulation: geneve\n",
                 ".sglint.yaml:2: profile.encapsulation: must be one of IPIP, IPIPCrossSubnet, VXLAN, VXLANCrossSubnet, "
                 "None (got 'geneve')", id="bad-encapsulation"),
    pytest.param("profile:\n  vxlan_port: 70000\n",
                 ".sglint.yaml:2: profile.vxlan_port: must be a port number from 1 to 65535 (got 70000)", id="port-too-high"),
    pytest.param("profile:\n  vxlan_port: 0\n",
                 ".sglint.yaml:2: profile.vxlan_port: must be a port number from 1 to 65535 (got 0)", id="port-zero"),
    pytest.param("profile:\n  apiserver_port: '6443'\n",
                 ".sglint.yaml:2: profile.apiserver_port: must be a port number from 1 to 65535 (got '6443')", id="port-as-string"),
    pytest.param("profile:\n  apiserver_port: true\n",
                 ".sglint.yaml:2: profile.apiserver_port: must be a port number from 1 to 65535 (got True)", id="port-as-bool"),
    pytest.param("profile:\n  bgp: 'true'\n",
                 ".sglint.yaml:2: profile.bgp: must be true or false (got 'true')", id="bgp-quoted"),
    pytest.param("profile:\n  wireguard: 1\n",
                 ".sglint.yaml:2: profile.wireguard: must be true or false (got 1)", id="wireguard-number"),
    pytest.param("profile: vxlan\n", ".sglint.yaml:1: profile: must be a mapping of settings", id="profile-scalar"),
    pytest.param("roles:\n  aws_instance.a: worker\n  aws_instance.b: master\n",
                 ".sglint.yaml:3: roles.aws_instance.b: must be one of control-plane, worker, both, none (got 'master')",
                 id="bad-role"),
    pytest.param("roles: [aws_instance.a]\n",
                 ".sglint.yaml:1: roles: must map node-group or security-group addresses to a role",
                 id="roles-list"),
    pytest.param("clusters: [module.blue]\n",
                 ".sglint.yaml:1: clusters: must map cluster names to lists of addresses", id="clusters-list"),
    pytest.param("clusters:\n  blue: [module.blue]\n  green: []\n",
                 ".sglint.yaml:3: clusters.green: must be a list of addresses (node groups, resources, security groups "
                 "or module instances like module.blue)", id="cluster-without-members"),
    pytest.param("severity:\n  calico-typha: fatal\n",
                 ".sglint.yaml:2: severity.calico-typha: must be one of error, warning, info (got 'fatal')",
                 id="bad-severity-level"),
    pytest.param("severity: [calico-typha]\n",
                 ".sglint.yaml:1: severity: must map rule ids to error, warning or info", id="severity-list"),
    pytest.param("disable: calico-typha\n",
                 ".sglint.yaml:1: disable: must be a list of rule ids", id="disable-string"),
    pytest.param("rules:\n  extra: packs\n",
                 ".sglint.yaml:1: rules: must be a list of rule pack files or directories", id="rules-mapping"),
    pytest.param("fail_on: always\n",
                 ".sglint.yaml:1: fail_on: must be one of error, warning, info, never (got 'always')",
                 id="bad-fail-on"),
    pytest.param("format: xml\n",
                 ".sglint.yaml:1: format: must be one of text, compact, json, sarif, github, junit, markdown (got 'xml')",
                 id="bad-format"),
    pytest.param("output: 3\n", ".sglint.yaml:1: output: must be a file path", id="output-number"),
    pytest.param("fix:\n  file: calico.hcl\n",
                 ".sglint.yaml:2: fix.file: must be a file name ending in .tf", id="fix-file-not-tf"),
    pytest.param("fix:\n  file: generated/calico.tf\n",
                 ".sglint.yaml:2: fix.file: must be a file name ending in .tf", id="fix-file-in-a-directory"),
    pytest.param("fix:\n  style: rule\n  path: calico.tf\n",
                 ".sglint.yaml:3: fix.path: unknown key (expected style, file)", id="unknown-fix-key"),
    pytest.param("fix:\n  style: terraform\n",
                 ".sglint.yaml:2: fix.style: must be one of auto, rule, vpc-rule, inline (got 'terraform')",
                 id="bad-fix-style"),
    pytest.param("fix: rule\n", ".sglint.yaml:1: fix: must be a mapping with style and file", id="fix-scalar"),
    pytest.param("- profile\n", ".sglint.yaml:1: the config must be a mapping of settings", id="top-level-list"),
    pytest.param("profile:\n  bgp: [\n", ".sglint.yaml:3: invalid YAML: did not find expected node content",
                 id="invalid-yaml"),
]


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_config(tmp_path: Path, text: str, message: str) -> None:
    if "invalid YAML" in message and not hasattr(yaml, "CSafeLoader"):
        pytest.skip("the wording is libyaml's")
    write(tmp_path, {".sglint.yaml": text})
    with pytest.raises(InputError) as caught:
        load_config(str(tmp_path / ".sglint.yaml"), ".sglint.yaml")
    assert str(caught.value) == message


@pytest.mark.parametrize("value", ["", " null", " ~"])
def test_an_empty_encapsulation_is_rejected(tmp_path: Path, value: str) -> None:
    write(tmp_path, {".sglint.yaml": f"profile:\n  encapsulation:{value}\n"})
    with pytest.raises(InputError) as caught:
        load_config(str(tmp_path / ".sglint.yaml"), ".sglint.yaml")
    assert str(caught.value) == (
        ".sglint.yaml:2: profile.encapsulation: must be one of IPIP, IPIPCrossSubnet, VXLAN, VXLANCrossSubnet, None "
        "(got None)"
    )


# --- pyproject.toml -------------------------------------------------------------------------

def test_pyproject_table(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": PYPROJECT_OTHER + """
[tool.calico-sglint]
rules = ["packs"]
disable = ["sg-cross-reference"]
fail_on = "warning"
format = "json"

[tool.calico-sglint.profile]
encapsulation = "VXLANCrossSubnet"
vxlan_port = 4790

[tool.calico-sglint.roles]
"aws_instance.master" = "control-plane"

[tool.calico-sglint.severity]
calico-typha = "warning"

[tool.calico-sglint.fix]
style = "rule"
file = "calico.tf"
"""})
    path = str(tmp_path / "pyproject.toml")
    config = load_config(path, "pyproject.toml")
    # TOML has no line numbers here: sources name the file only.
    assert config == Config(
        file="pyproject.toml",
        profile={
            "encapsulation": Setting("VXLANCrossSubnet", "pyproject.toml"),
            "vxlan_port": Setting(4790, "pyproject.toml"),
        },
        roles={"aws_instance.master": ("control-plane", "pyproject.toml")},
        rule_paths=(str(tmp_path / "packs"),),
        severity={"calico-typha": "warning"},
        disable=("sg-cross-reference",),
        fail_on="warning",
        fix_style="rule",
        fix_file="calico.tf",
        format="json",
        key_lines={"severity.calico-typha": 0, "disable": 0, "rules": 0},
    )


def test_pyproject_without_the_table_is_an_empty_config(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": PYPROJECT_OTHER})
    config = load_config(str(tmp_path / "pyproject.toml"), "pyproject.toml")
    # key_lines is bookkeeping for check_rule_ids (here {"disable": 0}); everything else is empty.
    assert replace(config, key_lines={}) == Config(file="pyproject.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param('[tool.calico-sglint]\nfail_on = "sometimes"\n',
                     "pyproject.toml: fail_on: must be one of error, warning, info, never (got 'sometimes')",
                     id="bad-value"),
        pytest.param('[tool.calico-sglint.profile]\nbgp = "on"\n',
                     "pyproject.toml: profile.bgp: must be true or false (got 'on')", id="bad-profile-value"),
        pytest.param("[tool.calico-sglint]\ncolour = 1\n",
                     "pyproject.toml: colour: unknown key (expected one of profile, roles, clusters, rules, severity, disable, "
                     "fail_on, fix, format, output, module_dirs, skip_paths, allow_read)", id="unknown-key"),
        pytest.param("[tool]\ncalico-sglint = 3\n", "pyproject.toml: [tool.calico-sglint] must be a table",
                     id="not-a-table"),
        pytest.param("[tool.calico-sglint\n",
                     "pyproject.toml: invalid TOML: Expected ']' at the end of a table declaration "
                     "(at line 1, column 20)", id="invalid-toml"),
    ],
)
def test_pyproject_errors_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, {"pyproject.toml": text})
    with pytest.raises(InputError) as caught:
        load_config(str(tmp_path / "pyproject.toml"), "pyproject.toml")
    assert str(caught.value) == message
    assert caught.value.line is None


# --- check_rule_ids -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("severity:\n  calico-typha: info\n  calico-typo: warning\n",
                     ".sglint.yaml:3: severity.calico-typo: no rule 'calico-typo' (see `sglint rules`)",
                     id="severity"),
        # The line is the `disable:` key's, not the list item's.
        pytest.param("fail_on: error\ndisable:\n  - sg-cycle\n  - sg-cylce\n",
                     ".sglint.yaml:2: disable: no rule 'sg-cylce' (see `sglint rules`)", id="disable"),
    ],
)
def test_check_rule_ids_rejects_unknown_ids(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, {".sglint.yaml": text})
    config = load_config(str(tmp_path / ".sglint.yaml"), ".sglint.yaml")
    with pytest.raises(InputError) as caught:
        check_rule_ids(config, load_packs())
    assert str(caught.value) == message


def test_check_rule_ids_in_pyproject_has_no_line(tmp_path: Path) -> None:
    write(tmp_path, {"pyproject.toml": '[tool.calico-sglint]\ndisable = ["nope"]\n'})
    config = load_config(str(tmp_path / "pyproject.toml"), "pyproject.toml")
    with pytest.raises(InputError) as caught:
        check_rule_ids(config, load_packs())
    assert str(caught.value) == "pyproject.toml: disable: no rule 'nope' (see `sglint rules`)"


def test_check_rule_ids_accepts_rules_from_user_packs(tmp_path: Path) -> None:
    write(tmp_path, {
        ".sglint.yaml": "rules: [extra.yaml]\nseverity:\n  calico-typha: info\n  node-exporter: error\n"
                        "disable: [sg-cycle, node-exporter]\n",
        "extra.yaml": """\
rules:
  - id: node-exporter
    title: node-exporter
    severity: warning
    kind: path
    protocol: tcp
    ports: [9100]
    from: control-plane
    to: any
    when: {}
    description: d
    why: w
    fix: f
    source: https://github.com/prometheus/node_exporter
""",
    })
    config = load_config(str(tmp_path / ".sglint.yaml"))
    pack = load_packs(config.rule_paths)
    check_rule_ids(config, pack)  # no error
    with pytest.raises(InputError) as caught:
        check_rule_ids(config, load_packs())
    assert str(caught.value) == f"{tmp_path / '.sglint.yaml'}:4: severity.node-exporter: no rule 'node-exporter' " \
                                "(see `sglint rules`)"


def test_a_broken_pyproject_on_the_way_up_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, {".git/HEAD": "", "infra/pyproject.toml": "[tool.calico-sglint\n"})
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match=r"^infra/pyproject.toml: invalid TOML: "):
        find_config(str(tmp_path / "infra"))


def test_the_documented_examples_are_valid(tmp_path: Path) -> None:
    """docs/configuration.md's YAML and TOML examples load, and their rule ids exist."""
    import re

    doc = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
    yaml_example = re.search(r"```yaml\n(# \.sglint\.yaml\n.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    toml_example = re.search(r"```toml\n(.*?)```", doc, re.S).group(1)  # type: ignore[union-attr]
    write(tmp_path, {".sglint.yaml": yaml_example, "pyproject.toml": toml_example})
    pack = load_packs()
    yaml_config = load_config(str(tmp_path / ".sglint.yaml"))
    assert yaml_config.profile["encapsulation"].value == "VXLANCrossSubnet"
    assert yaml_config.roles["aws_instance.bastion"][0] == "none"
    check_rule_ids(yaml_config, pack)
    toml_config = load_config(str(tmp_path / "pyproject.toml"))
    assert (toml_config.fail_on, toml_config.profile["encapsulation"].value) == ("warning", "IPIP")
    check_rule_ids(toml_config, pack)


def test_clusters_map_names_to_addresses(tmp_path: Path) -> None:
    write(tmp_path, {".sglint.yaml": "clusters:\n  blue: [module.blue, aws_instance.extra]\n  green: module.green\n"})
    config = load_config(str(tmp_path / ".sglint.yaml"), ".sglint.yaml")
    assert config.clusters == {
        "blue": (("module.blue", "aws_instance.extra"), ".sglint.yaml:2"),
        "green": (("module.green",), ".sglint.yaml:3"),
    }
