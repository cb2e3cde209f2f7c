"""Delivery: send one outbox entry (an alert, a digest or a health notice) to
its target, once, and retry failures with backoff.

A delivery is marked sent before it leaves the outbox, so a repeated task
finds it sent; a task that vanished is taken again after the lease.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import redis

from worker.config import Config, Rule
from worker.models import DeliveryKey, DeliveryKind, DeliveryState
from worker.notify import (
    AlertContent,
    DigestItem,
    Message,
    Target,
    render_alert,
    render_digest,
    send,
)
from worker.notify.escape import escape
from worker.store import DeliveryRecord, Store

__all__ = ["deliver", "deliveries_of", "retry_delay", "targets_for"]

log = logging.getLogger(__name__)


def targets_for(rule: Rule | None, targets: Sequence[Target]) -> list[Target]:
    """Tag routing: a rule's `notify` tags pick targets; without them, every
    target except those reserved for source-health alerts (`admin` only)."""
    if rule is not None and rule.notify is not None:
        wanted = set(rule.notify)
        return [t for t in targets if t.tags & wanted]
    return [t for t in targets if t.tags != frozenset({"admin"})]


def deliveries_of(store: Store, alert_key: str, target_ids: Sequence[str]) -> list[DeliveryRecord]:
    """The alert's own deliveries, or those of the digest that carried it."""
    window = store.alerts.digest_window(alert_key)
    keys = (
        DeliveryKey.digest(float(window), tid) if window else DeliveryKey.alert(alert_key, tid)
        for tid in target_ids
    )
    records = (store.outbox.get(str(key)) for key in keys)
    return [r for r in records if r is not None]


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min ... capped at an hour."""
    base: float = min(30.0 * 2 ** max(attempts - 1, 0), 3600.0)
    return base * random.uniform(0.75, 1.25)


def deliver(key: str, config: Config, store: Store, now: float) -> str:
    """Send one delivery if it is still pending; returns what happened, for the log."""
    record = store.outbox.get(key)
    if record is None:
        return "unknown delivery"
    if record.state != DeliveryState.PENDING:
        store.outbox.drop(key)
        return f"already {record.state}"
    target = next((t for t in config.targets if t.id == record.target_id), None)
    if target is None:
        store.outbox.record_attempt(key, False, "target no longer in apprise.yml", now)
        store.outbox.mark_failed(key)
        return "failed: target removed"
    if record.kind == DeliveryKind.HEALTH:
        message: Message | None = _health_message(record.title, record.message, target)
    else:
        message = _message_for(
            record.kind, record.alert_keys, target, config, store, DeliveryKey.parse(key).window
        )
    if message is None:
        store.outbox.mark_failed(key)
        return "failed: alert data expired"
    result = send(target, message, allow_private_networks=config.settings.allow_private_networks)
    if result.ok:
        # The message is out: from here, failing to record it would send it
        # again when its lease runs out, so Redis gets every chance to answer.
        _record_side_effect(
            lambda: store.outbox.mark_sent(key, now), within=config.settings.delivery_lease / 2
        )
        store.outbox.record_attempt(key, True, result.detail, now)
        _count_sent(store, record, now)
        return f"sent to {target.safe_url}"
    attempts = store.outbox.record_attempt(key, False, result.detail, now)
    store.metrics.count("wirewatch_alerts_failed", kind=record.kind)
    if result.final:
        # Retrying will not change where the URL points: a config matter.
        log.warning("delivery=%s refused: %s", key, result.detail)
        store.outbox.mark_failed(key)
        return f"failed: {result.detail}"
    if now - record.created > config.settings.delivery_retry_for.total_seconds():
        store.outbox.mark_failed(key)
        return f"failed for good after {attempts} attempts: {result.detail}"
    store.outbox.schedule_retry(key, now + retry_delay(attempts))
    return f"attempt {attempts} failed, will retry: {result.detail}"


def _count_sent(store: Store, record: DeliveryRecord, now: float) -> None:
    store.metrics.count("wirewatch_alerts_sent", kind=record.kind)
    if record.kind != "alert":
        return
    alert = store.alerts.get(record.alert_keys[0])
    article = store.archive.get(alert.article_id) if alert else None
    if article is not None and article.published is not None:
        store.metrics.observe_delay(now - article.published.timestamp())


def _record_side_effect(write: Callable[[], None], within: float) -> None:
    """Retry a Redis write that records something already done, through a short outage.

    Bounded well below the delivery lease, so no second sender starts meanwhile.
    """
    deadline = time.monotonic() + within
    pause = 0.5
    while True:
        try:
            write()
            return
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("Redis unavailable while recording a sent alert, retrying: %s", exc)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)


def _health_message(title: str, text: str, target: Target) -> Message:
    body = escape(text, target.format)
    return Message(title, f"<p>{body}</p>" if target.format == "html" else body, target.format)


def _message_for(
    kind: str,
    alert_keys: Sequence[str],
    target: Target,
    config: Config,
    store: Store,
    window: float | None = None,
) -> Message | None:
    tz = config.settings.zone
    contents = [_alert_content(key, config, store) for key in alert_keys]
    present = [c for c in contents if c is not None]
    if not present:
        return None
    if kind == DeliveryKind.ALERT:
        return render_alert(present[0][1], target.format, tz)
    items = [DigestItem(alert=content, at=at) for at, content in present]
    return render_digest(items, target.format, tz, window_label=_window_label(items, tz, window))


def _alert_content(
    alert_key: str, config: Config, store: Store
) -> tuple[datetime, AlertContent] | None:
    alert = store.alerts.get(alert_key)
    if alert is None:
        return None
    article = store.archive.get(alert.article_id)
    if article is None:
        return None
    title = store.sources.state(alert.source_id).title
    content = AlertContent(
        rule_id=alert.rule_id,
        article=article,
        spans=alert.spans,
        source_name=config.source_name(alert.source_id, title),
        also_reported_by=tuple(store.alerts.also_reported_by(alert_key)),
    )
    return datetime.fromtimestamp(alert.created, UTC), content


def _window_label(items: Sequence[DigestItem], tz: ZoneInfo, window: float | None) -> str:
    # The scheduled time the reader expects ("the 08:00 digest"), in their zone.
    moment = (
        datetime.fromtimestamp(window, tz)
        if window is not None
        else max(item.at for item in items).astimezone(tz)
    )
    return f"{moment:%Y-%m-%d %H:%M %Z}"
