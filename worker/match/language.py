"""The language of an article, for `word~` (docs/rules.md).

Declared languages come first: a source's `language:` in sources.yaml (the
user knows better than a site's template), then what the page or the feed
declares; only when neither says is the text's language detected.

The detector is py3langid (a naive Bayes model over byte n-grams that ships
inside the package, nothing downloaded at run time), chosen by measurement
(bench/language.py, bench/RESULTS.md "Language detection"): the most right on
200-character news snippets of those under 1 ms per article. It is limited
to the languages news is commonly written in, which keeps it from naming
rare neighbours (Aragonese for Spanish, say); and it reads at most the first
DETECT_CHARS characters of title and text, which say as much as the rest.
"""

from __future__ import annotations

import threading
from typing import Any

from worker.match.document import Document
from worker.match.stem import LANGUAGES, article_language
from worker.models import Article

__all__ = [
    "DETECT_CHARS",
    "NEWS_LANGUAGES",
    "article_document",
    "detect_language",
    "resolve_language",
]

DETECT_CHARS = 600
# Too little text to tell: a bare headline in a word or two.
_MIN_LETTERS = 12

NEWS_LANGUAGES: frozenset[str] = frozenset(
    (set(LANGUAGES) - {"yi"})  # py3langid has no Yiddish
    | set(
        [
            "af",
            "az",
            "be",
            "bg",
            "bn",
            "bs",
            "cy",
            "gl",
            "he",
            "hr",
            "is",
            "ja",
            "ka",
            "kk",
            "ko",
            "lb",
            "lv",
            "mk",
            "ms",
            "mt",
            "sk",
            "sl",
            "sq",
            "sw",
            "th",
            "tl",
            "uk",
            "ur",
            "uz",
            "vi",
            "zh",
        ]
    )
)


class _Detector:
    """py3langid's model, loaded on first use (about 0.8 s) and shared by threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._identifier: Any = None

    def identifier(self) -> Any:
        if self._identifier is None:
            with self._lock:
                if self._identifier is None:
                    from py3langid.langid import MODEL_FILE, LanguageIdentifier

                    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
                    identifier.set_languages(sorted(NEWS_LANGUAGES))
                    self._identifier = identifier
        return self._identifier


_DETECTOR = _Detector()


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the language `text` is written in; None if too short to tell."""
    sample = text[:DETECT_CHARS]
    if sum(map(str.isalpha, sample)) < _MIN_LETTERS:
        return None
    code, _ = _DETECTOR.identifier().classify(sample)
    return str(code)


def resolve_language(
    *, source: str | None = None, declared: str | None = None, text: str = ""
) -> str | None:
    """The article's language: the source's setting, else the declared one, else detected.

    A declared value is used when it names a language (`pt-BR` is `pt`);
    detection reads `text` (title and body, say) only when neither does.
    """
    for value in (source, declared):
        if value:
            primary = value.strip().lower().replace("_", "-").split("-", 1)[0]
            if primary.isalpha() and 2 <= len(primary) <= 3:
                return article_language(primary) or primary
    return detect_language(text)


def article_document(article: Article, source_language: str | None = None) -> Document:
    """What rules are matched against for an article, with its language resolved:
    `source_language` (the source's `language:`), else `article.language` (as
    the page or feed declared it), else detected from title and text."""
    language = resolve_language(
        source=source_language,
        declared=article.language,
        text=f"{article.title}\n{article.body or article.summary}",
    )
    return Document.from_article(article, language)
