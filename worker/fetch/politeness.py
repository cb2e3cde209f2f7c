"""Politeness shared by every worker: per-origin slots, delays and Retry-After.

With a `HostGate` (`worker.store.Hosts` on Redis), at most
`per_host_concurrency` requests are in flight per origin, `per_host_delay`
apart, and a host that sent 429/503 with Retry-After is left alone until
then. A worker waits for a slot only briefly; beyond `max_host_wait` it
raises `HostBusy`, and the task re-schedules itself instead of sleeping.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol
from urllib.parse import urlsplit

from worker.fetch.types import FetchLimits, HostBusy

__all__ = ["HostGate", "host_slot", "origin_of"]


class HostGate(Protocol):
    """Shared per-origin state; `worker.store.Hosts` implements it on Redis for all workers."""

    def acquire_host_slot(
        self, origin: str, token: str, concurrency: int, delay: float, lease: float, now: float
    ) -> float:
        """Take a slot (returns 0) or say how many seconds until one may be free."""

    def release_host_slot(self, origin: str, token: str) -> None: ...

    def defer_host(self, origin: str, until: float) -> None:
        """No request to `origin` starts before `until` (Retry-After)."""

    def cached_robots(self, origin: str) -> str | None: ...

    def cache_robots(self, origin: str, text: str, ttl: float) -> None: ...


def origin_of(url: str) -> str:
    """scheme://host:port, the unit of politeness (and of robots.txt, RFC 9309)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


@contextmanager
def host_slot(url: str, limits: FetchLimits, gate: HostGate | None) -> Iterator[None]:
    if gate is None:
        yield
        return
    origin = origin_of(url)
    token = secrets.token_hex(8)
    give_up = time.monotonic() + limits.max_host_wait
    # The lease frees the slot if this process dies mid-request.
    lease = limits.timeout + 30.0
    while True:
        wait = gate.acquire_host_slot(
            origin,
            token,
            limits.per_host_concurrency,
            limits.per_host_delay,
            lease,
            time.time(),
        )
        if wait <= 0:
            break
        if time.monotonic() + wait > give_up:
            raise HostBusy(url, wait)
        time.sleep(wait)
    try:
        yield
    finally:
        gate.release_host_slot(origin, token)
