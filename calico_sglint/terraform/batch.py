"""Parse many files at once: each module from the cache when it holds it, the rest in
parallel when there are enough to pay for worker processes, always returned in the order
asked.

This is the `ParseMany` the CLI hands to `workspace.load_workspace`. Parse errors come back
as `InputError` values, like `workspace.parse_serially`, and the result for every file is
the same whichever way it was produced: cached, parsed here or parsed in a worker (tests
compare all of them). With `keep`, blocks that cannot matter are pruned (`prune.py`).

The unit of work is a module (the files of one directory): it is what the cache stores, and
what a worker parses and pickles, so that the parent only loads the pickle it gets back and
writes it to the cache as it is.
"""

from __future__ import annotations

import os
import sys
from typing import AbstractSet, Any, Callable, Iterator, Mapping

from calico_sglint.source import InputError
from calico_sglint.terraform.cache import (
    ParseCache,
    Parsed,
    content_key,
    dumps_pack,
    entry_cap,
    loads_pack,
    pack_key,
    parsed_of,
    prepare_parser,
)
from calico_sglint.terraform.parse import decode, parse_text, read_bytes
from calico_sglint.terraform.prune import prune_body
from calico_sglint.terraform.syntax import File

ParseMany = Callable[[list[tuple[str, str]]], "list[File | InputError]"]
_Member = tuple[int, str, str, bytes]  # (index in the request, display, content key, bytes)
_Module = tuple[str, list[tuple[str, bytes, str]]]  # (pack key, [(content key, bytes, display)])

# Worker processes pay off only for a large batch: a pool costs ~30 ms to start plus loading
# every result back. Measured on 2 cores, --no-cache, whole process (bench/generate.py
# modules of 13 files): 5 modules 0.55 s serial / 0.55 s with 2 workers, 10 modules
# 0.75 / 0.74, 30 modules 1.48 / 1.48, 100 modules 4.03 / 2.51. Measured again with the
# parser without position propagation on an idle 2-core machine (cold, medians of 5,
# alternating): 10 modules (143 KB) 1.25 s serial / 1.28 s pool; the terraform-aws-eks
# module root (38 files in 8 modules, 378 KB) 1.64 / 1.37. So a pool from ~200 KB, with a
# worker per ~96 KB; the work is shared out by module (a module's files stay together).
# With networkx imported while the workers parse (`meanwhile`), bench/pool.py, 9 rounds:
# 3 modules 0.98 / 0.78, 5 modules 0.74 / 0.72, 10 modules 0.92 / 0.96, 20 modules 1.20 /
# 0.97 (the pool's CPU 1.2-1.3x the serial run's): within this machine's noise below 20
# modules, so the threshold stays.
PARALLEL_MIN_FILES = 20
PARALLEL_MIN_BYTES = 200 * 1024
BYTES_PER_WORKER = 96 * 1024
# A worker is idle from its last chunk's end to the other's, half a chunk on average: at 16
# chunks a worker, 100 bench modules come in chunks of ~0.1 s (at 4 they were ~0.2-0.5 s).
CHUNKS_PER_WORKER = 16
FEW_COLLECTIONS = (100_000, 50, 100)  # gc thresholds for workers, as `cli` sets them


