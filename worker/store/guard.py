"""The task guard: how often a task message started, what was set aside, and queue depths."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import redis
from redis.client import Pipeline

from worker.store import keys
from worker.store.codec import texts

__all__ = ["TaskGuard"]


class TaskGuard:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def count_start(self, task_id: str, retries: int, ttl: float) -> int:
        """Count a start of one task message; a retry is a new message, counted apart."""
        key = keys.starts(task_id, retries)
        pipe = self._redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, max(1, int(ttl)))
        return int(pipe.execute()[0])

    def queue_count_start(self, pipe: Pipeline, task_id: str, retries: int, ttl: float) -> None:
        """`count_start` in a caller's pipeline: its first reply is the count."""
        key = keys.starts(task_id, retries)
        pipe.incr(key)
        pipe.expire(key, max(1, int(ttl)))

    def set_aside(self, task: str, task_id: str, args: Sequence[Any], now: float) -> None:
        record = {"task": task, "id": task_id, "args": list(args), "at": now}
        self._redis.hset(keys.SET_ASIDE, task_id, json.dumps(record))

    def set_aside_tasks(self) -> list[dict[str, Any]]:
        records = [json.loads(raw) for raw in texts(self._redis.hvals(keys.SET_ASIDE))]
        return sorted(records, key=lambda record: float(record["at"]))

    def queue_depth(self, queue: str = "celery") -> int:
        """Messages waiting in a broker queue (Celery's list of that name)."""
        return int(self._redis.llen(queue))
