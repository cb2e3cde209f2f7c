"""A plain evaluator of the rule language, written to be obviously right, not fast.

It walks the AST directly and compares every term at every token position of
the general tokenizer. Tests check the compiled matcher against it.
"""

from __future__ import annotations

from dataclasses import dataclass

from worker.match.document import FIELDS, Document
from worker.match.normalize import Accents, normalize_text, tokenize, word_form
from worker.match.query import And, InField, Near, Node, Not, Or, Query, Regex, Term, Word
from worker.match.regex import compile_regex
from worker.match.stem import (
    article_language,
    script_of,
    stem_key,
    word_forms,
    word_language,
)
from worker.models import Field, RuleMatch, Span

__all__ = ["reference_match"]

# A token, its offsets and accents, and for `word~`: its form and language.
Token = tuple[str, int, int, Accents, str, str | None]
Leaf = tuple[Field, int, int]  # field, first token, last token
Hit = tuple[Field, int, int, tuple[Leaf, ...]]


@dataclass(frozen=True, slots=True)
class _Result:
    ok: bool
    spans: frozenset[tuple[Field, int, int]] = frozenset()


def _word_matches(word: Word, token: Token) -> bool:
    text, _, _, accents, form, language = token
    if word.stem:
        # docs/rules.md, `word~`: the same stem in the text word's language, or the rule word
        # plus one of that language's endings (the empty one included).
        if text in word_forms(word.form, word.text, language):
            return True
        return language is not None and stem_key(form, language) == stem_key(word.form, language)
    same = text.startswith(word.text) if word.prefix else text == word.text
    return same and all(accent in accents for accent in word.accents)


def _tokens(text: str, language: str | None) -> list[Token]:
    found: list[Token] = []
    for token, start, end, accents in tokenize(text):
        form = word_form(text[start:end])
        found.append(
            (token, start, end, accents, form, word_language(script_of(form[0]), language))
        )
    return found


def _term_hits(term: Term, fields: frozenset[Field], doc: dict[Field, list[Token]]) -> list[Hit]:
    hits: list[Hit] = []
    size = len(term.words)
    for name in FIELDS:
        if name not in fields:
            continue
        tokens = doc[name]
        for start in range(len(tokens) - size + 1):
            if all(_word_matches(w, tokens[start + k]) for k, w in enumerate(term.words)):
                leaf = (name, start, start + size - 1)
                hits.append((*leaf, (leaf,)))
    return hits


class _Evaluator:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        language = article_language(doc.language)
        self.tokens: dict[Field, list[Token]] = {
            name: _tokens(doc.field(name), language) for name in FIELDS
        }

    def char_span(self, leaf: Leaf) -> tuple[Field, int, int]:
        name, first, last = leaf
        return name, self.tokens[name][first][1], self.tokens[name][last][2]

    def hits(self, node: Node, fields: frozenset[Field]) -> list[Hit]:
        """Positions of a NEAR operand."""
        if isinstance(node, Term):
            return _term_hits(node, fields, self.tokens)
        if isinstance(node, InField):
            return self.hits(node.operand, fields & node.fields)
        if isinstance(node, Or):
            return [hit for operand in node.operands for hit in self.hits(operand, fields)]
        if isinstance(node, Near):
            return self.near(node, fields)
        raise TypeError(node)

    def near(self, node: Near, fields: frozenset[Field]) -> list[Hit]:
        found: list[Hit] = []
        for left in self.hits(node.left, fields):
            for right in self.hits(node.right, fields):
                if left[0] != right[0]:
                    continue
                earlier, later = sorted((left, right), key=lambda hit: hit[1])
                between = later[1] - earlier[2] - 1  # negative when they overlap
                if between <= node.distance:
                    first = min(left[1], right[1])
                    last = max(left[2], right[2])
                    found.append((left[0], first, last, left[3] + right[3]))
        return found

    def regex(self, node: Regex, fields: frozenset[Field]) -> _Result:
        spans = set()
        pattern = compile_regex(node.pattern)
        for name in fields:
            norm = normalize_text(self.doc.field(name))
            for match in pattern.finditer(norm.text):
                if match.group():
                    spans.add((name, *norm.original(match.start(), match.end())))
        return _Result(bool(spans), frozenset(spans))

    def evaluate(self, node: Node, fields: frozenset[Field]) -> _Result:
        if isinstance(node, Term | Near):
            found = self.hits(node, fields)
            spans = frozenset(self.char_span(leaf) for hit in found for leaf in hit[3])
            return _Result(bool(found), spans)
        if isinstance(node, Regex):
            return self.regex(node, fields)
        if isinstance(node, InField):
            return self.evaluate(node.operand, fields & node.fields)
        if isinstance(node, Not):
            return _Result(not self.evaluate(node.operand, fields).ok)
        results = [self.evaluate(operand, fields) for operand in node.operands]
        combine = all if isinstance(node, And) else any
        ok = combine(r.ok for r in results)
        return _Result(ok, frozenset().union(*(r.spans for r in results if r.ok)))


def reference_match(query: Query, doc: Document, rule_id: str | None = None) -> RuleMatch | None:
    """What the rule language says `query` does on `doc`, spans included."""
    result = _Evaluator(doc).evaluate(query.root, frozenset(FIELDS))
    if not result.ok:
        return None
    order = {name: index for index, name in enumerate(FIELDS)}
    spans = sorted(result.spans, key=lambda s: (order[s[0]], s[1], s[2]))
    return RuleMatch(rule_id or query.text, tuple(Span(*span) for span in spans))
