"""Why a `word~` found an inflected form, for `wirewatch match` and `backtest`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from worker.match.document import Document, span_text
from worker.match.normalize import tokenize, word_form
from worker.match.query import InField, Near, Node, Not, Query, Term, Word
from worker.match.stem import (
    LANGUAGES,
    article_language,
    fold_word,
    script_of,
    stem_key,
    word_forms,
    word_language,
)
from worker.models import RuleMatch

__all__ = ["Inflection", "inflections"]


@dataclass(frozen=True, slots=True)
class Inflection:
    """A text word a `word~` found though the plain word would not have."""

    text: str  # as written in the article
    word: str  # the rule word, as `Putin~`
    language: str  # ISO 639-1 of the text word
    reason: str  # "same stem putin" or "iran + ending -a", in the word's script

    def describe(self) -> str:
        name = LANGUAGES[self.language].name if self.language in LANGUAGES else self.language
        return f"{self.text} ({self.word}: {name} {self.reason})"


def _stem_words(node: Node) -> Iterator[Word]:
    if isinstance(node, Term):
        yield from (word for word in node.words if word.stem)
    elif isinstance(node, Not):
        return  # what is absent is never shown
    elif isinstance(node, InField):
        yield from _stem_words(node.operand)
    elif isinstance(node, Near):
        yield from _stem_words(node.left)
        yield from _stem_words(node.right)
    elif hasattr(node, "operands"):
        for operand in node.operands:
            yield from _stem_words(operand)


def _reason(word: Word, token: str, form: str, language: str) -> str | None:
    if token == word.text:
        return None  # the plain word: nothing to explain
    if token in word_forms(word.form, word.text, language):
        folded = token[len(word.text) :]
        ending = next((e for e in LANGUAGES[language].endings if fold_word(e) == folded), folded)
        return f"{word.form} + ending -{ending}"
    stem = stem_key(form, language)
    if stem == stem_key(word.form, language):
        return f"same stem {stem}"
    return None


def inflections(query: Query, doc: Document, match: RuleMatch) -> list[Inflection]:
    """The inflected forms among a match's spans, each once, in reading order."""
    words = list(dict.fromkeys(_stem_words(query.root)))
    if not words:
        return []
    article = article_language(doc.language)
    found: dict[tuple[str, str], Inflection] = {}
    for span in match.spans:
        text = span_text(doc, span)
        for token, start, end, _ in tokenize(text):
            written = text[start:end]
            form = word_form(written)
            language = word_language(script_of(form[0]), article)
            if language is None:
                continue
            for word in words:
                reason = _reason(word, token, form, language)
                if reason is not None:
                    key = (written, word.form)
                    found.setdefault(key, Inflection(written, f"{word.form}~", language, reason))
    return list(found.values())
