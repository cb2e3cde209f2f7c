"""Digests: when a digest window has passed, one delivery per target carries
the alerts its rules collected, grouped by rule (docs/how-it-works.md, "Digests")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from worker.config import Config, Rule
from worker.models import DeliveryKey, DeliveryKind
from worker.notify import Target
from worker.pipeline.delivery import targets_for
from worker.store import Store

__all__ = ["close_digests", "last_window"]


def last_window(times: Sequence[object], now: float, tz: ZoneInfo) -> float:
    """The most recent scheduled digest time at or before `now`, as a timestamp."""
    local_now = datetime.fromtimestamp(now, tz)
    best: datetime | None = None
    for day_offset in (0, -1):
        day = (local_now + timedelta(days=day_offset)).date()
        for at in times:
            candidate = datetime.combine(day, at, tz)  # type: ignore[arg-type]
            if candidate <= local_now and (best is None or candidate > best):
                best = candidate
    assert best is not None  # yesterday's times are always in the past
    return best.timestamp()


def close_digests(config: Config, store: Store, now: float) -> list[str]:
    """Deliveries for every digest window that has passed; one per target per window."""
    tz = config.settings.zone
    by_window: dict[float, list[tuple[Rule, list[str]]]] = {}
    for rule in config.rules:
        window = last_window(rule.digest or config.settings.digest, now, tz)
        last_sent = store.digests.last_sent(rule.id)
        if last_sent is None:
            # A new rule starts collecting now; it does not flush yesterday's window.
            store.digests.close(rule.id, [], window)
            continue
        if window <= last_sent:
            continue
        pending = store.digests.pending(rule.id)
        by_window.setdefault(window, []).append((rule, pending))
    to_send: list[str] = []
    for window, rule_items in by_window.items():
        to_send += _digest_deliveries(window, rule_items, config, store, now)
        for rule, pending in rule_items:
            store.digests.close(rule.id, pending, window)
    return to_send


def _digest_deliveries(
    window: float,
    rule_items: Sequence[tuple[Rule, list[str]]],
    config: Config,
    store: Store,
    now: float,
) -> list[str]:
    per_target: dict[str, tuple[Target, list[str]]] = {}
    for rule, alert_keys in rule_items:
        for target in targets_for(rule, config.targets):
            per_target.setdefault(target.id, (target, []))[1].extend(alert_keys)
    keys = []
    for target, alert_keys in per_target.values():
        if not alert_keys:
            continue
        key = str(DeliveryKey.digest(window, target.id))
        store.outbox.create(
            key,
            kind=DeliveryKind.DIGEST,
            target_id=target.id,
            alert_keys=alert_keys,
            title=f"digest: {len(alert_keys)} alerts",
            now=now,
            lease=config.settings.delivery_lease,
        )
        keys.append(key)
    return keys
