"""YAML documents that remember the line of every key, so errors and sources can say where.

Used for rule packs and the config file (an error names the file, the line and the key) and
for Calico manifests (a detected setting names the line it came from).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import yaml

from calico_sglint.source import InputError

try:  # libyaml is much faster for big manifests; PyYAML's pure-Python loader also works
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path = tuple[Any, ...]
ALIAS_BUDGET = 10_000  # nodes that aliases may add to a document beyond the ones written out


class TagTolerantLoader(_Loader):  # type: ignore[misc]
    """The default loader, except that application tags (Ansible's `!vault`, CloudFormation's
    `!Ref`) load as null instead of failing the whole file."""


TagTolerantLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


@dataclass(frozen=True)
class YamlDoc:
    """One YAML document: its data and the 1-based line of each key or list item."""

    data: Any
    lines: dict[Path, int]
    file: str

    def line(self, *path: Any) -> int:
        """The line of `path` (e.g. ("spec", "calicoNetwork", "bgp")), or its nearest parent."""
        probe: Path = tuple(path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get((), 1)


def load_documents(text: str, file: str, loader_class: type | None = None) -> list[YamlDoc]:
    """Every document in `text`; a syntax error is an `InputError` with its line.
    `loader_class` (a subclass of the default loader) may add constructors, e.g. for tags."""
    loader = (loader_class or _Loader)(str(text))  # libyaml takes no str subclasses
    documents: list[YamlDoc] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            _check_aliases(node, file)
            data = loader.construct_document(node)
            lines: dict[Path, int] = {}
            _record(node, (), lines)
            documents.append(YamlDoc(data, lines, file))
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise InputError(f"invalid YAML: {err.problem or err}", file, line) from None
    except yaml.YAMLError as err:
        raise InputError(f"invalid YAML: {err}", file, 1) from None
    except (ValueError, TypeError, RecursionError) as err:  # e.g. an unhashable key
        raise InputError(f"invalid YAML: {err}", file, 1) from None
    finally:
        loader.dispose()
    return documents


def _check_aliases(root: yaml.Node, file: str) -> None:
    """Refuse a document whose aliases expand it by more than `ALIAS_BUDGET` nodes. A "billion
    laughs" document of a few hundred bytes nests aliases of aliases; every consumer here walks
    the data as a tree, which would then take longer than the universe has. Written-out nodes
    are free: a big manifest without aliases is never refused."""
    expanded: dict[int, int] = {}
    distinct: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:  # post-order without recursion: a deep document must not overflow the stack
        node, children_done = stack.pop()
        if id(node) in expanded:
            continue
        children = _children(node)
        if not children_done:
            if id(node) in distinct:  # reached again below itself: `&a [*a]`
                raise InputError("YAML alias refers to itself; not read", file, node.start_mark.line + 1)
            distinct.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in expanded)
            continue
        expanded[id(node)] = 1 + sum(expanded.get(id(child), 1) for child in children)
        if expanded[id(node)] - len(distinct) > ALIAS_BUDGET:
            line = node.start_mark.line + 1
            raise InputError(f"YAML aliases expand to more than {ALIAS_BUDGET:,} extra nodes; not read", file, line)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _record(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            child = path + (key,)
            lines[child] = key_node.start_mark.line + 1
            _record(value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _record(item, path + (index,), lines)


def walk(data: Any, path: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Every (path, value) in nested dicts and lists, parents before children."""
    yield path, data
    if isinstance(data, dict):
        for key, value in data.items():
            yield from walk(value, path + (key,))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from walk(value, path + (index,))
