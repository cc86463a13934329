"""python-hcl2's Lark parser without position propagation: the parser the parse stage runs.

python-hcl2 builds its parser with `propagate_positions=True`, so Lark computes a start and
an end position for every tree node as it builds the tree: about a quarter of the parse.
sglint reads only line numbers, and takes them from the tokens each node starts and ends
with (`parse.py`), which is what Lark's positions are made of. So this is python-hcl2's
parser with that one option off: the same grammar, the same LALR tables, the same post-lexer,
the same plain (transformer-free) Lark tree.

Building LALR tables from the grammar takes seconds, so the tables are never built here:
they are taken from python-hcl2's own parser (which loads them from its own table cache)
and serialized into ours in memory, or, with a cache directory, loaded from the copy kept
there (`derive`/`parser_from_blob`, stored by `cache.py` like any entry). The loaded
copy holds only plain data (no class is unpickled); Lark checks its shape as it loads it.
"""

from __future__ import annotations

import io
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
    data, memo = _hcl2_tables()
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


def _from_tables(data: dict[str, Any], memo: dict[int, Any]) -> Any:
    """A Lark parser from serialized tables, with python-hcl2's post-lexer and no positions.
    (`_load_from_dict` is how Lark's standalone parsers load their tables.)"""
    from hcl2.postlexer import PostLexer
    from lark import Lark

    return Lark._load_from_dict(data, memo, propagate_positions=False, postlex=PostLexer())


class _PlainUnpickler(pickle.Unpickler):
    """Unpickles containers, strings and numbers only."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"{module}.{name} is not plain data")
