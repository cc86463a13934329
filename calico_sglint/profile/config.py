"""The config file: `.sglint.yaml` (found upward from the scanned path), `[tool.calico-sglint]`
in `pyproject.toml`, or `--config FILE`.

Every key is validated: an unknown key or a bad value is an `InputError` naming the file, the
line (YAML only) and the key. Rule ids in `severity:` and `disable:` are checked against the
loaded packs by `check_rule_ids`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from calico_sglint.fix import STYLES
from calico_sglint.options import FAIL_LEVELS, OPTION_DEFAULTS, SEVERITIES
from calico_sglint.profile.rulepack import RulePack
from calico_sglint.profile.settings import SPECS, Setting
from calico_sglint.profile.yamldoc import YamlDoc, load_documents
from calico_sglint.render.formats import CHECK_FORMATS
from calico_sglint.source import InputError

CONFIG_NAMES = (".sglint.yaml", ".sglint.yml")
ROLE_VALUES = ("control-plane", "worker", "both", "none")
_TOP_LEVEL = (
    "profile", "roles", "clusters", "rules", "severity", "disable", "fail_on", "fix", "format", "output", "module_dirs",
    "skip_paths", "allow_read",
)


@dataclass(frozen=True)
class Config:
    """What the config file says; empty when there is none."""

    file: str | None = None
    profile: Mapping[str, Setting] = field(default_factory=dict)
    roles: Mapping[str, tuple[str, str]] = field(default_factory=dict)  # address -> (role, source)
    clusters: Mapping[str, tuple[tuple[str, ...], str]] = field(default_factory=dict)  # name -> (addresses, source)
    rule_paths: tuple[str, ...] = ()
    severity: Mapping[str, str] = field(default_factory=dict)
    disable: tuple[str, ...] = ()
    fail_on: str | None = None
    fix_style: str | None = None
    fix_file: str | None = None
    format: str | None = None
    output: str | None = None
    skip_paths: tuple[tuple[str, str], ...] = ()  # (this file's directory, glob)
    module_dirs: tuple[str, ...] = ()  # installed-module directories, relative to the config's dir
    allow_read: tuple[str, ...] = ()  # directories outside the repository file() may read
    key_lines: Mapping[str, int] = field(default_factory=dict)  # "severity.x" -> line

    def resolve(self, name: str, flag: Any) -> Any:
        """An option's value: the flag when given, else this file's value, else the default."""
        if flag is not None:
            return flag
        configured = getattr(self, name)
        return configured if configured is not None else OPTION_DEFAULTS[name]


def find_config(start: str) -> str | None:
    """The nearest `.sglint.yaml` or `pyproject.toml` with `[tool.calico-sglint]`, upward."""
    directory = os.path.abspath(start if os.path.isdir(start) else os.path.dirname(start) or ".")
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                return candidate
        pyproject = os.path.join(directory, "pyproject.toml")
        if os.path.isfile(pyproject) and _has_tool_table(pyproject):
            return pyproject
        if os.path.exists(os.path.join(directory, ".git")):  # a directory, or a file in worktrees
            return None
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def load_config(path: str | None, shown: str | None = None) -> Config:
    """Parse and validate the config at `path` (None: no config)."""
    if path is None:
        return Config()
    shown = shown or path
    if not os.path.isfile(path):
        raise InputError("no such config file", shown)
    if os.path.basename(path) == "pyproject.toml":
        data = _tool_table(path, shown)
        return _validate(data, shown, lambda *keys: 0, os.path.dirname(path))
    with open(path, encoding="utf-8", errors="replace") as handle:
        documents = load_documents(handle.read(), shown)
    if not documents or documents[0].data is None:
        return Config(file=shown)
    doc: YamlDoc = documents[0]
    if not isinstance(doc.data, dict):
        raise InputError("the config must be a mapping of settings", shown, 1)
    return _validate(doc.data, shown, doc.line, os.path.dirname(path))


def check_rule_ids(config: Config, pack: RulePack) -> None:
    """Every rule id the config names must exist in the loaded packs."""
    for rule_id in list(config.severity) + list(config.disable):
        if pack.get(rule_id) is None:
            key = f"severity.{rule_id}" if rule_id in config.severity else "disable"
            raise InputError(
                f"{key}: no rule {rule_id!r} (see `sglint rules`)", config.file, config.key_lines.get(key) or None
            )


def _has_tool_table(path: str) -> bool:
    try:
        return "calico-sglint" in _read_toml(path).get("tool", {})
    except OSError:
        return False
    except ValueError as err:  # a broken pyproject.toml might hold our settings: say so
        raise InputError(f"invalid TOML: {err}", os.path.relpath(path)) from None


def _tool_table(path: str, shown: str) -> dict[str, Any]:
    try:
        table = _read_toml(path).get("tool", {}).get("calico-sglint", {})
    except ValueError as err:
        raise InputError(f"invalid TOML: {err}", shown) from None
    if not isinstance(table, dict):
        raise InputError("[tool.calico-sglint] must be a table", shown)
    return table


def _read_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    with open(path, "rb") as handle:
        return tomllib.load(handle)


def _validate(data: Mapping[str, Any], file: str, line_of: Callable[..., int], base: str) -> Config:
    def fail(key: str, problem: str, *path: Any) -> InputError:
        return InputError(f"{key}: {problem}", file, line_of(*path) or None)

    for key in data:
        if key not in _TOP_LEVEL:
            raise fail(str(key), f"unknown key (expected one of {', '.join(_TOP_LEVEL)})", key)
    profile = _profile(data.get("profile", {}), file, line_of, fail)
    roles = _roles(data.get("roles", {}), file, line_of, fail)
    clusters = _clusters(data.get("clusters", {}), file, line_of, fail)
    rules = data.get("rules", [])
    if isinstance(rules, str):
        rules = [rules]
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise fail("rules", "must be a list of rule pack files or directories", "rules")
    severity = data.get("severity", {})
    if not isinstance(severity, dict):
        raise fail("severity", "must map rule ids to error, warning or info", "severity")
    for rule_id, level in severity.items():
        if level not in SEVERITIES:
            raise fail(f"severity.{rule_id}", f"must be one of {', '.join(SEVERITIES)} (got {level!r})", "severity", rule_id)
    disable = data.get("disable", [])
    if not isinstance(disable, list) or not all(isinstance(d, str) for d in disable):
        raise fail("disable", "must be a list of rule ids", "disable")
    skip_paths = data.get("skip_paths", [])
    if not isinstance(skip_paths, list) or not all(isinstance(g, str) and g.strip() for g in skip_paths):
        raise fail("skip_paths", "must be a list of path globs (relative to this file's directory)", "skip_paths")
    fail_on = _optional_choice(data, "fail_on", FAIL_LEVELS, fail)
    output_format = _optional_choice(data, "format", CHECK_FORMATS, fail)
    output = data.get("output")
    if output is not None and not isinstance(output, str):
        raise fail("output", "must be a file path", "output")
    fix = data.get("fix", {})
    if not isinstance(fix, dict):
        raise fail("fix", "must be a mapping with style and file", "fix")
    for key in fix:
        if key not in ("style", "file"):
            raise fail(f"fix.{key}", "unknown key (expected style, file)", "fix", key)
    style = fix.get("style")
    if style is not None and style not in STYLES:
        raise fail("fix.style", f"must be one of {', '.join(STYLES)} (got {style!r})", "fix", "style")
    fix_file = fix.get("file")
    if fix_file is not None and (not isinstance(fix_file, str) or not fix_file.endswith(".tf") or "/" in fix_file):
        raise fail("fix.file", "must be a file name ending in .tf", "fix", "file")
    module_dirs = data.get("module_dirs", [])
    if isinstance(module_dirs, str):
        module_dirs = [module_dirs]
    if not isinstance(module_dirs, list) or not all(isinstance(d, str) and d for d in module_dirs):
        raise fail("module_dirs", "must be a list of directories of installed modules", "module_dirs")
    allow_read = data.get("allow_read", [])
    if isinstance(allow_read, str):
        allow_read = [allow_read]
    if not isinstance(allow_read, list) or not all(isinstance(a, str) for a in allow_read):
        raise fail("allow_read", "must be a list of directories", "allow_read")
    key_lines = {f"severity.{k}": line_of("severity", k) for k in severity}
    for key in ("disable", "allow_read", "module_dirs", "rules", "output"):
        if key in data:
            key_lines[key] = line_of(key)
    return Config(
        file=file,
        profile=profile,
        roles=roles,
        clusters=clusters,
        rule_paths=tuple(os.path.join(base, r) for r in rules),
        severity=dict(severity),
        disable=tuple(disable),
        fail_on=fail_on,
        fix_style=style,
        fix_file=fix_file,
        format=output_format,
        output=os.path.join(base, output) if output else None,
        skip_paths=tuple((os.path.abspath(base or "."), glob) for glob in skip_paths),
        module_dirs=tuple(os.path.join(base, d) for d in module_dirs),
        allow_read=tuple(os.path.join(base, a) for a in allow_read),
        key_lines=key_lines,
    )


def _optional_choice(data: Mapping[str, Any], key: str, allowed: tuple[str, ...], fail: Any) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if value not in allowed:
        raise fail(key, f"must be one of {', '.join(allowed)} (got {value!r})", key)
    return str(value)


def _profile(data: Any, file: str, line_of: Callable[..., int], fail: Any) -> dict[str, Setting]:
    if not isinstance(data, dict):
        raise fail("profile", "must be a mapping of settings", "profile")
    result: dict[str, Setting] = {}
    for key, value in data.items():
        where = f"{file}:{line_of('profile', key)}" if line_of("profile", key) else file
        name = f"profile.{key}"
        spec = SPECS.get(key)
        if spec is None:
            raise fail(name, f"unknown setting (expected one of {', '.join(SPECS)})", "profile", key)
        canonical = spec.parse(value)
        if canonical is None:
            raise fail(name, f"must be {spec.expected()} (got {value!r})", "profile", key)
        result[key] = Setting(canonical, where)
    return result


def _roles(data: Any, file: str, line_of: Callable[..., int], fail: Any) -> dict[str, tuple[str, str]]:
    if not isinstance(data, dict):
        raise fail("roles", "must map node-group or security-group addresses to a role", "roles")
    result = {}
    for address, role in data.items():
        if role not in ROLE_VALUES:
            raise fail(f"roles.{address}", f"must be one of {', '.join(ROLE_VALUES)} (got {role!r})", "roles", address)
        line = line_of("roles", address)
        result[str(address)] = (str(role), f"{file}:{line}" if line else file)
    return result


def _clusters(data: Any, file: str, line_of: Callable[..., int], fail: Any) -> dict[str, tuple[tuple[str, ...], str]]:
    """`clusters:` maps a cluster name to the addresses of its node groups, resources, security
    groups or module instances (`module.blue`)."""
    if not isinstance(data, dict):
        raise fail("clusters", "must map cluster names to lists of addresses", "clusters")
    result = {}
    for name, addresses in data.items():
        if isinstance(addresses, str):
            addresses = [addresses]
        if not isinstance(addresses, list) or not addresses or not all(isinstance(a, str) and a for a in addresses):
            raise fail(f"clusters.{name}", "must be a list of addresses (node groups, resources, security groups "
                       "or module instances like module.blue)", "clusters", name)
        line = line_of("clusters", name)
        result[str(name)] = (tuple(addresses), f"{file}:{line}" if line else file)
    return result
