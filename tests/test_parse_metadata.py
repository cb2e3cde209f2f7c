"""Where an article's dates come from: meta tags, JSON-LD, then htmldate, never the network."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime

import pytest

from worker.parse import extract_article

_BODY = " ".join(
    f"Paragraph {n} of the report says the ministry confirmed the shipment of grain to the"
    " port, where officials counted the cargo and signed the papers before departure."
    for n in range(4)
)


def page(head: str = "", body_extra: str = "") -> bytes:
    return f"""<!DOCTYPE html>
<html lang="en"><head><title>Ministry confirms grain shipment</title>{head}</head>
<body><article><h1>Ministry confirms grain shipment</h1>{body_extra}<p>{_BODY}</p>
<p>{_BODY}</p></article></body></html>""".encode()


def json_ld(**fields: str) -> str:
    data = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def extract(html: bytes, url: str = "https://news.example/story") -> tuple[object, object]:
    result = extract_article(html, url=url)
    assert result is not None
    return result.published, result.updated


def test_meta_published_and_modified() -> None:
    head = (
        '<meta property="article:published_time" content="2025-03-01T10:00:00+02:00">'
        '<meta property="article:modified_time" content="2025-03-02T09:30:00Z">'
    )
    assert extract(page(head)) == (utc("2025-03-01T08:00:00+00:00"), utc("2025-03-02T09:30:00Z"))


def test_json_ld_dates() -> None:
    head = json_ld(datePublished="2025-03-01T10:00:00+01:00", dateModified="2025-03-03T00:00:00Z")
    assert extract(page(head)) == (utc("2025-03-01T09:00:00Z"), utc("2025-03-03T00:00:00Z"))


def test_json_ld_in_a_graph_with_raw_newlines() -> None:
    # Real pages nest the article in @graph and leave control characters in strings.
    head = (
        '<script type="application/ld+json">{"@graph": [{"@type": "WebPage"},'
        ' {"@type": "NewsArticle", "headline": "two\nlines",'
        ' "datePublished": "2025-03-01T10:00:00Z"}]}</script>'
    )
    assert extract(page(head))[0] == utc("2025-03-01T10:00:00Z")


def test_modified_time_stands_in_for_a_missing_published_time() -> None:
    assert extract(page(json_ld(dateModified="2025-03-03T12:00:00Z"))) == (
        utc("2025-03-03T12:00:00Z"),
        utc("2025-03-03T12:00:00Z"),
    )


def test_article_dates_win_over_generic_tags() -> None:
    head = (
        '<meta name="DC.Date" content="2020-01-01">'
        + '<meta property="article:published_time" content="2025-03-01T10:00:00Z">'
    )
    assert extract(page(head))[0] == utc("2025-03-01T10:00:00Z")


def test_earliest_publication_time_wins_over_a_modified_one_under_a_published_key() -> None:
    # Templates write the modification time into article:published_time.
    head = (
        json_ld(datePublished="2025-02-27T08:00:00Z")
        + '<meta property="article:published_time" content="2025-03-01T10:00:00Z">'
        + '<meta property="article:modified_time" content="2025-03-01T10:00:00Z">'
    )
    assert extract(page(head)) == (utc("2025-02-27T08:00:00Z"), utc("2025-03-01T10:00:00Z"))


@pytest.mark.parametrize(
    "name", ["DC.Date", "dc.date", "dcterms.issued", "citation_publication_date"]
)
def test_generic_date_tags_any_case(name: str) -> None:
    head = f'<meta name="{name}" content="2025-03-01">'
    assert extract(page(head))[0] == utc("2025-03-01T00:00:00+00:00")


def test_htmldate_fallback_reads_the_url() -> None:
    published, updated = extract(page(), url="https://news.example/2025/03/01/grain-shipment")
    assert published == utc("2025-03-01T00:00:00+00:00")
    assert updated is None


def test_htmldate_fallback_reads_markup() -> None:
    body = '<p class="byline">Posted <time datetime="2025-02-11T08:15:00">11 Feb</time></p>'
    html = page(body_extra=body).replace(b"<article>", b"<div>").replace(b"</article>", b"</div>")
    assert extract(html)[0] == datetime(2025, 2, 11, 8, 15, tzinfo=UTC)


def test_no_date_anywhere() -> None:
    assert extract(page()) == (None, None)


def test_no_network_access(monkeypatch: pytest.MonkeyPatch) -> None:
    """htmldate downloads a string that looks like a URL; extraction must never connect."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("extraction tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    html = page('<link rel="canonical" href="https://news.example/story">')
    assert extract(html, url="https://news.example/story") == (None, None)
