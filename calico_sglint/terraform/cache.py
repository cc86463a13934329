"""A cache of parsed files, by content: parsing is most of the cost of a cold run.

What is cached is each file's parsed body and `sglint:` directives (or the parse error it
raised), keyed by the sha256 of its bytes. Entries are path-independent: the display path,
which depends on the working directory, is attached again on every hit, so the same content
at another path or from another directory is a hit with the right path.

Entries are stored one file per module directory (a "pack" of the entries of the module's
files, keyed by their content hashes in order, pickled together), not one file per source
file: creating a file costs 80-200 µs on a VM disk, 13 times per module of the benchmark's
monorepo, and one pickle per module shares each repeated name. A module with a changed file
is parsed again as a whole: about 3 ms.

Safety:
- The key covers everything that shapes an entry: the sglint version, the source of the
  parse modules, python-hcl2's grammar and Lark's version (found without importing them),
  the Python version and the resource types kept whole (`prune.py`). A changed parser means
  a fresh directory under `parsed/`, never a stale entry.
- Writes are atomic (a private temp file in the same directory, then `os.replace`):
  concurrent runs may write the same entry; a reader sees the old entry, the new one or none.
- An entry cannot change an answer. Whoever can write the cache directory (a CI cache
  restored from another run) decides what is in it, so an entry is used only when it
  proves it belongs: its header names the format, the parser fingerprint and the key it
  was written for (the digest of the module's file contents), so an entry copied over
  another module's key is a miss; it is a regular file (checked with `lstat` and opened
  with `O_NOFOLLOW | O_NONBLOCK`, so a symlink, FIFO or device is a miss, never a hang)
  no larger than its cap (`entry_cap`, from the size of the sources it stands for); and
  it has the shape the parser gives trees (built with `wellformed`'s checked
  constructors). Anything else is a miss, and is rewritten. (What no check without a
  secret can refuse is an entry forged, not copied, for the right key: the cache is as
  trustworthy as whoever may write its directory.)
- Unpickling only ever builds `syntax` nodes and plain values (a restricted unpickler), so
  a cache directory shared through CI caches or artifacts cannot run code.
- `cache clear` removes only files that carry sglint's header (and its own cache tag):
  a file someone else put there stays.
- An unwritable or unusable cache directory silently turns the cache off for the run.
- Entries are private to the user (0600 in 0700 directories): tfvars hold secrets.

The parser's LALR tables (`larkparser.py`) are kept here too, as one more entry (plain
data), so that a run that must parse something does not derive them from python-hcl2's.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import stat
import sys
from dataclasses import dataclass, fields
from operator import attrgetter
from typing import Any, Callable, Iterable, Mapping, Sequence

from calico_sglint import __version__
from calico_sglint.source import InputError
from calico_sglint.terraform import syntax
from calico_sglint.terraform.wellformed import CONSTRUCTORS

FORMAT = 2  # bump when the entry layout changes
PARSED_DIR = "parsed"  # everything we write lives under <cache dir>/parsed/
_TAG_NAME = "CACHEDIR.TAG"
_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by calico-sglint (sglint).\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)
_NODE_CLASSES: tuple[type, ...] = (
    syntax.Literal, syntax.TemplateIf, syntax.TemplateFor, syntax.Template, syntax.TupleExpr,
    syntax.ObjectExpr, syntax.Name, syntax.GetAttr, syntax.Index, syntax.Splat, syntax.Call,
    syntax.Conditional, syntax.BinaryOp, syntax.UnaryOp, syntax.ForExpr, syntax.Attribute,
    syntax.Block, syntax.Body, syntax.Comment,
)
_ALLOWED = {(cls.__module__, cls.__qualname__): CONSTRUCTORS[cls] for cls in _NODE_CLASSES}
_MAGIC = b"sglint-cache"
_HEAD_MAX = 200  # bytes: the header is shorter
TABLES_KEY = "lark-tables"  # the parser tables' entry (not a hex digest: no clash)
MAX_TABLES_BYTES = 16 * 1024 * 1024
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows
_READ_FLAGS = (
    os.O_RDONLY | _O_BINARY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_CLOEXEC", 0)
)


def default_cache_dir(env: Mapping[str, str] | None = None, platform: str | None = None) -> str:
    """Where the cache lives: `$SGLINT_CACHE_DIR`, else `$XDG_CACHE_HOME/calico-sglint`, else
    the platform's user cache directory (`~/.cache`, `~/Library/Caches`, `%LOCALAPPDATA%`)."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if env.get("SGLINT_CACHE_DIR"):
        return env["SGLINT_CACHE_DIR"]
    if env.get("XDG_CACHE_HOME"):
        return os.path.join(env["XDG_CACHE_HOME"], "calico-sglint")
    home = os.path.expanduser("~")
    if platform == "darwin":
        return os.path.join(home, "Library", "Caches", "calico-sglint")
    if platform.startswith("win"):
        local = env.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return os.path.join(local, "calico-sglint", "Cache")
    return os.path.join(home, ".cache", "calico-sglint")


