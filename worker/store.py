"""Everything wirewatch remembers, in Redis, behind named operations.

Key layout (all under the `ww:` prefix, so a shared Redis stays readable):

    ww:source:{id}            hash   per-source HTTP state, health and parse problem
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
    ww:dedup:...              near-duplicate index and records (see worker.dedup)
    ww:rate:{rule}:{hour}     string instant alerts sent in that hour
    ww:config:good            string JSON of the config files last loaded without error
    ww:heartbeat              string time of the last tick
    ww:host:{origin}          zset   politeness slots in use: token -> lease expiry
    ww:host-next:{origin}     string earliest start of the next request to the origin
    ww:robots:{origin}        string the origin's robots.txt, cached
    ww:starts:{task}:{retry}  string how often a task message was started (redelivery cap)
    ww:set-aside              hash   task id -> JSON of a task set aside after too many starts

Every write that a retried task may repeat is idempotent (NX, or guarded by
state), which is what makes at-least-once tasks give exactly-once alerts.
"""

from __future__ import annotations

import json
import secrets
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
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

# Take one of an origin's politeness slots: none while the host's next start
# time lies ahead (per-host delay, Retry-After), none while `concurrency`
# requests are in flight. Returns "0" when taken, else the seconds to wait
# (as text: Lua numbers come back from Redis as integers).
_HOST_SLOT = """
local now = tonumber(ARGV[1])
local delay = tonumber(ARGV[4])
local lease = tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if nxt > now then
  return tostring(nxt - now)
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return tostring(math.max(delay, 0.1))
end
redis.call('ZADD', KEYS[1], now + lease, ARGV[2])
redis.call('EXPIRE', KEYS[1], math.ceil(lease) + 60)
if delay > 0 then
  redis.call('SET', KEYS[2], tostring(now + delay), 'PX', math.ceil(delay * 1000) + 1000)
end
return '0'
"""

_DEFER_HOST = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', math.ceil(tonumber(ARGV[2])) + 60)
end
return 0
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
    health: str | None = None  # "ok", "failing", "stale", "selectors"; None before the first poll
    health_detail: str | None = None
    failing_since: float | None = None
    last_new: float | None = None  # when a poll last found a new item
    last_error: str | None = None
    # What the last parsed body tolerated or lacked: a malformed feed, or
    # listing selectors that found no items (a site redesign).
    problem: str | None = None

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
            health=data.get("health") or None,
            health_detail=data.get("health_detail") or None,
            failing_since=float(data["failing_since"]) if data.get("failing_since") else None,
            last_new=float(data["last_new"]) if data.get("last_new") else None,
            last_error=data.get("last_error") or None,
            problem=data.get("problem") or None,
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
    message: str = ""  # the text of a "health" delivery (alerts render from alert_keys)


def _text(value: object) -> str:
    # The client decodes responses, but redis-py types every reply as bytes | str.
    return value.decode() if isinstance(value, bytes) else str(value)


def _texts(values: object) -> list[str]:
    return [_text(v) for v in values]  # type: ignore[attr-defined]


def _mapping(data: object) -> dict[str, str]:
    return {_text(k): _text(v) for k, v in data.items()}  # type: ignore[attr-defined]


def _entry_data(source_id: str, entry: FeedEntry, url: str) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "guid": entry.guid,
        "url": url,
        "title": entry.title,
        "summary": entry.summary,
        "content": entry.content,
        "published": entry.published.isoformat() if entry.published else None,
        "author": entry.author,
    }


