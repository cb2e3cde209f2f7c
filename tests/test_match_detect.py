"""The language of an article: the source's setting, the declared one, or detected."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from worker.match import article_document, detect_language, resolve_language
from worker.models import Article

# Short news texts, as the pipeline sees them (title and the start of the body).
TEXTS = {
    "en": "The government announced new sanctions against Iranian banks on Tuesday.",
    "ru": "\u041f\u0440\u0430\u0432\u0438\u0442\u0435\u043b\u044c\u0441\u0442\u0432\u043e "
    "\u043e\u0431\u044a\u044f\u0432\u0438\u043b\u043e \u043e \u043d\u043e\u0432\u044b\u0445 "
    "\u0441\u0430\u043d\u043a\u0446\u0438\u044f\u0445 \u043f\u0440\u043e\u0442\u0438\u0432 "
    "\u0438\u0440\u0430\u043d\u0441\u043a\u0438\u0445 \u0431\u0430\u043d\u043a\u043e\u0432.",
    "de": "Die Bundesregierung hat am Dienstag neue Sanktionen gegen iranische Banken beschlossen.",
    "fr": "Le gouvernement a annoncé mardi de nouvelles sanctions contre les banques iraniennes.",
    "es": "El gobierno anunció el martes nuevas sanciones contra los bancos iraníes.",
    "pl": "Rząd ogłosił we wtorek nowe sankcje wobec irańskich banków.",
    "it": "Il governo ha annunciato martedì nuove sanzioni contro le banche iraniane.",
}


@pytest.mark.parametrize(("language", "text"), sorted(TEXTS.items()))
def test_detects_news_languages(language: str, text: str) -> None:
    assert detect_language(text) == language


def test_too_little_text_to_tell() -> None:
    assert detect_language("") is None
    assert detect_language("Iran 2026") is None


def test_source_setting_then_declared_then_detected() -> None:
    assert resolve_language(source="de", declared="en", text=TEXTS["ru"]) == "de"
    assert resolve_language(declared="pt-BR", text=TEXTS["ru"]) == "pt"
    assert resolve_language(declared="", text=TEXTS["ru"]) == "ru"
    assert resolve_language(declared="x-klingon", text=TEXTS["fr"]) == "fr"  # not a language
    assert resolve_language(text="") is None


def test_article_document_resolves_the_language() -> None:
    article = Article(
        "a", "wire", "https://example.org/a", "Title", "", TEXTS["ru"], datetime.now(UTC)
    )
    assert article_document(article).language == "ru"
    assert article_document(article, "uk").language == "uk"
    declared = Article(**{**article.to_json(), "published": None, "language": "en"})
    assert article_document(declared).language == "en"
    document = article_document(declared)
    assert (document.title, document.summary, document.body) == ("Title", "", TEXTS["ru"])
