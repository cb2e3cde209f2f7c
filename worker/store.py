"""Everything wirewatch remembers, in Redis, behind named operations.

Key layout (all under the `ww:` prefix, so a shared Redis stays readable):

    ww:source:{id}            hash   per-source HTTP state and health
    ww:claim:{id}             string time of the last poll claimed by a tick
    ww:started                string when beat last started: every source is due then
    ww:lock:{name}            string short-lived mutual exclusion (token)
    ww:seen:{id}              zset   "g:<guid>" / "u:<url>" -> first seen
    ww:entry:{article}        string JSON of a feed entry waiting to be processed
    ww:article:{article}      string zlib JSON of the processed article (the archive)
    ww:archive                zset   article id -> time archived
    ww:alert:{rule}:{article} hash   one alert (rule, article, spans, source)
    ww:alerts                 zset   alert key -> time created
    ww:delivery:{key}         hash   one (alert or digest, target) delivery and its state
    ww:outbox                 zset   delivery key -> time of its next attempt
    ww:attempts:{key}         list   every delivery attempt, newest first
    ww:failed                 set    deliveries that finally failed
    ww:digest:{rule}          zset   alert keys waiting for the rule's next digest
    ww:digest-sent:{rule}     string time of the digest window last sent
    ww:rate:{rule}:{hour}     string instant alerts sent in that hour
    ww:config:good            string JSON of the config files last loaded without error
    ww:heartbeat              string time of the last tick

Every write that a retried task may repeat is idempotent (NX, or guarded by
state), which is what makes at-least-once tasks give exactly-once alerts.
"""

from __future__ import annotations

import json
import secrets
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from worker.models import Article, FeedEntry, Span

__all__ = [
    "AlertRecord",
    "DeliveryRecord",
    "SourceState",
    "Store",
]

P = "ww:"

# Claim a poll of a source if its interval has passed since the last claim (or
# it was not polled since beat started), in one step, so two beats (or two
# ticks racing) cannot both claim it.
_CLAIM_POLL = """
local last = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[1])
local not_before = tonumber(redis.call('HGET', KEYS[2], 'not_before') or '0')
local started = tonumber(redis.call('GET', KEYS[3]) or '0')
local due = not last or now - tonumber(last) >= tonumber(ARGV[2]) or tonumber(last) < started
if due and now >= not_before then
  redis.call('SET', KEYS[1], ARGV[1])
  return 1
end
return 0
"""

# Take the outbox entries that are due and push their next attempt out by a
# lease, so a lost task is retried after the lease and two ticks never both
# take the same entry.
_TAKE_DUE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(due) do
  redis.call('ZADD', KEYS[1], ARGV[2], member)
end
return due
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class SourceState:
    """What the last polls of a source left behind, for the next poll and for status."""

    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_poll: float | None = None
    last_result: str | None = None
    items: int = 0
    new_items: int = 0
    errors: int = 0
    not_before: float = 0.0

    @classmethod
    def from_hash(cls, data: Mapping[str, str]) -> SourceState:
        return cls(
            etag=data.get("etag") or None,
            last_modified=data.get("last_modified") or None,
            body_hash=data.get("body_hash") or None,
            last_poll=float(data["last_poll"]) if data.get("last_poll") else None,
            last_result=data.get("last_result") or None,
            items=int(data.get("items", 0)),
            new_items=int(data.get("new_items", 0)),
            errors=int(data.get("errors", 0)),
            not_before=float(data.get("not_before", 0)),
        )


@dataclass(frozen=True, slots=True)
class AlertRecord:
    key: str
    rule_id: str
    article_id: str
    source_id: str
    created: float
    spans: tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    key: str
    kind: str  # "alert" or "digest"
    target_id: str
    state: str  # "pending", "sent" or "failed"
    created: float
    attempts: int
    last_error: str | None
    sent_at: float | None
    alert_keys: tuple[str, ...]  # one for an alert, several for a digest
    title: str  # what the delivery is about, for status and alerts listings


