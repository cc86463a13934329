"""Writing a file so that readers see the old bytes or the new ones, never half of either.

Used for `sglint fix` patches and for reports written with `-o`: the new content goes to a
temporary file beside the target, is flushed to disk, and only then renamed over it. A full
disk or any other failure leaves the target as it was (an `OSError` for the caller to word).
"""

from __future__ import annotations

import os
import tempfile


def stage(path: str, data: bytes) -> str:
    """Write `data` to a new temporary file in `path`'s directory, with `path`'s mode (or the
    umask's for a new file); return the temporary file's path. Nothing else changes."""
    directory = os.path.dirname(path) or "."
    mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else _new_file_mode()
    handle, temporary = tempfile.mkstemp(prefix=".sglint-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
    except BaseException:
        discard(temporary)
        raise
    return temporary


def write_atomically(path: str, data: bytes) -> None:
    """Replace `path` with `data` in one rename (through a symlink: its target is replaced)."""
    target = os.path.realpath(path)
    temporary = stage(target, data)
    try:
        os.replace(temporary, target)
    except BaseException:
        discard(temporary)
        raise


def discard(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _new_file_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
