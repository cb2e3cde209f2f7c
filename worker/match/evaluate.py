"""Compiled rule trees and the per-article state they are evaluated against.

`compile.py` turns a query's AST into these nodes, with term ids in place of
words and field scopes pushed down to the leaves; `RuleSet.match` fills an
`ArticleState` with where terms occurred and asks each candidate rule's root.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain, compress, count
from typing import Protocol

from worker.match.document import FIELDS
from worker.match.normalize import FieldText, TermWords
from worker.match.regex import Pattern
from worker.match.stem import StemIndex
from worker.models import Span

__all__ = [
    "ALL_FIELDS",
    "AndNode",
    "ArticleState",
    "CharSpan",
    "KeyEntry",
    "Leaf",
    "NearNode",
    "Node",
    "NotNode",
    "Occurrence",
    "OrNode",
    "Positional",
    "RegexNode",
    "StemNode",
    "StemTermNode",
    "StemWordSpec",
    "TermNode",
    "WordNode",
    "as_positional",
    "highlights",
]

ALL_FIELDS = (1 << len(FIELDS)) - 1  # field scopes are bit masks: title 1, summary 2, body 4

Occurrence = tuple[int, int, int]  # field index, first token, last token
# A NEAR operand's match: field, first and last token, and the (first, last)
# of each term inside it, which are what gets highlighted.
Position = tuple[int, int, int, tuple[tuple[int, int], ...]]
CharSpan = tuple[int, int, int]  # field index, original start, end


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A term the automaton finds: id, key, length in words, a check if needed,
    and its words as `FieldText.term_spans` takes them."""

    term_id: int
    key: str
    length: int
    verify: Callable[[FieldText, int], bool] | None
    words: TermWords


