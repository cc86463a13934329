"""The choices and defaults of options both the CLI and the config file set (flags win):
severities and fail levels, output format, fix style and file. Light on purpose: `--help`
imports it."""

from __future__ import annotations

from typing import Any, Mapping

SEVERITIES = ("error", "warning", "info")
FAIL_LEVELS = (*SEVERITIES, "never")
OPTION_DEFAULTS: Mapping[str, Any] = {
    "fail_on": "error", "fix_style": "auto", "fix_file": "calico_sglint.tf", "format": "text", "output": None,
}
