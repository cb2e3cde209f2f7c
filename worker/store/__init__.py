"""Everything wirewatch remembers, in Redis, one class per concern.

    store = Store.from_url(url)
    store.outbox.take_due(now, lease)

Every key is defined once, in `worker.store.keys` (which lists them all);
nothing outside this package writes a key. Every write that a retried task
may repeat is idempotent (NX, or guarded by state), which is what makes
at-least-once tasks give exactly-once alerts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis
from redis.client import Pipeline

from worker.store.alerts import AlertRecord, Alerts, Digests
from worker.store.archive import Archive
from worker.store.codec import mapping, text
from worker.store.config import ConfigSnapshot
from worker.store.dedup import Dedup
from worker.store.guard import TaskGuard
from worker.store.hosts import Hosts
from worker.store.locks import Held, Locks
from worker.store.metrics import Metrics
from worker.store.outbox import DeliveryRecord, Outbox
from worker.store.owners import Owners
from worker.store.seen import Seen, seen_keys
from worker.store.sources import Sources, SourceState

__all__ = [
    "AlertRecord",
    "DeliveryRecord",
    "Held",
    "PollStart",
    "SourceState",
    "Store",
    "seen_keys",
]


@dataclass(frozen=True, slots=True)
class PollStart:
    """What a poll reads before it fetches, in one round trip (`Store.begin_poll`)."""

    state: SourceState
    lock: Held | None  # None: another poll of the source holds its lock
    starts: int = 0  # starts of this task message (0: not counted)
    robots: Mapping[str, str] | None = None  # origin -> robots.txt cached for it


class Store:
    """wirewatch's Redis state, by concern; the parts share one client (and its pool).

    `owner` names the process in the locks it takes (worker.store.owners).
    """

    def __init__(self, client: redis.Redis, owner: str | None = None) -> None:
        self.redis = client
        self.owners = Owners(client, owner)
        self.sources = Sources(client, self.owners)
        self.seen = Seen(client)
        self.archive = Archive(client)
        self.alerts = Alerts(client)
        self.digests = Digests(client)
        self.outbox = Outbox(client)
        self.hosts = Hosts(client)
        self.locks = Locks(client, self.owners)
        self.guard = TaskGuard(client)
        self.dedup = Dedup(client)
        self.metrics = Metrics(client)
        self.config = ConfigSnapshot(client)

    @classmethod
    def from_url(cls, url: str, owner: str | None = None) -> Store:
        return cls(
            redis.Redis.from_url(
                url,
                decode_responses=True,
                socket_timeout=30,
                socket_connect_timeout=10,
                health_check_interval=30,
            ),
            owner,
        )

    def batch(self) -> Pipeline:
        """A pipeline (no transaction) that the concerns' `queue_*` methods add to:
        writes of several concerns in one round trip."""
        return self.redis.pipeline(transaction=False)

    def begin_poll(
        self,
        source_id: str,
        *,
        lock_ttl: float,
        robots_origin: str | None = None,
        task: tuple[str, int, float] | None = None,
    ) -> PollStart:
        """Everything a poll reads before it fetches, in one round trip: the poll's
        lock (taken if free), the source's state, the cached robots.txt of its
        origin, and, for a task message (id, retries, ttl), its start count."""
        pipe = self.batch()
        if task is not None:
            self.guard.queue_count_start(pipe, *task)
        held = self.locks.queue_take(pipe, f"poll:{source_id}", lock_ttl)
        self.sources.queue_state(pipe, source_id)
        if robots_origin is not None:
            self.hosts.queue_cached_robots(pipe, robots_origin)
        replies = list(pipe.execute())
        starts = int(replies.pop(0)) if task is not None else 0
        if task is not None:
            replies.pop(0)  # EXPIRE
        taken, state = replies[0], SourceState.from_hash(mapping(replies[1]))
        robots = None
        if robots_origin is not None and replies[2] is not None:
            robots = {robots_origin: text(replies[2])}
        return PollStart(state, held if taken else None, starts, robots)
