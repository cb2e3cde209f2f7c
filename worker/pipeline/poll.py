"""Polling a source: fetch it, parse it, find the entries not seen before.

The pipeline's steps are plain functions that the Celery tasks
(`worker.service.tasks`) and the CLI call; none of them knows about Celery,
and each takes the config, the store and the time, so tests drive them
directly.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence

from worker.config import Config, Source
from worker.errors import ExtractError, FetchError
from worker.fetch import Fetcher, FetchResult, Validators
from worker.models import FeedEntry, ParsedFeed
from worker.parse import canonical_url, find_feed_links, looks_like_feed, parse_feed, parse_listing
from worker.parse.text import clean_line
from worker.pipeline.health import watch_health
from worker.pipeline.outcome import NewEntry, PollOutcome
from worker.store import Store, seen_keys

__all__ = [
    "SOURCE_BACKOFF",
    "NewEntry",
    "PollOutcome",
    "article_id_for",
    "poll_source",
    "record_poll",
    "settle_poll",
]

log = logging.getLogger(__name__)

SOURCE_BACKOFF = 60.0
_TITLE_CHARS = 120


def article_id_for(source_id: str, entry: FeedEntry, url: str | None) -> str:
    # The canonical URL is the identity across sources; an entry without a
    # link is known only by its guid within its source.
    basis = url if url else f"{source_id}\x00{entry.guid or entry.title}"
    return hashlib.sha256(basis.encode()).hexdigest()[:20]


# -- polling ---------------------------------------------------------------


def poll_source(source: Source, store: Store | None, fetcher: Fetcher) -> PollOutcome:
    """Fetch and parse a source; list entries not seen before (all of them without a store).

    With the fetcher's gate, requests wait for their host's politeness slot
    (shared by all workers).
    """
    state = store.sources.state(source.id) if store else None
    validators = Validators(state.etag, state.last_modified) if state else None
    try:
        response = fetcher.get(
            source.url, validators, robots=source.robots, auth=source.credentials
        )
        if response.not_modified:
            return PollOutcome(source.id, "not-modified", state.items if state else 0, ())
        body_hash = hashlib.sha256(response.content).hexdigest()
        if state and state.body_hash == body_hash:
            # Many servers ignore conditional GET; an identical body needs no parse.
            return PollOutcome(source.id, "unchanged", state.items, ())
        feed = _parse_source(source, response, fetcher)
    except FetchError as exc:
        return PollOutcome(source.id, exc.kind, 0, (), error=str(exc), retry_after=exc.retry_after)
    except ExtractError as exc:  # unsafe XML, an invalid selector: the source is unusable
        return PollOutcome(source.id, "unparsable", 0, (), error=str(exc))
    if store:
        store.sources.save(
            source.id,
            etag=response.validators.etag or (state.etag if state else None),
            last_modified=response.validators.last_modified
            or (state.last_modified if state else None),
            body_hash=body_hash,
            # Saved with the body it describes: an unchanged body keeps its problem.
            problem=feed.problem,
        )
    new = _new_entries(source, feed.entries, store)
    return PollOutcome(source.id, "ok", len(feed.entries), tuple(new), feed=feed)


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


def _new_entries(
    source: Source, entries: Sequence[FeedEntry], store: Store | None
) -> list[NewEntry]:
    urls = [canonical_url(entry.url) if entry.url else None for entry in entries]
    keys = [seen_keys(e, u) if store else [] for e, u in zip(entries, urls, strict=True)]
    # One round trip per feed, not per entry: a cold poll of a big feed is
    # otherwise mostly waiting on Redis.
    unseen = store.seen.unseen(source.id, keys) if store else [True] * len(entries)
    new = [
        NewEntry(article_id_for(source.id, entry, url), url or "", entry, tuple(k))
        for entry, url, k, fresh in zip(entries, urls, keys, unseen, strict=True)
        if fresh
    ]
    if store and new:
        store.archive.put_entries([(n.article_id, source.id, n.entry, n.url) for n in new])
    return new


def settle_poll(
    source: Source, outcome: PollOutcome, config: Config, store: Store, now: float
) -> list[str]:
    """What follows a poll, in the worker and in `wirewatch poll` alike; the
    deliveries (health alerts) to send.

    Counts the poll, records the source's error (and its backoff) or its
    success, marks the new entries seen, and watches the source's health.
    Call it once the new entries are in hand (enqueued, or processed): a
    crash before it finds them again on the next poll, and the repeat is
    harmless.
    """
    store.metrics.count("wirewatch_polls", result=outcome.result)
    if outcome.error:
        store.metrics.count("wirewatch_fetch_errors", kind=outcome.result)
        errors = store.sources.record_error(
            source.id,
            outcome.result,
            now,
            SOURCE_BACKOFF,
            at_least=outcome.retry_after or 0.0,
            detail=outcome.error,
        )
        log.warning("source=%s poll failed (%d in a row): %s", source.id, errors, outcome.error)
    else:
        retention = config.settings.seen_retention.total_seconds()
        store.seen.mark(source.id, [e.seen_keys for e in outcome.new], now, retention)
        record_poll(store, outcome, now)
    return watch_health(source, outcome, config, store, now)


def record_poll(store: Store, outcome: PollOutcome, now: float) -> None:
    """Remember a successful poll for the schedule and for `wirewatch status`."""
    fields: dict[str, str | int | float | None] = {}
    if outcome.new or store.sources.state(outcome.source_id).last_new is None:
        # The staleness clock starts at the first good poll.
        fields["last_new"] = now
    if outcome.feed is not None and outcome.feed.title:
        # Names the source unless `name:` does (Config.source_name). It comes
        # from the site: one line, and no longer than a name needs to be.
        fields["title"] = clean_line(outcome.feed.title)[:_TITLE_CHARS]
    store.sources.save(
        outcome.source_id,
        last_poll=now,
        last_result=outcome.result,
        items=outcome.items,
        new_items=len(outcome.new),
        errors=0,
        not_before=0,
        **fields,
    )
    store.sources.clear_error(outcome.source_id)
