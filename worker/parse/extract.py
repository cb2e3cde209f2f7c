"""The main text of an article page, without the page around it.

trafilatura finds the article body (see bench/extract.py for how its settings
were chosen) on the page without its galleries and video players, and with
its layout tables read as blocks (worker.parse.layout);
worker.parse.recover puts back the article paragraphs it left out of the
article's own containers, worker.parse.boilerplate then drops what it lets
through, worker.parse.repeats puts back the repeated paragraphs it
collapses and worker.parse.trailing drops a closing list of links to other
stories. A page
of teasers is no article. The title, author and dates come from
worker.parse.metadata.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import trafilatura
from trafilatura.utils import load_html

from worker.parse.boilerplate import clean_text, drop_media
from worker.parse.budget import within_budget
from worker.parse.encoding import decode
from worker.parse.layout import unwrap_layout_tables
from worker.parse.metadata import page_metadata
from worker.parse.recover import recover_paragraphs
from worker.parse.repeats import restore_repeats
from worker.parse.teasers import is_teaser_list
from worker.parse.trailing import drop_trailing_links
from worker.parse.urls import absolute_url, canonical_url

__all__ = ["ExtractedPage", "extract_article"]

# Less than this after cleaning is a consent wall, paywall stub or index page.
_MIN_WORDS = 25

# A precise reading this long (characters) is trusted without a second opinion;
# below it, one under this share of the plain reading lost part of the article.
_SURELY_AN_ARTICLE = 1000
_PRECISE_SHARE = 0.6
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")

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
    site_name: str | None = None  # the site or publisher, as the page names it
    description: str | None = None  # the page's own summary (og:description, description)


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
    metadata = page_metadata(tree, url)
    drop_media(tree)
    unwrap_layout_tables(tree)
    raw = recover_paragraphs(_main_text(tree, url), tree)
    text = clean_text(raw, strip, [metadata.title, *metadata.headlines])
    # Only a page that does not call itself an article is searched for teasers.
    if not _long_enough(text) or (not metadata.is_article and is_teaser_list(text, tree)):
        return None
    text = drop_trailing_links(restore_repeats(text, tree), tree)
    return ExtractedPage(
        title=metadata.title,
        text=text,
        url=canonical_url(url, _canonical_href(tree, url)),
        published=_utc(metadata.published),
        author=metadata.author,
        language=metadata.language,
        updated=_utc(metadata.updated),
        site_name=metadata.site_name,
        description=metadata.description,
    )


def _main_text(tree: Any, url: str) -> str:
    """trafilatura's precise reading, or its plain one when the precise one lost the article.

    favor_precision drops whole articles on some layouts, leaving a few lines,
    while the plain reading keeps more sidebar text; the plain run is only paid
    for when the precise text is short. The precise run skips trafilatura's
    readability and jusText fallbacks (`fast`), which cost a third of the time;
    the plain run, made only when unsure, keeps them: on trafilatura-eval they
    raise text F1 by 0.005, on the article-extraction benchmark they change
    nothing. trafilatura's metadata pass is skipped (it doubles the time per
    page): worker.parse.metadata reads more sources, faster.
    """
    precise = _trafilatura_text(tree, url, favor_precision=True, fast=True)
    if len(precise) >= _SURELY_AN_ARTICLE:
        return precise
    plain = _trafilatura_text(tree, url, favor_precision=False, fast=False)
    return plain if len(precise) < _PRECISE_SHARE * len(plain) else precise


def _trafilatura_text(tree: Any, url: str, *, favor_precision: bool, fast: bool) -> str:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
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


def _utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC) if value else None
