"""Detect stage: the cluster's Calico settings, read from the files next to the Terraform.

Sources: operator `Installation`s, tigera-operator Helm values (files, and `helm_release`
resources of the tigera-operator chart), Calico manifests (ConfigMap `calico-config`, the
`calico-node` DaemonSet's env, the `calico-typha` Deployment), `IPPool` and
`FelixConfiguration` resources, and kubespray / Ansible variables.

Every source yields `Observation`s: one setting, its value, where it was said and how close the
source is to what Calico itself reads (its rank). For one root module, `detect_profile` takes
each setting from the nearest source, then the highest rank, then the first in file order, and
warns when sources disagree. Reading files (`scan`) is kept apart from understanding them
(`observe_text`, `helm_release_observations`), which are pure.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Iterable, Iterator, Mapping, Sequence

from calico_sglint.profile.settings import (
    SETTINGS,
    Setting,
    flag_name,
    normalize_encapsulation,
    normalize_src_dst_check,
)
from calico_sglint.profile.yamldoc import (
    TagTolerantLoader,
    YamlDoc,
    load_documents,
    walk,
)
from calico_sglint.source import Diagnostic, InputError, Location
from calico_sglint.terraform.configuration import Configuration, ResourceInstance
from calico_sglint.terraform.discover import (
    display_path,
    is_walked_dir,
    repository_root,
)
from calico_sglint.terraform.values import FileText, find_unknown

# How close a source is to what Calico reads; the higher rank wins a disagreement at equal
# distance. Felix reads its environment before any FelixConfiguration, and calico-node's
# CALICO_IPV4POOL_* env only seeds the default pool, so an IPPool resource outranks it.
VARIABLES, INSTALLER, RESOURCE, COMPONENT = 0, 1, 2, 3
# A tool's default for a variable nobody set (kubespray's typha_enabled): any source that says
# the setting outranks it, and overruling it is no disagreement worth a warning.
DEFAULTED = -1

VARS_DIRS = frozenset({"group_vars", "host_vars"})  # Ansible: files there may have no extension
YAML_SUFFIXES = (".yaml", ".yml")
VARS_SUFFIXES = ("", ".yaml", ".yml", ".json")
# A file is parsed only when it contains one of these (cheap, before any YAML parsing).
TOKENS = ("calico", "tigera", "typha", "IPPool", "FelixConfiguration", "installation:")
# Documents of other kinds (CustomResourceDefinitions above all) are skipped unparsed.
WANTED_KINDS = frozenset({"Installation", "IPPool", "FelixConfiguration", "ConfigMap", "DaemonSet", "Deployment", "List"})
NAMED_KINDS = frozenset({"ConfigMap", "DaemonSet", "Deployment"})  # only calico-* ones matter
_DOCUMENT_START = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)
_TOP_LEVEL_KIND = re.compile(r"^kind:[ \t]*['\"]?([A-Za-z]+)", re.MULTILINE)

CALICO_API_VERSIONS = ("projectcalico.org/v3", "crd.projectcalico.org/v1")
CNI_BY_PROVIDER = {"EKS": "AmazonVPC", "AKS": "AzureVNET", "GKE": "GKE"}  # else Calico
POOL_MODES: Mapping[tuple[str, str], str] = {  # (IP-in-IP mode, VXLAN mode) -> encapsulation
    ("Never", "Never"): "None",
    ("Always", "Never"): "IPIP",
    ("CrossSubnet", "Never"): "IPIPCrossSubnet",
    ("Never", "Always"): "VXLAN",
    ("Never", "CrossSubnet"): "VXLANCrossSubnet",
}


@dataclass(frozen=True)
class Observation:
    """One source saying one setting: `IPIP` for encapsulation at installation.yaml:12."""

    setting: str
    value: Any
    file: str  # relative to the working directory
    line: int
    kind: str  # what said it: "IPPool", "Installation", "calico-node env", ...
    field: str  # which field: "spec.ipipMode", "FELIX_VXLANPORT", "spec.calicoNetwork.bgp (unset)"
    rank: int

    @property
    def source(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Found:
    """What one file or one helm_release says, and what was wrong with it."""

    observations: tuple[Observation, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    read_files: tuple[str, ...] = ()  # files read into Helm values (file(), templatefile()), resolved

    def __add__(self, other: Found) -> Found:
        return Found(
            self.observations + other.observations,
            self.diagnostics + other.diagnostics,
            self.read_files + other.read_files,
        )


@dataclass(frozen=True)
class SourceFile:
    path: str  # absolute, resolved
    observations: tuple[Observation, ...]
    diagnostics: tuple[Diagnostic, ...] = ()  # malformed YAML, values not understood

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)


@dataclass(frozen=True)
class Scan:
    """Every file with Calico settings under and above the scanned paths."""

    files: tuple[SourceFile, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # files that could not be read


@dataclass(frozen=True)
class Detection:
    """The detected settings of one root module, and the disagreements between sources."""

    settings: Mapping[str, Setting] = field(default_factory=dict)
    diagnostics: tuple[Diagnostic, ...] = ()
    observations: tuple[Observation, ...] = ()  # every applicable observation, winners first


# --- values ------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    """A scalar as a stripped string; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip()


