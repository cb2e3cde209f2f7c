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
from htmldate import find_date
from lxml import etree
from lxml.html import HtmlElement
from trafilatura.utils import load_html

from worker.parse.boilerplate import clean_text
from worker.parse.budget import within_budget
from worker.parse.encoding import decode
from worker.parse.text import clean_line
from worker.parse.urls import absolute_url, canonical_url

__all__ = ["ExtractedPage", "extract_article"]

# Less than this after cleaning is a consent wall, paywall stub or index page.
_MIN_WORDS = 25

# A precise reading this long (characters) is trusted without a second opinion;
# below it, one under this share of the plain reading lost part of the article.
_SURELY_AN_ARTICLE = 1000
_PRECISE_SHARE = 0.6
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

# Where a page states its times, as <meta> keys (name, property or itemprop,
# lower-cased: sites write DC.date, dc.date and DC.Date), most deliberate first.
# JSON-LD's datePublished is read between the article-specific keys and the
# generic ones: publishers fill it for search engines, so it is usually right.
_PUBLISHED_META = ("article:published_time", "og:article:published_time", "datepublished")
_GENERIC_DATE_META = (
    "pubdate",
    "publishdate",
    "publish-date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.issued",
    "dcterms.created",
    "dcterms.date",
    "citation_publication_date",
    "sailthru.date",
    "parsely-pub-date",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
)
# One pass over the tree for the microdata times that are not <meta> tags.
_ITEMPROP_TIMES = (
    "//*[@itemprop='datePublished' or @itemprop='dateModified'][@datetime]"
    "|(//article//time[@datetime])[1]"
)
# htmldate's answer, asked for with a time of day when the page gives one.
_HTMLDATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"
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
    updated: datetime | None = None  # last modification the page states, UTC


@within_budget
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
    page_url = canonical_url(url, _canonical_href(tree, url))
    times = _PageTimes.read(tree)
    updated = _updated(times, tree)
    return ExtractedPage(
        title=titles[0] if titles else "",
        text=text,
        url=page_url,
        published=_published(times, tree, page_url, updated),
        author=_author(tree),
        language=_language(tree),
        updated=updated,
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


def _canonical_href(tree: Any, url: str) -> str | None:
    """The first canonical link that is a web address once resolved against `url`.

    A relative rel=canonical is useless on a page read from a file (`wirewatch
    extract page.html`), where og:url usually still names the page.
    """
    for xpath in _CANONICAL_XPATHS:
        for value in tree.xpath(xpath):
            href = str(value).strip()
            if href and absolute_url(href, url):
                return href
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


@dataclass(frozen=True, slots=True)
class _PageTimes:
    """The time stamps a page carries in its markup, read once per page."""

    meta: dict[str, str]  # lower-cased name/property/itemprop -> content, first wins
    published: str | None  # an itemprop="datePublished" element's datetime
    modified: str | None  # an itemprop="dateModified" element's datetime
    article_time: str | None  # the first <time datetime> inside <article>

    @classmethod
    def read(cls, tree: Any) -> _PageTimes:
        # Reading every <meta> into a dict costs one pass; an XPath per key
        # (with case folding) cost more than the rest of the metadata together.
        meta: dict[str, str] = {}
        for element in tree.iter("meta"):
            content = (element.get("content") or "").strip()
            if content:
                for attribute in ("property", "name", "itemprop"):
                    key = (element.get(attribute) or "").strip().lower()
                    if key:
                        meta.setdefault(key, content)
        stamps: dict[str, str] = {}
        article_time = None
        for element in tree.xpath(_ITEMPROP_TIMES):
            value = str(element.get("datetime") or "").strip()
            prop = element.get("itemprop")
            if prop in ("datePublished", "dateModified"):
                stamps.setdefault(str(prop), value)
            elif article_time is None:
                article_time = value
        return cls(meta, stamps.get("datePublished"), stamps.get("dateModified"), article_time)

    def first(self, keys: Iterable[str]) -> datetime | None:
        return _parse_date(next((self.meta[k] for k in keys if k in self.meta), None))


def _published(times: _PageTimes, tree: Any, url: str, updated: datetime | None) -> datetime | None:
    """The publication time the page states, else its modification time, else htmldate's guess.

    htmldate (markup and URL patterns, no text search) runs last because it
    costs more than everything else here and guesses more.
    """
    return (
        times.first(_PUBLISHED_META)
        or _parse_date(times.published)
        or _parse_date(_json_ld(tree, "datePublished"))
        or times.first(_GENERIC_DATE_META)
        or _parse_date(times.article_time)
        or updated
        or _htmldate(tree, url)
    )


def _updated(times: _PageTimes, tree: Any) -> datetime | None:
    return (
        times.first(_MODIFIED_META)
        or _parse_date(times.modified)
        or _parse_date(_json_ld(tree, "dateModified"))
    )


def _htmldate(tree: Any, url: str) -> datetime | None:
    # An lxml tree, never a string: given a string that starts with "http",
    # htmldate downloads it, and extraction must never touch the network.
    if not isinstance(tree, HtmlElement):
        return None
    try:
        found = find_date(
            tree,
            extensive_search=False,
            original_date=True,
            outputformat=_HTMLDATE_FORMAT,
            url=url if url.startswith(("http://", "https://")) else None,
        )
    except (ValueError, TypeError):  # htmldate raises on some malformed dates
        return None
    return _parse_date(found)


def _json_ld(tree: Any, key: str) -> str | None:
    for script in tree.xpath("//script[@type='application/ld+json']/text()"):
        try:
            # strict=False: raw newlines and tabs inside strings are common in the wild.
            data = json.loads(str(script), strict=False)
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
