"""Helpers for the profile-detection tests (manifests, helm, detect): documents they build, what a
source said and what it warned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write

from calico_sglint.pipeline import ReadOptions, read
from calico_sglint.profile import helm as helm_module
from calico_sglint.profile.observations import Found

F = "f.yaml"


def said(found: Found) -> list[tuple[str, Any, int, str, str]]:
    """(setting, value, line, kind, field) of each observation, in the order found."""
    return [(o.setting, o.value, o.line, o.kind, o.field) for o in found.observations]


def warned(found: Found) -> list[tuple[int, str]]:
    return [(d.location.line if d.location else 0, d.message) for d in found.diagnostics]


INSTALLATION = """\
apiVersion: operator.tigera.io/v1
kind: Installation
metadata:
  name: default
spec:
"""


def node_env(*pairs: tuple[str, str]) -> str:
    env = "".join(f"            - name: {n}\n              value: \"{v}\"\n" for n, v in pairs)
    return (
        "kind: DaemonSet\napiVersion: apps/v1\nmetadata:\n  name: calico-node\nspec:\n  template:\n    spec:\n"
        "      containers:\n        - name: install-cni\n          env:\n            - name: FELIX_VXLANPORT\n"
        "              value: \"1\"\n        - name: calico-node\n          env:\n" + env
    )


POOL = "apiVersion: {api}\nkind: IPPool\nmetadata:\n  name: p\nspec:\n  cidr: {cidr}\n"


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