def parse_bool(value: Any) -> bool | None:
    """true/false as YAML, Felix (1/0, yes/no) and Ansible spell them."""
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(text)


def parse_port(value: Any) -> int | None:
    text = _text(value)
    if text is None or not text.isdigit():
        return None
    port = int(text)
    return port if 1 <= port <= 65535 else None


def parse_bgp_option(value: Any) -> bool | None:
    """The operator's `bgp: Enabled|Disabled`."""
    return {"enabled": True, "disabled": False}.get((_text(value) or "").lower())


def parse_backend(value: Any) -> bool | None:
    """calico_backend / CALICO_NETWORKING_BACKEND: bird runs BGP; vxlan and none do not."""
    return {"bird": True, "vxlan": False, "none": False}.get((_text(value) or "").lower())


def parse_typha_service(value: Any) -> bool | None:
    """typha_service_name: "none" means calico-node talks to the API server, not Typha."""
    text = _text(value)
    return None if not text else text.lower() != "none"


def parse_replicas(value: Any) -> bool | None:
    text = _text(value)
    return None if text is None or not text.isdigit() else int(text) > 0


def parse_pool_mode(value: Any) -> str | None:
    """Always, CrossSubnet or Never (`off`/`false` mean Never), case-insensitive."""
    if value is False:
        return "Never"
    text = (_text(value) or "").lower().replace("-", "")
    return {"always": "Always", "crosssubnet": "CrossSubnet", "never": "Never", "off": "Never", "false": "Never"}.get(text)


@dataclass(frozen=True)
class Field:
    """How one field of a source maps onto a profile setting."""

    setting: str
    parse: Callable[[Any], Any]
    expected: str  # for the warning when the value is not understood
    rank: int


_BOOL, _PORT = "true or false", "a port number"
_SRC_DST = "Disable, DoNothing or Enable"
_BACKEND = "bird, vxlan or none"

FELIX_FIELDS: Mapping[str, Field] = {  # FelixConfiguration spec
    "vxlanPort": Field("vxlan_port", parse_port, _PORT, RESOURCE),
    "wireguardEnabled": Field("wireguard", parse_bool, _BOOL, RESOURCE),
    "wireguardEnabledV6": Field("wireguard_v6", parse_bool, _BOOL, RESOURCE),
    "awsSrcDstCheck": Field("aws_src_dst_check", normalize_src_dst_check, _SRC_DST, RESOURCE),
}
NODE_ENV: Mapping[str, Field] = {  # calico-node container env (literal values only)
    "FELIX_VXLANPORT": Field("vxlan_port", parse_port, _PORT, COMPONENT),
    "FELIX_WIREGUARDENABLED": Field("wireguard", parse_bool, _BOOL, COMPONENT),
    "FELIX_WIREGUARDENABLEDV6": Field("wireguard_v6", parse_bool, _BOOL, COMPONENT),
    "FELIX_AWSSRCDSTCHECK": Field("aws_src_dst_check", normalize_src_dst_check, _SRC_DST, COMPONENT),
    "CALICO_NETWORKING_BACKEND": Field("bgp", parse_backend, _BACKEND, RESOURCE),
}
NODE_POOL_ENV = ("CALICO_IPV4POOL_IPIP", "CALICO_IPV4POOL_VXLAN")
CONFIGMAP_KEYS: Mapping[str, Field] = {  # ConfigMap calico-config data
    "calico_backend": Field("bgp", parse_backend, _BACKEND, INSTALLER),
    "typha_service_name": Field("typha", parse_typha_service, "a service name or none", INSTALLER),
}
KUBESPRAY_VARS: Mapping[str, Field] = {
    "calico_network_backend": Field("bgp", parse_backend, _BACKEND, VARIABLES),
    "typha_enabled": Field("typha", parse_bool, _BOOL, VARIABLES),
}
KUBESPRAY_POOL_VARS = ("calico_ipip_mode", "calico_vxlan_mode")
HELM_INSTALLATION_KEYS = frozenset({"calicoNetwork", "kubernetesProvider", "cni", "variant"})


def pool_encapsulation(ipip: str | None, vxlan: str | None) -> tuple[str | None, str]:
    """The encapsulation of a pool from its IP-in-IP and VXLAN modes (None: not given). A
    missing mode is Never when the other one is on; a lone Never decides nothing, because
    installers disagree on the other mode's default. Returns (encapsulation or None, problem)."""
    if ipip is None and vxlan not in (None, "Never"):
        ipip = "Never"
    if vxlan is None and ipip not in (None, "Never"):
        vxlan = "Never"
    if ipip is None or vxlan is None:
        return None, ""
    encapsulation = POOL_MODES.get((ipip, vxlan))
    return encapsulation, "" if encapsulation else f"IP-in-IP ({ipip}) and VXLAN ({vxlan}) cannot both be on"


# --- collecting observations -------------------------------------------------------------

