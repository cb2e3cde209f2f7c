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

Evaluating: a rule made of AND and OR over terms in any field (most rules)
is tested as set operations on the terms that occurred; others walk their
tree. Where terms occurred is only worked out where a test needs it (NEAR,
words after a `word*`, accents) or when the spans of a match are asked for.

`word~` terms: the article's distinct words are stemmed once (memoized per
word and language) and looked up, with their folded forms, in tables of the
rule words' stems and inflected forms for that language: again set
operations, whatever the number of rules. A phrase with a `word~` is
checked word by word where its first `word~` occurred.

Spans: each term a matched rule shows is searched for in the field's text
itself, once per article (a byte search for a word, a regex for the others),
which costs far less than locating every token of a 5 KB body; token
positions are only mapped to offsets for NEAR and for scripts that do not
fold to ASCII.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Container, Iterable
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
    KeyEntry,
    Leaf,
    NearNode,
    NotNode,
    OrNode,
    RegexNode,
    StemNode,
    StemTermNode,
    TermNode,
    WordNode,
    as_positional,
    highlights,
)
from worker.match.evaluate import Node as CompiledNode
from worker.match.normalize import FieldText, token_indexes
from worker.match.query import And, Near, Node, Not, Or, Query, Regex, Term, Word, parse_query
from worker.match.regex import compile_regex
from worker.match.stem import StemIndex, article_language
from worker.models import RuleMatch, Span

__all__ = ["RuleSet", "compile_rules", "match_query"]

Verifier = Callable[[FieldText, int], bool]
# A term in clauses and triggers: a single word by itself, others by term id.
TermKey = str | int
Clauses = tuple[frozenset[TermKey], ...]

# Enough clauses to describe `(a b) OR (c d)` exactly. Any subset of
# necessary clauses is still necessary, so cutting the list is always safe.
_MAX_CLAUSES = 16


@dataclass(frozen=True, slots=True)
class _Exact:
    """A rule of AND and OR over terms in any field, tested as sets of what occurred.

    It holds iff every term of `must` occurred and each clause of `any_of` has
    a term that did: a subset test in C instead of a walk over the tree.
    """

    must: frozenset[TermKey]
    any_of: Clauses

    @staticmethod
    def of(root: CompiledNode) -> _Exact | None:
        clauses = _plain_clauses(root)
        if clauses is None:
            return None
        must = frozenset(key for clause in clauses if len(clause) == 1 for key in clause)
        return _Exact(must, tuple(clause for clause in clauses if len(clause) > 1))

    def test(self, found: set[TermKey]) -> bool:
        if not self.must <= found:
            return False
        for clause in self.any_of:  # noqa: SIM110
            if found.isdisjoint(clause):
                return False
        return True


def _plain_clauses(node: CompiledNode) -> Clauses | None:
    """The node as AND of ORs of terms, exactly; None if it is more (NOT, NEAR, fields, regex)."""
    if isinstance(node, WordNode | TermNode | StemNode):
        return (frozenset((node.key,)),) if node.fields == ALL_FIELDS else None
    if isinstance(node, AndNode):
        parts = [_plain_clauses(operand) for operand in node.operands]
        if any(part is None for part in parts):
            return None
        combined = tuple(dict.fromkeys(c for part in parts if part is not None for c in part))
    elif isinstance(node, OrNode):
        combined = (frozenset(),)
        for operand in node.operands:
            clauses = _plain_clauses(operand)
            if clauses is None:
                return None
            product = (mine | theirs for mine in combined for theirs in clauses)
            combined = tuple(dict.fromkeys(product))
            if len(combined) > _MAX_CLAUSES:
                return None
    else:
        return None
    return combined if len(combined) <= _MAX_CLAUSES else None


@dataclass(frozen=True, slots=True)
class _Rule:
    rule_id: str
    query: Query
    root: CompiledNode
    # The rule can only hold if each clause has a term that occurred; None:
    # it can hold with no term at all (`NOT x`, a lone regex).
    clauses: Clauses | None
    # Set the rule's test can be made of, if it is that simple (most rules are).
    exact: _Exact | None
    # Its terms whose spans a match shows, if that needs no walk of the tree.
    highlights: tuple[Leaf, ...] | None


