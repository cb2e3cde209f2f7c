"""Deliveries and the outbox: each (alert or digest, target) is sent once."""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis

from worker.models import DeliveryKind, DeliveryState
from worker.store import keys
from worker.store.codec import mapping, texts

__all__ = ["DeliveryRecord", "Outbox"]

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


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    key: str
    kind: DeliveryKind
    target_id: str
    state: DeliveryState
    created: float
    attempts: int
    last_error: str | None
    sent_at: float | None
    alert_keys: tuple[str, ...]  # one for an alert, several for a digest
    title: str  # what the delivery is about, for status and alerts listings
    message: str = ""  # the text of a "health" delivery (alerts render from alert_keys)


class Outbox:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._take_due = client.register_script(_TAKE_DUE)

    def create(
        self,
        key: str,
        *,
        kind: DeliveryKind,
        target_id: str,
        alert_keys: list[str],
        title: str,
        now: float,
        lease: float,
        message: str = "",
    ) -> bool:
        """Put a delivery in the outbox once; a repeat of the same key changes nothing."""
        hkey = keys.delivery(key)
        if not self._redis.hsetnx(hkey, "state", DeliveryState.PENDING):
            return False
        pipe = self._redis.pipeline()
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
        pipe.zadd(keys.OUTBOX, {key: now + lease}, nx=True)
        pipe.execute()
        return True

    def get(self, key: str) -> DeliveryRecord | None:
        data = mapping(self._redis.hgetall(keys.delivery(key)))
        if not data or "kind" not in data:
            return None
        return DeliveryRecord(
            key=key,
            kind=DeliveryKind(data["kind"]),
            target_id=data["target_id"],
            state=DeliveryState(data["state"]),
            created=float(data["created"]),
            attempts=int(data.get("attempts", 0)),
            last_error=data.get("last_error") or None,
            sent_at=float(data["sent_at"]) if data.get("sent_at") else None,
            alert_keys=tuple(json.loads(data.get("alert_keys", "[]"))),
            title=data.get("title", ""),
            message=data.get("message", ""),
        )

    def take_due(self, now: float, lease: float, limit: int = 500) -> list[str]:
        return texts(self._take_due(keys=[keys.OUTBOX], args=[now, now + lease, limit]))

    def record_attempt(self, key: str, ok: bool, detail: str, now: float) -> int:
        hkey = keys.delivery(key)
        pipe = self._redis.pipeline()
        pipe.hincrby(hkey, "attempts", 1)
        pipe.lpush(keys.attempts(key), json.dumps({"at": now, "ok": ok, "detail": detail}))
        pipe.ltrim(keys.attempts(key), 0, 49)
        if not ok:
            pipe.hset(hkey, "last_error", detail)
        return int(pipe.execute()[0])

    def mark_sent(self, key: str, now: float) -> None:
        pipe = self._redis.pipeline()
        pipe.hset(keys.delivery(key), mapping={"state": DeliveryState.SENT, "sent_at": now})
        pipe.zrem(keys.OUTBOX, key)
        pipe.execute()

    def mark_failed(self, key: str) -> None:
        pipe = self._redis.pipeline()
        pipe.hset(keys.delivery(key), "state", DeliveryState.FAILED)
        pipe.zrem(keys.OUTBOX, key)
        pipe.sadd(keys.FAILED, key)
        pipe.execute()

    def drop(self, key: str) -> None:
        self._redis.zrem(keys.OUTBOX, key)

    def schedule_retry(self, key: str, at: float) -> None:
        self._redis.zadd(keys.OUTBOX, {key: at})

    def size(self) -> int:
        return int(self._redis.zcard(keys.OUTBOX))

    def undelivered(self) -> list[DeliveryRecord]:
        """Deliveries still pending, and those that finally failed."""
        pending = texts(self._redis.zrange(keys.OUTBOX, 0, -1))
        pending += sorted(texts(self._redis.smembers(keys.FAILED)))
        records = [self.get(k) for k in pending]
        return [r for r in records if r is not None]
