"""Calico's own YAML: operator Installations, IPPools, FelixConfigurations, the calico-config
ConfigMap, the calico-node DaemonSet's env, the calico-typha Deployment, and tigera-operator
Helm values files. Pure: text in, observations out."""

from __future__ import annotations

from typing import Any, Callable, Iterator, Mapping

from calico_sglint.profile.observations import (
    _DOCUMENT_START,
    _TOP_LEVEL_KIND,
    CALICO_API_VERSIONS,
    CNI_BY_PROVIDER,
    COMPONENT,
    CONFIGMAP_KEYS,
    DEFAULTED,
    FELIX_FIELDS,
    HELM_INSTALLATION_KEYS,
    INSTALLER,
    KUBESPRAY_POOL_VARS,
    KUBESPRAY_VARS,
    NAMED_KINDS,
    NODE_ENV,
    NODE_POOL_ENV,
    RESOURCE,
    VARIABLES,
    WANTED_KINDS,
    At,
    Field,
    Found,
    Where,
    _Collector,
    _text,
    parse_bgp_option,
    parse_bool,
    parse_pool_mode,
    parse_replicas,
    pool_encapsulation,
)
from calico_sglint.profile.settings import (
    normalize_encapsulation,
)
from calico_sglint.profile.yamldoc import (
    TagTolerantLoader,
    YamlDoc,
    load_documents,
)
from calico_sglint.source import Diagnostic, InputError, Location


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
