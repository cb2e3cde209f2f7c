"""The config files last loaded without error, so a bad edit leaves workers on the good ones."""

from __future__ import annotations

import json
from collections.abc import Mapping

import redis

from worker.store import keys

__all__ = ["ConfigSnapshot"]


class ConfigSnapshot:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def save_good(self, files: Mapping[str, str]) -> None:
        self._redis.set(keys.CONFIG_GOOD, json.dumps(dict(files)))

    def good(self) -> dict[str, str] | None:
        raw = self._redis.get(keys.CONFIG_GOOD)
        return json.loads(raw) if raw else None
