"""Polling a source: fetch it, parse it, find the entries not seen before.

The pipeline's steps are plain functions that the Celery tasks
(`worker.service.tasks`) and the CLI call; none of them knows about Celery.
A poll's context (`PollContext`: config, store, fetcher, time, and the
source's state read at its start) is one frozen value, so tests drive the
steps directly.

A poll reads Redis once before it fetches (`Store.begin_poll`: lock, state,
cached robots.txt, task start count) and writes once after (`settle_poll`:
validators, result, seen entries, metrics, lock release); with the host's
politeness slot taken and given back, a poll that finds its feed unchanged
costs four round trips.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

from worker.config import Source
from worker.errors import ExtractError, FetchError
from worker.fetch import Fetcher, FetchResult, HostGate, Validators, origin_of
from worker.models import FeedEntry, ParsedFeed
from worker.parse.feeds import looks_like_feed, parse_feed
from worker.parse.listing import find_feed_links, parse_listing
from worker.parse.text import clean_line
from worker.parse.urls import canonical_url
from worker.pipeline.health import watch_health
from worker.pipeline.outcome import NewEntry, PollContext, PollOutcome, PollResult
from worker.store import PollStart, SourceState, Store, seen_keys
from worker.store.sources import error_backoff

__all__ = [
    "SOURCE_BACKOFF",
    "NewEntry",
    "PollContext",
    "PollOutcome",
    "PollResult",
    "PrefetchedRobots",
    "article_id_for",
    "begin_poll",
    "end_poll",
    "poll_source",
    "settle_poll",
    "split_by_age",
]

log = logging.getLogger(__name__)

SOURCE_BACKOFF = 60.0
_TITLE_CHARS = 120


def article_id_for(source_id: str, entry: FeedEntry, url: str | None) -> str:
    # The canonical URL is the identity across sources; an entry without a
    # link is known only by its guid within its source.
    basis = url if url else f"{source_id}\x00{entry.guid or entry.title}"
    return hashlib.sha256(basis.encode()).hexdigest()[:20]


@dataclass(frozen=True, slots=True)
class PrefetchedRobots:
    """A host gate that answers robots.txt from what `begin_poll` read with the
    source's state (one round trip fewer), and asks the real gate for the rest."""

    gate: HostGate
    robots: dict[str, str]

    def acquire_host_slot(
        self, origin: str, token: str, concurrency: int, delay: float, lease: float, now: float
    ) -> float:
        return self.gate.acquire_host_slot(origin, token, concurrency, delay, lease, now)

    def release_host_slot(self, origin: str, token: str) -> None:
        self.gate.release_host_slot(origin, token)

    def defer_host(self, origin: str, until: float) -> None:
        self.gate.defer_host(origin, until)

    def cached_robots(self, origin: str) -> str | None:
        found = self.robots.get(origin)
        return found if found is not None else self.gate.cached_robots(origin)

    def cache_robots(self, origin: str, text: str, ttl: float) -> None:
        self.gate.cache_robots(origin, text, ttl)


def begin_poll(
    ctx: PollContext, source: Source, lock_ttl: float, task: tuple[str, int, float] | None = None
) -> PollContext:
    """`ctx` with the poll's start read (lock, state, robots.txt, task starts) in one
    round trip, and a fetcher that uses the robots.txt read; check `ctx.start.lock`."""
    assert ctx.store is not None
    origin = origin_of(source.url) if source.robots else None
    start = ctx.store.begin_poll(source.id, lock_ttl=lock_ttl, robots_origin=origin, task=task)
    fetcher = ctx.fetcher
    if start.robots and fetcher.gate is not None:
        fetcher = replace(fetcher, gate=PrefetchedRobots(fetcher.gate, dict(start.robots)))
    return replace(ctx, start=start, fetcher=fetcher)


# -- polling ---------------------------------------------------------------


