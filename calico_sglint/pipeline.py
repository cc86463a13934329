"""Run the reading stages in order: files -> parse -> evaluate -> model, one model per root.

The CLI calls this; nothing here prints. Problems with the input come back as diagnostics
(errors and warnings with locations), never as exceptions, so one bad module does not hide
the findings of the others.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from calico_sglint.evaluate import VarInputs, evaluate_root
from calico_sglint.model import RESOURCE_TYPES, Model, build_model
from calico_sglint.parse import parse_file
from calico_sglint.source import Diagnostic, InputError, error_diagnostic
from calico_sglint.workspace import ParseMany, Workspace, load_workspace, parse_serially


@dataclass(frozen=True)
class ReadOptions:
    """How to read the Terraform: which paths and which values for root variables."""

    paths: tuple[str, ...]
    var_files: tuple[str, ...] = ()
    vars: tuple[str, ...] = ()  # NAME=VALUE
    env: Mapping[str, str] = field(default_factory=dict)  # the process environment
    extra_types: frozenset[str] = frozenset()  # resource types later stages also need


@dataclass(frozen=True)
class ReadResult:
    workspace: Workspace
    models: tuple[Model, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)


def read(options: ReadOptions, parse_many: ParseMany = parse_serially) -> ReadResult:
    """Discover, parse, evaluate and model every root module under `options.paths`."""
    inputs = var_inputs(options)
    workspace = load_workspace(list(options.paths), parse_many=parse_many)
    diagnostics = list(workspace.diagnostics)
    if not workspace.modules and not any(d.severity == "error" for d in diagnostics):
        shown = ", ".join(options.paths)
        diagnostics.append(Diagnostic("error", f"no Terraform files (*.tf) found in {shown}"))
    wanted = RESOURCE_TYPES | options.extra_types
    models = []
    for root in workspace.roots:
        config = evaluate_root(workspace, root, inputs, wanted.__contains__)
        models.append(build_model(config))
        diagnostics.extend(config.diagnostics)
    return ReadResult(workspace, tuple(models), tuple(dict.fromkeys(diagnostics)))


def var_inputs(options: ReadOptions) -> VarInputs:
    """Parse `--var-file`s and `--var`s; raise `InputError` (exit 2) when they are malformed."""
    files = []
    for path in options.var_files:
        if not os.path.isfile(path):
            raise InputError("no such variables file (--var-file)", path)
        files.append(parse_file(path, path))
    pairs = []
    for item in options.vars:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f'--var "{item}": expected NAME=VALUE')
        pairs.append((name.strip(), value))
    env = {k[len("TF_VAR_"):]: v for k, v in options.env.items() if k.startswith("TF_VAR_")}
    return VarInputs(tuple(files), tuple(pairs), env)


def errors_first(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Errors before warnings, otherwise in the order they were found."""
    return sorted(diagnostics, key=lambda d: 0 if d.severity == "error" else 1)


__all__ = ["ReadOptions", "ReadResult", "read", "var_inputs", "errors_first", "error_diagnostic"]