def parse_batch(
    files: list[tuple[str, str]],
    cache: ParseCache | None = None,
    jobs: int | None = None,
    keep: AbstractSet[str] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> list[File | InputError]:
    """Parse (path, display) pairs: each module's (directory's) files from the cache when
    it holds them, the rest serially or in `jobs` worker processes (None: one per core
    when it pays; 1: never in parallel). `keep`: the resource types to keep whole (None:
    everything, no pruning). `meanwhile`: work for this process while workers parse, called
    then (or not at all)."""
    results: list[File | InputError | None] = [None] * len(files)
    todo: list[tuple[_Module, list[_Member]]] = []
    for indices in _by_directory(files):
        members: list[_Member] = []
        for index in indices:
            path, display = files[index]
            try:
                data = read_bytes(path, display)
            except InputError as err:
                results[index] = err
                continue
            members.append((index, display, content_key(data), data))
        if not members:
            continue
        key = pack_key([m[2] for m in members])
        size = sum(len(m[3]) for m in members)
        entries = cache.get(key, len(members), size) if cache is not None else None
        if entries is None:
            todo.append(((key, [(m[2], m[3], m[1]) for m in members]), members))
            continue
        for (index, display, digest, _), entry in zip(members, entries):
            results[index] = _result(entry, display, digest)
    if todo:
        prepare_parser(cache)
    unique: dict[str, _Module] = {}  # identical directories (two installs of one module) parse once
    for module, _ in todo:
        unique.setdefault(module[0], module)
    parsed = dict(zip(unique, _parse_modules(list(unique.values()), jobs, keep, cache is not None, meanwhile)))
    for module, members in todo:
        for (index, display, digest, _), entry in zip(members, parsed[module[0]][0]):
            results[index] = _result(entry, display, digest)
    for key, (_, payload) in parsed.items():
        if cache is not None and payload is not None:
            cache.put(key, payload, entry_cap(sum(len(data) for _, data, _ in unique[key][1])))
    if any(result is None for result in results):
        raise RuntimeError("a file was neither cached nor parsed")  # a bug, not an input error
    return results  # type: ignore[return-value]


def make_parse_many(
    cache: ParseCache | None,
    jobs: int | None,
    keep: AbstractSet[str] | None = None,
    meanwhile: Callable[[], None] | None = None,
) -> ParseMany:
    """A `workspace.ParseMany` bound to a cache, a worker count, the types kept whole and
    what this process does while workers parse."""

    def parse_many(files: list[tuple[str, str]]) -> list[File | InputError]:
        return parse_batch(files, cache, jobs, keep, meanwhile)

    return parse_many


def parse_entry(data: bytes, display: str, key: str, keep: AbstractSet[str] | None) -> Parsed:
    """Parse one file's bytes into a path-independent entry; a parse error is a value."""
    try:
        file = parse_text(decode(data, display), display, key)
    except InputError as err:
        return parsed_of(err)
    body = file.body if keep is None else prune_body(file.body, keep)
    return Parsed(body, file.directives)


def cacheable(entry: Parsed) -> bool:
    """Whether an entry depends only on the bytes. How deep an expression may nest before
    Python's stack runs out depends on the process, so those errors are not kept."""
    return entry.error is None or "nested too deeply" not in entry.error[0]


def worker_count(jobs: int | None, files: int, size: int) -> int:
    """How many worker processes to parse `files` files of `size` bytes with (1: none)."""
    if jobs is not None and jobs <= 1:
        return 1
    if files < PARALLEL_MIN_FILES or size < PARALLEL_MIN_BYTES:
        return 1
    available = jobs or available_cpus()
    return max(1, min(available, size // BYTES_PER_WORKER))


def available_cpus() -> int:
    """CPUs this process may run on (a container's limit, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def jobs_from_env(env: Mapping[str, str]) -> int | None:
    """`SGLINT_JOBS`: a worker count (1 = serial); unset or invalid means automatic."""
    raw = env.get("SGLINT_JOBS", "").strip()
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def parse_module(
    module: _Module, keep: AbstractSet[str] | None, pickled: bool, seen: dict[str, Parsed]
) -> tuple[list[Parsed], bytes | None]:
    """A module's entries, and (`pickled`) its cache pickle, None if it must not be cached.
    `seen` holds entries by content key: a file seen before is not parsed again."""
    entries = []
    for digest, data, display in module[1]:
        entry = seen.get(digest)
        if entry is None:
            entry = seen[digest] = parse_entry(data, display, digest, keep)
        entries.append(entry)
    payload = dumps_pack(entries) if pickled and all(cacheable(e) for e in entries) else None
    return entries, payload


def _parse_modules(
    modules: list[_Module],
    jobs: int | None,
    keep: AbstractSet[str] | None,
    pickled: bool,
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[tuple[list[Parsed], bytes | None]]:
    """(entries, pickle) for each module, in order, serially or by worker processes (and
    serially after all when processes cannot be started)."""
    files = sum(len(m[1]) for m in modules)
    size = sum(_size(m) for m in modules)
    workers = worker_count(jobs, files, size)
    pool = _pool(workers) if workers > 1 else None
    if pool is not None:
        with pool:
            yield from _parse_in_workers(pool, modules, workers, keep, meanwhile)
        return
    seen: dict[str, Parsed] = {}
    for module in modules:
        yield parse_module(module, keep, pickled, seen)


def _pool(workers: int) -> Any:
    """A pool of `workers` processes, or None when processes cannot be started here
    (process limits, a sandbox without semaphores): then this process parses."""
    return start_pool(workers, _start_method())


def start_pool(workers: int, method: str) -> Any:
    """A `multiprocessing` pool of `workers` processes started by `method`, with the CLI's
    garbage-collector thresholds, or None when processes cannot be started here."""
    import gc
    import multiprocessing

    # Objects this process made so far are left out of the workers' garbage collections:
    # walking them would copy every inherited page (`gc.freeze`, meant for fork).
    gc.freeze()
    try:
        return multiprocessing.get_context(method).Pool(workers, initializer=_init_worker)
    except OSError:
        return None
    finally:
        gc.unfreeze()


def _result(entry: Parsed, display: str, key: str) -> File | InputError:
    try:
        return entry.to_file(display, key)
    except InputError as err:
        return err


def _by_directory(files: list[tuple[str, str]]) -> list[list[int]]:
    """Indices of `files` grouped by directory (a module), in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for index, (path, _) in enumerate(files):
        groups.setdefault(os.path.dirname(os.path.abspath(path)), []).append(index)
    return list(groups.values())


def _size(module: _Module) -> int:
    return sum(len(data) for _, data, _ in module[1])


def _chunks(modules: list[_Module], count: int) -> list[list[_Module]]:
    """`modules` in `count` contiguous runs of similar byte size (order kept)."""
    sizes = [_size(m) for m in modules]
    target = (sum(sizes) or 1) / count
    chunks: list[list[_Module]] = [[]]
    filled = 0
    for module, size in zip(modules, sizes):
        if chunks[-1] and filled >= target * len(chunks) and len(chunks) < count:
            chunks.append([])
        chunks[-1].append(module)
        filled += size
    return chunks


def _parse_in_workers(
    pool: Any,
    modules: list[_Module],
    workers: int,
    keep: AbstractSet[str] | None,
    meanwhile: Callable[[], None] | None,
) -> Iterator[tuple[list[Parsed], bytes | None]]:
    """(entries, pickle) for `modules` parsed by the `pool`'s processes, in order. The
    largest chunks go first, so that no worker is left with a large one at the end; each is
    loaded as it arrives, while the workers parse the next ones."""
    chunks = _chunks(modules, workers * CHUNKS_PER_WORKER)
    keep_arg = frozenset(keep) if keep is not None else None
    arrivals = pool.imap_unordered(_parse_chunk, [(i, chunks[i], keep_arg) for i in _largest_first(chunks)])
    if meanwhile is not None:
        meanwhile()
    loaded: dict[int, list[tuple[list[Parsed], bytes | None]]] = {}
    for index, payloads in arrivals:
        loaded[index] = [_loaded(files, *result) for (_, files), result in zip(chunks[index], payloads)]
    for index in range(len(chunks)):
        yield from loaded[index]


def _largest_first(chunks: list[list[_Module]]) -> list[int]:
    """The indices of `chunks`, largest (in bytes) first."""
    return sorted(range(len(chunks)), key=lambda i: -sum(_size(m) for m in chunks[i]))


def _loaded(files: list[tuple[str, bytes, str]], payload: bytes, cacheable_: bool) -> tuple[list[Parsed], bytes | None]:
    """A module's entries from a worker's pickle, and the pickle when it may be cached."""
    entries = loads_pack(payload, len(files))
    if entries is None:  # cannot happen: a worker just pickled it
        raise RuntimeError(f"the parse result of {files[0][2]} did not round-trip")
    return entries, payload if cacheable_ else None


def _start_method() -> str:
    """fork where it is the safe, cheap default (Linux: workers share the loaded modules);
    the platform's default elsewhere (spawn on macOS and Windows), which works too."""
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    if sys.platform.startswith("linux") and "fork" in methods:
        return "fork"
    return multiprocessing.get_start_method(allow_none=False)


def _init_worker() -> None:
    """In a worker: the CLI's garbage-collector thresholds (see `cli._few_collections`)."""
    import gc

    gc.set_threshold(*FEW_COLLECTIONS)


def _parse_chunk(
    arguments: tuple[int, list[_Module], frozenset[str] | None],
) -> tuple[int, list[tuple[bytes, bool]]]:
    """In a worker: the chunk's index, and each module's pickle and whether it may be cached."""
    index, modules, keep = arguments
    seen: dict[str, Parsed] = {}
    out = []
    for module in modules:
        entries, _ = parse_module(module, keep, False, seen)
        out.append((dumps_pack(entries), all(cacheable(e) for e in entries)))
    return index, out
