"""The frozen data a poll starts from and hands to the steps after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from worker.config import Config
from worker.fetch import Fetcher
from worker.models import FeedEntry, ParsedFeed
from worker.store import PollStart, Store

__all__ = ["NewEntry", "PollContext", "PollOutcome", "PollResult"]

# "failed": the source could not be fetched or parsed (`PollOutcome.error_kind`
# says how); "host-busy": its host's politeness slot was taken (not the
# source's fault); "busy": another poll of the source holds its lock.
PollResult = Literal["ok", "not-modified", "unchanged", "failed", "host-busy", "busy"]


@dataclass(frozen=True, slots=True)
class PollContext:
    """What one poll works with: the config, the store (None: a dry run that reads
    and records nothing), the fetcher, the time, and the source's state read at
    its start (`Store.begin_poll`)."""

    config: Config
    store: Store | None
    fetcher: Fetcher
    now: float
    start: PollStart | None = None


@dataclass(frozen=True, slots=True)
class NewEntry:
    article_id: str
    url: str  # canonical
    entry: FeedEntry
    seen_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source_id: str
    result: PollResult
    items: int
    new: tuple[NewEntry, ...]
    feed: ParsedFeed | None = None
    error: str | None = None
    error_kind: str | None = None  # a FetchError kind ("http-404", "timeout"...) or "unparsable"
    retry_after: float | None = None  # the server's or the host gate's "not before" hint
    # Unseen entries published longer ago than max_age: remembered as seen, nothing else.
    old: tuple[tuple[str, ...], ...] = ()
    # What the fetched body leaves for the next poll (saved with the poll's record).
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None

    @property
    def label(self) -> str:
        """The result as metrics and `wirewatch status` show it: the error kind when failed."""
        return self.error_kind or self.result
