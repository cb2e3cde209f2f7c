"""Per-source state: HTTP validators, health, errors, and the poll schedule."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import redis
from redis.client import Pipeline

from worker.models import Health
from worker.store import keys
from worker.store.codec import mapping
from worker.store.owners import Owners

__all__ = ["SourceState", "Sources", "error_backoff"]

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
    health: Health | None = None  # None before the first poll
    health_detail: str | None = None
    failing_since: float | None = None
    last_new: float | None = None  # when a poll last found a new item
    last_error: str | None = None
    # What the last parsed body tolerated or lacked: a malformed feed, or
    # listing selectors that found no items (a site redesign).
    problem: str | None = None
    # Entries matched on the feed's own text because their page could not be
    # fetched, parsed or extracted: how many, and the last reason.
    fallbacks: int = 0
    last_fallback: str | None = None
    title: str | None = None  # the feed's or page's own title, as last read
    old: int = 0  # entries skipped so far as older than max_age

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
            health=Health(data["health"]) if data.get("health") else None,
            health_detail=data.get("health_detail") or None,
            failing_since=float(data["failing_since"]) if data.get("failing_since") else None,
            last_new=float(data["last_new"]) if data.get("last_new") else None,
            last_error=data.get("last_error") or None,
            problem=data.get("problem") or None,
            fallbacks=int(data.get("fallbacks", 0)),
            last_fallback=data.get("last_fallback") or None,
            title=data.get("title") or None,
            old=int(data.get("old", 0)),
        )


def error_backoff(errors: int, backoff: float, at_least: float = 0.0) -> float:
    """Seconds to hold a source back after `errors` failed polls in a row: doubling, capped."""
    doubling: int = 2 ** min(max(errors - 1, 0), 6)
    return max(backoff * doubling, at_least)


class Sources:
    def __init__(self, client: redis.Redis, owners: Owners | None = None) -> None:
        self._redis = client
        self._owners = owners or Owners(client)
        self._claim_poll = client.register_script(_CLAIM_POLL)

    # -- the schedule ------------------------------------------------------

    def claim_polls(self, sources: Sequence[tuple[str, float]], now: float) -> list[str]:
        """Claim the polls that are due of (source id, interval) pairs, in one round trip;
        the claimed ids."""
        pipe = self._redis.pipeline(transaction=False)
        for source_id, interval in sources:
            claim_keys = [keys.claim(source_id), keys.source(source_id), keys.STARTED]
            self._claim_poll(keys=claim_keys, args=[now, interval], client=pipe)
        claimed = pipe.execute()
        return [sid for (sid, _), ok in zip(sources, claimed, strict=True) if ok]

    def record_claim(self, source_id: str, now: float) -> None:
        """A poll made outside the tick (`wirewatch poll`): the next is due an interval later."""
        self._redis.set(keys.claim(source_id), now)

    def last_claim(self, source_id: str) -> float | None:
        raw = self._redis.get(keys.claim(source_id))
        return float(raw) if raw else None

    def mark_started(self, now: float, window: float = 60.0) -> bool:
        """Make every source due at once, as wanted right after start
        (docs/how-it-works.md, "Scheduling").

        A second beat starting within `window` while the first still runs (two
        started by mistake), or after it crashed (a quick restart loop), does
        not make them due a second time; a beat that stopped (it left, see
        worker.store.owners) does not keep its successor from doing so.
        """
        if not self._owners.take(keys.STARTED_GUARD, self._owners.token(), window):
            return False
        self._redis.set(keys.STARTED, now)
        return True

    def heartbeat(self, now: float) -> None:
        """Recorded by every tick: proof that beat schedules and a worker runs."""
        self._redis.set(keys.HEARTBEAT, now)

    def last_heartbeat(self) -> float | None:
        raw = self._redis.get(keys.HEARTBEAT)
        return float(raw) if raw else None

    # -- state -------------------------------------------------------------

    def state(self, source_id: str) -> SourceState:
        return SourceState.from_hash(mapping(self._redis.hgetall(keys.source(source_id))))

    def save(self, source_id: str, **fields: str | int | float | None) -> None:
        values = {k: ("" if v is None else v) for k, v in fields.items()}
        self._redis.hset(keys.source(source_id), mapping=values)  # type: ignore[arg-type]

    def record_error(
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
        key = keys.source(source_id)
        pipe = self._redis.pipeline()
        pipe.hincrby(key, "errors", 1)
        pipe.hset(key, mapping={"last_result": result, "last_poll": now, "last_error": detail})
        pipe.hsetnx(key, "failing_since", now)
        errors = int(pipe.execute()[0])
        self._redis.hset(key, "not_before", now + error_backoff(errors, backoff, at_least))
        return errors

    def record_fallback(self, source_id: str, kind: str, detail: str, now: float) -> None:
        """Count an entry matched on the feed's text; keep why, for `wirewatch status`."""
        key = keys.source(source_id)
        pipe = self._redis.pipeline()
        pipe.hincrby(key, "fallbacks", 1)
        pipe.hset(key, mapping={"last_fallback": f"{kind}: {detail}", "last_fallback_at": now})
        pipe.execute()

    def clear_error(self, source_id: str) -> None:
        self._redis.hdel(keys.source(source_id), "failing_since", "last_error")

    # -- in a caller's pipeline (one round trip for several concerns) ------

    def queue_state(self, pipe: Pipeline, source_id: str) -> None:
        """Add the state read to `pipe`; `SourceState.from_hash(mapping(reply))` reads the reply."""
        pipe.hgetall(keys.source(source_id))

    def queue_save(
        self, pipe: Pipeline, source_id: str, **fields: str | int | float | None
    ) -> None:
        values = {k: ("" if v is None else v) for k, v in fields.items()}
        pipe.hset(keys.source(source_id), mapping=values)  # type: ignore[arg-type]

    def queue_clear(self, pipe: Pipeline, source_id: str, *fields: str) -> None:
        pipe.hdel(keys.source(source_id), *fields)

    def queue_count_old(self, pipe: Pipeline, source_id: str, count: int) -> None:
        pipe.hincrby(keys.source(source_id), "old", count)
