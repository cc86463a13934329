"""Where things are in the user's files, and the error we raise about them.

Every stage points back at source lines with a `Location`; every problem with the user's
input is an `InputError`, which the CLI prints as one `file:line: message` line (exit 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class Location:
    """A span of lines in a file; `file` is relative to the working directory when possible."""

    file: str
    line: int
    end_line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file

    def to_json(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "end_line": self.end_line}


class InputError(Exception):
    """A problem with what the user gave us: a file, a flag, a config value."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line

    def __str__(self) -> str:
        if self.file and self.line:
            return f"{self.file}:{self.line}: {self.message}"
        if self.file:
            return f"{self.file}: {self.message}"
        return self.message


@dataclass(frozen=True)
class Diagnostic:
    """A non-fatal remark about the input (a warning), or a collected error."""

    severity: str  # "error" | "warning"
    message: str
    location: Location | None = None

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        return f"{where}{self.severity}: {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "message": self.message,
            "location": self.location.to_json() if self.location else None,
        }


def error_diagnostic(err: InputError) -> Diagnostic:
    """Turn an `InputError` into an error `Diagnostic` so one bad file does not stop the rest."""
    loc = Location(err.file, err.line or 0, err.line or 0) if err.file else None
    return Diagnostic("error", err.message, loc)


def diagnostic_lines(diagnostics: Iterable[Diagnostic]) -> list[str]:
    """`file:line: message` for errors, `file:line: warning: message` after them."""
    ordered = sorted(diagnostics, key=lambda d: 0 if d.severity == "error" else 1)
    lines = []
    for diagnostic in ordered:
        where = f"{diagnostic.location}: " if diagnostic.location else "sglint: "
        label = "" if diagnostic.severity == "error" else "warning: "
        lines.append(f"{where}{label}{diagnostic.message}")
    return lines