def _required(node: CompiledNode) -> Clauses | None:
    """Necessary conditions on term occurrence, as AND of ORs of term ids."""
    if isinstance(node, WordNode | TermNode | StemNode):
        return (frozenset((node.key,)),)
    if isinstance(node, StemTermNode):
        return (frozenset((node.anchor[1],)),)
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
    rest = tuple((offset, w.text, w.prefix) for offset, w in enumerate(words) if offset >= keyed)
    accented = tuple((offset, frozenset(w.accents)) for offset, w in enumerate(words) if w.accents)
    if not rest and not accented:
        return None
    last = len(words) - 1
    # Accented Latin letters can be looked for in the field's text as a whole,
    # which spares locating tokens in most texts that have other accents only.
    latin = tuple(
        {
            letter
            for _, accents in accented
            for _, letter in accents
            if unicodedata.name(letter[0], "").startswith("LATIN")
        }
    )

    # Plain loops: this runs for every automaton hit of such a term.
    def verify(field: FieldText, first: int) -> bool:
        tokens = field.tokens
        if first + last >= len(tokens):
            return False
        for offset, text, prefix in rest:
            token = tokens[first + offset]
            if token != text and not (prefix and token.startswith(text)):
                return False
        # A rule letter with an accent needs that accent; the key matched the bases.
        for letter in latin:
            if not field.may_contain(letter):
                return False
        for offset, accents in accented:  # noqa: SIM110
            if not accents.issubset(field.accents(first + offset)):
                return False
        return True

    return verify