class ArticleState:
    """One article being matched: which terms occurred where, regex results."""

    __slots__ = (
        "_distinct",
        "_leaf_spans",
        "_span_objects",
        "_stem_hits",
        "_stem_occurrences",
        "_stem_tokens",
        "_word_occurrences",
        "all_stems",
        "all_words",
        "field_stems",
        "field_words",
        "fields",
        "found",
        "language",
        "located",
        "present",
        "regex_matches",
        "scanned",
        "stems",
    )

    def __init__(
        self,
        fields: list[FieldText],
        scanned: frozenset[int] = frozenset(),
        *,
        language: str | None = None,
        stems: StemIndex | None = None,
    ) -> None:
        self.fields = fields
        self._distinct: dict[int, set[str]] = {}  # each field's tokens, once each
        # `word~` terms: the article's language (a key of stem.LANGUAGES),
        # the rule set's index of them, and which (by key, `~form`) occurred.
        self.language = language
        self.stems = stems
        self.field_stems: list[frozenset[str]] = [frozenset() for _ in fields]
        self.all_stems: frozenset[str] = frozenset()
        # Per field: each word form that is an inflection of some `word~`, with their keys.
        self._stem_hits: dict[int, dict[str, tuple[str, ...]]] = {}
        self._stem_occurrences: dict[tuple[str, int], list[int]] = {}
        # Per field not written in ASCII: each word form's token, when asked for.
        self._stem_tokens: dict[int, dict[str, str]] = {}
        # Single-word terms: the rule words found in each field, and in any.
        self.field_words: list[frozenset[str]] = [frozenset() for _ in fields]
        self.all_words: frozenset[str] = frozenset()
        # Other terms (automaton): term id -> bit mask of fields, and occurrences.
        self.present: dict[int, int] = {}
        self.located: dict[int, list[Occurrence]] = {}
        # The terms located while scanning (a NEAR or a check needs them);
        # others are located the first time it is asked for.
        self.scanned = scanned
        # Every term that occurred in any field: words, and ids of other terms.
        self.found: set[str | int] = set()
        self.regex_matches: dict[int, list[CharSpan]] = {}
        # Positions of single words are only looked up for rules that need
        # them; matched rules often share terms (a country, a leader), so
        # spans and Span objects are made once per article.
        self._word_occurrences: dict[str, list[Occurrence]] = {}
        self._leaf_spans: dict[int, tuple[list[CharSpan], tuple[Span, ...]]] = {}
        self._span_objects: dict[CharSpan, Span] = {}

    def locations(self, term: KeyEntry) -> list[Occurrence]:
        """Where a term found by the automaton occurred."""
        found = self.located.get(term.term_id)
        if found is None:
            found = []
            if term.term_id not in self.scanned:
                present = self.present.get(term.term_id, 0)
                last = term.length - 1
                for index, field in enumerate(self.fields):
                    if present >> index & 1:
                        found.extend((index, i, i + last) for i in field.find_key(term.key))
            self.located[term.term_id] = found
        return found

    def word_occurrences(self, word: str) -> list[Occurrence]:
        found = self._word_occurrences.get(word)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                if word in self.field_words[index]:
                    found.extend((index, i, i) for i in field.find_key(f" {word} "))
            self._word_occurrences[word] = found
        return found

    def distinct_tokens(self, index: int) -> set[str]:
        """The tokens of field `index`, each once."""
        found = self._distinct.get(index)
        if found is None:
            found = self._distinct[index] = set(self.fields[index].tokens)
        return found

    def scan_stems(self, index: int) -> frozenset[str]:
        """The `word~` terms found in field `index` (needs `stems`), remembered."""
        assert self.stems is not None
        field = self.fields[index]
        forms = set(field.forms()) if not field.is_latin() else self.distinct_tokens(index)
        hits = self.stems.hits(forms, self.language)
        self._stem_hits[index] = hits
        return frozenset(chain.from_iterable(hits.values()))

    def stem_keys_at(self, index: int, position: int) -> tuple[str, ...]:
        """The `word~` terms the token at `position` of field `index` is a form of."""
        hits = self._stem_hits.get(index)
        return hits.get(self.fields[index].forms()[position], ()) if hits else ()

    def stem_tokens(self, key: str, index: int) -> list[str] | None:
        """The tokens of field `index` that are forms of the `word~` term `key`,
        if every occurrence of each is (so that they can be searched for as
        words); None when a token is also written in a form that is not (a
        Latin `Irana` beside a Cyrillic `Ирана`, say)."""
        hits = self._stem_hits.get(index, {})
        found = [form for form, keys in hits.items() if key in keys]
        field = self.fields[index]
        if field.is_latin():  # forms are the tokens
            return found
        token_of = self._stem_tokens.get(index)
        if token_of is None:
            token_of = dict(zip(field.forms(), field.tokens, strict=True))
            self._stem_tokens[index] = token_of
        tokens = {token_of[form] for form in found}
        for form, token in token_of.items():
            if token in tokens and key not in hits.get(form, ()):
                return None
        return sorted(tokens)

    def stem_positions(self, key: str, index: int) -> list[int]:
        """Token indexes in field `index` where the `word~` term `key` occurs."""
        found = self._stem_occurrences.get((key, index))
        if found is None:
            field = self.fields[index]
            if field.is_latin():  # forms are the tokens: searched for as words
                tokens = self.stem_tokens(key, index) or ()
                found = sorted(i for token in tokens for i in field.find_key(f" {token} "))
            else:
                hits = self._stem_hits.get(index, {})
                forms = {form for form, keys in hits.items() if key in keys}
                # Each token's form tested in C, not a loop over the field.
                found = list(compress(count(), map(forms.__contains__, field.forms())))
            self._stem_occurrences[key, index] = found
        return found

    def _stem_spans(self, node: StemNode) -> list[CharSpan]:
        # Searched for in the text itself where the forms or tokens say it all.
        found: list[CharSpan] = []
        key = node.key
        for index in node.field_indexes:
            if key not in self.field_stems[index]:
                continue
            field = self.fields[index]
            hits = self._stem_hits.get(index, {})
            direct = field.form_spans([form for form, keys in hits.items() if key in keys])
            if direct is not None:
                found += [(index, start, end) for start, end in direct]
                continue
            tokens = self.stem_tokens(key, index)
            if tokens is not None:
                spans = [field.word_spans(token) for token in tokens]
                if None not in spans:
                    direct = sorted(span for each in spans if each for span in each)
            if direct is None:
                found += [self.char_span(index, i, i) for i in self.stem_positions(node.key, index)]
            else:
                found += [(index, start, end) for start, end in direct]
        return found

    def char_span(self, field: int, first: int, last: int) -> CharSpan:
        start, end = self.fields[field].span(first, last)
        return field, start, end

    def leaf_spans(self, leaf: Leaf) -> list[CharSpan]:
        """Where a term occurred in its fields, as original offsets, in reading order."""
        cached = self._leaf_spans.get(leaf.slot)
        if cached is None:
            cached = self._leaf(leaf)
        return cached[0]

    def match_spans(self, leaves: tuple[Leaf, ...]) -> tuple[Span, ...]:
        """The spans of a match made of these terms: those of the terms that occurred."""
        present = [leaf for leaf in leaves if leaf.test(self)]
        cache = self._leaf_spans
        if len(present) == 1:
            # Often just one term, which other matched rules share (a
            # designation, a country): its Span tuple is made once.
            leaf = present[0]
            cached = cache.get(leaf.slot)
            return (cached or self._leaf(leaf))[1]
        found: set[CharSpan] = set()
        for leaf in present:
            cached = cache.get(leaf.slot)
            found.update((cached or self._leaf(leaf))[0])
        return tuple(map(self._span_objects.__getitem__, sorted(found)))

    def _leaf(self, leaf: Leaf) -> tuple[list[CharSpan], tuple[Span, ...]]:
        # Found field by field, each from its start: already in reading order.
        if isinstance(leaf, WordNode):
            found = self._word_spans(leaf)
        elif isinstance(leaf, TermNode):
            found = self._term_spans(leaf)
        elif isinstance(leaf, StemNode):
            found = self._stem_spans(leaf)
        else:
            found = [self.char_span(f, i, j) for f, i, j in leaf.occurrences(self)]
        cached = self._leaf_spans[leaf.slot] = (found, self._span_tuple(found))
        return cached

    def _word_spans(self, node: WordNode) -> list[CharSpan]:
        # Looked up in the text directly where it can be.
        found: list[CharSpan] = []
        word = node.word
        for index in node.field_indexes:
            if word not in self.field_words[index]:
                continue
            field = self.fields[index]
            direct = field.word_spans(word)
            if direct is None:
                firsts = field.find_key(f" {word} ")
                found += [(index, *field.span(i, i)) for i in firsts]
            else:
                found += [(index, start, end) for start, end in direct]
        return found

    def _term_spans(self, node: TermNode) -> list[CharSpan]:
        found: list[CharSpan] = []
        term = node.term
        present = self.present.get(node.term_id, 0) & node.fields
        for index, field in enumerate(self.fields):
            if not present >> index & 1:
                continue
            direct = field.term_spans(term.words)
            if direct is None:
                hits = _in_scope(self.locations(term), 1 << index)
                found += [self.char_span(f, i, j) for f, i, j in hits]
            else:
                found += [(index, start, end) for start, end in direct]
        return found

    def spans(self, found: Iterable[CharSpan]) -> tuple[Span, ...]:
        """Span objects in reading order: title first, then by offset."""
        return self._span_tuple(sorted(found))

    def _span_tuple(self, ordered: list[CharSpan]) -> tuple[Span, ...]:
        objects = self._span_objects
        result = []
        for char_span in ordered:
            span = objects.get(char_span)
            if span is None:
                field, start, end = char_span
                span = objects[char_span] = Span(FIELDS[field], start, end)
            result.append(span)
        return tuple(result)


