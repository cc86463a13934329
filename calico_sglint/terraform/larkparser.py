"""python-hcl2's Lark parser without position propagation: the parser the parse stage runs.

python-hcl2 builds its parser with `propagate_positions=True`, so Lark computes a start and
an end position for every tree node as it builds the tree: about a quarter of the parse.
sglint reads only line numbers, and takes them from the tokens each node starts and ends
with (`parse.py`), which is what Lark's positions are made of. So this is python-hcl2's
parser with that one option off: the same grammar, the same LALR tables, the same post-lexer,
the same plain (transformer-free) tree, its nodes built as slotted `Node`s.

Building LALR tables from the grammar takes seconds, so the tables are never built here:
they are read from python-hcl2's own table cache (the file Lark keeps beside its grammar)
when its header proves it was made for this grammar, these options and this Lark (Lark's
own check, with python-hcl2's options: a mismatch costs time, never correctness), else
taken from python-hcl2's parser and serialized into ours in memory; with a cache
directory, they are loaded from the copy kept there (`derive`/`parser_from_blob`, stored by
`cache.py` like any entry). What is loaded holds only plain data (no class is unpickled);
Lark checks its shape as it loads it.
"""

from __future__ import annotations

import io
import os
import pickle
from typing import Any

_PARSER: list[Any] = []  # the process's parser, once built (a Lark parser is reusable)


def parser() -> Any:
    """The parser (a `lark.Lark`), built on first use from python-hcl2's."""
    if not _PARSER:
        derive(keep=False)
    return _PARSER[0]


def has_parser() -> bool:
    """Whether this process has built or loaded its parser already."""
    return bool(_PARSER)


def derive(keep: bool = True) -> bytes:
    """Make the parser from python-hcl2's tables; return the tables pickled as plain data
    (what the cache keeps, for `parser_from_blob`), or b"" without `keep`."""
    data, memo = _hcl2_cached_tables() or _hcl2_tables()
    blob = pickle.dumps((data, memo), protocol=pickle.HIGHEST_PROTOCOL) if keep else b""
    _PARSER[:] = [_from_tables(data, memo)]
    return blob


def parser_from_blob(blob: bytes) -> bool:
    """Make the parser from tables `derive` returned; False (and no parser) when `blob`
    is not such tables. Only plain values are unpickled: a class in the stream is refused."""
    try:
        data, memo = _PlainUnpickler(io.BytesIO(blob)).load()
        built = _from_tables(data, memo)
    except Exception:  # noqa: BLE001 - damaged or foreign tables: the caller derives them
        return False
    _PARSER[:] = [built]
    return True


def _hcl2_tables() -> tuple[dict[str, Any], dict[int, Any]]:
    """python-hcl2's parser's tables and options as plain data (Lark's own serialization)."""
    from hcl2.parser import parser as hcl2_parser
    from lark.grammar import Rule
    from lark.lark import _LOAD_ALLOWED_OPTIONS
    from lark.lexer import TerminalDef

    data, memo = hcl2_parser().memo_serialize([TerminalDef, Rule])
    # The options given again at load time (the post-lexer object among them) are not data.
    data["options"] = {k: v for k, v in data["options"].items() if k not in _LOAD_ALLOWED_OPTIONS}
    return data, memo


# The options python-hcl2 builds its parser with (hcl2/parser.py), in its order: what Lark's
# table cache header is a digest of, with the grammar and Lark's and Python's versions.
HCL2_OPTIONS = ("parser", "lalr"), ("propagate_positions", True)


def _hcl2_cached_tables(path: str | None = None) -> tuple[dict[str, Any], dict[int, Any]] | None:
    """python-hcl2's tables as Lark cached them beside its grammar (or at `path`), or None
    unless the cache header matches (grammar, options, Lark, Python) and the content is
    plain data."""
    from hcl2.parser import PARSER_FILE
    from lark.lark import _LOAD_ALLOWED_OPTIONS

    path = path or str(PARSER_FILE)
    try:
        with open(path, "rb") as handle:
            if handle.readline().rstrip(b"\n") != cache_header(path).encode():
                return None
            _PlainUnpickler(handle).load()  # the grammar files it was built from
            cached = _PlainUnpickler(handle).load()
        data, memo = cached["data"], cached["memo"]
        data["options"] = {k: v for k, v in data["options"].items() if k not in _LOAD_ALLOWED_OPTIONS}
    except Exception:  # noqa: BLE001 - absent, stale or another layout: take the parser's
        return None
    return data, memo


def cache_header(path: str) -> str:
    """The first line Lark writes in the table cache at `path` of python-hcl2's parser: a
    digest of the grammar, the options, Lark's version and Python's."""
    import hashlib
    import sys

    import hcl2.parser as hcl2_parser
    from lark import __version__ as lark_version

    with open(os.path.join(os.path.dirname(hcl2_parser.__file__), "hcl2.lark"), encoding="utf-8") as handle:
        grammar = handle.read()
    (parser_option, parser), (positions_option, positions) = HCL2_OPTIONS
    options = f"{parser_option}{parser}cache{path}{positions_option}{positions}"
    return hashlib.sha256((grammar + options + lark_version + str(sys.version_info[:2])).encode()).hexdigest()


def _from_tables(data: dict[str, Any], memo: dict[int, Any]) -> Any:
    """A Lark parser from serialized tables, with python-hcl2's post-lexer, no positions and
    `Node` for tree nodes. (`_load_from_dict` is how Lark's standalone parsers load their
    tables.)"""
    from hcl2.postlexer import PostLexer
    from lark import Lark

    return Lark._load_from_dict(data, memo, propagate_positions=False, postlex=PostLexer(), tree_class=Node)


class Node:
    """A tree node as the parser builds it (Lark's `tree_class`): the rule's name and the
    children, which is all `parse.py` reads. Without Lark's `Tree`'s instance dictionary and
    position slot it is quicker to make: about 6% of a parse."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list[Any], meta: Any = None) -> None:
        self.data = data
        self.children = children


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles containers, strings and numbers only."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")
