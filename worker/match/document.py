"""What rules are matched against, and how to read matched spans back."""

from __future__ import annotations

from dataclasses import dataclass

from worker.models import Article, Field, RuleMatch, Span

__all__ = ["FIELDS", "Document", "matched_terms", "span_text"]

# Order matters: spans are reported title first, as a reader sees the article.
FIELDS: tuple[Field, ...] = ("title", "summary", "body")


@dataclass(frozen=True, slots=True)
class Document:
    """The text of one article, field by field, and its language.

    `language` (ISO 639-1, as declared by the page or feed, set for the
    source, or detected) decides how `word~` stems the article's words;
    None: Latin-script words are English, Cyrillic ones Russian.
    """

    title: str
    summary: str = ""
    body: str = ""
    language: str | None = None

    @classmethod
    def from_article(cls, article: Article, language: str | None = None) -> Document:
        """The article's document; `language` overrides the article's own."""
        return cls(article.title, article.summary, article.body, language or article.language)

    def field(self, name: Field) -> str:
        text: str = getattr(self, name)
        return text


def span_text(doc: Document, span: Span) -> str:
    """The original text a span covers (as written, e.g. in Cyrillic script)."""
    return doc.field(span.field)[span.start : span.end]


def matched_terms(doc: Document, match: RuleMatch) -> tuple[str, ...]:
    """Distinct matched texts in order of first appearance, for the alert's "matched terms"."""
    seen: dict[str, None] = {}
    for span in match.spans:
        seen.setdefault(span_text(doc, span), None)
    return tuple(seen)
