"""Compiled rule trees and the per-article state they are evaluated against.

`compile.py` turns a query's AST into these nodes, with term ids in place of
words and field scopes pushed down to the leaves; `RuleSet.match` fills an
`ArticleState` with where terms occurred and asks each candidate rule's root.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from worker.match.document import FIELDS
from worker.match.normalize import FieldText
from worker.models import Span

__all__ = [
    "ALL_FIELDS",
    "AndNode",
    "ArticleState",
    "CharSpan",
    "Hit",
    "KeyEntry",
    "NearNode",
    "Node",
    "NotNode",
    "Occurrence",
    "OrNode",
    "Positional",
    "RegexNode",
    "TermNode",
    "WordNode",
    "as_positional",
]

ALL_FIELDS = (1 << len(FIELDS)) - 1  # field scopes are bit masks: title 1, summary 2, body 4

Occurrence = tuple[int, int, int]  # field index, first token, last token
# A NEAR operand's match: field, first and last token, and the (first, last)
# of each term inside it, which are what gets highlighted.
Position = tuple[int, int, int, tuple[tuple[int, int], ...]]
CharSpan = tuple[int, int, int]  # field index, original start, end


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A term whose automaton key ended here: id, length in words, and a check if needed."""

    term_id: int
    length: int
    verify: Callable[[FieldText, int], bool] | None


# An automaton hit kept to be located later: end in the field's joined
# tokens, key length, and the terms of the key.
Hit = tuple[int, int, tuple[KeyEntry, ...]]


class ArticleState:
    """One article being matched: which terms occurred where, regex results."""

    __slots__ = (
        "_span_objects",
        "_term_spans",
        "_word_occurrences",
        "all_words",
        "aside",
        "aside_terms",
        "field_words",
        "fields",
        "found",
        "located",
        "present",
        "regex_matches",
    )

    def __init__(
        self, fields: list[FieldText], aside_terms: Mapping[int, str] | None = None
    ) -> None:
        self.fields = fields
        # Single-word terms: the rule words found in each field, and in any.
        self.field_words: list[frozenset[str]] = [frozenset() for _ in fields]
        self.all_words: frozenset[str] = frozenset()
        # Other terms (automaton): term id -> bit mask of fields, and occurrences.
        self.present: dict[int, int] = {}
        self.located: dict[int, list[Occurrence]] = {}
        # Hits of terms whose positions only matter to highlight, per field:
        # located the first time a position is asked for.
        self.aside: list[tuple[int, list[Hit]]] = []
        # The terms whose hits may be set aside, with their automaton keys.
        self.aside_terms: Mapping[int, str] = aside_terms or {}
        # Every term that occurred in any field: words, and ids of other terms.
        self.found: set[str | int] = set()
        self.regex_matches: dict[int, list[CharSpan]] = {}
        # Positions of single words are only looked up for rules that need
        # them; matched rules often share terms (a country, a leader), so
        # spans and Span objects are made once per article.
        self._word_occurrences: dict[str, list[Occurrence]] = {}
        self._term_spans: dict[tuple[str | int, int], list[CharSpan]] = {}
        self._span_objects: dict[CharSpan, Span] = {}

    def locations(self, term_id: int) -> list[Occurrence]:
        """Where a term found by the automaton occurred."""
        if self.aside and term_id in self.aside_terms:
            self._locate_aside()
        return self.located.get(term_id, [])

    def _locate_aside(self) -> None:
        located = self.located
        for field_index, hits in self.aside:
            joined = self.fields[field_index].joined
            cursor = spaces = 0  # as in RuleSet._scan_keys: token k follows space k+1
            for end, key_length, entries in hits:
                start = end - key_length + 2
                if start >= cursor:
                    spaces += joined.count(" ", cursor, start)
                else:
                    spaces -= joined.count(" ", start, cursor)
                cursor = start
                first = spaces - 1
                for entry in entries:
                    occurrence = (field_index, first, first + entry.length - 1)
                    located.setdefault(entry.term_id, []).append(occurrence)
        self.aside = []

    def word_occurrences(self, word: str) -> list[Occurrence]:
        found = self._word_occurrences.get(word)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                if word in self.field_words[index]:
                    found.extend((index, i, i) for i in field.find_word(word))
            self._word_occurrences[word] = found
        return found

    def char_span(self, field: int, first: int, last: int) -> CharSpan:
        start, end = self.fields[field].span(first, last)
        return field, start, end

    def word_spans(self, node: WordNode) -> list[CharSpan]:
        """Like `term_spans`, looking words up in the text directly where it can."""
        key = (node.word, node.fields)
        found = self._term_spans.get(key)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                if not node.fields >> index & 1 or node.word not in self.field_words[index]:
                    continue
                direct = field.word_spans(node.word)
                if direct is None:
                    spans = map(field.span, *([field.find_word(node.word)] * 2))
                    found.extend((index, start, end) for start, end in spans)
                else:
                    found.extend((index, start, end) for start, end in direct)
            self._term_spans[key] = found
        return found

    def term_spans(self, term: Leaf) -> list[CharSpan]:
        key = (term.key, term.fields)
        found = self._term_spans.get(key)
        if found is None:
            term_id = term.key
            automaton_key = self.aside_terms.get(term_id) if isinstance(term_id, int) else None
            if isinstance(term_id, int) and automaton_key is not None:
                found = self._key_spans(term_id, term.fields, automaton_key)
            else:
                found = [self.char_span(f, i, j) for f, i, j in term.occurrences(self)]
            self._term_spans[key] = found
        return found

    def _key_spans(self, term_id: int, fields: int, automaton_key: str) -> list[CharSpan]:
        """A set-aside term's spans, found in the text itself in fields that allow it."""
        found: list[CharSpan] = []
        present = self.present.get(term_id, 0) & fields
        for index, field in enumerate(self.fields):
            if not present >> index & 1:
                continue
            direct = field.key_spans(automaton_key)
            if direct is None:
                hits = _in_scope(self.locations(term_id), 1 << index)
                found.extend(self.char_span(f, i, j) for f, i, j in hits)
            else:
                found.extend((index, start, end) for start, end in direct)
        return found

    def spans(self, found: set[CharSpan]) -> tuple[Span, ...]:
        """Span objects in reading order: title first, then by offset."""
        objects = self._span_objects
        result = []
        for char_span in sorted(found):
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