def poll_source(ctx: PollContext, source: Source) -> PollOutcome:
    """Fetch and parse a source; list entries not seen before (all of them without a store),
    minus those older than max_age (in `PollOutcome.old`).

    Reads nothing but the seen entries: the source's state comes with the
    context (`begin_poll`), read now if it does not. Writes the new entries
    waiting to be processed; everything else is `settle_poll`'s.
    """
    state = _state(ctx, source)
    validators = Validators(state.etag, state.last_modified) if state else None
    try:
        response = ctx.fetcher.get(
            source.url, validators, robots=source.robots, auth=source.credentials
        )
        if response.not_modified:
            return PollOutcome(source.id, "not-modified", state.items if state else 0, ())
        body_hash = hashlib.sha256(response.content).hexdigest()
        if state and state.body_hash == body_hash:
            # Many servers ignore conditional GET; an identical body needs no parse.
            return PollOutcome(source.id, "unchanged", state.items, ())
        feed = _parse_source(source, response, ctx.fetcher)
    except FetchError as exc:
        result: PollResult = "host-busy" if exc.kind == "host-busy" else "failed"
        return PollOutcome(
            source.id,
            result,
            0,
            (),
            error=str(exc),
            error_kind=exc.kind,
            retry_after=exc.retry_after,
        )
    except ExtractError as exc:  # unsafe XML, an invalid selector: the source is unusable
        return PollOutcome(source.id, "failed", 0, (), error=str(exc), error_kind="unparsable")
    new, old = _new_entries(ctx, source, feed.entries)
    return PollOutcome(
        source.id,
        "ok",
        len(feed.entries),
        tuple(new),
        feed=feed,
        old=tuple(old),
        etag=response.validators.etag or (state.etag if state else None),
        last_modified=response.validators.last_modified or (state.last_modified if state else None),
        body_hash=body_hash,
    )


def _state(ctx: PollContext, source: Source) -> SourceState | None:
    if ctx.start is not None:
        return ctx.start.state
    return ctx.store.sources.state(source.id) if ctx.store else None


def _parse_source(source: Source, response: FetchResult, fetcher: Fetcher) -> ParsedFeed:
    if source.type == "html":
        assert source.select is not None  # config validation requires it for html
        return parse_listing(
            response.content,
            url=response.url,
            item=source.select.item,
            link=source.select.link,
            title=source.select.title,
            summary=source.select.summary,
            content_type=response.content_type,
        )
    if source.type == "feed" or looks_like_feed(response.content, response.content_type):
        return parse_feed(response.content, url=response.url, content_type=response.content_type)
    links = find_feed_links(response.content, url=response.url)
    if not links:
        raise FetchError(source.url, "no-feed", "page is not a feed and links to none")
    feed_response = fetcher.get(links[0], robots=source.robots, auth=source.credentials)
    return parse_feed(
        feed_response.content, url=feed_response.url, content_type=feed_response.content_type
    )


def split_by_age(
    entries: Sequence[FeedEntry], cutoff: float
) -> tuple[list[FeedEntry], list[FeedEntry]]:
    """(recent, old): old entries were published before `cutoff` (Unix seconds).

    An entry without a date, or dated in the future, counts as published now:
    only a date known to be old keeps an entry from being fetched and matched.
    """
    recent: list[FeedEntry] = []
    old: list[FeedEntry] = []
    for entry in entries:
        published = entry.published
        (old if published is not None and published.timestamp() < cutoff else recent).append(entry)
    return recent, old


def _new_entries(
    ctx: PollContext, source: Source, entries: Sequence[FeedEntry]
) -> tuple[list[NewEntry], list[tuple[str, ...]]]:
    """The unseen entries: recent ones to process, and the seen keys of old ones."""
    store = ctx.store
    urls = [canonical_url(entry.url) if entry.url else None for entry in entries]
    keys = [seen_keys(e, u) if store else [] for e, u in zip(entries, urls, strict=True)]
    # One round trip per feed, not per entry: a cold poll of a big feed is
    # otherwise mostly waiting on Redis.
    unseen = store.seen.unseen(source.id, keys) if store else [True] * len(entries)
    fresh = [
        (entry, url, tuple(k))
        for entry, url, k, is_new in zip(entries, urls, keys, unseen, strict=True)
        if is_new
    ]
    cutoff = ctx.now - ctx.config.max_age(source).total_seconds()
    recent, _ = split_by_age([entry for entry, _, _ in fresh], cutoff)
    recent_ids = {id(entry) for entry in recent}
    new = [
        NewEntry(article_id_for(source.id, entry, url), url or "", entry, k)
        for entry, url, k in fresh
        if id(entry) in recent_ids
    ]
    old = [k for entry, _, k in fresh if id(entry) not in recent_ids]
    if store and new:
        store.archive.put_entries([(n.article_id, source.id, n.entry, n.url) for n in new])
    return new, old


