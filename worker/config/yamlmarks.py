"""YAML loading that remembers the line of every key and list item.

PyYAML's ordinary loaders return plain dicts and lists and forget where each
value came from, but a config error is only useful when it names the line to
fix. So the document is composed into nodes (which carry their position) and
turned into plain data here, recording ``path -> line`` on the way.

Also, on purpose, unlike ``yaml.safe_load``:
- a key given twice in one mapping is reported, not silently overwritten;
- ``18:00`` stays the string ``"18:00"``: YAML 1.1 reads unquoted
  ``hh:mm`` as a base-60 integer (64800), which is never what a digest time
  in a config file means;
- a document whose aliases would expand past `MAX_EXPANDED_NODES` (a
  "billion laughs" file), or that nests past `MAX_DEPTH`, is a syntax error
  found before anything is built: composing keeps an alias as one shared
  node, so the check costs one pass over the file as written.

Only SafeLoader's tags are known: a tag that would build a Python object is
an error, never a call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "MAX_CONFIG_BYTES",
    "MAX_DEPTH",
    "MAX_EXPANDED_NODES",
    "DuplicateKey",
    "KeyPath",
    "Marked",
    "YamlSyntaxError",
    "compose_bounded",
    "load_marked",
    "new_loader",
]

KeyPath = tuple[str | int, ...]

_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_MERGE_TAG = "tag:yaml.org,2002:merge"

# A config of a few thousand sources is well under a megabyte; past this a
# file is a mistake (or an attack), and reading it would only waste a tick.
MAX_CONFIG_BYTES = 1 << 20
# Every node of the document once its aliases are expanded. Honest configs
# use aliases to share a few defaults; 200,000 is far above any of them, and
# walking that many plain values still takes well under a second.
MAX_EXPANDED_NODES = 200_000
# The tags a config value may carry, explicit or implied. SafeLoader knows a
# few more (!!set, !!omap, !!binary) and PyYAML's full loaders build Python
# objects from !!python/...; none of them belongs in a config file.
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}"
    for name in ("str", "int", "float", "bool", "null", "timestamp", "seq", "map", "merge")
)
# PyYAML composes recursively: a file of ten thousand `[` would otherwise
# end in RecursionError wherever the interpreter's stack happens to run out.
MAX_DEPTH = 100


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


class _FastLoader(yaml.CSafeLoader):
    """`_Loader` on libyaml, PyYAML's C parser: what a config is read with.

    A 10,000-source sources.yaml takes about 1.5 s of CPU instead of 7, and
    leaves far less freed memory behind in each worker that loads it
    (bench/idle_memory.py --sources). Its error messages are terser than the
    pure-Python parser's, so a file it refuses is read again by `_Loader`
    for the message (`load_marked`).
    """


_FastLoader.yaml_implicit_resolvers = _Loader.yaml_implicit_resolvers
_AnyLoader = _Loader | _FastLoader


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


def compose_bounded(text: str, loader: yaml.SafeLoader | yaml.CSafeLoader) -> Node | None:
    """The document's node graph from `loader` (made on `text`), checked for size.

    Raises YamlSyntaxError, with the line to look at, for a text over
    MAX_CONFIG_BYTES, nesting past MAX_DEPTH, or aliases that expand past
    MAX_EXPANDED_NODES. PyYAML's own errors propagate as they are.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_CONFIG_BYTES:
        raise YamlSyntaxError(f"file is larger than {MAX_CONFIG_BYTES // 1024} KiB", 1)
    _check_nesting(text, loader)
    root = loader.get_single_node()
    if root is not None:
        _check_graph(root)
    return root


def _check_nesting(text: str, loader: yaml.SafeLoader | yaml.CSafeLoader) -> None:
    """Refuse nesting past MAX_DEPTH from the event stream, before composing."""
    # The event parser is iterative; only the composer recurses. So the
    # events are read once on a second loader, and a depth found there is
    # refused before the composer could run out of stack.
    probe = type(loader)(text)
    depth = 0
    try:
        while _next_event_at(probe):
            event = probe.get_event()
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    mark = event.start_mark
                    raise YamlSyntaxError(
                        f"lists and mappings nested more than {MAX_DEPTH} deep",
                        mark.line + 1 if mark is not None else None,
                    )
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    finally:
        probe.dispose()


