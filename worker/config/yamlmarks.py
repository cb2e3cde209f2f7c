"""YAML loading that remembers the line of every key and list item.

PyYAML's ordinary loaders return plain dicts and lists and forget where each
value came from, but a config error is only useful when it names the line to
fix. So the document is composed into nodes (which carry their position) and
turned into plain data here, recording ``path -> line`` on the way.

Also, on purpose, unlike ``yaml.safe_load``:
- a key given twice in one mapping is reported, not silently overwritten;
- ``18:00`` stays the string ``"18:00"``: YAML 1.1 reads unquoted
  ``hh:mm`` as a base-60 integer (64800), which is never what a digest time
  in a config file means.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["DuplicateKey", "KeyPath", "Marked", "YamlSyntaxError", "load_marked"]

KeyPath = tuple[str | int, ...]

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's sexagesimal (``12:30``) numbers."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_INT_TAG, _FLOAT_TAG)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    _INT_TAG,
    re.compile(
        r"""^(?:[-+]?0b[0-1_]+
        |[-+]?0[0-7_]+
        |[-+]?(?:0|[1-9][0-9_]*)
        |[-+]?0x[0-9a-fA-F_]+)$""",
        re.X,
    ),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    _FLOAT_TAG,
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)


class YamlSyntaxError(Exception):
    """The text is not YAML this loader accepts; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None) -> None:
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line is not None else message)


@dataclass(frozen=True, slots=True)
class DuplicateKey:
    """A key that appears twice in one mapping; `line` is the second one's."""

    path: KeyPath
    line: int


@dataclass(frozen=True, slots=True)
class Marked:
    """Plain data from a YAML document, with the 1-based line of every key and item.

    ``lines[("sources", 2, "url")]`` is the line of the ``url:`` key of the
    third item of ``sources``; ``lines[("sources", 2)]`` is where that item
    starts. ``data`` is None for an empty document.
    """

    data: Any
    lines: Mapping[KeyPath, int]
    duplicates: tuple[DuplicateKey, ...] = field(default=())

    def line(self, path: KeyPath) -> int | None:
        """The line of `path`, else of its closest recorded ancestor.

        An error about a key that is missing has no line of its own; the
        mapping that lacks it is the next best place to point at.
        """
        for end in range(len(path), -1, -1):
            found = self.lines.get(path[:end])
            if found is not None:
                return found
        return None


def load_marked(text: str) -> Marked:
    """Parse one YAML document. Raises YamlSyntaxError, with its line."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            # An empty file still has a first line to point at.
            return Marked(data=None, lines={(): 1})
        builder = _Builder(loader)
        data = builder.build(root, ())
        return Marked(data=data, lines=builder.lines, duplicates=tuple(builder.duplicates))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or "invalid YAML"
        if error.context:
            # The cause is often where the context began (a `[` never
            # closed), lines above the place the parser gave up.
            began = error.context_mark
            at = (
                f" at line {began.line + 1}" if began is not None and began.line + 1 != line else ""
            )
            problem = f"{problem} ({error.context}{at})"
        raise YamlSyntaxError(problem, line) from error
    except yaml.YAMLError as error:
        raise YamlSyntaxError(str(error), None) from error
    finally:
        loader.dispose()


class _Builder:
    def __init__(self, loader: _Loader) -> None:
        self._loader = loader
        self.lines: dict[KeyPath, int] = {}
        self.duplicates: list[DuplicateKey] = []
        # Nodes being built right now: an alias to one of them is a cycle
        # (`a: &x [*x]`), which plain data cannot hold.
        self._open: set[int] = set()

    def build(self, node: Node, path: KeyPath) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            return self._loader.construct_object(node, deep=True)
        if id(node) in self._open:
            raise YamlSyntaxError("an alias refers to the node that contains it", _line(node))
        self._open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                items = []
                for index, item in enumerate(node.value):
                    self.lines[(*path, index)] = item.start_mark.line + 1
                    items.append(self.build(item, (*path, index)))
                return items
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
        finally:
            self._open.discard(id(node))
        raise YamlSyntaxError(f"unsupported YAML node {node.tag}", _line(node))

    def _mapping(self, node: MappingNode, path: KeyPath) -> dict[str, Any]:
        # Duplicates are looked for before merge keys (`<<: *base`) are
        # expanded: a key that overrides a merged one is the point of merging.
        seen: set[str] = set()
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = _key(key_node)
            if key in seen:
                self.duplicates.append(DuplicateKey((*path, key), _line(key_node)))
            seen.add(key)
        self._loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key(key_node)
            # The last occurrence wins, as in PyYAML; its line is the one shown.
            self.lines[(*path, key)] = _line(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result


def _key(node: Node) -> str:
    # Keys are taken as written: `no:` or `on:` are unknown keys named "no"
    # and "on" to the user, not the booleans YAML 1.1 would make of them.
    if not isinstance(node, ScalarNode):
        raise YamlSyntaxError(
            "a mapping key must be a plain name, not a list or mapping", _line(node)
        )
    return str(node.value)


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1