class _Compiler:
    def __init__(self) -> None:
        self.terms: dict[tuple[Word, ...], KeyEntry] = {}
        self.words: set[str] = set()  # single plain words: found by set intersection
        self.stems: dict[tuple[str, str], None] = {}  # `word~` words (form, token), in order
        self.stem_terms: dict[tuple[Word, ...], int] = {}  # phrases with a `word~`
        # Every term in every field scope, once: what a match's spans are cached by.
        self.leaves: dict[tuple[str | int, int], Leaf] = {}
        self.keys: dict[str, list[KeyEntry]] = {}  # everything else: the automaton
        self.regex_ids: dict[tuple[str, int], int] = {}
        # Terms whose positions a NEAR needs.
        self.near: set[int] = set()
        # Terms located while scanning: what NEAR and checks need.
        self.scanned: set[int] = set()

    def rule(self, rule_id: str, query: Query) -> _Rule:
        root = self.node(query.root, ALL_FIELDS)
        return _Rule(rule_id, query, root, _required(root), _Exact.of(root), highlights(root))

    def node(self, node: Node, fields: int, near: bool = False) -> CompiledNode:
        if isinstance(node, Term):
            return self.term(node.words, fields, near)
        if isinstance(node, Regex):
            return self.regex(node.pattern, fields)
        if isinstance(node, And):
            return AndNode(tuple(self.node(n, fields, near) for n in node.operands))
        if isinstance(node, Or):
            return OrNode(tuple(self.node(n, fields, near) for n in node.operands))
        if isinstance(node, Not):
            return NotNode(self.node(node.operand, fields))
        if isinstance(node, Near):
            left = as_positional(self.node(node.left, fields, near=True))
            right = as_positional(self.node(node.right, fields, near=True))
            return NearNode(left, right, node.distance)
        scope = sum(1 << FIELDS.index(name) for name in node.fields)
        return self.node(node.operand, fields & scope, near)

    def term(self, words: tuple[Word, ...], fields: int, near: bool) -> Leaf:
        if any(word.stem for word in words):
            return self.stem_term(words, fields)
        only = words[0]
        if len(words) == 1 and not only.prefix and not only.accents:
            self.words.add(only.text)
            leaf = self.leaves.get((only.text, fields))
            if leaf is None:
                indexes = tuple(i for i in range(len(FIELDS)) if fields >> i & 1)
                leaf = WordNode(len(self.leaves), only.text, fields, indexes)
                self.leaves[only.text, fields] = leaf
            return leaf
        term = self.terms.get(words)
        if term is None:
            key, keyed = _key(words)
            searched = tuple((w.text, w.prefix, w.accents) for w in words)
            term = KeyEntry(len(self.terms), key, len(words), _verifier(words, keyed), searched)
            self.terms[words] = term
            self.keys.setdefault(key, []).append(term)
        if near:
            self.near.add(term.term_id)
        leaf = self.leaves.get((term.term_id, fields))
        if leaf is None:
            leaf = TermNode(len(self.leaves), term.term_id, fields, term)
            self.leaves[term.term_id, fields] = leaf
        return leaf

    def stem_term(self, words: tuple[Word, ...], fields: int) -> Leaf:
        indexes = tuple(i for i in range(len(FIELDS)) if fields >> i & 1)
        for word in words:
            if word.stem:
                self.stems.setdefault((word.form, word.text), None)
        if len(words) == 1:
            key = "~" + words[0].form
            leaf = self.leaves.get((key, fields))
            if leaf is None:
                leaf = StemNode(len(self.leaves), key, fields, indexes)
                self.leaves[key, fields] = leaf
            return leaf
        term_id = self.stem_terms.setdefault(words, len(self.stem_terms))
        leaf = self.leaves.get((-1 - term_id, fields))
        if leaf is None:
            specs = tuple(
                (w.text, w.prefix, frozenset(w.accents), "~" + w.form if w.stem else None)
                for w in words
            )
            leaf = StemTermNode(len(self.leaves), term_id, specs, fields, indexes)
            self.leaves[-1 - term_id, fields] = leaf
        return leaf

    def regex(self, pattern: str, fields: int) -> RegexNode:
        regex_id = self.regex_ids.setdefault((pattern, fields), len(self.regex_ids))
        return RegexNode(regex_id, compile_regex(pattern), fields)

    def automaton(self) -> ahocorasick.Automaton | None:
        if not self.keys:
            return None
        automaton = ahocorasick.Automaton()
        for key_id, (key, entries) in enumerate(self.keys.items()):
            # Hits are located (to token positions) while scanning only where a
            # rule's test needs them; where presence decides, the first hit in a
            # field is enough, and spans are found later in the matched rules' text.
            locate = any(e.term_id in self.near or e.verify is not None for e in entries)
            if locate:
                self.scanned.update(e.term_id for e in entries)
            automaton.add_word(key, (key_id, len(key), tuple(entries), locate))
        automaton.make_automaton()
        return automaton


def _triggers(rules: list[_Rule], keys: Iterable[TermKey]) -> dict[TermKey, tuple[int, ...]]:
    """For each term, the rules to evaluate when it occurs."""
    # How many rules need each term: a term many rules share is probably a
    # common one (a country, a leader), so rules are filed under another.
    shared: dict[TermKey, int] = dict.fromkeys(keys, 0)
    for rule in rules:
        for key in set().union(*(rule.clauses or ())):
            shared[key] += 1
    triggers: dict[TermKey, list[int]] = {key: [] for key in shared}
    for index, rule in enumerate(rules):
        if rule.clauses:
            trigger = min(rule.clauses, key=lambda clause: sum(shared[k] for k in clause))
            for key in trigger:
                triggers[key].append(index)
    return {key: tuple(indexes) for key, indexes in triggers.items()}