Where = tuple[str, int]  # (file, line)
At = Callable[..., Where]  # where a path inside the source being read is


class _Collector:
    """Observations and warnings of one source, as they are found."""

    def __init__(self) -> None:
        self.observations: list[Observation] = []
        self.diagnostics: list[Diagnostic] = []

    def found(self, read_files: tuple[str, ...] = ()) -> Found:
        return Found(tuple(self.observations), tuple(self.diagnostics), read_files)

    def say(self, setting: str, value: Any, where: Where, kind: str, field_name: str, rank: int) -> None:
        self.observations.append(Observation(setting, value, where[0], where[1], kind, field_name, rank))

    def warn(self, message: str, where: Where) -> None:
        location = Location(where[0], where[1], where[1])
        self.diagnostics.append(Diagnostic("warning", f"calico profile: {message}", location))

    def field(self, spec: Field, raw: Any, where: Where, kind: str, name: str) -> None:
        """Parse `raw` with `spec` and record it, or warn that it is not understood."""
        if self.unreadable(raw, where, kind, name):
            return
        value = spec.parse(raw)
        if value is None:
            self.warn(f"{kind} {name}: {raw!r} is not {spec.expected}; ignored", where)
        else:
            self.say(spec.setting, value, where, kind, name, spec.rank)

    def unreadable(self, raw: Any, where: Where, kind: str, name: str) -> bool:
        """Values no file can settle: Terraform unknowns and templates. Warn, and skip them."""
        unknown = find_unknown(raw)
        if unknown is not None:
            self.warn(f"{kind} {name} cannot be evaluated ({unknown.expr}: {unknown.reason}); not detected", where)
            return True
        if isinstance(raw, str) and ("{{" in raw or "${" in raw):
            self.warn(f"{kind} {name}: {raw!r} is a template, not a value; not detected", where)
            return True
        return False


# --- YAML documents ----------------------------------------------------------------------


def observe_text(text: str, file: str) -> Found:
    """Every Calico setting in one YAML file (several documents allowed); malformed YAML is a
    warning naming the file and line, never an exception."""
    out = _Collector()
    try:
        documents = _documents(text, file)
    except InputError as err:
        line = err.line or 1
        out.diagnostics.append(Diagnostic(
            "warning", f"{err.message}; skipped when detecting the Calico profile", Location(file, line, line)))
        return out.found()
    for doc in documents:
        _observe(doc.data, _at(doc), out)
    return out.found()


def _at(doc: YamlDoc) -> At:
    return lambda *path: (doc.file, doc.line(*path))


def _documents(text: str, file: str) -> list[YamlDoc]:
    """The documents worth reading, with lines of the whole file. Documents of other kinds are
    cut out by their top-level `kind:` before parsing; should a piece not parse on its own,
    the whole file is parsed instead, for the right error."""
    documents: list[YamlDoc] = []
    try:
        for offset, chunk in _chunks(text):
            if _wanted(chunk):
                documents.extend(_shifted(d, offset) for d in load_documents(chunk, file, TagTolerantLoader))
    except InputError:
        documents = load_documents(text, file, TagTolerantLoader)
    return documents


def _chunks(text: str) -> Iterator[tuple[int, str]]:
    """(lines before it, text) of each piece between `---` document markers."""
    starts = [0] + [m.start() for m in _DOCUMENT_START.finditer(text) if m.start() > 0]
    for start, end in zip(starts, starts[1:] + [len(text)]):
        yield text.count("\n", 0, start), text[start:end]


def _wanted(chunk: str) -> bool:
    match = _TOP_LEVEL_KIND.search(chunk)
    if match is None:
        return True  # values files, variables, or flow style: parse and look
    kind = match.group(1)
    return kind in WANTED_KINDS and (kind not in NAMED_KINDS or "calico-" in chunk)


def _shifted(doc: YamlDoc, offset: int) -> YamlDoc:
    if not offset:
        return doc
    return YamlDoc(doc.data, {path: line + offset for path, line in doc.lines.items()}, doc.file)


def _observe(data: Any, at: At, out: _Collector) -> None:
    """Dispatch one document on its kind; kind-less documents may be Helm values or variables."""
    if not isinstance(data, dict):
        return
    kind = data.get("kind")
    if kind is None:
        _values_document(data, at, out)
    elif not isinstance(kind, str):
        return
    elif kind == "List" and isinstance(data.get("items"), list):
        for index, item in enumerate(data["items"]):
            _observe(item, _under(at, "items", index), out)
    elif kind in KIND_HANDLERS:
        KIND_HANDLERS[kind](data, at, out)


def _under(at: At, *prefix: Any) -> At:
    return lambda *path: at(*prefix, *path)


def _name(data: Mapping[str, Any]) -> Any:
    return _dict(data.get("metadata")).get("name")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _installation(data: Mapping[str, Any], at: At, out: _Collector) -> None:
    if not str(data.get("apiVersion", "")).startswith("operator.tigera.io/"):
        return
    spec_at = lambda *path: at("spec", *path) if path else at("kind")  # noqa: E731
    installation_spec(_dict(data.get("spec")), spec_at, out, "Installation", "spec.")