class Store:
    """Typed operations on wirewatch's Redis state."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._claim_poll = client.register_script(_CLAIM_POLL)
        self._take_due = client.register_script(_TAKE_DUE)
        self._release = client.register_script(_RELEASE)
        self._host_slot = client.register_script(_HOST_SLOT)
        self._defer_host = client.register_script(_DEFER_HOST)

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
    def lock(self, name: str, ttl: float, wait: float = 0.0) -> Iterator[bool]:
        """Hold `ww:lock:{name}` for the block if free (or freed within `wait`
        seconds); yields whether it was taken.

        The TTL bounds how long a crashed holder can keep others out.
        """
        key = f"{P}lock:{name}"
        token = secrets.token_hex(8)
        deadline = time.monotonic() + wait
        while not (taken := bool(self.redis.set(key, token, nx=True, px=int(ttl * 1000)))):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)  # a holder's block is short: poll rather than subscribe
        try:
            yield taken
        finally:
            if taken:
                self._release(keys=[key], args=[token])

    # -- sources -----------------------------------------------------------

    def claim_poll(self, source_id: str, interval: float, now: float) -> bool:
        return bool(self.claim_polls([(source_id, interval)], now))

    def claim_polls(self, sources: Sequence[tuple[str, float]], now: float) -> list[str]:
        """`claim_poll` for many (source id, interval) pairs in one round trip; the claimed ids."""
        pipe = self.redis.pipeline(transaction=False)
        for source_id, interval in sources:
            keys = [f"{P}claim:{source_id}", f"{P}source:{source_id}", f"{P}started"]
            self._claim_poll(keys=keys, args=[now, interval], client=pipe)
        claimed = pipe.execute()
        return [sid for (sid, _), ok in zip(sources, claimed, strict=True) if ok]

    def record_claim(self, source_id: str, now: float) -> None:
        """A poll made outside the tick (`wirewatch poll`): the next is due an interval later."""
        self.redis.set(f"{P}claim:{source_id}", now)

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

    def record_source_error(
        self,
        source_id: str,
        result: str,
        now: float,
        backoff: float,
        *,
        at_least: float = 0.0,
        detail: str = "",
    ) -> int:
        """Count a failed poll; the next is held back exponentially (and past `at_least`)."""
        key = f"{P}source:{source_id}"
        pipe = self.redis.pipeline()
        pipe.hincrby(key, "errors", 1)
        pipe.hset(key, mapping={"last_result": result, "last_poll": now, "last_error": detail})
        pipe.hsetnx(key, "failing_since", now)
        errors = int(pipe.execute()[0])
        wait = max(backoff * min(2 ** (errors - 1), 64), at_least)
        self.redis.hset(key, "not_before", now + wait)
        return errors

    def clear_source_error(self, source_id: str) -> None:
        self.redis.hdel(f"{P}source:{source_id}", "failing_since", "last_error")

    # -- hosts: politeness shared by every worker (fetch.HostGate) ----------

    def acquire_host_slot(
        self, origin: str, token: str, concurrency: int, delay: float, lease: float, now: float
    ) -> float:
        keys = [f"{P}host:{origin}", f"{P}host-next:{origin}"]
        return float(self._host_slot(keys=keys, args=[now, token, concurrency, delay, lease]))

    def release_host_slot(self, origin: str, token: str) -> None:
        self.redis.zrem(f"{P}host:{origin}", token)

    def defer_host(self, origin: str, until: float) -> None:
        self._defer_host(keys=[f"{P}host-next:{origin}"], args=[until, until - time.time()])

    def cached_robots(self, origin: str) -> str | None:
        raw = self.redis.get(f"{P}robots:{origin}")
        return None if raw is None else _text(raw)

    def cache_robots(self, origin: str, text: str, ttl: float) -> None:
        self.redis.set(f"{P}robots:{origin}", text, ex=max(1, int(ttl)))

    # -- seen entries ------------------------------------------------------

    def seen_keys(self, entry: FeedEntry, url: str | None) -> list[str]:
        keys = []
        if entry.guid:
            keys.append(f"g:{entry.guid}")
        if url:
            keys.append(f"u:{url}")
        return keys

    def unseen(self, source_id: str, key_lists: Sequence[list[str]]) -> list[bool]:
        """For each entry's keys, whether none was seen: a whole feed in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for keys in key_lists:
            if keys:
                pipe.zmscore(f"{P}seen:{source_id}", keys)
        scores = iter(pipe.execute())
        return [not keys or all(s is None for s in next(scores)) for keys in key_lists]

    def mark_seen_many(
        self, source_id: str, key_lists: Sequence[Sequence[str]], now: float, retention: float
    ) -> None:
        """`mark_seen` for all new entries of a poll at once."""
        keys = [key for group in key_lists for key in group]
        if not keys:
            return
        key = f"{P}seen:{source_id}"
        pipe = self.redis.pipeline(transaction=False)
        pipe.zadd(key, dict.fromkeys(keys, now), nx=True)
        pipe.zremrangebyscore(key, "-inf", now - retention)
        pipe.execute()

    def mark_seen(self, source_id: str, keys: list[str], now: float, retention: float) -> None:
        if not keys:
            return
        key = f"{P}seen:{source_id}"
        pipe = self.redis.pipeline()
        pipe.zadd(key, dict.fromkeys(keys, now), nx=True)
        pipe.zremrangebyscore(key, "-inf", now - retention)
        pipe.execute()

    # -- entries and the article archive -----------------------------------

    def put_entries(self, items: Sequence[tuple[str, str, FeedEntry, str]]) -> None:
        """Store entries waiting to be processed, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for article_id, source_id, entry, url in items:
            pipe.set(
                f"{P}entry:{article_id}",
                json.dumps(_entry_data(source_id, entry, url)),
                ex=7 * 86400,
            )
        pipe.execute()

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

    def archived_since(self, since: float) -> list[tuple[str, float]]:
        """Archived article ids with the time each was archived, oldest first."""
        found: list[tuple[Any, Any]] = self.redis.zrangebyscore(  # type: ignore[assignment]
            f"{P}archive", since, "+inf", withscores=True
        )
        return [(_text(member), float(score)) for member, score in found]

    def get_articles(self, article_ids: Sequence[str]) -> list[Article | None]:
        """Several archived articles in one round trip (None where one has expired)."""
        if not article_ids:
            return []
        raws = self.redis.mget([f"{P}article:{article_id}" for article_id in article_ids])
        return [
            Article.from_json(json.loads(zlib.decompress(bytes.fromhex(_text(raw)))))
            if raw
            else None
            for raw in raws
        ]

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
        for key in alert_keys:
            # Which digest carried the alert, for `wirewatch alerts`.
            pipe.hset(f"{P}alert:{key}", "digest", int(window))
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
        message: str = "",
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
                "message": message,
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
            message=data.get("message", ""),
        )

    def deliveries_of(self, alert_key: str, target_ids: list[str]) -> list[DeliveryRecord]:
        """The alert's own deliveries, or those of the digest that carried it."""
        window = self.redis.hget(f"{P}alert:{alert_key}", "digest")
        prefix = f"digest:{_text(window)}" if window else alert_key
        records = (self.get_delivery(f"{prefix}:{tid}") for tid in target_ids)
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

    # -- redelivery cap ----------------------------------------------------

    def count_start(self, task_id: str, retries: int, ttl: float) -> int:
        """Count a start of one task message; a retry is a new message, counted apart."""
        key = f"{P}starts:{task_id}:{retries}"
        pipe = self.redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, max(1, int(ttl)))
        return int(pipe.execute()[0])

    def set_aside(self, task: str, task_id: str, args: Sequence[Any], now: float) -> None:
        record = {"task": task, "id": task_id, "args": list(args), "at": now}
        self.redis.hset(f"{P}set-aside", task_id, json.dumps(record))

    def set_aside_tasks(self) -> list[dict[str, Any]]:
        records = [json.loads(raw) for raw in _texts(self.redis.hvals(f"{P}set-aside"))]
        return sorted(records, key=lambda record: float(record["at"]))

    def queue_depth(self, queue: str = "celery") -> int:
        return int(self.redis.llen(queue))