# -- after the poll ------------------------------------------------------------


def settle_poll(ctx: PollContext, source: Source, outcome: PollOutcome) -> list[str]:
    """What follows a poll, in the worker and in `wirewatch poll` alike; the
    deliveries (health alerts) to send.

    In one round trip: counts the poll, records the source's error (and its
    backoff) or its success (validators, items, entries seen, old entries
    counted), its health, and releases the poll's lock. Call it once the new
    entries are in hand (enqueued, or processed): a crash before it finds
    them again on the next poll (the validators are saved here too), and the
    repeat is harmless.
    """
    store = ctx.store
    assert store is not None
    now = ctx.now
    before = _state(ctx, source) or SourceState()
    pipe = store.batch()
    store.metrics.queue_count(pipe, "wirewatch_polls", result=outcome.label)
    fields: dict[str, str | int | float | None]
    if outcome.error:
        store.metrics.queue_count(pipe, "wirewatch_fetch_errors", kind=outcome.label)
        # The poll's lock makes this read-modify-write safe.
        errors = before.errors + 1
        wait = error_backoff(errors, SOURCE_BACKOFF, outcome.retry_after or 0.0)
        fields = {
            "errors": errors,
            "last_result": outcome.label,
            "last_poll": now,
            "last_error": outcome.error,
            "not_before": now + wait,
        }
        after = replace(
            before,
            errors=errors,
            last_result=outcome.label,
            last_poll=now,
            last_error=outcome.error,
            failing_since=before.failing_since or now,
        )
        if before.failing_since is None:
            fields["failing_since"] = now
        log.warning("source=%s poll failed (%d in a row): %s", source.id, errors, outcome.error)
    else:
        retention = ctx.config.settings.seen_retention.total_seconds()
        seen = [e.seen_keys for e in outcome.new] + list(outcome.old)
        store.seen.queue_mark(pipe, source.id, seen, now, retention)
        fields = {
            "last_poll": now,
            "last_result": outcome.label,
            "items": outcome.items,
            "new_items": len(outcome.new),
            "errors": 0,
            "not_before": 0,
        }
        if outcome.body_hash is not None and outcome.feed is not None:
            # Saved with the body it describes: an unchanged body keeps its problem.
            fields.update(
                etag=outcome.etag,
                last_modified=outcome.last_modified,
                body_hash=outcome.body_hash,
                problem=outcome.feed.problem,
            )
        # The staleness clock starts at the first good poll.
        last_new = now if outcome.new or before.last_new is None else before.last_new
        fields["last_new"] = last_new
        if outcome.feed is not None and outcome.feed.title:
            # Names the source unless `name:` does (Config.source_name). It comes
            # from the site: one line, and no longer than a name needs to be.
            fields["title"] = clean_line(outcome.feed.title)[:_TITLE_CHARS]
        if outcome.old:
            store.sources.queue_count_old(pipe, source.id, len(outcome.old))
        if before.failing_since is not None or before.last_error is not None:
            store.sources.queue_clear(pipe, source.id, "failing_since", "last_error")
        after = replace(
            before, errors=0, last_new=last_new, failing_since=None, last_error=None, last_poll=now
        )
    deliveries = watch_health(ctx, source, outcome, after, fields)
    store.sources.queue_save(pipe, source.id, **fields)
    if ctx.start is not None and ctx.start.lock is not None:
        store.locks.queue_release(pipe, ctx.start.lock)
    pipe.execute()
    return deliveries


def end_poll(store: Store, start: PollStart | None) -> None:
    """Release a poll's lock when the poll ends without `settle_poll` (its host was busy)."""
    if start is not None and start.lock is not None:
        store.locks.release(start.lock)