def _ippool(data: Mapping[str, Any], at: At, out: _Collector) -> None:
    if data.get("apiVersion") not in CALICO_API_VERSIONS:
        return
    spec = _dict(data.get("spec"))
    cidr = spec.get("cidr")
    if not isinstance(cidr, str) or ":" in cidr or spec.get("disabled") is True:
        return  # not a pool; IPv6 pools are outside the profile; a disabled pool assigns nothing
    modes: dict[str, str] = {}
    for key in ("ipipMode", "vxlanMode"):
        raw = spec.get(key, "Never")  # an IPPool's modes default to Never
        mode = parse_pool_mode(raw)
        if mode is None:
            out.warn(f"IPPool spec.{key}: {raw!r} is not Always, CrossSubnet or Never; ignored", at("spec", key))
            return
        modes[key] = mode
    encapsulation, problem = pool_encapsulation(modes["ipipMode"], modes["vxlanMode"])
    if encapsulation is None:
        out.warn(f"IPPool {_name(data)}: {problem}; ignored", at("spec"))
        return
    given = [k for k in ("vxlanMode", "ipipMode") if modes[k] != "Never"] or [k for k in ("ipipMode", "vxlanMode") if k in spec]
    if given:
        out.say("encapsulation", encapsulation, at("spec", given[0]), "IPPool", f"spec.{given[0]}", COMPONENT)
    else:
        out.say("encapsulation", encapsulation, at("spec"), "IPPool", "spec (no ipipMode or vxlanMode: Never)", COMPONENT)


def _felix_configuration(data: Mapping[str, Any], at: At, out: _Collector) -> None:
    if data.get("apiVersion") not in CALICO_API_VERSIONS:
        return
    spec = _dict(data.get("spec"))
    for key, spec_field in FELIX_FIELDS.items():
        if key in spec:
            out.field(spec_field, spec[key], at("spec", key), "FelixConfiguration", f"spec.{key}")


def _configmap(data: Mapping[str, Any], at: At, out: _Collector) -> None:
    if _name(data) != "calico-config":
        return
    values = _dict(data.get("data"))
    for key, spec_field in CONFIGMAP_KEYS.items():
        if key in values:
            out.field(spec_field, values[key], at("data", key), "ConfigMap calico-config", key)


def _daemonset(data: Mapping[str, Any], at: At, out: _Collector) -> None:
    if _name(data) != "calico-node":
        return
    containers = _dict(_dict(_dict(data.get("spec")).get("template")).get("spec")).get("containers")
    if not isinstance(containers, list):
        return
    named = [i for i, c in enumerate(containers) if _dict(c).get("name") == "calico-node"]
    for index in named or range(len(containers)):
        _node_env(_dict(containers[index]).get("env"), _under(at, "spec", "template", "spec", "containers", index), out)


def _node_env(env: Any, at: At, out: _Collector) -> None:
    """calico-node's literal env values (`valueFrom` reads calico-config, seen on its own)."""
    pool: dict[str, tuple[str, Where]] = {}
    for index, item in enumerate(env if isinstance(env, list) else []):
        if not isinstance(item, dict) or "value" not in item:
            continue
        name, raw, where = str(item.get("name")), item.get("value"), at("env", index, "value")
        if name in NODE_ENV:
            out.field(NODE_ENV[name], raw, where, "calico-node env", name)
        elif name in NODE_POOL_ENV:
            _pool_variable(pool, name, raw, where, "calico-node env", out)
    _pool_encapsulation_of(pool, NODE_POOL_ENV, "calico-node env", INSTALLER, out)


def _pool_variable(pool: dict[str, tuple[str, Where]], name: str, raw: Any, where: Where, kind: str, out: _Collector) -> None:
    if out.unreadable(raw, where, kind, name):
        return
    mode = parse_pool_mode(raw)
    if mode is None:
        out.warn(f"{kind} {name}: {raw!r} is not Always, CrossSubnet or Never; ignored", where)
    else:
        pool[name] = (mode, where)


def _pool_encapsulation_of(pool: Mapping[str, tuple[str, Where]], names: tuple[str, str], kind: str, rank: int, out: _Collector) -> None:
    """The encapsulation from an (IP-in-IP, VXLAN) pair of variables, when they decide it."""
    given = [n for n in names if n in pool]
    if not given:
        return
    ipip, vxlan = (pool[n][0] if n in pool else None for n in names)
    encapsulation, problem = pool_encapsulation(ipip, vxlan)
    on = [n for n in given if pool[n][0] != "Never"] or given
    where = pool[on[0]][1]
    if problem:
        out.warn(f"{kind}: {problem}; ignored", where)
    elif encapsulation is not None:
        out.say("encapsulation", encapsulation, where, kind, " and ".join(given), rank)


