"""`helm_release` resources of the tigera-operator chart: their `values` (yamlencode,
file(), templatefile()) and `set` blocks, read through the evaluated configuration."""

from __future__ import annotations

import os
import re
from typing import Any, Iterator, Mapping

from calico_sglint.profile.manifests import _dict, installation_spec
from calico_sglint.profile.observations import Found, Where, _Collector, parse_bool
from calico_sglint.profile.yamldoc import (
    TagTolerantLoader,
    load_documents,
    walk,
)
from calico_sglint.source import InputError, Location
from calico_sglint.terraform.configuration import Configuration, ResourceInstance
from calico_sglint.terraform.discover import (
    display_path,
)
from calico_sglint.terraform.values import FileText, find_unknown


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
