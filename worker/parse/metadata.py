"""An article's title, author, dates, site name and description, from every source a page offers.

A page states these in several vocabularies at once (Open Graph, Twitter
cards, article:, Dublin Core, parsely, sailthru, schema.org as JSON-LD and as
microdata) and on the page itself (the <title>, the h1, a byline). Each source
is wrong on some sites: templates put a profile URL in article:author, the
publisher's name in "author", the modification time in article:published_time,
the site's logo in the h1. So every source is read and the value is chosen by
what the sources agree on and by what each kind of error looks like, never by
a fixed order alone.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from worker.parse.authors import agreed_author, choose_author
from worker.parse.dates import date_in_url, earliest, parse_date
from worker.parse.encoding import decode
from worker.parse.jsonld import JsonLd, read_json_ld
from worker.parse.published import DateEvidence, choose_published
from worker.parse.text import clean_line
from worker.parse.titles import choose_title

__all__ = ["PageMetadata", "page_metadata", "read_metadata", "warm_up_dates"]

# Article-specific publication keys; the earliest credible one wins (see _published).
_PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "datepublished",
    "parsely-pub-date",
    "sailthru.date",
    "citation_publication_date",
    "citation_date",
    "dc.date.issued",
    "dcterms.issued",
    "prism.publicationdate",
)
# Keys that hold a date that is usually, not always, the publication.
_GENERIC_DATE_META = (
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "date",
    "dc.date",
    "dcterms.date",
    "dcterms.created",
    "dc.date.created",
)
_MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
    "dc.date.modified",
)
_AUTHOR_META = (
    "author",
    "article:author",
    "og:article:author",
    "dc.creator",
    "dcterms.creator",
    "parsely-author",
    "sailthru.author",
    "byl",
    "citation_author",
    "book:author",
)
_SITE_META = ("og:site_name", "application-name", "apple-mobile-web-app-title", "publisher")
_DESCRIPTION_META = ("og:description", "description", "twitter:description", "dc.description")
_TITLE_META = ("og:title", "twitter:title", "dc.title", "parsely-title", "sailthru.title")
_LANGUAGE_XPATHS = (
    "/html/@lang",
    "/html/@xml:lang",
    "//meta[@http-equiv='content-language' or @http-equiv='Content-Language']/@content",
    "//meta[@property='og:locale']/@content",
)
# The microdata that matter, in one pass.
_ITEMPROPS = "//*[@itemprop]"
_MICRODATA = frozenset({"datePublished", "dateModified", "dateCreated", "author", "headline"})
# Visible bylines: by class or id (raw, case as written), or a link to the
# author's page; found in one pass in Python, which stops at the first few:
# the same search as an XPath union cost 8 ms a page (libxml2 worked out
# every element's normalize-space() 28 times).
_BYLINE_MARKS = ("byline", "Byline", "author", "Author")
_NOT_BYLINES = frozenset({"meta", "link", "script", "style", "body", "html", "article", "main"})
_AUTHOR_PATHS = tuple(
    f"/{path}" for path in ("author/", "authors/", "autor/", "auteur/", "reporters/", "journalist")
)
# Unmarked bylines: a short text that starts with the word "By", "Posted by",
# "Von", "Par"... The name may follow in the same text or in a child
# (<span>By <a>Jane Doe</a></span>), so the lead is matched as the whole
# leading text, or followed by a space or colon.
_BYLINE_LEADS = ("By", "by", "BY", "Posted by", "Written by", "Von", "Par", "Por", "Door")
_BYLINE_LEAD_STARTS = tuple(f"{lead}{end}" for lead in _BYLINE_LEADS for end in (" ", ":"))
_BYLINE_LEAD_FIRSTS = frozenset(" \t\r\n" + "".join(lead[0] for lead in _BYLINE_LEADS))
_BYLINE_LEAD_TAGS = frozenset({"p", "span", "div", "li", "small", "em"})
_XML_SPACE = re.compile(r"[ \t\r\n]+")  # what XPath's normalize-space() collapses
_MAX_BYLINES = 8
# A time element marked as the publication, or the first one in the article.
_TIMES = "//time[@pubdate][@datetime] | (//article//time[@datetime])[1]"
_HEADINGS = "//h1 | (//h2)[position() <= 12]"
# Inside an h1, what is not the headline: a kicker ("Klimaschutz", the German
# Dachzeile) set above it, a subtitle, or text kept for screen readers only.
_KICKER_MARKS: tuple[str, ...] = (
    *("kicker", "dachzeile", "overline", "topline", "roofline", "eyebrow", "supertitle"),
    *("titleheader", "topic-label", "spitzmarke", "h1small", "subtitle"),
    *("visually-hidden", "sr-only", "screen-reader"),
)
_KICKERS = etree.XPath(
    ".//*["
    + " or ".join(f"contains(@class, '{mark}')" for mark in _KICKER_MARKS)
    + " or @aria-hidden='true'] | ./small | ./*/small"
)


# Around the headline, in document order: what a byline line holds (kept short, as
# a date line is; a paragraph that mentions a date is no date line).
_HEADLINES = etree.XPath("//h1")
_SUBHEADLINES = etree.XPath("(//h2)[position() <= 3]")
_AFTER_HEADLINE = 12
_BEFORE_HEADLINE = 6
# A subtree's last nodes (comments too: a date often follows one as its tail).
_LAST_NODES = etree.XPath(
    f"(descendant-or-self::node()[not(self::text())])[position() > last() - {_BEFORE_HEADLINE}]"
)
_MAX_DATE_LINE = 80
_DIGIT = re.compile(r"\d")
_MIN_DATE = datetime(1995, 1, 1)


@dataclass(frozen=True, slots=True)
class PageMetadata:
    """What a page says about itself. Times are in the offset the page states."""

    title: str
    author: str | None
    published: datetime | None
    updated: datetime | None
    site_name: str | None
    description: str | None
    language: str | None  # primary language subtag, lower case ("en", "ru")
    is_article: bool = False  # og:type or JSON-LD says the page is one article
    headlines: tuple[str, ...] = ()  # every title the page shows or declares, to spot in the text


@dataclass(frozen=True, slots=True)
class Heading:
    """An h1 with what decides whether it is a headline or the site's logo."""

    text: str
    in_chrome: bool  # inside header/nav, a logo, or a link to the home page
    level: int = 1  # 1 for h1, 2 for h2 (blog themes put the site in h1, the post in h2)
    whole: str = ""  # the h1's whole text, kicker included, where that differs from `text`


