"""Rule matching: the query language of docs/rules.md and a compiled matcher.

    rules = compile_rules([("s300", '"S-300" AND Iran')])
    for match in rules.match(Document(title, summary, body)):
        ...  # match.rule_id, match.spans (offsets into the original fields)

`rules.match(doc, spans=False)` only finds which rules match, not where, for
when nothing will be highlighted; `only=` limits matching to some rules.

`word~` stems in the article's language (`Document.language`);
`language.article_document` resolves it for an article (source setting,
declared, detected) and `explain.inflections` says why an inflected form
matched.

`reference.reference_match` is a deliberately plain evaluator of the same
language, kept to test the compiled matcher against.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from worker.lazy import lazy_attribute

if TYPE_CHECKING:
    from worker.match.compile import RuleSet, compile_rules, match_query
    from worker.match.document import FIELDS, Document, matched_terms, span_text
    from worker.match.explain import Inflection, inflections
    from worker.match.language import article_document, detect_language, resolve_language
    from worker.match.query import Query, parse_query
    from worker.match.stem import LANGUAGES, article_language

# Each name's submodule, imported on first use (worker.lazy says why).
_EXPORTS = {
    "Document": "document",
    "FIELDS": "document",
    "Inflection": "explain",
    "LANGUAGES": "stem",
    "Query": "query",
    "RuleSet": "compile",
    "article_document": "language",
    "article_language": "stem",
    "compile_rules": "compile",
    "detect_language": "language",
    "inflections": "explain",
    "match_query": "compile",
    "matched_terms": "document",
    "parse_query": "query",
    "resolve_language": "language",
    "span_text": "document",
}

__all__ = [
    "FIELDS",
    "LANGUAGES",
    "Document",
    "Inflection",
    "Query",
    "RuleSet",
    "article_document",
    "article_language",
    "compile_rules",
    "detect_language",
    "inflections",
    "match_query",
    "matched_terms",
    "parse_query",
    "resolve_language",
    "span_text",
]


def __getattr__(name: str) -> object:
    return lazy_attribute(__name__, _EXPORTS, name)
