"""Entries waiting to be processed, and the archive of processed articles."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

import redis

from worker.models import Article, FeedEntry
from worker.store import keys
from worker.store.codec import text

__all__ = ["Archive"]

# An entry not processed within a week is dropped (its source polls it again if still listed).
ENTRY_TTL = 7 * 86400


def _entry_data(source_id: str, entry: FeedEntry, url: str) -> dict[str, Any]:
    return {
        "source_id": source_id,
        "guid": entry.guid,
        "url": url,
        "title": entry.title,
        "summary": entry.summary,
        "content": entry.content,
        "published": entry.published.isoformat() if entry.published else None,
        "author": entry.author,
        "language": entry.language,
    }


def _article(raw: object) -> Article:
    return Article.from_json(json.loads(zlib.decompress(bytes.fromhex(text(raw)))))


class Archive:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    # -- entries waiting to be processed -----------------------------------

    def put_entries(self, items: Sequence[tuple[str, str, FeedEntry, str]]) -> None:
        """Store (article id, source id, entry, url) waiting to be processed, in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        for article_id, source_id, entry, url in items:
            data = json.dumps(_entry_data(source_id, entry, url))
            pipe.set(keys.entry(article_id), data, ex=ENTRY_TTL)
        pipe.execute()

    def entry(self, article_id: str) -> dict[str, Any] | None:
        raw = self._redis.get(keys.entry(article_id))
        return json.loads(raw) if raw else None

    def drop_entry(self, article_id: str) -> None:
        self._redis.delete(keys.entry(article_id))

    # -- processed articles ------------------------------------------------

    def put(self, article: Article, now: float, retention: float) -> None:
        blob = zlib.compress(json.dumps(article.to_json()).encode(), 6)
        pipe = self._redis.pipeline()
        pipe.set(keys.article(article.id), blob.hex(), ex=int(retention))
        pipe.zadd(keys.ARCHIVE, {article.id: now})
        pipe.zremrangebyscore(keys.ARCHIVE, "-inf", now - retention)
        pipe.execute()

    def get(self, article_id: str) -> Article | None:
        raw = self._redis.get(keys.article(article_id))
        return _article(raw) if raw else None

    def get_many(self, article_ids: Sequence[str]) -> list[Article | None]:
        """Several archived articles in one round trip (None where one has expired)."""
        if not article_ids:
            return []
        raws = self._redis.mget([keys.article(article_id) for article_id in article_ids])
        return [_article(raw) if raw else None for raw in raws]

    def times(self, article_ids: Sequence[str]) -> list[float | None]:
        """When each article was archived (None: not in the archive), in one round trip."""
        if not article_ids:
            return []
        scores = self._redis.zmscore(keys.ARCHIVE, list(article_ids))
        return [None if score is None else float(score) for score in scores]

    def since(self, since: float) -> list[tuple[str, float]]:
        """Archived article ids with the time each was archived, oldest first."""
        found: list[tuple[Any, Any]] = self._redis.zrangebyscore(  # type: ignore[assignment]
            keys.ARCHIVE, since, "+inf", withscores=True
        )
        return [(text(member), float(score)) for member, score in found]
