"""Short-lived mutual exclusion between workers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import redis
from redis.client import Pipeline

from worker.store import keys
from worker.store.owners import Owners

__all__ = ["Held", "Locks"]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Held:
    """A lock taken by `Locks.queue_take`: released by its token only."""

    key: str
    token: str


class Locks:
    def __init__(self, client: redis.Redis, owners: Owners | None = None) -> None:
        self._redis = client
        self._owners = owners or Owners(client)
        self._release = client.register_script(_RELEASE)

    @contextmanager
    def hold(self, name: str, ttl: float, wait: float = 0.0) -> Iterator[bool]:
        """Hold `ww:lock:{name}` for the block if free (or freed within `wait`
        seconds); yields whether it was taken.

        A lock whose owner process is gone (worker.store.owners) is free;
        the TTL bounds how long any other crashed holder keeps others out.
        """
        key = keys.lock(name)
        token = self._owners.token()
        deadline = time.monotonic() + wait
        while not (taken := self._owners.take(key, token, ttl)):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.01)  # a holder's block is short: poll rather than subscribe
        try:
            yield taken
        finally:
            if taken:
                self._release(keys=[key], args=[token])

    # -- in a caller's pipeline (one round trip for several concerns) ------

    def queue_take(self, pipe: Pipeline, name: str, ttl: float) -> Held:
        """Add "take `ww:lock:{name}` if free (or its owner is gone)" to `pipe`; its
        reply says whether it was taken."""
        held = Held(keys.lock(name), self._owners.token())
        self._owners.queue_take(pipe, held.key, held.token, ttl)
        return held

    def queue_release(self, pipe: Pipeline, held: Held) -> None:
        # EVAL, not the registered script: a pipeline with scripts first asks
        # Redis whether they are loaded, a round trip of its own.
        pipe.eval(_RELEASE, 1, held.key, held.token)

    def release(self, held: Held) -> None:
        self._release(keys=[held.key], args=[held.token])
