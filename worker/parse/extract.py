"""The main text of an article page, without the page around it.

trafilatura finds the article body (see bench/extract.py for how its settings
were chosen); worker.parse.boilerplate then drops what it lets through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import trafilatura
from lxml import etree
from trafilatura.utils import load_html

from worker.parse.boilerplate import clean_text
from worker.parse.encoding import decode
from worker.parse.text import clean_line
from worker.parse.urls import canonical_url

__all__ = ["ExtractedPage", "extract_article"]

# Less than this after cleaning is a consent wall, paywall stub or index page.
_MIN_WORDS = 25

# A precise reading this long (characters) is trusted without a second opinion;
# below it, one under this share of the plain reading lost part of the article.
_SURELY_AN_ARTICLE = 1000
_PRECISE_SHARE = 0.6
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

_PUBLISHED_XPATHS = (
    "//meta[@property='article:published_time']/@content",
    "//meta[@itemprop='datePublished']/@content",
    "//meta[@name='article:published_time' or @name='pubdate' or @name='publishdate'"
    " or @name='date' or @name='dc.date' or @name='DC.date.issued' or @name='sailthru.date'"
    " or @name='parsely-pub-date']/@content",
    "//*[@itemprop='datePublished']/@datetime",
    "(//article//time[@datetime])[1]/@datetime",
)
_TITLE_XPATHS = (
    "//meta[@property='og:title']/@content",
    "//meta[@name='twitter:title']/@content",
    "(//h1)[1]//text()",
    "//title/text()",
)
_AUTHOR_XPATHS = (
    "//meta[@name='author' or @property='article:author' or @name='byl'"
    " or @name='parsely-author' or @name='sailthru.author']/@content",
    "//*[@itemprop='author']//*[@itemprop='name']/@content",
    "//*[@itemprop='author']//*[@itemprop='name']//text()",
    "//*[@rel='author']//text()",
)
_CANONICAL_XPATHS = (
    "//link[translate(@rel, 'CANONIAL', 'canonial')='canonical']/@href",
    "//meta[@property='og:url']/@content",
)


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """An article page reduced to what wirewatch uses."""

    title: str
    text: str  # paragraphs separated by a blank line
    url: str  # canonical
    published: datetime | None  # timezone-aware, UTC
    author: str | None
    language: str | None  # primary language subtag, lower case ("en", "ru")


def extract_article(
    html: bytes, *, url: str, strip: Sequence[str] = (), content_type: str | None = None
) -> ExtractedPage | None:
    """The article on a page, or None when the page holds no article.

    `strip`: literal strings (case and spacing ignored) to remove; a paragraph
    that is or starts with one is dropped whole.
    """
    tree = load_html(decode(html, content_type).text)
    if tree is None:
        return None
    titles = _titles(tree)
    text = clean_text(_main_text(tree, url), strip, titles)
    if not _long_enough(text):
        return None
    return ExtractedPage(
        title=titles[0] if titles else "",
        text=text,
        url=canonical_url(url, _first(tree, _CANONICAL_XPATHS)),
        published=_published(tree),
        author=_author(tree),
        language=_language(tree),
    )


def _main_text(tree: Any, url: str) -> str:
    """trafilatura's precise reading, or its plain one when the precise one lost the article.

    favor_precision drops whole articles on some layouts, leaving a few lines,
    while the plain reading keeps more sidebar text; the plain run is only paid
    for when the precise text is short. Both skip trafilatura's readability and
    jusText fallbacks (`fast`): with the plain reading as the fallback they cost
    a third of the time and add nothing on the benchmark. trafilatura's metadata
    pass is skipped too (it doubles the time per page); the few fields needed
    are read from the tree here.
    """
    precise = _trafilatura_text(tree, url, favor_precision=True)
    if len(precise) >= _SURELY_AN_ARTICLE:
        return precise
    plain = _trafilatura_text(tree, url, favor_precision=False)
    return plain if len(precise) < _PRECISE_SHARE * len(plain) else precise


def _trafilatura_text(tree: Any, url: str, *, favor_precision: bool) -> str:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=True,
        favor_precision=favor_precision,
        include_comments=False,
        include_tables=True,
    )
    # Typed as Document | dict; without as_dict=True it is always the Document.
    return str(getattr(document, "text", None) or "")


def _long_enough(text: str) -> bool:
    # Chinese and Japanese have no spaces: count their characters as half-words.
    words = len(text.split()) + len(_CJK.findall(text)) // 2
    return words >= _MIN_WORDS


def _first(tree: Any, xpaths: Iterable[str]) -> str | None:
    for xpath in xpaths:
        try:
            values = tree.xpath(xpath)
        except etree.XPathError:
            continue
        for value in values:
            if str(value).strip():
                return str(value).strip()
    return None


def _titles(tree: Any) -> list[str]:
    """Headline candidates, best first: used as the title and to spot it in the body."""
    found = (clean_line(_first(tree, (xpath,)) or "") for xpath in _TITLE_XPATHS)
    return [title for title in found if title]


def _author(tree: Any) -> str | None:
    value = _first(tree, _AUTHOR_XPATHS) or _json_ld(tree, "author")
    # Sites put profile URLs where a name belongs; a URL is not a byline.
    if not value or value.startswith(("http://", "https://")):
        return None
    return clean_line(value) or None


def _published(tree: Any) -> datetime | None:
    return _parse_date(_first(tree, _PUBLISHED_XPATHS)) or _parse_date(
        _json_ld(tree, "datePublished")
    )


def _json_ld(tree: Any, key: str) -> str | None:
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            data = json.loads(str(script))
        except ValueError:
            continue
        found = _find_key(data, key)
        if found:
            return found
    return None


def _find_key(data: Any, key: str) -> str | None:
    """First string under `key` anywhere in JSON-LD; a person's `name` counts."""
    if isinstance(data, dict):
        value = data.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict | list):
            name = _find_key(value, "name")
            if name:
                return name
        data = list(data.values())
    if isinstance(data, list):
        for value in data:
            found = _find_key(value, key)
            if found:
                return found
    return None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        try:  # some sites put RFC 2822 dates, as in feeds, in their meta tags
            parsed = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError):
            return None
    # A date without an offset is taken as UTC: the page gives no better guess.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _language(tree: Any) -> str | None:
    value = _first(
        tree,
        (
            "/html/@lang",
            "/html/@xml:lang",
            "//meta[@http-equiv='content-language' or @http-equiv='Content-Language']/@content",
            "//meta[@property='og:locale']/@content",
        ),
    )
    if not value:
        return None
    primary = re.split(r"[-_,\s]", value.strip(), maxsplit=1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None
