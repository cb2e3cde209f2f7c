"""JSON Feed 1.0/1.1 (https://jsonfeed.org) to a ParsedFeed."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from worker.models import FeedEntry, ParsedFeed
from worker.parse.text import clean_line, fallback_title, html_to_text, tidy_text
from worker.parse.urls import absolute_url

__all__ = ["is_json_feed", "parse_json_feed"]

_VERSION_PREFIX = "https://jsonfeed.org/version/"


def is_json_feed(text: str, content_type: str | None, *, partial: bool = False) -> bool:
    """Whether `text` is (the start of, when `partial`) a JSON Feed document."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if not stripped.startswith("{"):
        return False
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type.endswith("feed+json"):
        return True
    # The version member is required, and in practice written first.
    return "jsonfeed.org/version" in stripped[: 4096 if partial else 65536]


def parse_json_feed(text: str, *, url: str) -> ParsedFeed:
    try:
        document = json.loads(text.lstrip("\ufeff"))
    except ValueError as error:
        return ParsedFeed(title=None, entries=(), problem=f"malformed JSON Feed: {error}")
    if not isinstance(document, dict):
        return ParsedFeed(title=None, entries=(), problem="malformed JSON Feed: not an object")
    base = _string(document.get("home_page_url")) or url
    items = document.get("items")
    problem = None
    if not str(document.get("version", "")).startswith(_VERSION_PREFIX):
        problem = "JSON Feed without a jsonfeed.org version; parsed anyway"
    if not isinstance(items, list):
        items = []
        problem = "malformed JSON Feed: `items` is not a list"
    language = _string(document.get("language"))
    entries = tuple(_entry(item, base, language) for item in items if isinstance(item, dict))
    title = clean_line(_string(document.get("title"))) or None
    return ParsedFeed(title=title, entries=entries, problem=problem)


def _entry(item: Mapping[str, Any], base: str, language: str) -> FeedEntry:
    content = html_to_text(_string(item.get("content_html"))) or tidy_text(
        _string(item.get("content_text"))
    )
    summary = tidy_text(_string(item.get("summary")))
    link = absolute_url(_string(item.get("url")) or _string(item.get("external_url")), base)
    guid = _string(item.get("id")) or None
    return FeedEntry(
        guid=clean_line(guid) if guid else None,
        url=link,
        title=clean_line(_string(item.get("title"))) or fallback_title(summary or content),
        summary=summary,
        content=content,
        published=_date(item.get("date_published")) or _date(item.get("date_modified")),
        author=_author(item),
        language=clean_line(_string(item.get("language")) or language) or None,
    )


def _string(value: Any) -> str:
    # JSON Feed ids may be numbers in the wild although the spec says string.
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # RFC 3339 requires an offset; assume UTC
    return parsed.astimezone(UTC)


def _author(item: Mapping[str, Any]) -> str | None:
    authors = item.get("authors")
    candidates = authors if isinstance(authors, list) else []
    if isinstance(item.get("author"), dict):
        candidates = [*candidates, item["author"]]  # JSON Feed 1.0
    for author in candidates:
        if isinstance(author, dict) and (name := clean_line(_string(author.get("name")))):
            return name
    return None
