"""Alerts (one per rule and article), the hourly count of instant ones, and digests."""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from worker.models import Article, Span
from worker.store import keys
from worker.store.codec import mapping, texts

__all__ = ["AlertRecord", "Alerts", "Digests"]


@dataclass(frozen=True, slots=True)
class AlertRecord:
    key: str
    rule_id: str
    article_id: str
    source_id: str
    created: float
    spans: tuple[Span, ...]


class Alerts:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def create(
        self, rule_id: str, article: Article, spans: tuple[Span, ...], now: float
    ) -> tuple[str, bool]:
        """Record an alert once; returns its key and whether it is new."""
        key = f"{rule_id}:{article.id}"
        data = {
            "rule_id": rule_id,
            "article_id": article.id,
            "source_id": article.source_id,
            "created": now,
            "spans": json.dumps([[s.field, s.start, s.end] for s in spans]),
        }
        created = bool(self._redis.hsetnx(keys.alert(key), "created", now))
        if created:
            self._redis.hset(keys.alert(key), mapping=data)  # type: ignore[arg-type]
            self._redis.zadd(keys.ALERTS, {key: now})
        return key, created

    def mode(self, key: str) -> str | None:
        value = self._redis.hget(keys.alert(key), "mode")
        return str(value) if value else None

    def set_mode(self, key: str, mode: str) -> None:
        self._redis.hset(keys.alert(key), "mode", mode)

    def get(self, key: str) -> AlertRecord | None:
        data = mapping(self._redis.hgetall(keys.alert(key)))
        if not data or "rule_id" not in data:
            return None
        return AlertRecord(
            key=key,
            rule_id=data["rule_id"],
            article_id=data["article_id"],
            source_id=data["source_id"],
            created=float(data["created"]),
            spans=tuple(Span(f, s, e) for f, s, e in json.loads(data["spans"])),
        )

    def created(self, key: str) -> float | None:
        raw = self._redis.hget(keys.alert(key), "created")
        return float(raw) if raw else None

    def also_reported_by(self, key: str) -> list[str]:
        raw = self._redis.hget(keys.alert(key), "also")
        return list(json.loads(raw)) if raw else []

    def digest_window(self, key: str) -> str | None:
        """The window of the digest that carried the alert, if one did."""
        raw = self._redis.hget(keys.alert(key), "digest")
        return str(raw) if raw else None

    def recent(self, since: float) -> list[str]:
        return texts(self._redis.zrangebyscore(keys.ALERTS, since, "+inf"))

    def count_instant(self, rule_id: str, now: float) -> int:
        """Count one instant alert of a rule in the current hour; returns the new count."""
        key = keys.rate(rule_id, int(now // 3600))
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 7200)
        return int(pipe.execute()[0])


class Digests:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def add(self, rule_id: str, alert_key: str, now: float) -> None:
        self._redis.zadd(keys.digest(rule_id), {alert_key: now}, nx=True)

    def pending(self, rule_id: str) -> list[str]:
        return texts(self._redis.zrange(keys.digest(rule_id), 0, -1))

    def last_sent(self, rule_id: str) -> float | None:
        raw = self._redis.get(keys.digest_sent(rule_id))
        return float(raw) if raw else None

    def close(self, rule_id: str, alert_keys: list[str], window: float) -> None:
        pipe = self._redis.pipeline()
        if alert_keys:
            pipe.zrem(keys.digest(rule_id), *alert_keys)
        for key in alert_keys:
            # Which digest carried the alert, for `wirewatch alerts`.
            pipe.hset(keys.alert(key), "digest", int(window))
        pipe.set(keys.digest_sent(rule_id), window)
        pipe.execute()
