"""The frozen data a poll hands to the steps after it."""

from __future__ import annotations

from dataclasses import dataclass

from worker.models import FeedEntry, ParsedFeed

__all__ = ["NewEntry", "PollOutcome"]


@dataclass(frozen=True, slots=True)
class NewEntry:
    article_id: str
    url: str  # canonical
    entry: FeedEntry
    seen_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source_id: str
    result: str  # "ok", "not-modified", "unchanged" or a FetchError kind
    items: int
    new: tuple[NewEntry, ...]
    feed: ParsedFeed | None = None
    error: str | None = None
    retry_after: float | None = None  # the server's or the host gate's "not before" hint
