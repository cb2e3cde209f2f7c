"""Short-lived mutual exclusion between workers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from worker.store import keys
from worker.store.owners import Owners

__all__ = ["Locks"]

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


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
