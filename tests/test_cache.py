"""cache.py: where the cache lives, what an entry holds, hits and misses, corrupt, truncated
and foreign entries, concurrent writers, an unusable directory, and `cache clear`."""

from __future__ import annotations

import multiprocessing
import os
import pickle
from pathlib import Path

import pytest
from conftest import EXAMPLES, FIXTURES, write

from calico_sglint.source import InputError
from calico_sglint.terraform import batch, cache
from calico_sglint.terraform.cache import (
    ParseCache,
    Parsed,
    clear_cache,
    content_key,
    default_cache_dir,
    dumps_pack,
    loads_pack,
    open_cache,
    pack_key,
    parser_fingerprint,
    parser_sources,
)
from calico_sglint.terraform.parse import parse_file

SG = 'resource "aws_security_group" "a" {\n  name = "a"\n}\n'
VARS = 'variable "n" {\n  default = 2\n}\n'


def module(root: Path, **files: str) -> list[tuple[str, str]]:
    """Write a module; return its (path, display) requests, sorted like discovery."""
    write(root, files)
    return [(str(root / name), f"{root.name}/{name}") for name in sorted(files)]


def entry_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != "CACHEDIR.TAG")


# --- where ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "platform", "expected"),
    [
        ({"SGLINT_CACHE_DIR": "/c", "XDG_CACHE_HOME": "/x"}, "linux", "/c"),
        ({"XDG_CACHE_HOME": "/x"}, "linux", "/x/calico-sglint"),
        ({}, "linux", "~/.cache/calico-sglint"),
        ({"XDG_CACHE_HOME": "/x"}, "darwin", "/x/calico-sglint"),
        ({}, "darwin", "~/Library/Caches/calico-sglint"),
        ({"LOCALAPPDATA": "/l"}, "win32", "/l/calico-sglint/Cache"),
        ({"SGLINT_CACHE_DIR": ""}, "linux", "~/.cache/calico-sglint"),
    ],
)
def test_default_cache_dir(env: dict[str, str], platform: str, expected: str) -> None:
    assert default_cache_dir(env, platform).replace(os.sep, "/") == os.path.expanduser(expected).replace(os.sep, "/")


def test_the_fingerprint_changes_with_the_types_kept_whole() -> None:
    assert parser_fingerprint(None) != parser_fingerprint({"aws_security_group"})
    assert parser_fingerprint({"a", "b"}) == parser_fingerprint(["b", "a"])
    assert len(parser_fingerprint(None)) == 16


# --- what an entry holds -----------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.tf")) + sorted(EXAMPLES.rglob("*.tf")), ids=str)
def test_entries_round_trip_every_fixture(path: Path) -> None:
    try:
        file = parse_file(str(path), "shown.tf")
    except InputError as err:
        assert loads_pack(dumps_pack([cache.parsed_of(err)]), 1) == [Parsed(None, (), (err.message, err.line))]
        return
    (parsed,) = loads_pack(dumps_pack([cache.parsed_of(file)]), 1) or [None]
    assert parsed is not None
    assert parsed.to_file("shown.tf", file.digest) == file
    assert file.digest == content_key(path.read_bytes())


def test_a_module_pickle_shares_its_names() -> None:
    one = parse_file(str(EXAMPLES / "typha-blocked" / "main.tf"))
    entries = loads_pack(dumps_pack([cache.parsed_of(one)] * 2), 2)
    assert entries is not None and entries[0].body is entries[1].body
    names = [b.type for b in entries[0].body.blocks if b.type == "resource"]
    assert len({id(n) for n in names}) == 1


def test_an_entry_holds_no_path_and_gets_the_display_path_back(tmp_path: Path) -> None:
    first = module(tmp_path / "one", **{"main.tf": SG})
    second = module(tmp_path / "elsewhere" / "two", **{"sg.tf": SG})
    store = open_cache(str(tmp_path / "cache"))
    (a,) = batch.parse_batch(first, store, 1)
    (b,) = batch.parse_batch(second, store, 1)  # a hit: same bytes, same module shape
    assert len(entry_files(tmp_path / "cache")) == 1
    assert (a.path, b.path) == ("one/main.tf", "two/sg.tf")
    assert a.body == b.body and a.digest == b.digest
    assert b"one/main.tf" not in entry_files(tmp_path / "cache")[0].read_bytes()


