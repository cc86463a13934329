"""Reads confined to the repository: what `file()`, `templatefile()`, `fileexists()` and profile
detection may open.

On a pull request from a fork the Terraform is the stranger's. `file("../../creds")` or a
`calico.yaml` symlinked to `/proc/self/environ` must not put a CI runner's secrets into a
report that is uploaded (SARIF) or printed in a public log. So every such read goes through
a `ReadBoundary`: the path is resolved (symlinks and `..` included) and must lie inside the
repository root (the nearest directory with `.git` above each scanned path, else the scanned
path itself) or a directory the user allowed with `--allow-read`. Outside, the read is
refused with a reason that names neither the file's content nor anything found on the way;
devices, FIFOs, sockets and files over `MAX_READ_BYTES` are refused too, so a read never
blocks and never fills memory.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

from calico_sglint.terraform.budget import MAX_STRING
from calico_sglint.terraform.discover import repository_root

MAX_READ_BYTES = MAX_STRING  # a file read by an expression becomes one string
OUTSIDE = "outside the repository (sglint reads only files inside it; see --allow-read)"


@dataclass(frozen=True)
class Refused:
    """A read that was not made, and why (never the file's content)."""

    reason: str


@dataclass(frozen=True)
class ReadBoundary:
    """The resolved directories reads may reach."""

    roots: tuple[str, ...]

    def contains(self, path: str) -> bool:
        """Whether `path`, resolved, is one of the roots or inside one."""
        return self._holds(os.path.realpath(path))

    def _holds(self, real: str) -> bool:
        return any(real == root or real.startswith(root.rstrip(os.sep) + os.sep) for root in self.roots)

    def read(self, path: str, limit: int = MAX_READ_BYTES) -> bytes | Refused:
        """The bytes of the regular file at `path`, or why it may not be read."""
        real = os.path.realpath(path)
        if not self._holds(real):
            return Refused(OUTSIDE)
        try:
            # O_NONBLOCK: opening a FIFO with no writer must not wait for one.
            handle = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            return Refused("no such file")
        except IsADirectoryError:
            return Refused("is a directory, not a file")
        except OSError as err:
            return Refused(f"cannot be read ({err.strerror or 'error'})")
        try:
            info = os.fstat(handle)
            if stat.S_ISDIR(info.st_mode):
                return Refused("is a directory, not a file")
            if not stat.S_ISREG(info.st_mode):
                return Refused("not a regular file (a device, FIFO or socket)")
            if info.st_size > limit:
                return Refused(f"larger than {limit // (1024 * 1024)} MB")
            data = os.read(handle, info.st_size + 1) if info.st_size else _read_all(handle, limit)
        except OSError as err:
            return Refused(f"cannot be read ({err.strerror or 'error'})")
        finally:
            os.close(handle)
        if len(data) > limit:
            return Refused(f"larger than {limit // (1024 * 1024)} MB")
        return data


def _read_all(handle: int, limit: int) -> bytes:
    """A regular file that reports size 0 (e.g. under /proc) is read up to the limit."""
    chunks, total = [], 0
    while total <= limit:
        chunk = os.read(handle, 65536)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def boundary_for(paths: tuple[str, ...] | list[str], allowed: tuple[str, ...] | list[str] = ()) -> ReadBoundary:
    """The repository root of each scanned path (or the path itself outside a repository),
    plus the directories the user allowed explicitly."""
    roots: list[str] = []
    for raw in paths:
        absolute = os.path.abspath(raw)
        directory = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
        real = os.path.realpath(directory)
        roots.append(repository_root(real) or real)
    roots.extend(os.path.realpath(path) for path in allowed)
    return ReadBoundary(tuple(dict.fromkeys(roots)))