def _deployment(data: Mapping[str, Any], at: At, out: _Collector) -> None:
    if _name(data) != "calico-typha":
        return
    spec = _dict(data.get("spec"))
    if "replicas" not in spec:
        out.say("typha", True, at("metadata", "name"), "calico-typha Deployment", "spec.replicas (unset: 1)", RESOURCE)
    else:
        out.field(TYPHA_REPLICAS, spec["replicas"], at("spec", "replicas"), "calico-typha Deployment", "spec.replicas")


TYPHA_REPLICAS = Field("typha", parse_replicas, "a number of replicas", RESOURCE)
KIND_HANDLERS: Mapping[str, Callable[[Mapping[str, Any], At, _Collector], None]] = {
    "Installation": _installation,
    "IPPool": _ippool,
    "FelixConfiguration": _felix_configuration,
    "ConfigMap": _configmap,
    "DaemonSet": _daemonset,
    "Deployment": _deployment,
}


def _values_document(data: Mapping[str, Any], at: At, out: _Collector) -> None:
    """A kind-less document: tigera-operator Helm values, kubespray variables, or neither."""
    installation = data.get("installation")
    if isinstance(installation, dict) and (HELM_INSTALLATION_KEYS & set(installation) or "tigeraOperator" in data):
        if parse_bool(installation.get("enabled", True)) is not False:
            installation_spec(installation, _under(at, "installation"), out, "Helm values", "installation.")
    for key, spec_field in KUBESPRAY_VARS.items():
        if key in data:
            out.field(spec_field, data[key], at(key), "kubespray variables", key)
    given = [key for key in (*KUBESPRAY_VARS, *KUBESPRAY_POOL_VARS) if key in data]
    if data.get("kube_network_plugin") == "calico":
        given.append("kube_network_plugin")
    if given and "typha_enabled" not in data:
        out.say("typha", False, at(given[0]), "kubespray variables", "typha_enabled (unset: off, kubespray's default)",
                DEFAULTED)
    pool: dict[str, tuple[str, Where]] = {}
    for key in KUBESPRAY_POOL_VARS:
        if key in data:
            _pool_variable(pool, key, data[key], at(key), "kubespray variables", out)
    _pool_encapsulation_of(pool, KUBESPRAY_POOL_VARS, "kubespray variables", VARIABLES, out)


# --- the operator's Installation spec ----------------------------------------------------


def installation_spec(spec: Mapping[str, Any], at: At, out: _Collector, kind: str, prefix: str) -> None:
    """Settings from an Installation spec (also Helm `installation:`), with the operator's
    defaults: Typha always; BGP on unless EKS or a non-Calico CNI; a pool without
    encapsulation is IP-in-IP; no pools at all is the operator's default pool. `at()` with no
    path is where the Installation itself is declared."""
    out.say("typha", True, at(), kind, "(the operator always runs Typha)", INSTALLER)
    network = _dict(spec.get("calicoNetwork"))
    deciding = {  # values the operator's defaults depend on: unknown ones leave the rest undecided
        f"{prefix}kubernetesProvider": (spec.get("kubernetesProvider"), at("kubernetesProvider")),
        f"{prefix}cni": (spec.get("cni"), at("cni")),
        f"{prefix}calicoNetwork.ipPools": (network.get("ipPools"), at("calicoNetwork", "ipPools")),
    }
    if any(out.unreadable(raw, where, kind, name) for name, (raw, where) in deciding.items()):
        return
    provider = _text(spec.get("kubernetesProvider")) or ""
    cni_type = _text(_dict(spec.get("cni")).get("type")) or CNI_BY_PROVIDER.get(provider, "Calico")
    cni_where = at("cni", "type") if "cni" in spec else at("kubernetesProvider")
    bgp = f"{prefix}calicoNetwork.bgp"
    if network.get("bgp") is not None:
        out.field(Field("bgp", parse_bgp_option, "Enabled or Disabled", INSTALLER), network["bgp"],
                  at("calicoNetwork", "bgp"), kind, bgp)
    elif cni_type != "Calico":
        out.say("bgp", False, cni_where, kind, f"{bgp} (unset: off with the {cni_type} CNI)", INSTALLER)
    elif provider == "EKS":
        out.say("bgp", False, at("kubernetesProvider"), kind, f"{bgp} (unset: off on EKS)", INSTALLER)
    else:
        out.say("bgp", True, at("calicoNetwork", "bgp"), kind, f"{bgp} (unset: on)", INSTALLER)
    if cni_type != "Calico":
        out.warn(f"{kind} uses the {cni_type} CNI: Calico does not route pod traffic between nodes, "
                 "so no encapsulation is detected from it", cni_where)
        return
    pools = network.get("ipPools")
    if pools is None:
        default = "VXLAN" if provider == "EKS" else "IPIP"
        out.say("encapsulation", default, at("calicoNetwork", "ipPools"), kind,
                f"{prefix}calicoNetwork.ipPools (unset: the operator's default pool)", INSTALLER)
        return
    ipv6_only = _ipv6_only(pools, at, out, kind, prefix)
    for index, pool in enumerate(pools if isinstance(pools, list) else []):
        cidr = pool.get("cidr") if isinstance(pool, dict) else None
        if not isinstance(pool, dict) or (isinstance(cidr, str) and ":" in cidr and not ipv6_only):
            continue  # beside an IPv4 pool, IPv6 pools do not decide the encapsulation
        name = f"{prefix}calicoNetwork.ipPools[{index}].encapsulation"
        raw = pool.get("encapsulation")
        where = at("calicoNetwork", "ipPools", index, "encapsulation")
        if raw is None or raw == "":
            out.say("encapsulation", "IPIP", where, kind, f"{name} (unset: IPIP)", INSTALLER)
        elif not out.unreadable(raw, where, kind, name):
            encapsulation = normalize_encapsulation(raw)
            if encapsulation is None:
                out.warn(f"{kind} {name}: {raw!r} is not IPIP, IPIPCrossSubnet, VXLAN, VXLANCrossSubnet or None; ignored", where)
            else:
                out.say("encapsulation", encapsulation, where, kind, name, INSTALLER)