def content_key(data: bytes) -> str:
    """The key of a file's bytes: their sha256, which is also `File.digest`."""
    return hashlib.sha256(data).hexdigest()


def pack_key(content_keys: Sequence[str]) -> str:
    """The key of a module's entries: the content keys of its files, in order."""
    return hashlib.sha256(("pack\0" + "\0".join(content_keys)).encode()).hexdigest()


def parser_fingerprint(keep: Iterable[str] | None = None) -> str:
    """A short hash of everything besides the bytes that shapes an entry: versions, the
    parser's own source, and the resource types kept whole (None: no pruning)."""
    digest = hashlib.sha256()
    digest.update(f"{FORMAT}|{__version__}|{sys.implementation.name}|{sys.version_info[:2]}".encode())
    digest.update(b"full" if keep is None else ("keep:" + "|".join(sorted(keep))).encode())
    sources = list(parser_sources())
    sources += _package_files("hcl2", ("version.py", "hcl2.lark", "postlexer.py", "parser.py", "utils.py"))
    sources += _package_files("lark", ("__init__.py",))
    for path in sources:
        digest.update(os.path.basename(path).encode())
        try:
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
        except OSError:
            digest.update(b"-")
    return digest.hexdigest()[:16]


def parser_sources() -> tuple[str, ...]:
    """Our own files that decide what a cached entry holds: a change to any of them is a miss."""
    here = os.path.dirname(os.path.abspath(__file__))
    return tuple(
        os.path.join(here, name) for name in ("parse.py", "larkparser.py", "syntax.py", "cache.py", "prune.py")
    )


def _package_files(package: str, names: tuple[str, ...]) -> list[str]:
    """Files of an installed package, located without importing it (imports cost ~30 ms)."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec else []
    return [os.path.join(locations[0], name) for name in names] if locations else [f"<{package}>"]


@dataclass(frozen=True)
class Parsed:
    """One file's entry: its parsed body and directives, or the error parsing raised."""

    body: syntax.Body | None
    directives: tuple[syntax.Comment, ...] = ()
    error: tuple[str, int | None] | None = None  # (message, line)

    def to_file(self, display: str, digest: str) -> syntax.File:
        """The `File` at `display`, or raise the `InputError` parsing it raised there."""
        if self.error is not None:
            raise InputError(self.error[0], display, self.error[1])
        assert self.body is not None
        return syntax.File(display, self.body, digest, self.directives)


def parsed_of(result: syntax.File | InputError) -> Parsed:
    """The path-independent part of a parse result."""
    if isinstance(result, InputError):
        return Parsed(None, (), (result.message, result.line))
    return Parsed(result.body, result.directives)


