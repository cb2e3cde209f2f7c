"""Many rules compiled into one matcher whose cost follows the article, not the rule count.

Every term of every rule goes into one Aho-Corasick automaton, keyed by its
normalized words with a space on each side (`" s 300 "`), and runs once over
each field's token stream written the same way. Only rules with a term that
occurred (plus the few that can match with none, like `NOT x`) are then
evaluated, on the positions the automaton found.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import ahocorasick

from worker.errors import QuerySyntaxError
from worker.match.document import FIELDS, Document
from worker.match.normalize import FieldText
from worker.match.query import (
    And,
    Near,
    Node,
    Not,
    Or,
    Query,
    Regex,
    Term,
    Word,
    parse_query,
)
from worker.models import Field, RuleMatch, Span

__all__ = ["RuleSet", "compile_rules", "match_query"]

# (field index, first token, last token); a NEAR match also carries the
# (first, last) of each term inside it, which are what gets highlighted.
Position = tuple[int, int, int, tuple[tuple[int, int], ...]]
CharSpan = tuple[int, int, int]  # field index, original start, end
Verifier = Callable[[FieldText, int], bool]

_ALL = frozenset(range(len(FIELDS)))


class _Context:
    """One document being matched: where each term occurred, and regex results."""

    __slots__ = ("fields", "hits", "regex_matches")

    def __init__(self, fields: list[FieldText]) -> None:
        self.fields = fields
        self.hits: dict[int, list[tuple[int, int, int]]] = {}
        self.regex_matches: dict[int, list[CharSpan]] = {}

    def char_span(self, field: int, first: int, last: int) -> CharSpan:
        start, end = self.fields[field].span(first, last)
        return field, start, end


class _Node(Protocol):
    def test(self, ctx: _Context) -> bool: ...

    def collect(self, ctx: _Context, out: set[CharSpan]) -> None: ...


class _Positional(_Node, Protocol):
    def positions(self, ctx: _Context) -> list[Position]: ...


@dataclass(frozen=True, slots=True)
class _TermNode:
    term_id: int
    fields: frozenset[int]

    def occurrences(self, ctx: _Context) -> list[tuple[int, int, int]]:
        found = ctx.hits.get(self.term_id, [])
        if self.fields is _ALL or not found:
            return found
        return [hit for hit in found if hit[0] in self.fields]

    def test(self, ctx: _Context) -> bool:
        return bool(self.occurrences(ctx))

    def positions(self, ctx: _Context) -> list[Position]:
        return [(f, i, j, ((i, j),)) for f, i, j in self.occurrences(ctx)]

    def collect(self, ctx: _Context, out: set[CharSpan]) -> None:
        out.update(ctx.char_span(f, i, j) for f, i, j in self.occurrences(ctx))


@dataclass(frozen=True, slots=True)
class _RegexNode:
    regex_id: int
    pattern: re.Pattern[str]
    fields: frozenset[int]

    def matches(self, ctx: _Context) -> list[CharSpan]:
        found = ctx.regex_matches.get(self.regex_id)
        if found is None:
            found = []
            for field in sorted(self.fields):
                if field >= len(ctx.fields):
                    continue
                norm = ctx.fields[field].norm()
                for match in self.pattern.finditer(norm.text):
                    if match.end() > match.start():
                        found.append((field, *norm.original(match.start(), match.end())))
            ctx.regex_matches[self.regex_id] = found
        return found

    def test(self, ctx: _Context) -> bool:
        return bool(self.matches(ctx))

    def collect(self, ctx: _Context, out: set[CharSpan]) -> None:
        out.update(self.matches(ctx))


@dataclass(frozen=True, slots=True)
class _AndNode:
    operands: tuple[_Node, ...]

    def test(self, ctx: _Context) -> bool:
        return all(operand.test(ctx) for operand in self.operands)

    def collect(self, ctx: _Context, out: set[CharSpan]) -> None:
        for operand in self.operands:
            operand.collect(ctx, out)


@dataclass(frozen=True, slots=True)
class _OrNode:
    operands: tuple[_Node, ...]

    def test(self, ctx: _Context) -> bool:
        return any(operand.test(ctx) for operand in self.operands)

    def collect(self, ctx: _Context, out: set[CharSpan]) -> None:
        for operand in self.operands:
            if operand.test(ctx):
                operand.collect(ctx, out)

    def positions(self, ctx: _Context) -> list[Position]:
        # Only built for OR-groups the parser accepted as NEAR operands.
        found: list[Position] = []
        for operand in self.operands:
            found.extend(_as_positional(operand).positions(ctx))
        return found


@dataclass(frozen=True, slots=True)
class _NotNode:
    operand: _Node

    def test(self, ctx: _Context) -> bool:
        return not self.operand.test(ctx)

    def collect(self, ctx: _Context, out: set[CharSpan]) -> None:
        return None  # what is absent has no place to highlight


@dataclass(frozen=True, slots=True)
class _NearNode:
    left: _Positional
    right: _Positional
    distance: int

    def positions(self, ctx: _Context) -> list[Position]:
        rights = self.right.positions(ctx)
        if not rights:
            return []
        return [
            (f, min(i, k), max(j, m), parts + other)
            for f, i, j, parts in self.left.positions(ctx)
            for g, k, m, other in rights
            # words between = later start - earlier end - 1 (negative if they overlap)
            if f == g and max(i, k) - min(j, m) - 1 <= self.distance
        ]

    def test(self, ctx: _Context) -> bool:
        return bool(self.positions(ctx))

    def collect(self, ctx: _Context, out: set[CharSpan]) -> None:
        for field, _, _, parts in self.positions(ctx):
            out.update(ctx.char_span(field, i, j) for i, j in parts)


def _as_positional(node: _Node) -> _Positional:
    if isinstance(node, _TermNode | _OrNode | _NearNode):
        return node
    raise TypeError(f"not a NEAR operand: {node!r}")  # the parser rules this out


@dataclass(frozen=True, slots=True)
class _Rule:
    rule_id: str
    query: Query
    root: _Node
    term_ids: frozenset[int]
    has_regex: bool


@dataclass(frozen=True, slots=True)
class _Entry:
    """A term whose automaton key ended here: its id, length, and a check if the key is partial."""

    term_id: int
    length: int
    verify: Verifier | None


def _key(words: tuple[Word, ...]) -> tuple[str, int]:
    """Automaton key: words up to the first `word*` (which may go on), and how many."""
    parts: list[str] = []
    for word in words:
        parts.append(word.text)
        if word.prefix:
            return " " + " ".join(parts), len(parts)
    return " " + " ".join(parts) + " ", len(parts)


def _verifier(words: tuple[Word, ...], keyed: int) -> Verifier | None:
    rest = [(offset, w.text, w.prefix) for offset, w in enumerate(words) if offset >= keyed]
    accented = [(offset, frozenset(w.accents)) for offset, w in enumerate(words) if w.accents]
    if not rest and not accented:
        return None
    length = len(words)

    def verify(field: FieldText, first: int) -> bool:
        tokens = field.tokens
        if first + length > len(tokens):
            return False
        for offset, text, prefix in rest:
            token = tokens[first + offset]
            if token != text and not (prefix and token.startswith(text)):
                return False
        # A rule letter with an accent needs that accent; the key matched the bases.
        return all(
            accents <= frozenset(field.accents(first + offset)) for offset, accents in accented
        )

    return verify


class _Compiler:
    def __init__(self) -> None:
        self.term_ids: dict[tuple[Word, ...], int] = {}
        self.regex_ids: dict[tuple[str, frozenset[int]], int] = {}
        self.keys: dict[str, list[_Entry]] = {}
        self.used_terms: set[int] = set()
        self.used_regex = False

    def rule(self, rule_id: str, query: Query) -> _Rule:
        self.used_terms = set()
        self.used_regex = False
        root = self.node(query.root, _ALL)
        return _Rule(rule_id, query, root, frozenset(self.used_terms), self.used_regex)

    def node(self, node: Node, fields: frozenset[int]) -> _Node:
        if isinstance(node, Term):
            return self.term(node.words, fields)
        if isinstance(node, Regex):
            return self.regex(node.pattern, fields)
        if isinstance(node, And):
            return _AndNode(tuple(self.node(n, fields) for n in node.operands))
        if isinstance(node, Or):
            return _OrNode(tuple(self.node(n, fields) for n in node.operands))
        if isinstance(node, Not):
            return _NotNode(self.node(node.operand, fields))
        if isinstance(node, Near):
            left = _as_positional(self.node(node.left, fields))
            right = _as_positional(self.node(node.right, fields))
            return _NearNode(left, right, node.distance)
        scoped = frozenset(FIELDS.index(name) for name in node.fields) & fields
        return self.node(node.operand, scoped)

    def term(self, words: tuple[Word, ...], fields: frozenset[int]) -> _TermNode:
        term_id = self.term_ids.get(words)
        if term_id is None:
            term_id = self.term_ids[words] = len(self.term_ids)
            key, keyed = _key(words)
            entry = _Entry(term_id, len(words), _verifier(words, keyed))
            self.keys.setdefault(key, []).append(entry)
        self.used_terms.add(term_id)
        return _TermNode(term_id, _ALL if fields == _ALL else fields)

    def regex(self, pattern: str, fields: frozenset[int]) -> _RegexNode:
        regex_id = self.regex_ids.setdefault((pattern, fields), len(self.regex_ids))
        self.used_regex = True
        return _RegexNode(regex_id, re.compile(pattern, re.IGNORECASE), fields)

    def automaton(self) -> ahocorasick.Automaton:
        automaton = ahocorasick.Automaton()
        for key, entries in self.keys.items():
            automaton.add_word(key, (len(key), tuple(entries)))
        if self.keys:
            automaton.make_automaton()
        return automaton


class RuleSet:
    """Compiled rules; `match` returns the rules an article matches, in rule order."""

    __slots__ = ("_always", "_automaton", "_empty", "_rules", "_rules_of_term", "rule_ids")

    def __init__(self, rules: list[_Rule], automaton: ahocorasick.Automaton, empty: bool) -> None:
        self._rules = rules
        self._automaton = automaton
        self._empty = empty
        self.rule_ids: tuple[str, ...] = tuple(rule.rule_id for rule in rules)
        rules_of_term: dict[int, list[int]] = {}
        for index, rule in enumerate(rules):
            for term_id in rule.term_ids:
                rules_of_term.setdefault(term_id, []).append(index)
        self._rules_of_term = {term: tuple(indexes) for term, indexes in rules_of_term.items()}
        # Rules that can hold with none of their terms present (`NOT x`,
        # `a OR NOT b`) and regex rules cannot be found through the automaton.
        nothing = _Context([FieldText("") for _ in FIELDS])
        self._always = tuple(
            index for index, rule in enumerate(rules) if rule.has_regex or rule.root.test(nothing)
        )

    def __len__(self) -> int:
        return len(self._rules)

    def query(self, rule_id: str) -> Query:
        """The parsed query of a rule, e.g. to explain a match."""
        for rule in self._rules:
            if rule.rule_id == rule_id:
                return rule.query
        raise KeyError(rule_id)

    def match(self, doc: Document) -> list[RuleMatch]:
        ctx = self._scan(doc)
        candidates = set(self._always)
        rules_of_term = self._rules_of_term
        for term_id in ctx.hits:
            candidates.update(rules_of_term.get(term_id, ()))
        matches = []
        for index in sorted(candidates):
            rule = self._rules[index]
            if rule.root.test(ctx):
                matches.append(RuleMatch(rule.rule_id, _spans(rule.root, ctx)))
        return matches

    def _scan(self, doc: Document) -> _Context:
        ctx = _Context([FieldText(doc.title), FieldText(doc.summary), FieldText(doc.body)])
        if self._empty:
            return ctx
        hits = ctx.hits
        for field_index, field in enumerate(ctx.fields):
            if not field.joined:
                continue
            for end, (key_length, entries) in self._automaton.iter(field.joined):
                # The key starts with the space before its first token.
                first = field.token_at(end - key_length + 2)
                for entry in entries:
                    if entry.verify is None or entry.verify(field, first):
                        occurrence = (field_index, first, first + entry.length - 1)
                        hits.setdefault(entry.term_id, []).append(occurrence)
        return ctx


def _spans(root: _Node, ctx: _Context) -> tuple[Span, ...]:
    found: set[CharSpan] = set()
    root.collect(ctx, found)
    return tuple(Span(_field_name(f), start, end) for f, start, end in sorted(found))


def _field_name(index: int) -> Field:
    return FIELDS[index]


def compile_rules(rules: Iterable[tuple[str, str]]) -> RuleSet:
    """Compile (rule_id, query) pairs; a bad query raises QuerySyntaxError naming its rule."""
    compiler = _Compiler()
    compiled: list[_Rule] = []
    seen: set[str] = set()
    for rule_id, text in rules:
        if rule_id in seen:
            raise ValueError(f"duplicate rule id {rule_id!r}")
        seen.add(rule_id)
        try:
            query = parse_query(text)
        except QuerySyntaxError as exc:
            raise QuerySyntaxError(f"rule {rule_id}: {exc.message}", exc.query, exc.column) from exc
        compiled.append(compiler.rule(rule_id, query))
    return RuleSet(compiled, compiler.automaton(), empty=not compiler.keys)


def match_query(query: str, doc: Document) -> RuleMatch | None:
    """Match one query (its text is the rule id); raises QuerySyntaxError."""
    matches = compile_rules([(query, query)]).match(doc)
    return matches[0] if matches else None