def _ipv6_only(pools: Any, at: At, out: _Collector, kind: str, prefix: str) -> bool:
    """An Installation whose pools are all IPv6 runs IPv6-only pods (the EC2 source/destination
    check does not drop traffic from addresses delegated to the node's interface)."""
    if not isinstance(pools, list) or not pools:
        return False
    cidrs = [pool.get("cidr") if isinstance(pool, dict) else None for pool in pools]
    if not all(isinstance(cidr, str) and ":" in cidr for cidr in cidrs):
        return False
    out.say("ipv6_only", True, at("calicoNetwork", "ipPools"), kind,
            f"{prefix}calicoNetwork.ipPools (IPv6 pools only)", INSTALLER)
    return True


# --- helm_release ------------------------------------------------------------------------


def helm_observations(configuration: Configuration) -> Found:
    """Settings from every tigera-operator `helm_release` of one evaluated root module."""
    found = Found()
    for instance in configuration.resources:
        if instance.type == "helm_release" and instance.mode == "managed":
            found += helm_release_observations(instance, configuration.root)
    return found


def is_tigera_chart(chart: Any) -> bool:
    """`tigera-operator`, `projectcalico/tigera-operator`, or a URL to its .tgz."""
    return isinstance(chart, str) and chart.rstrip("/").rsplit("/", 1)[-1].startswith("tigera-operator")


Origins = dict[tuple[Any, ...], Where]  # where each path of the merged values was set
MAX_HELM_INDEX = 1000  # `set` names with larger list indices are not read (they would build huge lists)


def helm_release_observations(instance: ResourceInstance, root: str) -> Found:
    """A tigera-operator release's `installation:` from its `values` (in order, later wins) and
    `set` blocks (win over values), read as an Installation spec. Settings point at the file's
    line when `file()` read the values or `templatefile()` rendered them line for line, else at
    the `values` attribute, the `set` value or the resource."""
    body = instance.body
    if not is_tigera_chart(body.get("chart")):
        return Found()
    anchor: Where = (body.location.file, body.location.line)
    out = _Collector()
    merged: dict[str, Any] = {}
    origins: Origins = {}
    read_files: list[str] = []
    values = body.attrs.get("values")
    if values is not None:
        where: Where = (values.location.file, values.location.line)
        items = values.value if isinstance(values.value, list) else [values.value]
        for index, item in enumerate(items):
            if isinstance(item, FileText):
                read_files.append(os.path.realpath(_file_display(item, root)))
            _merge_values(item, index, where, root, merged, origins, out)
    for path, value, location in _set_values(body):
        _assign(merged, path, value)
        origins[path] = (location.file, location.line)
    installation = _dict(merged.get("installation"))
    if parse_bool(installation.get("enabled", True)) is not False:
        def at(*path: Any) -> Where:
            return _origin(origins, ("installation", *path), anchor) if path else anchor

        installation_spec(installation, at, out, "helm_release", "installation.")
    return out.found(tuple(read_files))


def _origin(origins: Origins, path: tuple[Any, ...], anchor: Where) -> Where:
    """Where `path` (or its nearest parent) was set; the resource itself when nowhere."""
    while path:
        if path in origins:
            return origins[path]
        path = path[:-1]
    return anchor


def _file_display(text: FileText, root: str) -> str:
    if os.path.isabs(text.path):
        return display_path(text.path)
    return os.path.normpath(os.path.join(root, text.path)).replace(os.sep, "/")


def _merge_values(item: Any, index: int, where: Where, root: str, merged: dict[str, Any], origins: Origins, out: _Collector) -> None:
    """Merge one `values` entry (a YAML string) into `merged`, noting where each key came from."""
    if not isinstance(item, str):
        unknown = find_unknown(item)
        reason = f"{unknown.expr}: {unknown.reason}" if unknown else f"not a string but {type(item).__name__}"
        out.warn(f"helm_release values[{index}] cannot be evaluated ({reason}); not detected", where)
        return
    aligned = isinstance(item, FileText) and item.aligned
    file = _file_display(item, root) if isinstance(item, FileText) else where[0]
    try:
        documents = load_documents(item, file, TagTolerantLoader)
    except InputError as err:
        out.warn(f"helm_release values[{index}]: {err.message}; not detected", (file, err.line or 1) if aligned else where)
        return
    for doc in documents:
        if not isinstance(doc.data, dict):
            continue
        _deep_merge(merged, doc.data)
        for path, _ in walk(doc.data):
            if path:
                origins[path] = (file, doc.line(*path)) if aligned else where


