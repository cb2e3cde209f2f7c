"""Many rules compiled into one matcher whose cost follows the article, not the rule count.

Finding terms, once per field for all rules together:

- single words (most terms) by intersecting the field's set of tokens with
  the set of all rule words: one C-level operation, however often a word
  occurs; their positions are looked up only if a rule needs them;
- phrases, compounds (`S-300` is two words) and `word*` by one Aho-Corasick
  automaton, keyed by normalized words with a space on each side
  (`" s 300 "`), over the field's tokens written the same way.

Choosing rules to evaluate: each rule is registered under one clause of
terms it cannot match without (for `a AND (b OR c)`: `a`, or `b c`), the
clause whose terms the fewest other rules share, so a word that many rules
mention (a country, say) does not make all of them candidates. Rules that can
hold with no term present (`NOT x`) are evaluated for every article.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import chain

import ahocorasick

from worker.errors import QuerySyntaxError
from worker.match.document import FIELDS, Document
from worker.match.evaluate import (
    ALL_FIELDS,
    AndNode,
    ArticleState,
    CharSpan,
    NearNode,
    NotNode,
    OrNode,
    RegexNode,
    TermNode,
    as_positional,
)
from worker.match.evaluate import Node as CompiledNode
from worker.match.normalize import FieldText
from worker.match.query import And, Near, Node, Not, Or, Query, Regex, Term, Word, parse_query
from worker.models import Field, RuleMatch, Span

__all__ = ["RuleSet", "compile_rules", "match_query"]

Verifier = Callable[[FieldText, int], bool]
Clauses = tuple[frozenset[int], ...]

# Enough clauses to describe `(a b) OR (c d)` exactly. Any subset of
# necessary clauses is still necessary, so cutting the list is always safe.
_MAX_CLAUSES = 16


@dataclass(frozen=True, slots=True)
class _Rule:
    rule_id: str
    query: Query
    root: CompiledNode
    # The rule can only hold if each clause has a term that occurred; None:
    # it can hold with no term at all (`NOT x`, a lone regex).
    clauses: Clauses | None


def _required(node: CompiledNode) -> Clauses | None:
    """Necessary conditions on term occurrence, as AND of ORs of term ids."""
    if isinstance(node, TermNode):
        return (frozenset((node.term_id,)),)
    if isinstance(node, AndNode | NearNode):
        operands = node.operands if isinstance(node, AndNode) else (node.left, node.right)
        found = [c for c in map(_required, operands) if c is not None]
        if not found:
            return None
        return tuple(dict.fromkeys(c for clauses in found for c in clauses))[:_MAX_CLAUSES]
    if isinstance(node, OrNode):
        return _required_any(node.operands)
    return None  # NOT, regex


def _required_any(operands: tuple[CompiledNode, ...]) -> Clauses | None:
    # (A1 and A2) or (B1) holds only if (A1 or B1) and (A2 or B1) do.
    combined: Clauses = (frozenset(),)
    for operand in operands:
        clauses = _required(operand)
        if clauses is None:
            return None
        product = (mine | theirs for mine in combined for theirs in clauses)
        combined = tuple(dict.fromkeys(product))[:_MAX_CLAUSES]
    return combined


@dataclass(frozen=True, slots=True)
class _Entry:
    """A term whose automaton key ended here: id, length in words, and a check if needed."""

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
    """What the automaton key did not check: words after a `word*`, and accents."""
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
        self.words: dict[int, str] = {}  # single plain words: found by set intersection
        self.keys: dict[str, list[_Entry]] = {}  # everything else: the automaton
        self.regex_ids: dict[tuple[str, int], int] = {}
        # Terms whose every position matters: highlighted (not under NOT) or in a NEAR.
        self.positional: set[int] = set()

    def rule(self, rule_id: str, query: Query) -> _Rule:
        root = self.node(query.root, ALL_FIELDS, positional=True)
        return _Rule(rule_id, query, root, _required(root))

    def node(self, node: Node, fields: int, positional: bool) -> CompiledNode:
        if isinstance(node, Term):
            return self.term(node.words, fields, positional)
        if isinstance(node, Regex):
            return self.regex(node.pattern, fields)
        if isinstance(node, And):
            return AndNode(tuple(self.node(n, fields, positional) for n in node.operands))
        if isinstance(node, Or):
            return OrNode(tuple(self.node(n, fields, positional) for n in node.operands))
        if isinstance(node, Not):
            return NotNode(self.node(node.operand, fields, positional=False))
        if isinstance(node, Near):
            left = as_positional(self.node(node.left, fields, positional=True))
            right = as_positional(self.node(node.right, fields, positional=True))
            return NearNode(left, right, node.distance)
        scope = sum(1 << FIELDS.index(name) for name in node.fields)
        return self.node(node.operand, fields & scope, positional)

    def term(self, words: tuple[Word, ...], fields: int, positional: bool) -> TermNode:
        term_id = self.term_ids.get(words)
        if term_id is None:
            term_id = self.term_ids[words] = len(self.term_ids)
            only = words[0]
            if len(words) == 1 and not only.prefix and not only.accents:
                self.words[term_id] = only.text
            else:
                key, keyed = _key(words)
                entry = _Entry(term_id, len(words), _verifier(words, keyed))
                self.keys.setdefault(key, []).append(entry)
        if positional:
            self.positional.add(term_id)
        return TermNode(term_id, fields)

    def regex(self, pattern: str, fields: int) -> RegexNode:
        regex_id = self.regex_ids.setdefault((pattern, fields), len(self.regex_ids))
        return RegexNode(regex_id, re.compile(pattern, re.IGNORECASE), fields)

    def automaton(self) -> ahocorasick.Automaton | None:
        if not self.keys:
            return None
        automaton = ahocorasick.Automaton()
        for key_id, (key, entries) in enumerate(self.keys.items()):
            # Where only presence matters (`NOT "sanctions relief"`), the first
            # hit in a field is enough and later ones are skipped.
            presence_only = not any(
                e.term_id in self.positional or e.verify is not None for e in entries
            )
            automaton.add_word(key, (key_id, len(key), tuple(entries), presence_only))
        automaton.make_automaton()
        return automaton


def _triggers(rules: list[_Rule], terms: int) -> dict[int, tuple[int, ...]]:
    """For each term, the rules to evaluate when it occurs."""
    # How many rules need each term: a term many rules share is probably a
    # common one (a country, a leader), so rules are filed under another.
    shared = [0] * terms
    for rule in rules:
        for term_id in set().union(*(rule.clauses or ())):
            shared[term_id] += 1
    triggers: dict[int, list[int]] = {term_id: [] for term_id in range(terms)}
    for index, rule in enumerate(rules):
        if rule.clauses:
            trigger = min(rule.clauses, key=lambda clause: sum(shared[t] for t in clause))
            for term_id in trigger:
                triggers[term_id].append(index)
    return {term_id: tuple(indexes) for term_id, indexes in triggers.items()}


class RuleSet:
    """Compiled rules; `match` returns the rules an article matches, in rule order."""

    __slots__ = (
        "_always",
        "_automaton",
        "_rules",
        "_triggers",
        "_word_set",
        "_word_terms",
        "_words",
        "rule_ids",
    )

    def __init__(self, rules: list[_Rule], compiler: _Compiler) -> None:
        self._rules = rules
        self.rule_ids: tuple[str, ...] = tuple(rule.rule_id for rule in rules)
        self._automaton = compiler.automaton()
        self._words = compiler.words
        self._word_terms = {word: term_id for term_id, word in compiler.words.items()}
        self._word_set = frozenset(self._word_terms)
        self._triggers = _triggers(rules, len(compiler.term_ids))
        self._always = tuple(index for index, rule in enumerate(rules) if rule.clauses is None)

    def __len__(self) -> int:
        return len(self._rules)

    def query(self, rule_id: str) -> Query:
        """The parsed query of a rule, e.g. to explain a match."""
        for rule in self._rules:
            if rule.rule_id == rule_id:
                return rule.query
        raise KeyError(rule_id)

    def match(self, doc: Document) -> list[RuleMatch]:
        state = self._scan(doc)
        matches = []
        for index in self._candidates(state):
            rule = self._rules[index]
            if rule.root.test(state):
                matches.append(RuleMatch(rule.rule_id, _spans(rule.root, state)))
        return matches

    def _candidates(self, state: ArticleState) -> list[int]:
        triggered = chain.from_iterable(map(self._triggers.__getitem__, state.present))
        return sorted(set(triggered).union(self._always))

    def _scan(self, doc: Document) -> ArticleState:
        fields = [FieldText(doc.title), FieldText(doc.summary), FieldText(doc.body)]
        state = ArticleState(fields, self._words)
        for index, field in enumerate(fields):
            if field.tokens:
                self._scan_words(state, 1 << index, field)
                if self._automaton is not None:
                    self._scan_keys(state, index, field)
        return state

    def _scan_words(self, state: ArticleState, bit: int, field: FieldText) -> None:
        present = state.present
        word_terms = self._word_terms
        for word in self._word_set.intersection(field.tokens):
            term_id = word_terms[word]
            present[term_id] = present.get(term_id, 0) | bit

    def _scan_keys(self, state: ArticleState, field_index: int, field: FieldText) -> None:
        # The hot loop for phrases and wildcards: kept flat on purpose.
        assert self._automaton is not None
        present, located = state.present, state.located
        bit = 1 << field_index
        joined = field.joined
        seen: set[int] = set()  # presence-only keys already found in this field
        cursor = spaces = 0  # a position in `joined` and the spaces before it
        for end, (key_id, key_length, entries, presence_only) in self._automaton.iter(joined):
            if key_id in seen:
                continue
            if presence_only:
                seen.add(key_id)
            # The key starts with the space before its first token; token k
            # follows the (k+1)-th space. Hits come roughly in order, so
            # counting spaces from the previous hit keeps this linear.
            start = end - key_length + 2
            if start >= cursor:
                spaces += joined.count(" ", cursor, start)
            else:
                spaces -= joined.count(" ", start, cursor)
            cursor = start
            first = spaces - 1
            for entry in entries:
                if entry.verify is None or entry.verify(field, first):
                    term_id = entry.term_id
                    present[term_id] = present.get(term_id, 0) | bit
                    occurrence = (field_index, first, first + entry.length - 1)
                    located.setdefault(term_id, []).append(occurrence)


def _spans(root: CompiledNode, state: ArticleState) -> tuple[Span, ...]:
    found: set[CharSpan] = set()
    root.collect(state, found)
    return tuple(Span(_field_name(f), start, end) for f, start, end in sorted(found))


def _field_name(index: int) -> Field:
    return FIELDS[index]


def compile_rules(rules: Iterable[tuple[str, str]]) -> RuleSet:
    """Compile (rule_id, query) pairs; a bad query raises QuerySyntaxError naming its rule.

    Raises ValueError for a rule id given twice.
    """
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
    return RuleSet(compiled, compiler)


def match_query(query: str, doc: Document) -> RuleMatch | None:
    """Match one query (its text is the rule id); raises QuerySyntaxError."""
    matches = compile_rules([(query, query)]).match(doc)
    return matches[0] if matches else None
