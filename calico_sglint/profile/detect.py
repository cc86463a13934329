"""Detect stage: the cluster's Calico settings, read from the files next to the Terraform.

Sources: operator `Installation`s, tigera-operator Helm values (files, and `helm_release`
resources of the tigera-operator chart), Calico manifests (ConfigMap `calico-config`, the
`calico-node` DaemonSet's env, the `calico-typha` Deployment), `IPPool` and
`FelixConfiguration` resources, and kubespray / Ansible variables.

Every source yields `Observation`s: one setting, its value, where it was said and how close the
source is to what Calico itself reads (its rank). For one root module, `detect_profile` takes
each setting from the nearest source, then the highest rank, then the first in file order, and
warns when sources disagree. Reading files (`profile.sources.scan`) is kept apart from
understanding them (`profile.manifests.observe_text`, `profile.helm`), which are pure; the
field tables and value parsers are in `profile.observations`.
"""

from __future__ import annotations

import os
from typing import Any, Collection, Sequence

from calico_sglint.profile.observations import (
    DEFAULTED,
    VARS_DIRS,
    Detection,
    Found,
    Observation,
    SourceFile,
)
from calico_sglint.profile.settings import (
    SETTINGS,
    Setting,
    flag_name,
)
from calico_sglint.source import Diagnostic, Location
from calico_sglint.terraform.discover import (
    display_path,
)


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