def _next_event_at(probe: yaml.SafeLoader | yaml.CSafeLoader) -> bool:
    """`probe.check_event()`, with libyaml's own depth limit (1,000, deeper than
    ours) reported as ours: its scanner may see the depth before our count does."""
    try:
        return bool(probe.check_event())
    except yaml.MarkedYAMLError as error:
        if "maximum nesting depth" not in (error.problem or ""):
            raise
        mark = error.problem_mark
        raise YamlSyntaxError(
            f"lists and mappings nested more than {MAX_DEPTH} deep",
            mark.line + 1 if mark is not None else None,
        ) from error


def _check_graph(root: Node) -> None:
    """Refuse a graph whose aliases would expand past MAX_EXPANDED_NODES,
    or that holds a tag other than plain data's.

    The expanded size of each distinct node is computed once (an alias is the
    same node object again), children before parents, without recursion.
    """
    sizes: dict[int, int] = {}
    entered: set[int] = set()
    stack: list[Node] = [root]
    while stack:
        node = stack[-1]
        if id(node) in sizes:
            stack.pop()
            continue
        children = _children(node)
        if id(node) not in entered:
            if node.tag not in _PLAIN_TAGS:
                raise YamlSyntaxError(f"the tag {node.tag!r} is not allowed here", _line(node))
            entered.add(id(node))
            # An entered node without a size is on the current path: an
            # alias to it is a cycle, which _Builder reports; it counts 1 here.
            stack.extend(child for child in children if id(child) not in entered)
            continue
        stack.pop()
        size = 1 + sum(sizes.get(id(child), 1) for child in children)
        if size > MAX_EXPANDED_NODES:
            raise YamlSyntaxError(
                f"aliases expand to more than {MAX_EXPANDED_NODES} values"
                " (a 'billion laughs' document?)",
                _line(node),
            )
        sizes[id(node)] = size


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def load_marked(text: str) -> Marked:
    """Parse one YAML document. Raises YamlSyntaxError, with its line."""
    try:
        return _load_marked(text, _FastLoader)
    except YamlSyntaxError as fast_error:
        if not isinstance(fast_error.__cause__, yaml.YAMLError):
            raise  # one of ours (size, depth, tags): the same from either parser
        try:
            _load_marked(text, _Loader)
        except YamlSyntaxError as error:
            raise error from None
        raise  # the parsers disagree: libyaml's verdict stands, in its words


def _load_marked(text: str, kind: type[_AnyLoader]) -> Marked:
    loader = new_loader(text, kind)
    try:
        root = compose_bounded(text, loader)
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


_L = TypeVar("_L", bound=yaml.SafeLoader | yaml.CSafeLoader)


def new_loader(text: str, loader_type: type[_L]) -> _L:
    """A loader for `text`. Raises YamlSyntaxError, with its line, for a control
    character (PyYAML's reader refuses them as soon as it is made)."""
    try:
        return loader_type(text)
    except yaml.YAMLError as error:
        position = getattr(error, "position", None)
        line = text.count("\n", 0, position) + 1 if isinstance(position, int) else None
        raise YamlSyntaxError(str(error).splitlines()[0], line) from error


class _Builder:
    def __init__(self, loader: _AnyLoader) -> None:
        self._loader = loader
        self.lines: dict[KeyPath, int] = {}
        self.duplicates: list[DuplicateKey] = []
        # Nodes being built right now: an alias to one of them is a cycle
        # (`a: &x [*x]`), which plain data cannot hold.
        self._open: set[int] = set()

    def build(self, node: Node, path: KeyPath) -> Any:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, ScalarNode):
            try:
                return self._loader.construct_object(node, deep=True)
            except (ValueError, TypeError, AttributeError, OverflowError) as error:
                # PyYAML's constructors fail this way on an explicit tag with
                # a value it cannot hold (`!!timestamp soon`, `!!int x`).
                tag = node.tag.replace("tag:yaml.org,2002:", "!!")
                raise YamlSyntaxError(f"{tag} cannot hold {node.value!r}", _line(node)) from error
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
