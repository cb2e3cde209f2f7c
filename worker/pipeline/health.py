"""Source health: tell the `admin` targets when a source starts failing, goes
stale or loses its listing selectors, and when it recovers
(docs/how-it-works.md, "Source health")."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from worker.config import Source
from worker.models import DeliveryKey, DeliveryKind, Health
from worker.pipeline.outcome import PollContext, PollOutcome
from worker.store import SourceState

__all__ = ["HEALTH_FAILING_ERRORS", "HEALTH_STALE_AFTER", "watch_health"]

log = logging.getLogger(__name__)

# Source health (docs/how-it-works.md, "Source health"): a source is
# "failing" after this many polls in a row failed (with the backoff, about a
# quarter of an hour), "stale" when no poll found a new item for this long (or
# for ten intervals, if longer).
HEALTH_FAILING_ERRORS = 5
HEALTH_STALE_AFTER = 3 * 86400.0


def watch_health(
    ctx: PollContext,
    source: Source,
    outcome: PollOutcome,
    state: SourceState,
    fields: dict[str, str | int | float | None],
) -> list[str]:
    """Alert the `admin` targets when a source's health changes; returns deliveries to send.

    `state` is the source's state as the poll leaves it; a changed health is
    added to `fields`, the poll's record that `settle_poll` writes.
    One alert per change: "failing", "stale", "selectors", and one on recovery.
    """
    assert ctx.store is not None
    config, store, now = ctx.config, ctx.store, ctx.now
    health, detail = _health_of(source, state, outcome, now)
    if health == state.health:
        return []
    fields.update(health=health, health_detail=detail)
    if health == Health.OK and state.health is None:
        return []  # a new source that works: nothing to tell
    name = config.source_name(source.id, state.title)
    if health == Health.OK:
        title = f"wirewatch: source {source.id} recovered"
        message = f"Source {name} ({source.url}) works again: {outcome.label}."
    else:
        title = f"wirewatch: source {source.id} is {health}"
        message = f"Source {name} ({source.url}): {detail}"
    log.warning("source=%s health %s -> %s: %s", source.id, state.health, health, detail)
    keys = []
    for target in config.targets:
        if "admin" not in target.tags:
            continue  # never content targets
        key = str(DeliveryKey.health(source.id, now, target.id))
        store.outbox.create(
            key,
            kind=DeliveryKind.HEALTH,
            target_id=target.id,
            alert_keys=[],
            title=title,
            now=now,
            lease=config.settings.delivery_lease,
            message=message,
        )
        keys.append(key)
    return keys


def _health_of(
    source: Source, state: SourceState, outcome: PollOutcome, now: float
) -> tuple[Health | None, str]:
    if outcome.error:
        if state.errors >= HEALTH_FAILING_ERRORS:
            since = datetime.fromtimestamp(state.failing_since or now, UTC)
            return Health.FAILING, (
                f"{state.errors} polls in a row failed since {since:%Y-%m-%d %H:%M} UTC; "
                f"last: {outcome.error}"
            )
        return state.health, state.health_detail or ""  # a few errors are weather
    if source.type == "html":
        if outcome.feed is not None and outcome.feed.problem:
            return Health.SELECTORS, f"the listing selectors found nothing: {outcome.feed.problem}"
        if outcome.feed is None and state.health == Health.SELECTORS:
            return state.health, state.health_detail or ""  # page unchanged: still broken
    stale_after = max(HEALTH_STALE_AFTER, 10 * source.interval.total_seconds())
    if state.last_new is not None and now - state.last_new > stale_after:
        return Health.STALE, f"no new item for {(now - state.last_new) / 86400:.1f} days"
    return Health.OK, ""
