"""cache.py: where the cache lives, what an entry holds, hits and misses, corrupt, truncated
and foreign entries, concurrent writers, an unusable directory, and `cache clear`."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLES, FIXTURES, write

from calico_sglint.source import InputError
from calico_sglint.terraform import batch, cache, syntax
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
    """The module entries under `directory` (not the tag, not the parser tables)."""
    skip = ("CACHEDIR.TAG", cache.TABLES_KEY)
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name not in skip)


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
    assert store is not None
    one = module(tmp_path / "one", **{"main.tf": SG})
    key_one = pack_key([content_key(Path(one[0][0]).read_bytes())])
    # An entry written for module one's key that holds another body: a run uses it as it is.
    store.put(key_one, dumps_pack([Parsed(parse_file(str(write(tmp_path, {"v.tf": VARS}) / "v.tf")).body)]), 10**6)
    (file,) = batch.parse_batch(one, store, 1)
    assert file.body.blocks[0].type == "variable"


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


def payload(store: ParseCache, entry: Path) -> bytes:
    """An entry file's pickle, after the header that says what it was written for."""
    data = entry.read_bytes()
    header = store.header(entry.name)
    assert data.startswith(header)
    return data[len(header) :]


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
    entry.write_bytes(store.header(entry.name) + damage(payload(store, entry)))
    files = batch.parse_batch(requests, store, 1)
    assert [f.path for f in files] == ["m/main.tf", "m/vars.tf"]
    assert files[0].body.blocks[0].labels == ("aws_security_group", "a")
    assert loads_pack(payload(store, entry), 2) is not None  # rewritten


class _Gadget:
    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.mkdir, (self.path,))

    def __init__(self, path: str) -> None:
        self.path = path


def test_a_foreign_pickle_never_runs(tmp_path: Path) -> None:
    store, requests, entry = _stored(tmp_path)
    marker = tmp_path / "pwned"
    gadget = _Gadget(str(marker))
    hostile = pickle.dumps((cache.FORMAT, "pack", ((gadget, (), None), (gadget, (), None))))
    entry.write_bytes(store.header(entry.name) + hostile)
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


@pytest.mark.slow
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
    store = open_cache(directory)
    assert store is not None
    assert all(loads_pack(payload(store, p), 2) is not None for p in entries)


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
    store, _, entry = _stored(tmp_path)
    root = tmp_path / "cache"
    (root / "parsed" / "abandoned").mkdir()
    (root / "parsed" / "abandoned" / ".tmp-1-1-00").write_bytes(store.header("x")[:20])  # a writer died
    foreign = root / "parsed" / entry.parent.parent.name / entry.parent.name / "f00d"
    foreign.write_bytes(b"someone else's file, in our directory")
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours")
    (root / "parsed" / "link").symlink_to(outside)
    (root / "notes.txt").write_text("the user's")
    ours = [entry, root / "parsed" / store.fingerprint / cache.TABLES_KEY, root / "parsed" / "abandoned" / ".tmp-1-1-00"]
    sizes = sum(p.stat().st_size for p in ours)
    assert clear_cache(str(root)) == (3, sizes)
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())
    assert left == sorted(["notes.txt", "parsed/link", str(foreign.relative_to(root))])
    assert foreign.read_bytes().startswith(b"someone else's") and outside.read_text() == "not ours"
    assert clear_cache(str(tmp_path / "nowhere")) == (0, 0)


