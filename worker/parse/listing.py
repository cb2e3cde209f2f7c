"""HTML pages that are not articles: listing pages scraped with CSS selectors,
and pages that advertise their feeds."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
from bs4 import BeautifulSoup, Tag
from lxml import etree
from soupsieve import SelectorSyntaxError

from worker.errors import ExtractError
from worker.models import FeedEntry, ParsedFeed
from worker.parse.encoding import decode
from worker.parse.feeds import dedupe_entries
from worker.parse.text import clean_line
from worker.parse.urls import absolute_url

__all__ = ["find_feed_links", "parse_listing"]

_PARSER = lxml.html.HTMLParser(encoding="utf-8")
_FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml", "application/feed+json"})


def parse_listing(
    html: bytes,
    *,
    url: str,
    item: str,
    link: str,
    title: str | None = None,
    summary: str | None = None,
    content_type: str | None = None,
) -> ParsedFeed:
    """Each element matching `item` becomes an entry whose guid is its absolute url.

    Items without a usable http(s) link are skipped. No match at all is not an
    error but a `problem`, so a site redesign shows up in the source's health.
    Raises ExtractError for a selector that is not valid CSS.
    """
    soup = BeautifulSoup(decode(html, content_type).text, "lxml")
    base = _base_url(soup, url)
    entries = []
    for element in _select(soup, item):
        entry = _entry(element, base, link=link, title=title, summary=summary)
        if entry is not None:
            entries.append(entry)
    page_title = clean_line(soup.title.get_text()) if soup.title else ""
    problem = None
    if not entries:
        problem = f"selector {item!r} with link {link!r} found no items"
    return ParsedFeed(title=page_title or None, entries=dedupe_entries(entries), problem=problem)


def find_feed_links(html: bytes, *, url: str) -> list[str]:
    """Absolute urls of the feeds a page advertises, in page order, without repeats."""
    try:
        # Bytes, not str: lxml refuses a str that carries an XML encoding declaration.
        root = lxml.html.document_fromstring(decode(html).text.encode("utf-8"), parser=_PARSER)
    except (etree.ParserError, ValueError):
        return []
    base = absolute_url(_first(root.xpath("//base/@href")), url) or url
    found: list[str] = []
    for element in root.xpath("//link[@href]"):
        rel = str(element.get("rel", "")).lower().split()
        media_type = str(element.get("type", "")).split(";")[0].strip().lower()
        if "alternate" in rel and media_type in _FEED_TYPES:
            href = absolute_url(element.get("href"), base)
            if href and href not in found:
                found.append(href)
    return found


def _first(values: object) -> str | None:
    return str(values[0]) if isinstance(values, list) and values else None


def _base_url(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    href = base.get("href") if isinstance(base, Tag) else None
    return absolute_url(href if isinstance(href, str) else None, url) or url


def _select(scope: Tag, selector: str) -> list[Tag]:
    try:
        return list(scope.select(selector))
    except SelectorSyntaxError as error:
        raise ExtractError(f"invalid CSS selector {selector!r}: {error}") from error


def _select_one(scope: Tag, selector: str) -> Tag | None:
    matches = _select(scope, selector)
    if matches:
        return matches[0]
    # `select` only searches descendants; `item: "a.story", link: "a"` means the item itself.
    return scope if scope.css.match(selector) else None


def _entry(
    element: Tag, base: str, *, link: str, title: str | None, summary: str | None
) -> FeedEntry | None:
    anchor = _select_one(element, link)
    href = anchor.get("href") if anchor is not None else None
    entry_url = absolute_url(href if isinstance(href, str) else None, base)
    if entry_url is None or anchor is None:
        return None
    title_element = _select_one(element, title) if title else anchor
    summary_element = _select_one(element, summary) if summary else None
    return FeedEntry(
        guid=entry_url,
        url=entry_url,
        title=_text(title_element) or _text(anchor),
        summary=_text(summary_element),
        content="",
        published=_published(element),
    )


def _text(element: Tag | None) -> str:
    return clean_line(element.get_text(" ")) if element is not None else ""


def _published(element: Tag) -> datetime | None:
    stamp = element.find("time", datetime=True)
    value = stamp.get("datetime") if isinstance(stamp, Tag) else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
