"""What profile detection reads out of a file: observations (one source saying one setting,
where, and how close it is to what Calico itself reads), the field tables that say which
keys carry which setting, and how their values are parsed."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from calico_sglint.profile.settings import (
    Setting,
    normalize_src_dst_check,
)
from calico_sglint.source import Diagnostic, Location
from calico_sglint.terraform.values import find_unknown

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
