"""Who holds a lock or the start guard, and whether that process still runs.

A value taken by an owner reads `{owner}/{token}`. The owner (a worker or
beat process: worker.service.presence) keeps `ww:alive:{owner}` fresh while
it runs and deletes it as it stops. A value whose owner is no longer alive is
free: a `poll:` lock left behind by a run that was killed, or whose Redis
stopped under it, does not keep the next run out until its TTL. A value with
no owner (a command run by hand) is only ever freed by its TTL.
"""

from __future__ import annotations

import secrets

import redis
from redis.client import Pipeline

from worker.store import keys

__all__ = ["Owners"]

# Take KEYS[1] if it is free, or if the owner named in its value is not alive.
_TAKE = """
local held = redis.call('GET', KEYS[1])
if held then
  local owner = string.match(held, '^(.+)/')
  if not owner or redis.call('EXISTS', ARGV[3] .. owner) == 1 then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""


class Owners:
    def __init__(self, client: redis.Redis, owner: str | None = None) -> None:
        if owner is not None and "/" in owner:
            raise ValueError(f"an owner id holds no '/': {owner!r}")
        self._redis = client
        self.owner = owner
        self._take = client.register_script(_TAKE)

    def token(self) -> str:
        """A fresh value for a lock: it names its owner, when there is one."""
        return f"{self.owner or ''}/{secrets.token_hex(8)}"

    def take(self, key: str, token: str, ttl: float) -> bool:
        """SET NX PX, or over a value whose owner is gone."""
        return bool(
            self._take(keys=[key], args=[token, max(1, int(ttl * 1000)), keys.ALIVE_PREFIX])
        )

    def queue_take(self, pipe: Pipeline, key: str, token: str, ttl: float) -> None:
        """`take` in a caller's pipeline; its reply is 1 when taken. EVAL, not the
        registered script: a pipeline with scripts first asks whether they are
        loaded, a round trip of its own."""
        pipe.eval(_TAKE, 1, key, token, max(1, int(ttl * 1000)), keys.ALIVE_PREFIX)

    def alive(self, ttl: float) -> None:
        """Say that this owner runs, for `ttl` seconds more."""
        if self.owner is not None:
            self._redis.set(keys.alive(self.owner), "1", px=max(1, int(ttl * 1000)))

    def leave(self) -> None:
        """This owner stops: what it still holds is free at once."""
        if self.owner is not None:
            self._redis.delete(keys.alive(self.owner))

    def forget_all(self) -> int:
        """Every owner is gone; only for one who knows that no other process uses
        this Redis (`wirewatch run` that just started its embedded server)."""
        names = list(self._redis.scan_iter(match=f"{keys.ALIVE_PREFIX}*", count=1000))
        return int(self._redis.delete(*names)) if names else 0