class Leaf(Protocol):
    """A term: its key for caches, field mask, and where it occurs."""

    @property
    def key(self) -> str | int: ...

    @property
    def fields(self) -> int: ...

    def occurrences(self, state: ArticleState) -> list[Occurrence]: ...


def _in_scope(found: list[Occurrence], fields: int) -> list[Occurrence]:
    if fields == ALL_FIELDS:
        return found
    return [hit for hit in found if fields >> hit[0] & 1]


@dataclass(frozen=True, slots=True)
class WordNode:
    """A single plain word, found through the article's set of words."""

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
        out.update(state.word_spans(self))


@dataclass(frozen=True, slots=True)
class TermNode:
    """A phrase, compound, `word*` or accented word, found by the automaton."""

    term_id: int
    fields: int  # bit mask

    @property
    def key(self) -> int:
        return self.term_id

    def occurrences(self, state: ArticleState) -> list[Occurrence]:
        return _in_scope(state.locations(self.term_id), self.fields)

    def test(self, state: ArticleState) -> bool:
        return bool(state.present.get(self.term_id, 0) & self.fields)

    def positions(self, state: ArticleState) -> list[Position]:
        return [(f, i, j, ((i, j),)) for f, i, j in self.occurrences(state)]

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        out.update(state.term_spans(self))


@dataclass(frozen=True, slots=True)
class RegexNode:
    regex_id: int
    pattern: re.Pattern[str]
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


def as_positional(node: Node) -> Positional:
    if isinstance(node, WordNode | TermNode | OrNode | NearNode):
        return node
    raise TypeError(f"not a NEAR operand: {node!r}")  # the parser rules this out