class RuleSet:
    """Compiled rules; `match` returns the rules an article matches, in rule order."""

    __slots__ = (
        "_always",
        "_automaton",
        "_rules",
        "_scanned",
        "_stems",
        "_triggers",
        "_words",
        "rule_ids",
    )

    def __init__(self, rules: list[_Rule], compiler: _Compiler) -> None:
        self._rules = rules
        self.rule_ids: tuple[str, ...] = tuple(rule.rule_id for rule in rules)
        self._automaton = compiler.automaton()
        self._scanned = frozenset(compiler.scanned)
        self._words = frozenset(compiler.words)
        self._stems = StemIndex(compiler.stems)
        keys: list[TermKey] = [
            *compiler.words,
            *(term.term_id for term in compiler.terms.values()),
            *("~" + form for form, _ in compiler.stems),
        ]
        self._triggers = _triggers(rules, keys)
        self._always = tuple(index for index, rule in enumerate(rules) if rule.clauses is None)

    def __len__(self) -> int:
        return len(self._rules)

    def query(self, rule_id: str) -> Query:
        """The parsed query of a rule, e.g. to explain a match."""
        for rule in self._rules:
            if rule.rule_id == rule_id:
                return rule.query
        raise KeyError(rule_id)

    def match(
        self, doc: Document, *, spans: bool = True, only: Container[str] | None = None
    ) -> list[RuleMatch]:
        """The rules the document matches, in rule order.

        With `spans=False` only which rules match is worked out, not where
        (`RuleMatch.spans` is empty). `only` limits matching to the rules
        with these ids (those that watch the article's source, say): the
        others are neither evaluated nor located.
        """
        state = self._scan(doc)
        found = state.found
        rules = self._rules
        matches = []
        for index in self._candidates(found):
            rule = rules[index]
            if only is not None and rule.rule_id not in only:
                continue
            exact = rule.exact
            if not (exact.test(found) if exact is not None else rule.root.test(state)):
                continue
            if not spans:
                matches.append(RuleMatch(rule.rule_id))
            elif rule.highlights is not None:
                matches.append(RuleMatch(rule.rule_id, state.match_spans(rule.highlights)))
            else:
                matches.append(RuleMatch(rule.rule_id, _spans(rule.root, state)))
        return matches

    def _candidates(self, found: set[TermKey]) -> list[int]:
        triggered = chain.from_iterable(map(self._triggers.__getitem__, found))
        return sorted(set(triggered).union(self._always))

    def _scan(self, doc: Document) -> ArticleState:
        fields = [FieldText(doc.title), FieldText(doc.summary), FieldText(doc.body)]
        stems = self._stems
        state = ArticleState(
            fields, self._scanned, language=article_language(doc.language), stems=stems
        )
        words = self._words
        for index, field in enumerate(fields):
            if field.tokens:
                # The distinct tokens are worth a set only when `word~` reads them too.
                tokens = state.distinct_tokens(index) if stems else field.tokens
                state.field_words[index] = words.intersection(tokens)
                if self._automaton is not None:
                    self._scan_keys(state, index, field)
                if stems:
                    state.field_stems[index] = state.scan_stems(index)
        state.all_words = frozenset().union(*state.field_words)
        found: set[TermKey] = set(state.all_words)
        found.update(state.present)
        if stems:
            state.all_stems = frozenset().union(*state.field_stems)
            found.update(state.all_stems)
        state.found = found
        return state

    def _scan_keys(self, state: ArticleState, field_index: int, field: FieldText) -> None:
        # The hot loop for phrases and wildcards: kept flat on purpose.
        assert self._automaton is not None
        present, located = state.present, state.located
        bit = 1 << field_index
        joined = field.joined
        seen: set[int] = set()  # keys whose presence in this field is recorded
        starts: list[int] = []  # hits to locate: where their first token starts,
        hits: list[tuple[KeyEntry, ...]] = []  # and the key's terms
        for end, (key_id, key_length, entries, locate) in self._automaton.iter(joined):
            if locate:
                # The key starts with the space before its first token.
                starts.append(end - key_length + 2)
                hits.append(entries)
            elif key_id not in seen:
                seen.add(key_id)
                for entry in entries:
                    present[entry.term_id] = present.get(entry.term_id, 0) | bit
        for entries, first in zip(hits, token_indexes(joined, starts), strict=True):
            for entry in entries:
                if entry.verify is None or entry.verify(field, first):
                    term_id = entry.term_id
                    present[term_id] = present.get(term_id, 0) | bit
                    occurrence = (field_index, first, first + entry.length - 1)
                    located.setdefault(term_id, []).append(occurrence)


def _spans(root: CompiledNode, state: ArticleState) -> tuple[Span, ...]:
    found: set[CharSpan] = set()
    root.collect(state, found)
    return state.spans(found)


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