def test_parse_errors_are_cached_as_values_with_the_path_reattached(tmp_path: Path) -> None:
    requests = module(tmp_path / "m", **{"bad.tf": 'x = "open\n'})
    store = open_cache(str(tmp_path / "cache"))
    (first,) = batch.parse_batch(requests, store, 1)
    (second,) = batch.parse_batch([(requests[0][0], "other/bad.tf")], store, 1)
    assert isinstance(first, InputError) and isinstance(second, InputError)
    assert (first.file, second.file, first.line, first.message) == ("m/bad.tf", "other/bad.tf", second.line, second.message)


# --- hits and misses --------------------------------------------------------------------


def test_a_hit_is_read_from_the_cache(tmp_path: Path) -> None:
    store = open_cache(str(tmp_path / "cache"))
    one = module(tmp_path / "one", **{"main.tf": SG})
    two = module(tmp_path / "two", **{"main.tf": VARS})
    batch.parse_batch(one, store, 1)
    batch.parse_batch(two, store, 1)
    assert store is not None
    key_one = pack_key([content_key(Path(one[0][0]).read_bytes())])
    key_two = pack_key([content_key(Path(two[0][0]).read_bytes())])
    # Swap the stored entries: a run that reads the cache now sees the other module's body.
    data_one, data_two = Path(store.path(key_one)).read_bytes(), Path(store.path(key_two)).read_bytes()
    Path(store.path(key_one)).write_bytes(data_two)
    (file,) = batch.parse_batch(one, store, 1)
    assert file.body.blocks[0].type == "variable"
    Path(store.path(key_one)).write_bytes(data_one)


def test_a_changed_file_is_a_miss(tmp_path: Path) -> None:
    store = open_cache(str(tmp_path / "cache"))
    requests = module(tmp_path / "m", **{"a.tf": SG, "b.tf": VARS})
    batch.parse_batch(requests, store, 1)
    (tmp_path / "m" / "b.tf").write_text(VARS.replace("2", "3"))
    _, b = batch.parse_batch(requests, store, 1)
    assert b.body.blocks[0].body.attributes["default"].expr.value == 3
    assert len(entry_files(tmp_path / "cache")) == 2  # one entry per version of the module


def test_no_cache_directory_means_no_cache() -> None:
    assert open_cache(None) is None and open_cache("") is None


# --- corrupt, truncated, foreign ---------------------------------------------------------


def _stored(tmp_path: Path) -> tuple[ParseCache, list[tuple[str, str]], Path]:
    store = open_cache(str(tmp_path / "cache"))
    assert store is not None
    requests = module(tmp_path / "m", **{"main.tf": SG, "vars.tf": VARS})
    expected = batch.parse_batch(requests, store, 1)
    (entry,) = entry_files(tmp_path / "cache")
    assert [f.body for f in expected] == [f.body for f in batch.parse_batch(requests, store, 1)]
    return store, requests, entry


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # truncated
        lambda data: data[:-1],  # the STOP opcode missing
        lambda data: b"",  # empty
        lambda data: b"\x80\x05garbage" + data[10:],  # corrupt
        lambda data: pickle.dumps(("not", "an", "entry")),  # well-formed, wrong shape
        lambda data: dumps_pack([Parsed(None, (), ("x", 1))]),  # one entry, two files
        lambda data: pickle.dumps((cache.FORMAT + 1, "pack", ())),  # another format
    ],
    ids=["truncated", "no-stop", "empty", "corrupt", "wrong-shape", "wrong-count", "format"],
)
def test_a_damaged_entry_is_a_miss_and_is_rewritten(tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
    store, requests, entry = _stored(tmp_path)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))
    files = batch.parse_batch(requests, store, 1)
    assert [f.path for f in files] == ["m/main.tf", "m/vars.tf"]
    assert files[0].body.blocks[0].labels == ("aws_security_group", "a")
    assert loads_pack(entry.read_bytes(), 2) is not None  # rewritten


class _Gadget:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.mkdir, (self.path,))

    def __init__(self, path: str) -> None:
        self.path = path