class Node(Protocol):
    def test(self, state: ArticleState) -> bool: ...

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None: ...


class Positional(Node, Protocol):
    def positions(self, state: ArticleState) -> list[Position]: ...


def _in_scope(found: list[Occurrence], fields: int) -> list[Occurrence]:
    if fields == ALL_FIELDS:
        return found
    return [hit for hit in found if fields >> hit[0] & 1]


@dataclass(frozen=True, slots=True)
class WordNode:
    """A single plain word, found through the article's set of words."""

    slot: int  # the same word in the same fields is one node, numbered
    word: str
    fields: int  # bit mask
    field_indexes: tuple[int, ...]

    @property
    def key(self) -> str:
        return self.word

    def occurrences(self, state: ArticleState) -> list[Occurrence]:
        return _in_scope(state.word_occurrences(self.word), self.fields)

    def test(self, state: ArticleState) -> bool:
        if self.fields == ALL_FIELDS:
            return self.word in state.all_words
        return any(self.word in state.field_words[index] for index in self.field_indexes)

    def positions(self, state: ArticleState) -> list[Position]:
        return [(f, i, j, ((i, j),)) for f, i, j in self.occurrences(state)]

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        out.update(state.leaf_spans(self))


@dataclass(frozen=True, slots=True)
class TermNode:
    """A phrase, compound, `word*` or accented word, found by the automaton."""

    slot: int  # numbered with the `WordNode`s
    term_id: int
    fields: int  # bit mask
    term: KeyEntry

    @property
    def key(self) -> int:
        return self.term_id

    def occurrences(self, state: ArticleState) -> list[Occurrence]:
        return _in_scope(state.locations(self.term), self.fields)

    def test(self, state: ArticleState) -> bool:
        return bool(state.present.get(self.term_id, 0) & self.fields)

    def positions(self, state: ArticleState) -> list[Position]:
        return [(f, i, j, ((i, j),)) for f, i, j in self.occurrences(state)]

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        out.update(state.leaf_spans(self))


