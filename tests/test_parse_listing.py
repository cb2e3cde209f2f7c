"""Listing pages read with CSS selectors, and feed discovery on HTML pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from worker.errors import ExtractError
from worker.models import FeedEntry
from worker.parse import find_feed_links, parse_listing

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
LISTING = (FIXTURES / "listing.html").read_bytes()
EXPECTED: dict[str, Any] = json.loads(
    (FIXTURES / "listing.expected.json").read_text(encoding="utf-8")
)


def _entry_json(entry: FeedEntry) -> dict[str, Any]:
    return {
        "guid": entry.guid,
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary,
        "content": entry.content,
        "published": entry.published.isoformat() if entry.published else None,
        "author": entry.author,
    }


@pytest.mark.parametrize("case", EXPECTED["cases"], ids=lambda case: case["select"]["item"])
def test_listing_fixture(case: dict[str, Any]) -> None:
    feed = parse_listing(LISTING, url=EXPECTED["url"], **case["select"])
    assert feed.title == EXPECTED["title"]
    assert feed.problem == case["problem"]
    assert [_entry_json(entry) for entry in feed.entries] == case["entries"]


def test_invalid_selector_is_a_clear_error() -> None:
    with pytest.raises(ExtractError, match=r"invalid CSS selector 'article\[news'"):
        parse_listing(LISTING, url=EXPECTED["url"], item="article[news", link="a")


def test_listing_in_a_legacy_charset_without_declaration() -> None:
    html = (
        "<html><body><ul>"
        + "".join(
            f'<li class="n"><a href="/novosti/{i}">Новость номер {i}: экспорт зерна вырос</a></li>'
            for i in range(1, 6)
        )
        + "</ul></body></html>"
    ).encode("cp1251")
    feed = parse_listing(html, url="https://ru.example.com/", item="li.n", link="a")
    assert feed.entries[0].title == "Новость номер 1: экспорт зерна вырос"
    assert feed.entries[4].url == "https://ru.example.com/novosti/5"


def test_find_feed_links_resolves_against_base_href() -> None:
    assert find_feed_links(LISTING, url=EXPECTED["url"]) == [
        "https://ministry.example.org/press/rss.xml"
    ]


def test_find_feed_links_keeps_order_and_drops_repeats_and_non_feeds() -> None:
    html = b"""<html><head>
      <link rel="alternate" type="application/atom+xml" href="/atom.xml">
      <link rel="ALTERNATE home" type="application/rss+xml; charset=utf-8" href="rss">
      <link rel="alternate" type="application/feed+json" href="https://cdn.example.net/feed.json">
      <link rel="alternate" type="application/atom+xml" href="/atom.xml">
      <link rel="alternate" hreflang="de" href="/de/">
      <link rel="stylesheet" type="text/css" href="/style.css">
      <link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
    </head><body><a rel="alternate" type="application/rss+xml" href="/not-a-link-element">x</a>
    </body></html>"""
    assert find_feed_links(html, url="https://example.com/blog/post") == [
        "https://example.com/atom.xml",
        "https://example.com/blog/rss",
        "https://cdn.example.net/feed.json",
    ]


def test_find_feed_links_on_xhtml_with_xml_declaration() -> None:
    html = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml">'
        b'<head><link rel="alternate" type="application/atom+xml" href="/feed"/></head></html>'
    )
    assert find_feed_links(html, url="https://example.com/") == ["https://example.com/feed"]


def test_find_feed_links_on_junk_is_empty() -> None:
    assert find_feed_links(b"", url="https://example.com/") == []
    assert find_feed_links(b"\x00\xff not html", url="https://example.com/") == []