def test_a_foreign_pickle_never_runs(tmp_path: Path) -> None:
    store, requests, entry = _stored(tmp_path)
    marker = tmp_path / "pwned"
    gadget = _Gadget(str(marker))
    entry.write_bytes(pickle.dumps((cache.FORMAT, "pack", ((gadget, (), None), (gadget, (), None)))))
    batch.parse_batch(requests, store, 1)
    assert not marker.exists()
    assert loads_pack(pickle.dumps(gadget), 1) is None
    assert not marker.exists()


# --- writers ----------------------------------------------------------------------------


def _writer(args: tuple[str, list[tuple[str, str]]]) -> list[str]:
    directory, requests = args
    store = open_cache(directory)
    results = []
    for _ in range(5):
        results = [repr(f) for f in batch.parse_batch(requests, store, 1)]
    return results


def test_concurrent_writers_leave_whole_entries(tmp_path: Path) -> None:
    requests = []
    for index in range(12):
        requests += module(tmp_path / f"m{index}", **{"main.tf": SG.replace('"a"', f'"a{index}"'), "vars.tf": VARS})
    directory = str(tmp_path / "cache")
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        outcomes = pool.map(_writer, [(directory, requests)] * 8)
    assert all(outcome == outcomes[0] for outcome in outcomes)
    entries = entry_files(Path(directory))
    assert len(entries) == 12
    assert all(not p.name.startswith(".tmp-") for p in entries)
    assert all(loads_pack(p.read_bytes(), 2) is not None for p in entries)


def test_an_unusable_cache_directory_turns_the_cache_off(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the cache directory should be")
    store = open_cache(str(blocker))
    assert store is not None
    requests = module(tmp_path / "m", **{"main.tf": SG})
    (file,) = batch.parse_batch(requests, store, 1)
    assert file.body.blocks[0].type == "resource"
    assert store.enabled is False
    assert blocker.read_text().startswith("a file")


def test_entries_are_private(tmp_path: Path) -> None:
    _, _, entry = _stored(tmp_path)
    assert entry.stat().st_mode & 0o077 == 0
    assert entry.parent.stat().st_mode & 0o077 == 0
    assert (tmp_path / "cache" / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")


# --- clear ------------------------------------------------------------------------------


def test_clear_removes_only_what_sglint_wrote(tmp_path: Path) -> None:
    _stored(tmp_path)
    (tmp_path / "cache" / "parsed" / "abandoned").mkdir()
    (tmp_path / "cache" / "parsed" / "abandoned" / ".tmp-1-1-00").write_bytes(b"half")
    (tmp_path / "cache" / "notes.txt").write_text("the user's")
    files, size = clear_cache(str(tmp_path / "cache"))
    assert files == 2 and size > 0
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["notes.txt"]
    assert clear_cache(str(tmp_path / "nowhere")) == (0, 0)


def test_cache_commands(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path / "c"
    monkeypatch.setenv("SGLINT_CACHE_DIR", str(directory))
    assert sglint("cache", "dir").stdout.strip() == str(directory)
    assert sglint("check", str(EXAMPLES / "typha-blocked")).code == 1
    assert len(entry_files(directory)) == 1
    cleared = sglint("cache", "clear")
    assert (cleared.code, cleared.stdout.split()[:3]) == (0, ["removed", "1", "cached"])
    assert entry_files(directory) == []
    assert sglint("check", str(EXAMPLES / "typha-blocked"), "--no-cache").code == 1
    assert sglint("show", str(EXAMPLES / "typha-blocked"), "--no-cache").code == 0
    assert entry_files(directory) == []
    assert "--no-cache" in sglint("check", "--help").stdout
    assert "sglint cache clear" in sglint("cache", "--help").stdout


def test_the_parser_sources_in_the_fingerprint_exist_and_cover_the_parser() -> None:
    """A moved or renamed parser module must not silently drop out of the cache key."""
    from calico_sglint.terraform import cache, larkparser, parse, prune, syntax

    sources = parser_sources()
    assert all(os.path.isfile(path) for path in sources)
    for module in (cache, larkparser, parse, prune, syntax):
        assert os.path.abspath(module.__file__) in sources