@dataclass(frozen=True, slots=True)
class StemNode:
    """A single `word~`, found through the article's stems and word forms."""

    slot: int  # numbered with the other leaves
    key: str  # `~` and the rule word's form
    fields: int  # bit mask
    field_indexes: tuple[int, ...]

    def occurrences(self, state: ArticleState) -> list[Occurrence]:
        return [
            (index, position, position)
            for index in self.field_indexes
            if self.key in state.field_stems[index]
            for position in state.stem_positions(self.key, index)
        ]

    def test(self, state: ArticleState) -> bool:
        if self.fields == ALL_FIELDS:
            return self.key in state.all_stems
        return any(self.key in state.field_stems[index] for index in self.field_indexes)

    def positions(self, state: ArticleState) -> list[Position]:
        return [(f, i, j, ((i, j),)) for f, i, j in self.occurrences(state)]

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        out.update(state.leaf_spans(self))


# One word of a phrase with a `word~` in it: text, prefix, accents, and the
# key of the `word~` term it is (None for the other words).
StemWordSpec = tuple[str, bool, frozenset[tuple[int, str]], str | None]


@dataclass(frozen=True, slots=True)
class StemTermNode:
    """A phrase or compound with a `word~` in it, checked word by word where
    its first `word~` occurred (which the rule set finds like a single one)."""

    slot: int
    term_id: int  # its own numbering, for the occurrences cache
    words: tuple[StemWordSpec, ...]
    fields: int
    field_indexes: tuple[int, ...]

    @property
    def anchor(self) -> tuple[int, str]:
        """The first `word~`: its offset in the phrase and its key."""
        for offset, (_, _, _, key) in enumerate(self.words):
            if key is not None:
                return offset, key
        raise AssertionError("a stem term has a word~")  # pragma: no cover

    def occurrences(self, state: ArticleState) -> list[Occurrence]:
        cached = state.located.get(-1 - self.term_id)
        if cached is not None:
            return cached
        found: list[Occurrence] = []
        offset, key = self.anchor
        last = len(self.words) - 1
        for index in self.field_indexes:
            if key not in state.field_stems[index]:
                continue
            field = state.fields[index]
            for position in state.stem_positions(key, index):
                first = position - offset
                inside = first >= 0 and first + last < len(field.tokens)
                if inside and self._holds(state, index, first):
                    found.append((index, first, first + last))
        state.located[-1 - self.term_id] = found
        return found

    def _holds(self, state: ArticleState, index: int, first: int) -> bool:
        field = state.fields[index]
        tokens = field.tokens
        for offset, (text, prefix, accents, key) in enumerate(self.words):
            position = first + offset
            token = tokens[position]
            if key is not None:
                if key not in state.stem_keys_at(index, position):
                    return False
                continue
            if not (token.startswith(text) if prefix else token == text):
                return False
            if accents and not accents.issubset(field.accents(position)):
                return False
        return True

    def test(self, state: ArticleState) -> bool:
        return bool(self.occurrences(state))

    def positions(self, state: ArticleState) -> list[Position]:
        return [(f, i, j, ((i, j),)) for f, i, j in self.occurrences(state)]

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        out.update(state.leaf_spans(self))


