"""RSS, RDF/RSS 1.0, Atom and JSON Feed documents to a ParsedFeed.

feedparser always gets bytes from memory (a str would be taken for a URL or a
file name) that were decoded here and re-encoded as UTF-8, so its own charset
sniffing, which trusts declarations, cannot undo a corrected one.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser

from worker.errors import ExtractError
from worker.models import FeedEntry, ParsedFeed
from worker.parse.encoding import decode
from worker.parse.jsonfeed import is_json_feed, parse_json_feed
from worker.parse.safety import check_xml_safety
from worker.parse.text import clean_line, fallback_title, html_to_text, tidy_text
from worker.parse.urls import absolute_url
from worker.parse.xmlfeed import read_feed

__all__ = ["dedupe_entries", "looks_like_feed", "parse_feed"]

_XML_ENCODING = re.compile(r"""(<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""", re.IGNORECASE)
_FEED_CONTENT_TYPES = ("rss+xml", "atom+xml", "rdf+xml", "feed+json")
_HTML_START = re.compile(r"\A\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html)\b", re.I | re.S)
_FIRST_ELEMENT = re.compile(r"<[A-Za-z_][^>]*>")
_FEED_ROOT = re.compile(r"<(?:rss|feed|rdf:RDF|RDF)\b", re.IGNORECASE)
_RSS1_NAMESPACE = "purl.org/rss/1.0"
# A numeric character reference, decimal or hex (`&#8212;`, `&#x2014;`).
_CHAR_REFERENCE = re.compile(r"&#(?:[xX]([0-9A-Fa-f]{1,16})|([0-9]{1,16}));")


def parse_feed(data: bytes, *, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse a feed; a malformation that was tolerated is described in `problem`.

    Raises ExtractError when the document declares XML entities that could
    read local files or expand without bound (XXE, billion laughs): such a feed
    is refused whole rather than parsed with its DTD removed, so the source is
    reported as failing instead of silently changing meaning.
    """
    decoded = decode(data, content_type)
    if is_json_feed(decoded.text, content_type):
        feed = parse_json_feed(decoded.text, url=url)
    else:
        check_xml_safety(decoded.text)
        feed = _parse_xml(decoded.text, url=url)
    problems = [problem for problem in (decoded.problem, feed.problem) if problem]
    return ParsedFeed(
        title=feed.title,
        entries=dedupe_entries(feed.entries),
        problem="; ".join(problems) or None,
    )


def looks_like_feed(data: bytes, content_type: str | None) -> bool:
    """Whether a response is a feed rather than an HTML page (for `type: auto`)."""
    head = decode(data[:4096]).text.lstrip("\ufeff")
    if _HTML_START.match(head):
        return False  # a page that merely links to a feed, whatever the server says
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type.endswith(_FEED_CONTENT_TYPES):
        return True
    if is_json_feed(head, content_type, partial=True):
        return True
    root = _FIRST_ELEMENT.search(head)
    if not root or not _FEED_ROOT.match(root.group(0)):
        return False
    # RDF is used for much besides RSS 1.0; only its namespace tells them apart.
    return not root.group(0).lower().startswith("<rdf") or _RSS1_NAMESPACE in head


def dedupe_entries(entries: Iterable[FeedEntry]) -> tuple[FeedEntry, ...]:
    """Entries with repeated guids (or, lacking one, urls) collapsed to the first.

    An entry with no guid, no link and no title is no entry (docs/security.md, "Links
    and addresses").
    """
    seen: set[str] = set()
    kept = []
    for entry in entries:
        if not (entry.guid or entry.url or entry.title):
            continue
        key = entry.guid or entry.url
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(entry)
    return tuple(kept)


def _parse_xml(text: str, *, url: str) -> ParsedFeed:
    utf8 = _XML_ENCODING.sub(r"\1\2utf-8\2", text, count=1).encode("utf-8")
    fast = read_feed(utf8, url=url)
    if fast is not None:
        feed, raw_entries = fast
        language = _language(feed)
        entries = tuple(_entry(raw, url, language) for raw in raw_entries)
        return ParsedFeed(title=_detail_text(feed, "title") or None, entries=entries)
    return _parse_with_feedparser(utf8, url=url)


def _parse_with_feedparser(utf8: bytes, *, url: str) -> ParsedFeed:
    # Its sanitizer and URI resolution rewrite markup that _entry reduces to
    # plain text anyway (scripts and styles are dropped there): two thirds of
    # its time, for nothing.
    try:
        result = feedparser.parse(
            io.BytesIO(_CHAR_REFERENCE.sub(_checked_reference, utf8.decode("utf-8")).encode()),
            response_headers={
                "content-type": "application/xml; charset=utf-8",
                "content-location": url,
            },
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except Exception as exc:
        # feedparser is loose by design, but some broken markup still trips
        # it (KeyError, ValueError, ...): a feed it cannot read is reported
        # as broken (the source fails, the others go on), never a crash.
        kind = type(exc).__name__
        raise ExtractError(
            f"malformed feed that even lenient parsing cannot read ({kind}: {exc})"
        ) from exc
    language = _language(result.feed)
    entries = tuple(_entry(raw, url, language) for raw in result.entries)
    feed_title = _detail_text(result.feed, "title") or None
    return ParsedFeed(title=feed_title, entries=entries, problem=_bozo(result, entries))


def _checked_reference(found: re.Match[str]) -> str:
    """A character reference as is, or U+FFFD for one that names no character
    XML allows (a surrogate, NUL, past U+10FFFF), which feedparser's loose
    parser would fail on instead of reporting."""
    hexadecimal, decimal = found.groups()
    code = int(hexadecimal, 16) if hexadecimal else int(decimal)
    allowed = code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0x10FFFF
    return found.group() if allowed and code not in (0xFFFE, 0xFFFF) else "&#xFFFD;"


def _bozo(result: Any, entries: tuple[FeedEntry, ...]) -> str | None:
    if not result.get("version") and not entries:
        return "not a recognizable RSS, Atom or JSON feed"
    if not result.get("bozo"):
        return None
    error = result.get("bozo_exception")
    reason = getattr(error, "getMessage", lambda: str(error))()
    line = getattr(error, "getLineNumber", lambda: None)()
    where = f" at line {line}" if line else ""
    return f"malformed feed{where}: {reason}; parsed leniently"


def _language(feed: Mapping[str, Any]) -> str | None:
    """The feed's declared language (`<language>`, `dc:language`, Atom's `xml:lang`)."""
    return clean_line(str(feed.get("language") or "")) or None


def _entry(raw: Mapping[str, Any], feed_url: str, language: str | None) -> FeedEntry:
    summary = _detail_text(raw, "summary")
    content = _content_text(raw.get("content") or [])
    title = _detail_text(raw, "title") or fallback_title(summary or content)
    guid = clean_line(str(raw.get("id") or "")) or None
    return FeedEntry(
        guid=guid,
        url=absolute_url(raw.get("link"), feed_url),
        title=" ".join(title.split()),
        summary=summary,
        content=content if content != summary else "",
        published=_published(raw),
        author=_author(raw),
        language=language,
    )


def _detail_text(node: Mapping[str, Any], key: str) -> str:
    value = node.get(key)
    if not value:
        return ""
    detail = node.get(f"{key}_detail") or {}
    return _to_text(str(value), str(detail.get("type") or "text/html"))


def _to_text(value: str, media_type: str) -> str:
    # feedparser has already decoded text/plain values; only html/xhtml are markup.
    return html_to_text(value) if "html" in media_type else tidy_text(value)


def _content_text(contents: Iterable[Mapping[str, Any]]) -> str:
    texts: list[str] = []
    for content in contents:
        text = _to_text(str(content.get("value") or ""), str(content.get("type") or ""))
        if text and text not in texts:
            texts.append(text)
    return "\n\n".join(texts)


def _published(raw: Mapping[str, Any]) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = raw.get(key)
        if isinstance(parsed, time.struct_time):
            # feedparser normalises every date to UTC as a struct_time; one it
            # made of nonsense ("0000-00-00" is year -1) is no date, not a
            # reason to refuse the whole feed.
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
            except (ValueError, OverflowError, OSError):
                continue
    return None


def _author(raw: Mapping[str, Any]) -> str | None:
    detail = raw.get("author_detail") or {}
    name = detail.get("name") or raw.get("author") or ""
    return clean_line(str(name)) or None
