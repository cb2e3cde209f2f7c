"""Which entries of a source were seen before, by guid and by canonical URL."""

from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.client import Pipeline

from worker.models import FeedEntry
from worker.store import keys

__all__ = ["Seen", "seen_keys"]


def seen_keys(entry: FeedEntry, url: str | None) -> list[str]:
    """What identifies an entry within its source: its guid, its canonical URL, or both."""
    found = []
    if entry.guid:
        found.append(f"g:{entry.guid}")
    if url:
        found.append(f"u:{url}")
    return found


class Seen:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def unseen(self, source_id: str, key_lists: Sequence[Sequence[str]]) -> list[bool]:
        """For each entry's keys, whether none was seen: a whole feed in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        for entry_keys in key_lists:
            if entry_keys:
                pipe.zmscore(keys.seen(source_id), list(entry_keys))
        scores = iter(pipe.execute())
        return [not k or all(s is None for s in next(scores)) for k in key_lists]

    def mark(
        self, source_id: str, key_lists: Sequence[Sequence[str]], now: float, retention: float
    ) -> None:
        """Mark the entries of a poll seen, and forget those older than `retention`."""
        pipe = self._redis.pipeline(transaction=False)
        self.queue_mark(pipe, source_id, key_lists, now, retention)
        if len(pipe):
            pipe.execute()

    def queue_mark(
        self,
        pipe: Pipeline,
        source_id: str,
        key_lists: Sequence[Sequence[str]],
        now: float,
        retention: float,
    ) -> None:
        """`mark` in a caller's pipeline."""
        members = [key for group in key_lists for key in group]
        if not members:
            return
        key = keys.seen(source_id)
        pipe.zadd(key, dict.fromkeys(members, now), nx=True)
        pipe.zremrangebyscore(key, "-inf", now - retention)
