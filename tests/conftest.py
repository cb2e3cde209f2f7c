from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import redis

from worker.embedded_redis import EmbeddedRedis

# The machine-wide Redis the suite uses when a test runs wirewatch "with REDIS_URL".
TEST_REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")


@pytest.fixture
def shared_redis_url() -> Iterator[str]:
    """An emptied database on a running Redis server (needed by tests that use REDIS_URL)."""
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(
            f"needs a Redis server at {TEST_REDIS_URL} "
            "(start one, or point WIREWATCH_TEST_REDIS_URL at one)"
        )
    client.flushdb()
    yield TEST_REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def own_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis]:
    """A redis-server of the test's own, with an append-only file, free to restart or kill."""
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()
