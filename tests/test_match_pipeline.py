"""`word~` in the worker's own pipeline: the article's language comes from the
source's `language:`, else the feed's declaration, else the text, and reaches
the matcher through the real parse, archive and finish_article steps on a real
Redis (docs/rules.md)."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from worker.config import Config, load_config
from worker.match import span_text
from worker.match.document import Document
from worker.models import FeedEntry
from worker.parse import feeds, parse_feed
from worker.pipeline import ArticleContext, entry_from_json, fallback_article, finish_article
from worker.store import Store

URL = "https://lenta.example.org/rss"


def rss(language: str, title: str, description: str) -> bytes:
    declared = f"<language>{language}</language>" if language else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Lenta</title><link>https://lenta.example.org/</link>{declared}"
        f"<item><title>{title}</title><link>https://lenta.example.org/1</link>"
        f"<guid>lenta-1</guid><description>{description}</description></item>"
        "</channel></rss>"
    ).encode()


RUSSIAN = rss(
    "ru",
    "Переговоры в Женеве",
    "Сообщение Путина про переговоры, прочитали в Москве; Лаврову поручено ответить.",
)
GERMAN = "Neue Sanktionen gegen die Reederei wurden am Montag in Berlin beschlossen."


def make_config(directory: Path, language: str | None) -> Config:
    directory.mkdir()
    (directory / "settings.yaml").write_text("allow_private_networks: true\n")
    setting = f"    language: {language}\n" if language else ""
    (directory / "sources.yaml").write_text(f"sources:\n  - id: lenta\n    url: {URL}\n{setting}")
    (directory / "rules.yaml").write_text(
        textwrap.dedent(
            """\
            rules:
              - id: putin
                query: 'Putin~'
              - id: lavrov
                query: 'title:Lavrov~ OR text:Lavrov~'
              - id: sanktion
                query: 'Sanktion~'
            """
        )
    )
    return load_config(directory)


@pytest.fixture
def store(redis_server_url: str) -> Iterator[Store]:
    store = Store.from_url(redis_server_url)
    yield store
    store.redis.close()


def waiting_entry(store: Store, entry: FeedEntry) -> FeedEntry:
    """The entry as the worker's task reads it back from Redis."""
    store.archive.put_entries([("a-1", "lenta", entry, entry.url or URL)])
    data = store.archive.entry("a-1")
    assert data is not None
    return entry_from_json(data)


def run_pipeline(config: Config, store: Store, entry: FeedEntry) -> dict[str, list[str]]:
    source = config.source("lenta")
    assert source is not None
    article = fallback_article("a-1", waiting_entry(store, entry), source)
    matches, _ = finish_article(ArticleContext(config, store, 1_000_000.0), article, source)
    doc = Document.from_article(article)
    return {m.rule_id: [span_text(doc, span) for span in m.spans] for m in matches}


@pytest.mark.parametrize("reader", ["fast", "feedparser"])
def test_a_feed_declaring_russian_finds_inflected_names(
    reader: str, tmp_path: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if reader == "feedparser":
        monkeypatch.setattr(feeds, "read_feed", lambda utf8, url: None)
    (entry,) = parse_feed(RUSSIAN, url=URL).entries
    assert entry.language == "ru"
    config = make_config(tmp_path / "config", None)
    found = run_pipeline(config, store, entry)
    assert found == {"putin": ["Путина"], "lavrov": ["Лаврову"]}
    alert = store.alerts.get("putin:a-1")
    assert alert is not None


def test_the_source_setting_overrides_a_wrong_declaration(tmp_path: Path, store: Store) -> None:
    # The feed says English; the source's `language: de` is believed, so
    # German endings are stemmed as German.
    (entry,) = parse_feed(rss("en", "Reederei", GERMAN), url=URL).entries
    assert entry.language == "en"
    declared = run_pipeline(make_config(tmp_path / "declared", None), store, entry)
    assert "sanktion" not in declared
    store.redis.flushdb()
    overridden = run_pipeline(make_config(tmp_path / "set", "de"), store, entry)
    assert overridden["sanktion"] == ["Sanktionen"]


def test_an_undeclared_language_is_detected(tmp_path: Path, store: Store) -> None:
    (entry,) = parse_feed(rss("", "Reederei", GERMAN), url=URL).entries
    assert entry.language is None
    found = run_pipeline(make_config(tmp_path / "config", None), store, entry)
    assert found["sanktion"] == ["Sanktionen"]


@pytest.mark.parametrize(
    ("document", "language"),
    [
        (
            b'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="ru_RU"><title>t</title>'
            b"<entry><id>1</id><title>x</title></entry></feed>",
            "ru-RU",
        ),
        (
            b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
            b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            b'<channel rdf:about="https://x.org/"><title>t</title><dc:language>de</dc:language>'
            b'</channel><item rdf:about="https://x.org/1"><title>x</title>'
            b"<link>https://x.org/1</link></item></rdf:RDF>",
            "de",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "language": "pt-BR",'
            b' "items": [{"id": "1", "title": "x"}, {"id": "2", "title": "y", "language": "es"}]}',
            "pt-BR",
        ),
    ],
    ids=["atom", "rss1", "jsonfeed"],
)
def test_feed_languages_reach_the_entries(
    document: bytes, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = parse_feed(document, url=URL).entries
    with monkeypatch.context() as patch:
        patch.setattr(feeds, "read_feed", lambda utf8, url: None)
        slow = parse_feed(document, url=URL).entries
    assert fast == slow
    assert fast[0].language == language
    if len(fast) > 1:
        assert fast[1].language == "es"  # an item's own declaration wins