def read_metadata(html: bytes, *, url: str, content_type: str | None = None) -> PageMetadata:
    """The metadata of a page given as bytes."""
    from trafilatura.utils import load_html

    tree = load_html(decode(html, content_type).text)
    if tree is None:
        return PageMetadata("", None, None, None, None, None, None)
    return page_metadata(tree, url)


def page_metadata(tree: Any, url: str) -> PageMetadata:
    """The metadata of a parsed page (an lxml HTML tree); htmldate is the last resort for dates."""
    meta = _meta_tags(tree)
    json_ld = read_json_ld([str(s.text or "") for s in tree.iter("script") if _is_json_ld(s)])
    article = json_ld.article()
    micro = _microdata(tree)
    site_names = _site_names(meta, json_ld)
    evidence = _date_evidence(tree, meta, json_ld, micro, url)
    updated = earliest(evidence.modified)
    beside_headline = _once(lambda: _date_by_headline(tree))
    published = choose_published(
        evidence, lambda: beside_headline() or _htmldate(tree, url), beside_headline
    )
    titles = [*_values(meta, _TITLE_META), *_node_titles(json_ld), *micro.get("headline", ())]
    document_title = _document_title(tree)
    headings = _headings(tree)
    # The h1 as the text shows it (kicker included) too, for the text to find it.
    h1s = [t for h in headings if h.level == 1 for t in (h.text, h.whole)]
    return PageMetadata(
        title=choose_title(
            meta_titles=titles,
            document_title=document_title,
            headings=headings,
            site_names=[*site_names, *_host_names(url)],
        ),
        author=_author(tree, meta, json_ld, micro, site_names),
        published=published,
        updated=updated,
        site_name=_first(_values(meta, _SITE_META[:1]))
        or json_ld.site_name()
        or _first(_values(meta, _SITE_META[1:])),
        description=_first(
            [*_values(meta, _DESCRIPTION_META), *([article.text("description")] if article else [])]
        ),
        language=_language(tree),
        headlines=tuple(dict.fromkeys(h for h in (*titles, document_title, *h1s) if h)),
        is_article=(article is not None and article.is_article)
        or any("article" in kind.lower() for kind in meta.get("og:type", ())),
    )


def _is_json_ld(script: Any) -> bool:
    return "ld+json" in (script.get("type") or "").lower()