def test_clear_keeps_a_foreign_cache_tag(tmp_path: Path) -> None:
    (tmp_path / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n# another tool's\n")
    assert clear_cache(str(tmp_path)) == (0, 0)
    assert (tmp_path / "CACHEDIR.TAG").exists()


# --- an entry must prove it belongs (#17: the cache cannot change an answer) --------------


@pytest.fixture
def cached_example(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The failing incident example, checked once with a cache: (module, its entry file,
    a `check` run with the cache, the findings `--no-cache` gives)."""
    monkeypatch.setenv("SGLINT_CACHE_DIR", str(tmp_path / "cache"))
    failing = tmp_path / "failing"
    shutil.copytree(EXAMPLES / "typha-blocked", failing)

    def check(target: Path = failing) -> tuple[int, str]:
        result = sglint("check", str(target), "--format", "json")
        return result.code, result.stdout

    uncached = sglint("check", str(failing), "--format", "json", "--no-cache")
    assert uncached.code == 1
    assert check() == (1, uncached.stdout)
    (entry,) = entry_files(tmp_path / "cache")
    return failing, entry, check, (1, uncached.stdout)


def test_an_entry_copied_over_another_modules_key_is_a_miss(sglint, cached_example, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    failing, entry, check, uncached = cached_example
    passing = tmp_path / "passing"
    shutil.copytree(failing, passing)
    assert sglint("fix", str(passing), "--no-cache").code == 0
    added = passing / "calico_sglint.tf"
    with open(passing / "main.tf", "a") as main:  # one file, like the failing module
        main.write(added.read_text())
    added.unlink()
    assert check(passing)[0] == 0
    (passing_entry,) = set(entry_files(tmp_path / "cache")) - {entry}
    entry.write_bytes(passing_entry.read_bytes())  # a passing module's entry at failing's key
    assert check() == uncached
    assert entry.read_bytes() != passing_entry.read_bytes()  # the miss was rewritten


def test_a_fifo_entry_is_a_miss_not_a_hang(cached_example) -> None:  # type: ignore[no-untyped-def]
    _, entry, check, uncached = cached_example
    entry.unlink()
    os.mkfifo(entry)
    assert check() == uncached
    assert entry.is_file()  # replaced by a real entry


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_entry_that_is_a_symlink_to_a_device_is_a_miss(cached_example, device: str) -> None:  # type: ignore[no-untyped-def]
    _, entry, check, uncached = cached_example
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    entry.unlink()
    entry.symlink_to(device)
    assert check() == uncached


def test_an_entry_that_is_a_symlink_to_a_good_entry_is_a_miss(cached_example, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, entry, check, uncached = cached_example
    elsewhere = tmp_path / "elsewhere"
    entry.rename(elsewhere)
    entry.symlink_to(elsewhere)  # sglint never writes symlinks
    assert check() == uncached
    assert not entry.is_symlink()


def _wrong_shapes(good: Parsed) -> list[bytes]:
    """Entries of the right outer shape whose tree holds what the parser never produces."""
    import dataclasses

    body = good.body
    assert body is not None
    resource = body.blocks[3]
    attribute = next(iter(resource.body.attributes.values()))
    swaps = [
        dataclasses.replace(attribute, expr="not an expression"),  # type: ignore[arg-type]
        dataclasses.replace(attribute, line="12"),  # type: ignore[arg-type]
        dataclasses.replace(attribute, expr=syntax.BinaryOp("**", attribute.expr, attribute.expr, 1)),
        dataclasses.replace(attribute, expr=syntax.TupleExpr([attribute.expr], 1)),  # type: ignore[arg-type]
        dataclasses.replace(attribute, expr=syntax.Literal(syntax.Name("x", 1), 1)),
    ]
    out = []
    for bad in swaps:
        attributes = {**resource.body.attributes, attribute.name: bad}
        block = dataclasses.replace(resource, body=syntax.Body(attributes, resource.body.blocks))
        blocks = (*body.blocks[:3], block, *body.blocks[4:])
        out.append(dumps_pack([Parsed(syntax.Body(body.attributes, blocks), good.directives)]))
    out.append(dumps_pack([Parsed(syntax.Body(list(body.blocks), ()), good.directives)]))  # type: ignore[arg-type]
    out.append(dumps_pack([Parsed(syntax.Body({"x": resource}, ()), good.directives)]))  # type: ignore[dict-item]
    out.append(dumps_pack([Parsed(syntax.Body({"x": attribute}, ()), good.directives)]))  # named "x", is not
    out.append(dumps_pack([Parsed(body, (syntax.Comment("1", "x", 0),))]))  # type: ignore[arg-type]
    return out


def test_a_wrong_shaped_entry_is_a_miss(cached_example) -> None:  # type: ignore[no-untyped-def]
    failing, entry, check, uncached = cached_example
    store = open_cache(str(entry.parents[3]))
    assert store is not None
    store.fingerprint = entry.parent.parent.name
    (good,) = loads_pack(payload(store, entry), 1) or [None]
    assert good is not None
    for bad in _wrong_shapes(good):
        entry.write_bytes(store.header(entry.name) + bad)
        assert check() == uncached
        assert loads_pack(payload(store, entry), 1) == [good]


def test_an_entry_over_its_size_cap_is_a_miss(cached_example) -> None:  # type: ignore[no-untyped-def]
    failing, entry, check, uncached = cached_example
    size = (failing / "main.tf").stat().st_size
    data = entry.read_bytes()
    entry.write_bytes(data + b"\0" * (cache.entry_cap(size) + 1))  # still a valid pickle first
    assert check() == uncached
    assert entry.read_bytes() == data


def test_the_checked_constructors_build_what_the_classes_build() -> None:
    """The cache builds nodes without `__init__`: every field must still be set."""
    import dataclasses

    from calico_sglint.terraform.wellformed import CONSTRUCTORS

    tree = parse_file(str(EXAMPLES / "typha-blocked" / "main.tf")).body
    assert loads_pack(dumps_pack([Parsed(tree)]), 1) == [Parsed(tree)]
    for cls in CONSTRUCTORS:
        assert all(f.default is dataclasses.MISSING for f in dataclasses.fields(cls)) or cls is syntax.Comment
        assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_cache_commands(sglint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path / "c"
    monkeypatch.setenv("SGLINT_CACHE_DIR", str(directory))
    assert sglint("cache", "dir").stdout.strip() == str(directory)
    assert sglint("check", str(EXAMPLES / "typha-blocked")).code == 1
    assert len(entry_files(directory)) == 1
    cleared = sglint("cache", "clear")
    assert (cleared.code, cleared.stdout.split()[:3]) == (0, ["removed", "2", "cached"])  # the entry and the parser tables
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


def test_only_a_regular_file_under_the_cap_is_read(tmp_path: Path) -> None:
    regular = tmp_path / "regular"
    regular.write_bytes(b"x" * 10)
    assert cache.read_regular_file(str(regular), 10) == b"x" * 10
    assert cache.read_regular_file(str(regular), 9) is None
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "link").symlink_to(regular)
    (tmp_path / "device").symlink_to("/dev/zero")
    (tmp_path / "directory").mkdir()
    for name in ("fifo", "link", "device", "directory", "missing"):
        assert cache.read_regular_file(str(tmp_path / name), 1 << 20) is None, name


def _fresh_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's parser forgotten for the test (restored after it)."""
    from calico_sglint.terraform import larkparser

    monkeypatch.setattr(larkparser, "_PARSER", [])


def test_the_parser_tables_come_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from calico_sglint.terraform import larkparser

    store = open_cache(str(tmp_path / "cache"))
    assert store is not None
    _fresh_parser(monkeypatch)
    cache.prepare_parser(store)
    tables = Path(store.path(cache.TABLES_KEY))
    assert tables.read_bytes().startswith(store.header(cache.TABLES_KEY))
    _fresh_parser(monkeypatch)

    def no_deriving() -> None:
        raise AssertionError("the tables should have come from the cache")

    monkeypatch.setattr(larkparser, "_hcl2_tables", no_deriving)
    cache.prepare_parser(store)
    (file,) = batch.parse_batch(module(tmp_path / "m", **{"main.tf": SG}), store, 1)
    assert file.body.blocks[0].labels == ("aws_security_group", "a")


@pytest.mark.parametrize("damage", [b"garbage", b""])
def test_damaged_parser_tables_are_derived_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: bytes) -> None:
    from calico_sglint.terraform import larkparser

    store = open_cache(str(tmp_path / "cache"))
    assert store is not None
    _fresh_parser(monkeypatch)
    cache.prepare_parser(store)
    tables = Path(store.path(cache.TABLES_KEY))
    good = tables.read_bytes()
    tables.write_bytes(store.header(cache.TABLES_KEY) + damage)
    _fresh_parser(monkeypatch)
    cache.prepare_parser(store)
    assert larkparser.has_parser() and tables.read_bytes() == good
    (file,) = batch.parse_batch(module(tmp_path / "m", **{"main.tf": SG}), store, 1)
    assert file.body.blocks[0].labels == ("aws_security_group", "a")