def dumps_pack(entries: Sequence[Parsed]) -> bytes:
    """Pickle a module's entries (its files', in order) as one pickle, so that a name used
    all over the module is one string once loaded. Nodes pickle as (class, field values):
    three times faster to load than the default reduction of frozen slotted dataclasses."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH  # type: ignore[assignment]
    pickler.dump((FORMAT, "pack", tuple((e.body, e.directives, e.error) for e in entries)))
    return buffer.getvalue()


def loads_pack(data: bytes, count: int) -> list[Parsed] | None:
    """The `count` entries pickled in `data`; None unless it is a well-formed pack of
    `count` entries (corrupt, truncated, foreign or another format: a miss)."""
    try:
        value = _RestrictedUnpickler(io.BytesIO(data)).load()
    except Exception:  # noqa: BLE001 - corrupt, truncated or foreign: a miss
        return None
    if not (isinstance(value, tuple) and len(value) == 3 and value[:2] == (FORMAT, "pack")):
        return None
    triples = value[2]
    if not isinstance(triples, tuple) or len(triples) != count:
        return None
    entries = [_entry(triple) for triple in triples]
    return None if any(e is None for e in entries) else entries  # type: ignore[return-value]


def _entry(triple: object) -> Parsed | None:
    """A well-formed (body, directives, error) triple as an entry, else None."""
    if not (isinstance(triple, tuple) and len(triple) == 3):
        return None
    body, directives, error = triple
    if error is not None:
        ok = isinstance(error, tuple) and len(error) == 2 and isinstance(error[0], str)
        ok = ok and (error[1] is None or isinstance(error[1], int)) and body is None
        return Parsed(None, (), error) if ok and directives == () else None
    if not isinstance(body, syntax.Body) or not isinstance(directives, tuple):
        return None
    if not all(isinstance(d, syntax.Comment) for d in directives):
        return None
    return Parsed(body, directives)


def _reducer(cls: type) -> Callable[[Any], tuple[Any, ...]]:
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    assert len(names) >= 2, cls  # attrgetter returns a tuple only for two names or more
    values = attrgetter(*names)

    def reduce(node: Any) -> tuple[Any, ...]:
        return cls, values(node)

    return reduce


_DISPATCH = {cls: _reducer(cls) for cls in _NODE_CLASSES}


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds only `syntax` node classes; any other global in the stream is refused."""

    def find_class(self, module: str, name: str) -> Any:
        cls = _ALLOWED.get((module, name))
        if cls is None:
            raise pickle.UnpicklingError(f"{module}.{name} is not a syntax node")
        return cls


def entry_cap(source_bytes: int) -> int:
    """The largest entry sglint writes or reads for sources of `source_bytes` bytes. Parsed
    trees pickle to less than the text they come from (the benchmark's modules: about a
    third); the margin covers dense expressions like `[a,a,a,...]`."""
    return 64 * 1024 + 16 * source_bytes


class ParseCache:
    """Module entries on disk under `<directory>/parsed/<fingerprint>/`; see the module doc."""

    def __init__(self, directory: str, fingerprint: str) -> None:
        self.root = directory
        self.fingerprint = fingerprint
        self.directory = os.path.join(directory, PARSED_DIR, fingerprint)
        self.enabled = True
        self._made: set[str] = set()
        self._written = 0

    def path(self, key: str) -> str:
        """The entry file of `key` (sharded by its first two hex digits)."""
        if key == TABLES_KEY:
            return os.path.join(self.directory, key)
        return os.path.join(self.directory, key[:2], key)

    def header(self, key: str) -> bytes:
        """What the entry of `key` starts with: it proves what the entry was written for."""
        return b"%s %d %s %s\n" % (_MAGIC, FORMAT, self.fingerprint.encode(), key.encode())

    def get(self, key: str, count: int, source_bytes: int) -> list[Parsed] | None:
        """The `count` file entries stored under `key` for sources of `source_bytes` bytes,
        or None: missing, not a regular file, too large, written for another key or parser,
        unreadable, corrupt, of the wrong shape or not `count` long."""
        payload = self.read(key, entry_cap(source_bytes))
        return None if payload is None else loads_pack(payload, count)

    def read(self, key: str, cap: int) -> bytes | None:
        """The payload stored under `key` when its file proves it was written for `key`."""
        if not self.enabled:
            return None
        header = self.header(key)
        data = read_regular_file(self.path(key), cap + len(header))
        if data is None or not data.startswith(header):
            return None
        return data[len(header) :]

    def put(self, key: str, data: bytes, cap: int) -> None:
        """Store `data` under `key`, unless it is larger than `cap`, atomically (a private
        temp file, then `os.replace`); turn the cache off for this run if the directory
        is unusable."""
        if not self.enabled or len(data) > cap:
            return
        path = self.path(key)
        shard = os.path.dirname(path)
        self._written += 1
        temp = os.path.join(shard, f".tmp-{os.getpid()}-{self._written}-{os.urandom(4).hex()}")
        try:
            if shard not in self._made:
                self._ensure(shard)
            handle = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o600)
        except FileExistsError:
            if os.path.isdir(shard):
                return  # a temp-name clash with another writer: skip this entry only
            self.enabled = False
            return
        except OSError:
            self.enabled = False
            return
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(self.header(key))
                out.write(data)
            os.replace(temp, path)
        except OSError:
            _remove(temp)
            self.enabled = False
        except BaseException:
            _remove(temp)
            raise

    def _ensure(self, shard: str) -> None:
        os.makedirs(shard, mode=0o700, exist_ok=True)
        tag = os.path.join(self.root, _TAG_NAME)
        if not os.path.exists(tag):
            try:
                with open(tag, "x", encoding="ascii") as out:
                    out.write(_TAG)
            except OSError:
                pass  # another run wrote it first, or the root is read-only: not needed
        self._made.add(shard)