def _meta_tags(tree: Any) -> dict[str, list[str]]:
    """lower-cased name/property/itemprop -> every content, in document order.

    One pass over <meta>: an XPath per key (with case folding) cost more than
    the rest of the metadata together.
    """
    meta: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        content = clean_line(element.get("content") or "")
        if content:
            for attribute in ("property", "name", "itemprop"):
                key = (element.get(attribute) or "").strip().lower()
                if key:
                    meta.setdefault(key, []).append(content)
    return meta


def _values(meta: dict[str, list[str]], keys: Iterable[str]) -> list[str]:
    return [value for key in keys for value in meta.get(key, ())]


def _first(values: Iterable[str | None]) -> str | None:
    return next((clean_line(v) for v in values if v and clean_line(v)), None)


def _microdata(tree: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for element in tree.xpath(_ITEMPROPS):
        prop = str(element.get("itemprop"))
        if prop not in _MICRODATA:
            continue
        if prop == "author":
            value = _microdata_name(element)
        else:
            value = element.get("content") or element.get("datetime") or _text(element)
        if value and value.strip():
            found.setdefault(prop, []).append(value.strip())
    return found


def _microdata_name(element: Any) -> str | None:
    names = element.xpath(".//*[@itemprop='name']")
    target = names[0] if names else element
    if target.get("content"):
        return str(target.get("content"))
    if target.tag in ("link", "meta", "a") and not _text(target):
        return None
    return _text(target)


def _text(element: Any) -> str:
    try:
        return clean_line(str(element.text_content()))
    except ValueError:  # text_content() refuses a few malformed nodes
        return ""


def _node_titles(json_ld: JsonLd) -> list[str]:
    article = json_ld.article()
    if article is None or not article.is_article:
        return []
    return [t for t in (article.text("headline"), article.text("name")) if t][:1]


def _document_title(tree: Any) -> str:
    element = next(tree.iter("title"), None)
    return _text(element) if element is not None else ""


def _headings(tree: Any) -> list[Heading]:
    headings = []
    for element in tree.xpath(_HEADINGS):
        whole = _text(element)
        text = _headline_text(element, whole) if element.tag == "h1" else whole
        if text:
            level = 1 if element.tag == "h1" else 2
            headings.append(
                Heading(text, _in_chrome(element), level, whole if whole != text else "")
            )
    return headings


def _headline_text(h1: Any, whole: str) -> str:
    """An h1's text without its kicker or screen-reader text, when that leaves a headline."""
    if len(h1) == 0 or not _KICKERS(h1):
        return whole
    headline = copy.deepcopy(h1)
    for kicker in _KICKERS(headline):
        kicker.drop_tree()  # keeps the text that follows the kicker
    text = _text(headline).strip(" :|-\u2013\u2014")
    return text if len(text.split()) >= 2 else whole


def _in_chrome(element: Any) -> bool:
    """Whether an h1 belongs to the page's frame (logo, site title) rather than to an article."""
    for ancestor in element.iterancestors():
        if ancestor.tag in ("article", "main"):
            return False
        if ancestor.tag in ("header", "nav") and not ancestor.xpath(
            "ancestor::article|ancestor::main"
        ):
            return True
    marks = " ".join(
        f"{node.get('class') or ''} {node.get('id') or ''}"
        for node in (element, *element.iterancestors())
        if node.tag not in ("body", "html")
    ).lower()
    if re.search(r"logo|brand|site-?title|site-?name|masthead", marks):
        return True
    link = element.xpath("ancestor-or-self::a/@href | .//a/@href")
    return bool(link) and urlsplit(str(link[0])).path in ("", "/")


def _site_names(meta: dict[str, list[str]], json_ld: JsonLd) -> list[str]:
    """The names the page gives its site or publisher."""
    names = [*_values(meta, _SITE_META), *(n for n in [json_ld.site_name()] if n)]
    return [clean_line(n) for n in names if n and clean_line(n)]


def _host_names(url: str) -> list[str]:
    """The site's name as its host spells it ("example" for www.example.co.uk is not sure
    enough for authors, where a personal blog's host is its author's name, but is for titles)."""
    host = urlsplit(url).hostname or ""
    labels = [part for part in host.split(".") if part not in ("www", "m", "blog", "blogs", "news")]
    if len(labels) < 2:
        return []
    main = max(labels[:-1], key=len)
    return [main, ".".join(labels)]


def _author(
    tree: Any,
    meta: dict[str, list[str]],
    json_ld: JsonLd,
    micro: dict[str, list[str]],
    site_names: list[str],
) -> str | None:
    """The declared author when every declared source agrees on one name, else the
    name with the most support once the visible bylines are read too (searching
    the page for bylines costs more than all the declared sources together)."""
    declared = _declared_authors(meta, json_ld, micro)
    agreed = agreed_author(declared, site_names)
    if agreed is not None:
        return agreed
    return choose_author([*declared, *_bylines(tree)], site_names)


def _declared_authors(
    meta: dict[str, list[str]], json_ld: JsonLd, micro: dict[str, list[str]]
) -> list[tuple[str, int, bool]]:
    """(raw value, weight, is_organization) from JSON-LD, meta tags and microdata."""
    candidates: list[tuple[str, int, bool]] = []
    article = json_ld.article()
    if article is not None:
        people = json_ld.people(article, "author") or json_ld.people(article, "creator")
        persons = [name for name, is_org in people if not is_org]
        if persons:
            candidates.append(("; ".join(dict.fromkeys(persons)), 5, False))
        candidates += [(name, 1, True) for name, is_org in people if is_org]
    candidates += [(value, 4, False) for value in _values(meta, _AUTHOR_META)]
    candidates += [(value, 4, False) for value in micro.get("author", ())]
    return candidates


def _bylines(tree: Any) -> list[tuple[str, int, bool]]:
    candidates: list[tuple[str, int, bool]] = []
    for element in _byline_elements(tree):
        if _is_comment(element):
            continue
        text = _byline_text(element)
        if text:
            candidates.append((text, 3 if element.get("rel") == "author" else 2, False))
    return candidates


def _byline_elements(tree: Any) -> list[Any]:
    """The first few elements that look like a byline, in document order."""
    found: list[Any] = []
    for element in tree.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue  # a comment or processing instruction
        if _is_byline(element, tag):
            found.append(element)
            if len(found) == _MAX_BYLINES:
                break
    return found


def _is_byline(element: Any, tag: str) -> bool:
    marks = f"{element.get('class') or ''} {element.get('id') or ''}"
    if tag not in _NOT_BYLINES and (
        any(mark in marks for mark in _BYLINE_MARKS) or element.get("rel") == "author"
    ):
        return True
    if tag == "byline":
        return True
    if tag == "a":
        href = element.get("href")
        return bool(href) and any(path in href for path in _AUTHOR_PATHS)
    if tag in _BYLINE_LEAD_TAGS:
        text = _first_text(element)
        if not text or text[0] not in _BYLINE_LEAD_FIRSTS:
            return False
        lead = _XML_SPACE.sub(" ", text).strip(" ")
        return len(lead) < 60 and (lead in _BYLINE_LEADS or lead.startswith(_BYLINE_LEAD_STARTS))
    return False


def _first_text(element: Any) -> str | None:
    """The element's first text node, as XPath's text() has it: its leading
    text, else the text after its first child that has any (`<p><img>By ...`)."""
    if element.text is not None:
        return str(element.text)
    for child in element:
        if child.tail is not None:
            return str(child.tail)
    return None


def _byline_text(element: Any) -> str:
    """A byline's text with its parts kept apart: a label and a name set in separate
    elements ("<span>Posted by</span><a>Jane Doe</a>") must not run together."""
    try:
        return clean_line(" ".join(element.itertext()))
    except ValueError:
        return ""


def _is_comment(element: Any) -> bool:
    marks = " ".join(
        f"{node.get('class') or ''} {node.get('id') or ''}"
        for node in (element, *element.iterancestors())
    ).lower()
    return "comment" in marks or "related" in marks


def _date_evidence(
    tree: Any, meta: dict[str, list[str]], json_ld: JsonLd, micro: dict[str, list[str]], url: str
) -> DateEvidence:
    article = json_ld.article()
    specific = [parse_date(v) for v in _values(meta, _PUBLISHED_META)]
    specific += [parse_date(article.text("datePublished")) if article else None]
    specific += [parse_date(v) for v in micro.get("datePublished", ())]
    generic = [parse_date(v) for v in _values(meta, _GENERIC_DATE_META)]
    generic += [parse_date(article.text("dateCreated")) if article else None]
    generic += [parse_date(v) for v in micro.get("dateCreated", ())]
    generic += [parse_date(str(v)) for v in tree.xpath(_TIMES + "/@datetime")]
    modified = [parse_date(v) for v in _values(meta, _MODIFIED_META)]
    modified += [parse_date(article.text("dateModified")) if article else None]
    modified += [parse_date(v) for v in micro.get("dateModified", ())]
    return DateEvidence(
        [v for v in specific if v],
        [v for v in generic if v],
        [v for v in modified if v],
        date_in_url(url),
    )


def _once(read: Callable[[], datetime | None]) -> Callable[[], datetime | None]:
    """`read`, called at most once."""
    seen: list[datetime | None] = []

    def cached() -> datetime | None:
        if not seen:
            seen.append(read())
        return seen[0]

    return cached


def _date_by_headline(tree: Any) -> datetime | None:
    """The date written next to the article's headline ("Loïc Le Clerc | 30 septembre
    2018" under the h1), where a page states no time in its markup: htmldate's reading
    of the whole page takes the first date it meets, often a teaser's or a comment's."""
    from htmldate.extractors import try_date_expr

    # The article's h1; an h2 where every h1 is the site's logo.
    headline = next((h for h in _HEADLINES(tree) if _text(h) and not _in_chrome(h)), None)
    if headline is None:
        headline = next((h for h in _SUBHEADLINES(tree) if _text(h) and not _in_chrome(h)), None)
    if headline is None:
        return None
    nearby = (
        *_near(headline, _AFTER_HEADLINE, preceding=False),
        *_near(headline, _BEFORE_HEADLINE, preceding=True),
    )
    for element in nearby:
        own = element.text if isinstance(element.tag, str) else None
        for piece in (own, element.tail):
            text = clean_line(piece or "")
            if not _DIGIT.search(text) or len(text) > _MAX_DATE_LINE:
                continue
            try:
                found = try_date_expr(text, "%Y-%m-%d", False, _MIN_DATE, datetime.now())
            except (ValueError, TypeError):
                continue
            if found:
                return parse_date(found)
    return None


def _near(element: Any, limit: int, *, preceding: bool) -> list[Any]:
    """Up to `limit` elements near `element`, after it in document order (or, before
    it, its earlier siblings' and ancestors' siblings with their children), its own
    descendants and ancestors aside. (The XPath following:: axis builds the whole
    rest of the document before taking the first few.)"""
    found: list[Any] = []
    node = element
    while node is not None and node.tag not in ("body", "html"):
        for sibling in node.itersiblings(preceding=preceding):
            inner = reversed(_LAST_NODES(sibling)) if preceding else sibling.iter()
            for candidate in inner:
                found.append(candidate)
                if len(found) >= limit:
                    return found
        node = node.getparent()
    return found


def warm_up_dates() -> None:
    """Fill the caches htmldate's text search fills on first use.

    Its fallback parser (dateparser) compiles every locale's patterns the first
    time a text matches none of them: 2-3 s of CPU, which a page that pays it
    spends over its budget. Done once before the extraction children fork.
    """
    from htmldate.extractors import try_date_expr

    try_date_expr("Qwxz 13 Vbnm 2019", "%Y-%m-%d", True, _MIN_DATE, datetime.now())


def _htmldate(tree: Any, url: str) -> datetime | None:
    """The date the page shows, as htmldate reads it: markup and URL first, the
    text's date patterns only when those find nothing (the text search costs
    30-50 ms on a large page). Asked only when the stated times leave the day open."""
    for extensive in (False, True):
        found = _find_date(tree, url, extensive=extensive)
        if found is not None:
            return found
    return None


def _find_date(tree: Any, url: str, *, extensive: bool) -> datetime | None:
    from htmldate import find_date
    from lxml.html import HtmlElement

    # An lxml tree, never a string: given a string that starts with "http",
    # htmldate downloads it, and extraction must never touch the network.
    if not isinstance(tree, HtmlElement):
        return None
    try:
        found = find_date(
            tree,
            extensive_search=extensive,
            original_date=True,
            outputformat="%Y-%m-%dT%H:%M:%S%z",
            url=url if url.startswith(("http://", "https://")) else None,
        )
    except (ValueError, TypeError):  # htmldate raises on some malformed dates
        return None
    return parse_date(found)


def _language(tree: Any) -> str | None:
    for xpath in _LANGUAGE_XPATHS:
        try:
            values: Sequence[Any] = tree.xpath(xpath)
        except etree.XPathError:
            continue
        for value in values:
            primary = re.split(r"[-_,\s]", str(value).strip(), maxsplit=1)[0].lower()
            if primary.isalpha() and 2 <= len(primary) <= 3:
                return primary
    return None
