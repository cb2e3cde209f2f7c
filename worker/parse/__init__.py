"""Bytes from the web to clean data: feeds, listing pages and article text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from worker.lazy import lazy_attribute

if TYPE_CHECKING:
    from worker.parse.extract import ExtractedPage, extract_article
    from worker.parse.feeds import looks_like_feed, parse_feed
    from worker.parse.listing import find_feed_links, parse_listing
    from worker.parse.urls import canonical_url

# Each name's submodule, imported on first use (worker.lazy says why).
_EXPORTS = {
    "ExtractedPage": "extract",
    "canonical_url": "urls",
    "extract_article": "extract",
    "find_feed_links": "listing",
    "looks_like_feed": "feeds",
    "parse_feed": "feeds",
    "parse_listing": "listing",
}

__all__ = [
    "ExtractedPage",
    "canonical_url",
    "extract_article",
    "find_feed_links",
    "looks_like_feed",
    "parse_feed",
    "parse_listing",
]


def __getattr__(name: str) -> object:
    return lazy_attribute(__name__, _EXPORTS, name)