def _text(value: object) -> str:
    # The client decodes responses, but redis-py types every reply as bytes | str.
    return value.decode() if isinstance(value, bytes) else str(value)


def _texts(values: object) -> list[str]:
    return [_text(v) for v in values]  # type: ignore[attr-defined]


def _mapping(data: object) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in data.items()}  # type: ignore[attr-defined]


class Store:
    """Typed operations on wirewatch's Redis state."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._claim_poll = client.register_script(_CLAIM_POLL)
        self._take_due = client.register_script(_TAKE_DUE)
        self._release = client.register_script(_RELEASE)

    @classmethod
    def from_url(cls, url: str) -> Store:
        return cls(
            redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_timeout=30,
                socket_connect_timeout=10,
                health_check_interval=30,
            )
        )

    # -- liveness ----------------------------------------------------------

    def heartbeat(self, now: float) -> None:
        """Recorded by every tick: proof that beat schedules and a worker runs."""
        self.redis.set(f"{P}heartbeat", now)

    def last_heartbeat(self) -> float | None:
        raw = self.redis.get(f"{P}heartbeat")
        return float(raw) if raw else None

    # -- locks -------------------------------------------------------------

    @contextmanager
    def lock(self, name: str, ttl: float) -> Iterator[bool]:
        """Hold `ww:lock:{name}` for the block if free; yields whether it was taken.

        The TTL bounds how long a crashed holder can keep others out.
        """
        key = f"{P}lock:{name}"
        token = secrets.token_hex(8)
        taken = bool(self.redis.set(key, token, nx=True, px=int(ttl * 1000)))
        try:
            yield taken
        finally:
            if taken:
                self._release(keys=[key], args=[token])

    # -- sources -----------------------------------------------------------

    def claim_poll(self, source_id: str, interval: float, now: float) -> bool:
        keys = [f"{P}claim:{source_id}", f"{P}source:{source_id}", f"{P}started"]
        return bool(self._claim_poll(keys=keys, args=[now, interval]))

    def last_claim(self, source_id: str) -> float | None:
        raw = self.redis.get(f"{P}claim:{source_id}")
        return float(raw) if raw else None

    def mark_started(self, now: float, window: float = 60.0) -> bool:
        """Make every source due at once, as SPEC wants right after start.

        A second beat starting within `window` (two started by mistake, or a
        quick restart loop) does not make them due a second time.
        """
        if not self.redis.set(f"{P}started-guard", now, nx=True, ex=int(window)):
            return False
        self.redis.set(f"{P}started", now)
        return True

    def source_state(self, source_id: str) -> SourceState:
        return SourceState.from_hash(_mapping(self.redis.hgetall(f"{P}source:{source_id}")))

    def save_source_state(self, source_id: str, **fields: str | int | float | None) -> None:
        mapping = {k: ("" if v is None else v) for k, v in fields.items()}
        self.redis.hset(f"{P}source:{source_id}", mapping=mapping)  # type: ignore[arg-type]

    def record_source_error(self, source_id: str, result: str, now: float, backoff: float) -> int:
        key = f"{P}source:{source_id}"
        pipe = self.redis.pipeline()
        pipe.hincrby(key, "errors", 1)
        pipe.hset(key, mapping={"last_result": result, "last_poll": now})
        errors = int(pipe.execute()[0])
        self.redis.hset(key, "not_before", now + backoff * min(2 ** (errors - 1), 64))
        return errors

    # -- seen entries ------------------------------------------------------

    def seen_keys(self, entry: FeedEntry, url: str | None) -> list[str]:
        keys = []
        if entry.guid:
            keys.append(f"g:{entry.guid}")
        if url:
            keys.append(f"u:{url}")
        return keys

    def is_seen(self, source_id: str, keys: list[str]) -> bool:
        if not keys:
            return False
        scores = self.redis.zmscore(f"{P}seen:{source_id}", keys)
        return any(score is not None for score in scores)

    def mark_seen(self, source_id: str, keys: list[str], now: float, retention: float) -> None:
        if not keys:
            return
        key = f"{P}seen:{source_id}"
        pipe = self.redis.pipeline()
        pipe.zadd(key, dict.fromkeys(keys, now), nx=True)
        pipe.zremrangebyscore(key, "-inf", now - retention)
        pipe.execute()

    # -- entries and the article archive -----------------------------------

    def put_entry(self, article_id: str, source_id: str, entry: FeedEntry, url: str) -> None:
        data = {
            "source_id": source_id,
            "guid": entry.guid,
            "url": url,
            "title": entry.title,
            "summary": entry.summary,
            "content": entry.content,
            "published": entry.published.isoformat() if entry.published else None,
            "author": entry.author,
        }
        self.redis.set(f"{P}entry:{article_id}", json.dumps(data), ex=7 * 86400)

    def get_entry(self, article_id: str) -> dict[str, Any] | None:
        raw = self.redis.get(f"{P}entry:{article_id}")
        return json.loads(raw) if raw else None

    def drop_entry(self, article_id: str) -> None:
        self.redis.delete(f"{P}entry:{article_id}")

    def archive_article(self, article: Article, now: float, retention: float) -> None:
        blob = zlib.compress(json.dumps(article.to_json()).encode(), 6)
        pipe = self.redis.pipeline()
        pipe.set(f"{P}article:{article.id}", blob.hex(), ex=int(retention))
        pipe.zadd(f"{P}archive", {article.id: now})
        pipe.zremrangebyscore(f"{P}archive", "-inf", now - retention)
        pipe.execute()

    def get_article(self, article_id: str) -> Article | None:
        raw = self.redis.get(f"{P}article:{article_id}")
        if not raw:
            return None
        return Article.from_json(json.loads(zlib.decompress(bytes.fromhex(_text(raw)))))

    # -- alerts ------------------------------------------------------------

    def create_alert(
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
        created = bool(self.redis.hsetnx(f"{P}alert:{key}", "created", now))
        if created:
            self.redis.hset(f"{P}alert:{key}", mapping=data)  # type: ignore[arg-type]
            self.redis.zadd(f"{P}alerts", {key: now})
        return key, created

    def alert_mode(self, key: str) -> str | None:
        value = self.redis.hget(f"{P}alert:{key}", "mode")
        return str(value) if value else None

    def set_alert_mode(self, key: str, mode: str) -> None:
        self.redis.hset(f"{P}alert:{key}", "mode", mode)

    def get_alert(self, key: str) -> AlertRecord | None:
        data = _mapping(self.redis.hgetall(f"{P}alert:{key}"))
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

    def also_reported_by(self, key: str) -> list[str]:
        raw = self.redis.hget(f"{P}alert:{key}", "also")
        return list(json.loads(raw)) if raw else []

    def recent_alerts(self, since: float) -> list[str]:
        return _texts(self.redis.zrangebyscore(f"{P}alerts", since, "+inf"))

    def count_instant(self, rule_id: str, now: float) -> int:
        """Count one instant alert of a rule in the current hour; returns the new count."""
        key = f"{P}rate:{rule_id}:{int(now // 3600)}"
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, 7200)
        return int(pipe.execute()[0])

    # -- digests -----------------------------------------------------------

    def add_to_digest(self, rule_id: str, alert_key: str, now: float) -> None:
        self.redis.zadd(f"{P}digest:{rule_id}", {alert_key: now}, nx=True)

    def digest_pending(self, rule_id: str) -> list[str]:
        return _texts(self.redis.zrange(f"{P}digest:{rule_id}", 0, -1))

    def digest_last_sent(self, rule_id: str) -> float | None:
        raw = self.redis.get(f"{P}digest-sent:{rule_id}")
        return float(raw) if raw else None

    def close_digest(self, rule_id: str, alert_keys: list[str], window: float) -> None:
        pipe = self.redis.pipeline()
        if alert_keys:
            pipe.zrem(f"{P}digest:{rule_id}", *alert_keys)
        pipe.set(f"{P}digest-sent:{rule_id}", window)
        pipe.execute()

    # -- deliveries and the outbox -----------------------------------------

    def create_delivery(
        self,
        key: str,
        *,
        kind: str,
        target_id: str,
        alert_keys: list[str],
        title: str,
        now: float,
        lease: float,
    ) -> bool:
        """Put a delivery in the outbox once; a repeat of the same key changes nothing."""
        hkey = f"{P}delivery:{key}"
        if not self.redis.hsetnx(hkey, "state", "pending"):
            return False
        pipe = self.redis.pipeline()
        pipe.hset(
            hkey,
            mapping={
                "kind": kind,
                "target_id": target_id,
                "created": now,
                "attempts": 0,
                "alert_keys": json.dumps(alert_keys),
                "title": title,
            },
        )
        pipe.zadd(f"{P}outbox", {key: now + lease}, nx=True)
        pipe.execute()
        return True

    def get_delivery(self, key: str) -> DeliveryRecord | None:
        data = _mapping(self.redis.hgetall(f"{P}delivery:{key}"))
        if not data or "kind" not in data:
            return None
        return DeliveryRecord(
            key=key,
            kind=data["kind"],
            target_id=data["target_id"],
            state=data["state"],
            created=float(data["created"]),
            attempts=int(data.get("attempts", 0)),
            last_error=data.get("last_error") or None,
            sent_at=float(data["sent_at"]) if data.get("sent_at") else None,
            alert_keys=tuple(json.loads(data.get("alert_keys", "[]"))),
            title=data.get("title", ""),
        )

    def deliveries_of(self, alert_key: str, target_ids: list[str]) -> list[DeliveryRecord]:
        records = (self.get_delivery(f"{alert_key}:{tid}") for tid in target_ids)
        return [r for r in records if r is not None]

    def take_due_deliveries(self, now: float, lease: float, limit: int = 500) -> list[str]:
        return _texts(self._take_due(keys=[f"{P}outbox"], args=[now, now + lease, limit]))

    def record_attempt(self, key: str, ok: bool, detail: str, now: float) -> int:
        hkey = f"{P}delivery:{key}"
        pipe = self.redis.pipeline()
        pipe.hincrby(hkey, "attempts", 1)
        pipe.lpush(f"{P}attempts:{key}", json.dumps({"at": now, "ok": ok, "detail": detail}))
        pipe.ltrim(f"{P}attempts:{key}", 0, 49)
        if not ok:
            pipe.hset(hkey, "last_error", detail)
        return int(pipe.execute()[0])

    def mark_sent(self, key: str, now: float) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(f"{P}delivery:{key}", mapping={"state": "sent", "sent_at": now})
        pipe.zrem(f"{P}outbox", key)
        pipe.execute()

    def mark_failed(self, key: str) -> None:
        pipe = self.redis.pipeline()
        pipe.hset(f"{P}delivery:{key}", "state", "failed")
        pipe.zrem(f"{P}outbox", key)
        pipe.sadd(f"{P}failed", key)
        pipe.execute()

    def drop_from_outbox(self, key: str) -> None:
        self.redis.zrem(f"{P}outbox", key)

    def schedule_retry(self, key: str, at: float) -> None:
        self.redis.zadd(f"{P}outbox", {key: at})

    def outbox_size(self) -> int:
        return int(self.redis.zcard(f"{P}outbox"))

    def undelivered(self) -> list[DeliveryRecord]:
        """Deliveries still pending, and those that finally failed."""
        keys = _texts(self.redis.zrange(f"{P}outbox", 0, -1))
        keys += sorted(_texts(self.redis.smembers(f"{P}failed")))
        records = [self.get_delivery(k) for k in keys]
        return [r for r in records if r is not None]

    # -- config snapshot ---------------------------------------------------

    def save_good_config(self, files: Mapping[str, str]) -> None:
        self.redis.set(f"{P}config:good", json.dumps(dict(files)))

    def good_config(self) -> dict[str, str] | None:
        raw = self.redis.get(f"{P}config:good")
        return json.loads(raw) if raw else None

    def queue_depth(self, queue: str = "celery") -> int:
        return int(self.redis.llen(queue))
