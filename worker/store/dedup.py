"""The near-duplicate index: LSH buckets, signatures, and "folded into" records.

What goes into a bucket and what counts as similar is `worker.pipeline.dedup`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import redis

from worker.store import keys
from worker.store.codec import text

__all__ = ["Dedup"]

# Record an article as folded into an alert once, and add the copy's source
# name to the alert's "also reported by" list unless it is the alert's own
# source or already there.
_FOLD = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', tonumber(ARGV[4])) then
  return 0
end
if redis.call('HGET', KEYS[2], 'source_id') == ARGV[2] then
  return 1
end
local raw = redis.call('HGET', KEYS[2], 'also')
local also = {}
if raw then also = cjson.decode(raw) end
for _, name in ipairs(also) do
  if name == ARGV[3] then return 1 end
end
table.insert(also, ARGV[3])
redis.call('HSET', KEYS[2], 'also', cjson.encode(also))
return 1
"""


class Dedup:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client
        self._fold = client.register_script(_FOLD)

    def in_buckets(self, version: int, buckets: Sequence[str], since: float) -> set[str]:
        """Article ids indexed since `since` in any of the buckets."""
        pipe = self._redis.pipeline(transaction=False)
        for bucket in buckets:
            pipe.zrangebyscore(keys.dedup_band(version, bucket), since, "+inf")
        return {text(m) for found in pipe.execute() for m in found}

    def signatures(self, version: int, article_ids: Sequence[str]) -> list[str | None]:
        raws = self._redis.mget([keys.dedup_signature(version, a) for a in article_ids])
        return [text(raw) if raw else None for raw in raws]

    def index(
        self,
        version: int,
        article_id: str,
        signature: str,
        buckets: Sequence[str],
        now: float,
        window: float,
    ) -> None:
        """Index an article's signature in its buckets for `window` seconds."""
        ttl = max(int(window), 0) + 3600
        pipe = self._redis.pipeline(transaction=False)
        pipe.set(keys.dedup_signature(version, article_id), signature, ex=ttl)
        for bucket in buckets:
            key = keys.dedup_band(version, bucket)
            pipe.zadd(key, {article_id: now}, nx=True)
            pipe.zremrangebyscore(key, "-inf", now - window)
            pipe.expire(key, ttl)
        pipe.execute()

    # -- versions ------------------------------------------------------------

    def version(self) -> int | None:
        """The signature version the index holds; None before the first article of a
        version that marks it (version 1 never did)."""
        raw = self._redis.get(keys.DEDUP_VERSION)
        return int(text(raw)) if raw else None

    def legacy_articles(self, batch: int) -> Iterator[list[str]]:
        """Ids of the articles version 1 indexed, in batches (SCAN: no long block)."""
        pattern, _ = keys.dedup_legacy_patterns()
        prefix = pattern.removesuffix("*")
        found: list[str] = []
        for key in self._redis.scan_iter(match=pattern, count=1000):
            found.append(text(key).removeprefix(prefix))
            if len(found) >= batch:
                yield found
                found = []
        if found:
            yield found

    def finish_upgrade(self, version: int) -> None:
        """Mark the index as `version`'s and drop version 1's keys."""
        self._redis.set(keys.DEDUP_VERSION, version)
        for pattern in keys.dedup_legacy_patterns():
            stale = [text(key) for key in self._redis.scan_iter(match=pattern, count=1000)]
            for start in range(0, len(stale), 1000):
                self._redis.unlink(*stale[start : start + 1000])

    def folded_into(self, rule_id: str, article_id: str) -> str | None:
        raw = self._redis.get(keys.dedup_folded(rule_id, article_id))
        return text(raw) if raw else None

    def fold(
        self,
        rule_id: str,
        article_id: str,
        alert_key: str,
        source_id: str,
        source_name: str,
        ttl: float,
    ) -> bool:
        """Record the article as a copy of `alert_key`'s story, once.

        The alert's `also` list gains the copy's source name, unless the copy
        came from the alert's own source (a republished story) or the name is
        there already. Returns whether this call recorded it.
        """
        fold_keys = [keys.dedup_folded(rule_id, article_id), keys.alert(alert_key)]
        return bool(self._fold(keys=fold_keys, args=[alert_key, source_id, source_name, int(ttl)]))