def _deep_merge(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """Helm's merge of values: maps merge key by key, anything else is replaced."""
    for key, value in source.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _deep_merge(target[key], value)
        else:
            target[key] = value


def _set_values(body: Any) -> Iterator[tuple[tuple[Any, ...], Any, Location]]:
    """`set`/`set_sensitive` blocks (helm provider 2.x) and list attributes (3.x), in order."""
    entries: list[tuple[Any, Any, Location]] = []
    for block in body.blocks:
        if block.type in ("set", "set_sensitive"):
            attr = block.attrs.get("value")
            entries.append((block.get("name"), block.get("value"), attr.location if attr else block.location))
    for name in ("set", "set_sensitive"):
        attr = body.attrs.get(name)
        if attr is not None and isinstance(attr.value, list):
            entries.extend((e.get("name"), e.get("value"), attr.location) for e in attr.value if isinstance(e, dict))
    for name, value, location in entries:
        path = helm_path(name)
        if path is not None:
            yield path, _helm_scalar(value), location


def helm_path(name: Any) -> tuple[Any, ...] | None:
    """`installation.calicoNetwork.ipPools[0].encapsulation` -> its path; `\\.` escapes a dot."""
    if not isinstance(name, str) or not name:
        return None
    path: list[Any] = []
    for part in re.split(r"(?<!\\)\.", name):
        match = re.fullmatch(r"((?:[^\[\]\\]|\\.)+)((?:\[\d+\])*)", part)
        if match is None:
            return None
        path.append(match.group(1).replace("\\.", "."))
        path.extend(int(i) for i in re.findall(r"\[(\d+)\]", match.group(2)))
    if any(isinstance(step, int) and step > MAX_HELM_INDEX for step in path):
        return None
    return tuple(path)


def _helm_scalar(value: Any) -> Any:
    """`--set` types: true/false become booleans, as Helm reads them."""
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


def _assign(target: Any, path: tuple[Any, ...], value: Any) -> None:
    """Set `path` in nested dicts and lists, creating what is missing."""
    for step, following in zip(path, path[1:]):
        kind: type = list if isinstance(following, int) else dict
        if isinstance(step, int):
            target.extend({} for _ in range(step + 1 - len(target)))
        if not isinstance(target[step] if isinstance(step, int) else target.get(step), kind):
            target[step] = kind()
        target = target[step]
    last = path[-1]
    if isinstance(last, int):
        target.extend(None for _ in range(last + 1 - len(target)))
    target[last] = value


# --- finding the files -------------------------------------------------------------------


def scan(paths: Sequence[str], cwd: str | None = None) -> Scan:
    """Read every candidate file once: cheap substring filter, then YAML."""
    files: list[SourceFile] = []
    diagnostics: list[Diagnostic] = []
    for path in candidate_files(paths):
        shown = display_path(path, cwd)
        try:
            with open(path, "rb") as handle:
                text = handle.read().decode("utf-8", errors="replace")
        except OSError as err:
            diagnostics.append(Diagnostic("warning", f"cannot read: {err.strerror or err}; skipped when "
                                          "detecting the Calico profile", Location(shown, 0, 0)))
            continue
        if not any(token in text for token in TOKENS):
            continue
        found = observe_text(text, shown)
        if found.observations or found.diagnostics:
            files.append(SourceFile(path, found.observations, found.diagnostics))
    return Scan(tuple(files), tuple(diagnostics))


def candidate_files(paths: Sequence[str]) -> list[str]:
    """YAML files under each scanned path, and in each directory above it up to the repository
    root (its own files and its Ansible variable directories); absolute, resolved, sorted."""
    found: set[str] = set()
    walked: set[str] = set()
    for raw in paths:
        if not os.path.exists(raw):
            continue
        top = os.path.realpath(raw if os.path.isdir(raw) else os.path.dirname(os.path.abspath(raw)))
        found.update(_walk(top, walked))
        for ancestor in ancestors(top):
            found.update(_files_in(ancestor, in_vars=False))
            for name in (*sorted(VARS_DIRS), "inventory"):
                sub = os.path.join(ancestor, name)
                if os.path.isdir(sub):
                    found.update(_walk(sub, walked, vars_only=name == "inventory", in_vars=name in VARS_DIRS))
    return sorted(found)


def ancestors(directory: str) -> list[str]:
    """The directories above `directory` up to the repository root; without a repository,
    just its parent."""
    root = repository_root(directory)
    parent = os.path.dirname(directory)
    if root is None:
        return [parent] if parent != directory else []
    result = []
    current = directory
    while current != root:
        current = os.path.dirname(current)
        result.append(current)
    return result


def _walk(top: str, walked: set[str], vars_only: bool = False, in_vars: bool = False) -> Iterator[str]:
    """Candidate files under `top`, skipping hidden and vendored directories, Helm charts
    (their values are defaults, not the cluster's) and directories already walked."""
    stack = [(top, in_vars)]
    while stack:
        directory, inside = stack.pop()
        real = os.path.realpath(directory)
        if real in walked:
            continue
        walked.add(real)
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        if any(e.name == "Chart.yaml" for e in entries):
            continue
        if inside or not vars_only:
            yield from _candidates(entries, inside)
        for entry in reversed(entries):
            if not is_walked_dir(entry):
                continue
            stack.append((entry.path, inside or entry.name in VARS_DIRS))


def _files_in(directory: str, in_vars: bool) -> list[str]:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return []
    return list(_candidates(entries, in_vars))


def _candidates(entries: Iterable[os.DirEntry[str]], in_vars: bool) -> Iterator[str]:
    for entry in entries:
        if entry.name.startswith(".") or not _is_file(entry):
            continue
        suffix = os.path.splitext(entry.name)[1].lower()
        if suffix in YAML_SUFFIXES or (in_vars and suffix in VARS_SUFFIXES):
            yield os.path.realpath(entry.path)


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file(follow_symlinks=True)
    except OSError:
        return False


# --- one root module's profile -----------------------------------------------------------


def distance(root: str, directory: str, roots: Collection[str]) -> int | None:
    """How many directories up from `root` one must go to reach a source in `directory`; None
    when the source is not the root's: it lies inside another root module's directory, or
    neither inside `root` nor in a directory above it (a directory above it counts with its
    own files and its Ansible variables: `group_vars/`, `host_vars/`, `inventory/**/group_vars/`).
    So a root's profile never depends on what else is on the command line."""
    owners = [r for r in roots if directory == r or directory.startswith(r.rstrip(os.sep) + os.sep)]
    if owners:
        return 0 if max(owners, key=len) == root else None
    common = os.path.commonpath([root, directory])
    below = [p for p in os.path.relpath(directory, common).split(os.sep) if p != "."]
    if below and not (below[0] in VARS_DIRS or (below[0] == "inventory" and VARS_DIRS & set(below[1:]))):
        return None
    return _depth(root) - _depth(common)


def _depth(path: str) -> int:
    return len([p for p in path.split(os.sep) if p])


def detect_profile(
    root: str,
    roots: Collection[str],
    files: Sequence[SourceFile],
    own: Found = Found(),
    decided: Collection[str] = (),
) -> Detection:
    """The detected settings of the root module at `root` (absolute): per setting, the nearest
    source wins, then the most specific, then the first in file order. `own` holds the root's
    own helm_release settings (distance 0); `decided` are settings flags or config set, for
    which disagreements are not worth a warning. The warnings of the files it uses come too."""
    read_by_helm = set(own.read_files)
    candidates: list[tuple[int, Observation]] = [(0, o) for o in own.observations]
    file_warnings: list[Diagnostic] = []
    for source in files:
        if source.path in read_by_helm:
            continue  # Helm values a helm_release reads: seen through it (templates filled in)
        steps = distance(root, source.directory, roots)
        if steps is not None:
            candidates.extend((steps, o) for o in source.observations)
            file_warnings.extend(source.diagnostics)
    candidates.sort(key=lambda c: (c[0], -c[1].rank, c[1].file, c[1].line))
    settings: dict[str, Setting] = {}
    warnings: list[Diagnostic] = []
    for name in SETTINGS:
        ranked = [c for c in candidates if c[1].setting == name]
        if not ranked:
            continue
        winner = ranked[0]
        settings[name] = Setting(winner[1].value, winner[1].source, f"{winner[1].kind} {winner[1].field}")
        if name not in decided:
            warnings.extend(
                _disagreement(name, winner, other, root) for other in ranked[1:]
                if other[1].value != winner[1].value and other[1].rank != DEFAULTED
            )
    ordered = tuple(o for _, o in candidates)
    return Detection(settings, (*file_warnings, *own.diagnostics, *warnings), ordered)


def _disagreement(name: str, winner: tuple[int, Observation], other: tuple[int, Observation], root: str) -> Diagnostic:
    """A warning at the overruled source naming both sources and why one won."""
    won, lost = winner[1], other[1]
    if winner[0] != other[0]:
        why = f"it is nearer to the root module {display_path(root)}"
    elif won.rank != lost.rank:
        why = f"{won.kind} takes precedence over {lost.kind}"
    else:
        why = "it comes first in file order"
    message = (
        f"calico profile: {name}: {lost.kind} {lost.field} says {_shown(lost.value)} here, but "
        f"{won.kind} {won.field} at {won.source} says {_shown(won.value)}; using {_shown(won.value)} "
        f"because {why}. Set profile.{name} in .sglint.yaml or pass {flag_name(name)} to decide"
    )
    return Diagnostic("warning", message, Location(lost.file, lost.line, lost.line))


def _shown(value: Any) -> str:
    return ("on" if value else "off") if isinstance(value, bool) else str(value)
