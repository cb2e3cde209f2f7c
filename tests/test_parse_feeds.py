"""Feeds from fixture files that carry their expected results (x.xml + x.expected.json)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from worker.errors import ExtractError
from worker.models import FeedEntry, ParsedFeed
from worker.parse import looks_like_feed, parse_feed

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
FEED_SUFFIXES = (".xml", ".rdf", ".json")


def _cases() -> list[str]:
    names = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))
    return [name for name in names if _document(name) is not None]


def _document(name: str) -> Path | None:
    for suffix in FEED_SUFFIXES:
        path = FIXTURES / f"{name}{suffix}"
        if path.exists():
            return path
    return None


def _entry_json(entry: FeedEntry) -> dict[str, Any]:
    published = entry.published.isoformat() if entry.published else None
    return {
        "guid": entry.guid,
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary,
        "content": entry.content,
        "published": published,
        "author": entry.author,
    }


def _parse(name: str) -> tuple[ParsedFeed, dict[str, Any]]:
    expected = json.loads((FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8"))
    path = _document(name)
    assert path is not None
    feed = parse_feed(
        path.read_bytes(), url=expected["url"], content_type=expected.get("content_type")
    )
    return feed, expected


@pytest.mark.parametrize("name", _cases())
def test_feed_fixture(name: str) -> None:
    feed, expected = _parse(name)
    assert feed.title == expected["title"]
    if "problem" in expected:
        assert feed.problem == expected["problem"]
    assert len(feed.entries) == len(expected["entries"])
    # Charset fixtures list only the fields that decoding can get wrong.
    actual = [
        {key: got[key] for key in want}
        for got, want in zip(map(_entry_json, feed.entries), expected["entries"], strict=True)
    ]
    assert actual == expected["entries"]


@pytest.mark.parametrize("name", _cases())
def test_feed_dates_are_utc_aware(name: str) -> None:
    feed, _ = _parse(name)
    for entry in feed.entries:
        if entry.published is not None:
            assert entry.published.utcoffset() == timedelta(0)


def test_duplicate_guids_keep_the_first() -> None:
    feed, _ = _parse("rss2")
    guids = [entry.guid for entry in feed.entries if entry.guid]
    assert len(guids) == len(set(guids))
    assert feed.entries[0].title == "Grain exports rise — ministry"


def test_lying_charset_is_reported_as_tolerated_problem() -> None:
    feed, _ = _parse("cp1251_declared_utf8")
    assert feed.problem is not None
    assert "utf-8" in feed.problem
    assert "cp1251" in feed.problem


def test_malformed_feed_is_data_with_a_problem() -> None:
    feed = parse_feed((FIXTURES / "malformed.xml").read_bytes(), url="https://broken.example/rss")
    assert feed.problem is not None and "malformed" in feed.problem
    assert [entry.guid for entry in feed.entries] == ["b1", "b2"]
    assert feed.entries[0].title == "First & only"


def test_markup_that_trips_the_lenient_parser_is_a_clear_error() -> None:
    """feedparser itself fails on some broken markup (a KeyError here): the
    source is reported as failing with the reason, never an internal error."""
    data = (FIXTURES / "stray_end_tags.xml").read_bytes()
    with pytest.raises(ExtractError, match=r"malformed feed .*KeyError"):
        parse_feed(data, url="https://stray.example/rss")


def test_not_a_feed_is_a_problem_not_an_error() -> None:
    page = b"<!DOCTYPE html><html><body><p>Just a page</p></body></html>"
    feed = parse_feed(page, url="https://example.com/", content_type="text/html")
    assert feed.entries == ()
    assert feed.problem is not None


def test_bytes_are_never_taken_for_a_url_or_a_path(tmp_path: Path) -> None:
    secret = tmp_path / "feed.xml"
    secret.write_text('<rss version="2.0"><channel><title>LOCAL FILE</title></channel></rss>')
    for data in (str(secret).encode(), b"https://example.com/rss", b"file:///etc/passwd"):
        feed = parse_feed(data, url="https://example.com/rss")
        assert feed.title is None
        assert feed.entries == ()


# --- hostile XML ------------------------------------------------------------------


def _hostile(name: str, tmp_path: Path) -> tuple[bytes, str]:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT", encoding="utf-8")
    data = (FIXTURES / f"{name}.xml").read_bytes()
    return data.replace(b"SECRET_PATH", str(secret).encode()), "TOP-SECRET-CONTENT"


@pytest.mark.timeout(10)
def test_billion_laughs_is_refused_without_expanding() -> None:
    data = (FIXTURES / "billion_laughs.xml").read_bytes()
    with pytest.raises(ExtractError, match="unsafe feed: entity 'lol1' refers to other entities"):
        parse_feed(data, url="https://evil.example/rss")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("xxe_system_entity", "is external"),
        ("xxe_parameter_entity", "is a parameter entity"),
    ],
)
def test_external_entities_are_refused(name: str, reason: str, tmp_path: Path) -> None:
    data, secret = _hostile(name, tmp_path)
    with pytest.raises(ExtractError, match=reason) as caught:
        parse_feed(data, url="https://evil.example/rss")
    assert secret not in str(caught.value)


def test_external_dtd_is_never_loaded(tmp_path: Path) -> None:
    data, secret = _hostile("xxe_external_dtd", tmp_path)
    feed = parse_feed(data, url="https://dtd.example/rss")
    assert [entry.title for entry in feed.entries] == ["Harmless item"]
    assert secret not in repr(feed)


def test_plain_internal_entities_are_still_expanded() -> None:
    data = (FIXTURES / "entity_declared_safe.xml").read_bytes()
    feed = parse_feed(data, url="https://old.example/rss")
    assert feed.entries[0].title == "From Example Wire Ltd"
    assert feed.entries[0].summary == "Published by Example Wire Ltd."


@pytest.mark.parametrize(
    "declaration",
    [
        b'<!ENTITY a "&b;">',
        b"<!ENTITY a SYSTEM 'http://evil.example/x'>",
        b'<!ENTITY a PUBLIC "-//X//EN" "http://evil.example/x">',
        b'<!ENTITY a "' + b"x" * 500 + b'">',
        b"<!entity a 'lower-case declaration'>",
    ],
)
def test_unsafe_declarations_are_refused(declaration: bytes) -> None:
    data = b'<?xml version="1.0"?><!DOCTYPE rss [' + declaration + b']><rss version="2.0"/>'
    with pytest.raises(ExtractError, match="unsafe feed"):
        parse_feed(data, url="https://evil.example/rss")


# --- looks_like_feed ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("rss2.xml", "text/xml"),
        ("rss1.rdf", None),
        ("atom_xhtml.xml", "text/html"),  # a lying server still serves a feed
        ("jsonfeed.json", "application/json"),
        ("cp1251_undeclared.xml", None),
    ],
)
def test_feeds_look_like_feeds(name: str, content_type: str | None) -> None:
    assert looks_like_feed((FIXTURES / name).read_bytes(), content_type)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ((FIXTURES / "listing.html").read_bytes(), "text/html"),
        ((FIXTURES / "article_grain.html").read_bytes(), "application/rss+xml"),
        (b'{"data": [1, 2, 3]}', "application/json"),
        (b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="x"><thing/></rdf:RDF>', "application/xml"),
        (b"", None),
    ],
)
def test_pages_do_not_look_like_feeds(data: bytes, content_type: str | None) -> None:
    assert not looks_like_feed(data, content_type)
