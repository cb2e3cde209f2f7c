"""Bytes from the web to clean data: feeds, listing pages and article text."""

from __future__ import annotations

from worker.parse.extract import ExtractedPage, extract_article
from worker.parse.feeds import looks_like_feed, parse_feed
from worker.parse.listing import find_feed_links, parse_listing
from worker.parse.urls import canonical_url

__all__ = [
    "ExtractedPage",
    "canonical_url",
    "extract_article",
    "find_feed_links",
    "looks_like_feed",
    "parse_feed",
    "parse_listing",
]
