"""Compiled rule trees and the per-article state they are evaluated against.

`compile.py` turns a query's AST into these nodes, with term ids in place of
words and field scopes pushed down to the leaves; `RuleSet.match` fills an
`ArticleState` with where terms occurred and asks each candidate rule's root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from worker.match.document import FIELDS
from worker.match.normalize import FieldText

__all__ = [
    "ALL_FIELDS",
    "AndNode",
    "ArticleState",
    "CharSpan",
    "NearNode",
    "Node",
    "NotNode",
    "Occurrence",
    "OrNode",
    "Positional",
    "RegexNode",
    "TermNode",
    "as_positional",
]

ALL_FIELDS = (1 << len(FIELDS)) - 1  # field scopes are bit masks: title 1, summary 2, body 4

Occurrence = tuple[int, int, int]  # field index, first token, last token
# A NEAR operand's match: field, first and last token, and the (first, last)
# of each term inside it, which are what gets highlighted.
Position = tuple[int, int, int, tuple[tuple[int, int], ...]]
CharSpan = tuple[int, int, int]  # field index, original start, end


class ArticleState:
    """One article being matched: which terms occurred where, regex results."""

    __slots__ = ("fields", "located", "present", "regex_matches", "words")

    def __init__(self, fields: list[FieldText], words: dict[int, str]) -> None:
        self.fields = fields
        # term id -> bit mask of the fields it occurs in
        self.present: dict[int, int] = {}
        # term id -> occurrences; single words get theirs only when asked
        self.located: dict[int, list[Occurrence]] = {}
        self.words = words  # term id -> word, for the terms found without positions
        self.regex_matches: dict[int, list[CharSpan]] = {}

    def occurrences(self, term_id: int) -> list[Occurrence]:
        found = self.located.get(term_id)
        if found is not None:
            return found
        mask = self.present.get(term_id, 0)
        word = self.words.get(term_id)
        found = []
        if mask and word is not None:
            for index, field in enumerate(self.fields):
                if mask >> index & 1:
                    found.extend((index, i, i) for i in field.find_word(word))
        self.located[term_id] = found
        return found

    def char_span(self, field: int, first: int, last: int) -> CharSpan:
        start, end = self.fields[field].span(first, last)
        return field, start, end


class Node(Protocol):
    def test(self, state: ArticleState) -> bool: ...

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None: ...


class Positional(Node, Protocol):
    def positions(self, state: ArticleState) -> list[Position]: ...


@dataclass(frozen=True, slots=True)
class TermNode:
    term_id: int
    fields: int  # bit mask

    def occurrences(self, state: ArticleState) -> list[Occurrence]:
        found = state.occurrences(self.term_id)
        if self.fields == ALL_FIELDS:
            return found
        return [hit for hit in found if self.fields >> hit[0] & 1]

    def test(self, state: ArticleState) -> bool:
        return bool(state.present.get(self.term_id, 0) & self.fields)

    def positions(self, state: ArticleState) -> list[Position]:
        return [(f, i, j, ((i, j),)) for f, i, j in self.occurrences(state)]

    def collect(self, state: ArticleState, out: set[CharSpan]) -> None:
        out.update(state.char_span(f, i, j) for f, i, j in self.occurrences(state))


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
    if isinstance(node, TermNode | OrNode | NearNode):
        return node
    raise TypeError(f"not a NEAR operand: {node!r}")  # the parser rules this out