@dataclass(frozen=True, slots=True)
class RegexNode:
    regex_id: int
    pattern: Pattern
    fields: int

    def matches(self, state: ArticleState) -> list[CharSpan]:
        found = state.regex_matches.get(self.regex_id)
        if found is None:
            found = []
            for index, field in enumerate(state.fields):
                if not self.fields >> index & 1:
                    continue
                norm = field.norm()
                for match in self.pattern.finditer(norm.text):
                    if match.end() > match.start():  # an empty match highlights nothing
                        found.append((index, *norm.original(match.start(), match.end())))
            state.regex_matches[self.regex_id] = found
        return found

    def test(self, state: ArticleState) -> bool:
        return bool(self.matches(state))

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        out.update(self.matches(state))


@dataclass(frozen=True, slots=True)
class AndNode:
    operands: tuple[Node, ...]

    def test(self, state: ArticleState) -> bool:
        # A plain loop: evaluation is hot, and all() over a generator is slower.
        for operand in self.operands:  # noqa: SIM110
            if not operand.test(state):
                return False
        return True

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        for operand in self.operands:
            operand.collect(state, out)


@dataclass(frozen=True, slots=True)
class OrNode:
    operands: tuple[Node, ...]

    def test(self, state: ArticleState) -> bool:
        for operand in self.operands:  # noqa: SIM110
            if operand.test(state):
                return True
        return False

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        for operand in self.operands:
            if operand.test(state):
                operand.collect(state, out)

    def positions(self, state: ArticleState) -> list[Position]:
        # Only called on OR-groups the parser accepted as NEAR operands.
        found: list[Position] = []
        for operand in self.operands:
            found.extend(as_positional(operand).positions(state))
        return found


@dataclass(frozen=True, slots=True)
class NotNode:
    operand: Node

    def test(self, state: ArticleState) -> bool:
        return not self.operand.test(state)

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        return None  # what is absent has no place to highlight


@dataclass(frozen=True, slots=True)
class NearNode:
    left: Positional
    right: Positional
    distance: int

    def positions(self, state: ArticleState) -> list[Position]:
        rights = self.right.positions(state)
        if not rights:
            return []
        return [
            (f, min(i, k), max(j, m), parts + other)
            for f, i, j, parts in self.left.positions(state)
            for g, k, m, other in rights
            # words between = later start - earlier end - 1 (negative if they overlap)
            if f == g and max(i, k) - min(j, m) - 1 <= self.distance
        ]

    def test(self, state: ArticleState) -> bool:
        return bool(self.positions(state))

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        for field, _, _, parts in self.positions(state):
            out.update(state.char_span(field, i, j) for i, j in parts)


Leaf = WordNode | TermNode | StemNode | StemTermNode
_LEAVES = (WordNode, TermNode, StemNode, StemTermNode)


def highlights(root: Node) -> tuple[Leaf, ...] | None:
    """The terms whose spans a match of `root` shows, each if it occurred; None
    when that takes walking the tree (NEAR, regex, AND inside OR).

    `collect` takes every operand of a true AND and the true operands of an
    OR; with no AND below an OR, that is every term that occurred outside NOT.
    """
    if isinstance(root, _LEAVES):
        return (root,)
    if isinstance(root, NotNode):
        return ()
    if isinstance(root, AndNode | OrNode):
        found: list[Leaf] = []
        for operand in root.operands:
            if isinstance(root, OrNode) and isinstance(operand, AndNode):
                return None
            leaves = highlights(operand)
            if leaves is None:
                return None
            found.extend(leaves)
        return tuple(found)
    return None


def as_positional(node: Node) -> Positional:
    if isinstance(node, (*_LEAVES, OrNode, NearNode)):
        return node
    raise TypeError(f"not a NEAR operand: {node!r}")  # the parser rules this out
