"""Everything wirewatch remembers, in Redis, one class per concern.

    store = Store.from_url(url)
    store.outbox.take_due(now, lease)

Every key is defined once, in `worker.store.keys` (which lists them all);
nothing outside this package writes a key. Every write that a retried task
may repeat is idempotent (NX, or guarded by state), which is what makes
at-least-once tasks give exactly-once alerts.
"""

from __future__ import annotations

import redis

from worker.store.alerts import AlertRecord, Alerts, Digests
from worker.store.archive import Archive
from worker.store.config import ConfigSnapshot
from worker.store.dedup import Dedup
from worker.store.guard import TaskGuard
from worker.store.hosts import Hosts
from worker.store.locks import Locks
from worker.store.metrics import Metrics
from worker.store.outbox import DeliveryRecord, Outbox
from worker.store.owners import Owners
from worker.store.seen import Seen, seen_keys
from worker.store.sources import Sources, SourceState

__all__ = [
    "AlertRecord",
    "DeliveryRecord",
    "SourceState",
    "Store",
    "seen_keys",
]


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