def read_regular_file(path: str, cap: int) -> bytes | None:
    """The bytes of `path` when it is a regular file of at most `cap` bytes, else None.
    Never follows a symlink at `path` and never blocks: a FIFO or a device is None."""
    opened = _open_regular(path)
    if opened is None:
        return None
    handle, size = opened
    try:
        if size > cap:
            return None
        with os.fdopen(handle, "rb", closefd=False) as reader:
            data = reader.read(size + 1)  # + 1: a file that grew since fstat
    except OSError:
        return None
    finally:
        os.close(handle)
    return data if len(data) <= cap else None


def _open_regular(path: str) -> tuple[int, int] | None:
    """An open descriptor of `path` and its size, when it is a regular file: checked with
    `lstat` before opening (a FIFO is never opened) and `fstat` after (no race)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None
        handle = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        info = os.fstat(handle)
    except OSError:
        info = None
    if info is None or not stat.S_ISREG(info.st_mode):
        os.close(handle)
        return None
    return handle, info.st_size


def prepare_parser(cache: ParseCache | None) -> None:
    """Make the process's parser before parsing (and before starting workers, which then
    share it): from the tables in `cache` when it holds good ones, else from python-hcl2's,
    storing them in `cache` for the next run."""
    from calico_sglint.terraform import larkparser

    if cache is None or not cache.enabled:
        larkparser.parser()
        return
    if not larkparser.has_parser():
        blob = cache.read(TABLES_KEY, MAX_TABLES_BYTES)
        if blob is not None and larkparser.parser_from_blob(blob):
            return
    elif os.path.lexists(cache.path(TABLES_KEY)):
        return
    cache.put(TABLES_KEY, larkparser.derive(), MAX_TABLES_BYTES)


def open_cache(directory: str | None, keep: Iterable[str] | None = None) -> ParseCache | None:
    """The cache in `directory` for this parser (and pruning), or None without a directory."""
    if not directory:
        return None
    return ParseCache(os.path.abspath(directory), parser_fingerprint(keep))


def clear_cache(directory: str) -> tuple[int, int]:
    """Delete every entry sglint wrote under `directory`; return (files, bytes) removed.
    Only `<directory>/parsed/` and the cache tag are touched, and there only files that
    start with sglint's header (or are its tag): whatever else is there stays."""
    removed = size = 0
    parsed = os.path.join(directory, PARSED_DIR)
    for top, dirs, files in os.walk(parsed, topdown=False):
        for name in files:
            path = os.path.join(top, name)
            length = _written_by_sglint(path, _MAGIC + b" ")
            if length is not None and _remove(path):
                removed += 1
                size += length
        for name in dirs:
            try:
                os.rmdir(os.path.join(top, name))  # only when empty
            except OSError:
                pass
    try:
        os.rmdir(parsed)
    except OSError:
        pass
    tag = os.path.join(directory, _TAG_NAME)
    if _written_by_sglint(tag, _TAG.encode("ascii")) is not None:
        _remove(tag)
    return removed, size


def _written_by_sglint(path: str, start: bytes) -> int | None:
    """The size of `path` when it is a regular file starting with `start`, else None."""
    opened = _open_regular(path)
    if opened is None:
        return None
    handle, size = opened
    try:
        head = os.read(handle, len(start))
    except OSError:
        return None
    finally:
        os.close(handle)
    return size if head == start else None


def _remove(path: str) -> bool:
    try:
        os.remove(path)
    except OSError:
        return False
    return True
