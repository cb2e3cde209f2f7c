"""Politeness shared by every worker: per-origin slots, delays, and robots.txt.

`Hosts` is the `worker.fetch.HostGate` of every fetch that runs in a worker.
"""

from __future__ import annotations

import time

import redis
from redis.client import Pipeline

from worker.store import keys
from worker.store.codec import text

__all__ = ["Hosts"]

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


class Hosts:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._host_slot = client.register_script(_HOST_SLOT)
        self._defer_host = client.register_script(_DEFER_HOST)

    def acquire_host_slot(
        self, origin: str, token: str, concurrency: int, delay: float, lease: float, now: float
    ) -> float:
        slot_keys = [keys.host(origin), keys.host_next(origin)]
        return float(self._host_slot(keys=slot_keys, args=[now, token, concurrency, delay, lease]))

    def release_host_slot(self, origin: str, token: str) -> None:
        self._redis.zrem(keys.host(origin), token)

    def defer_host(self, origin: str, until: float) -> None:
        self._defer_host(keys=[keys.host_next(origin)], args=[until, until - time.time()])

    def cached_robots(self, origin: str) -> str | None:
        raw = self._redis.get(keys.robots(origin))
        return None if raw is None else text(raw)

    def queue_cached_robots(self, pipe: Pipeline, origin: str) -> None:
        pipe.get(keys.robots(origin))

    def cache_robots(self, origin: str, robots_txt: str, ttl: float) -> None:
        self._redis.set(keys.robots(origin), robots_txt, ex=max(1, int(ttl)))
