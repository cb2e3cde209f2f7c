from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.newsroom import Newsroom
from tests.receivers import SmtpReceiver
from tests.web import Site
from worker.service.embedded_redis import EmbeddedRedis

# Point this at a Redis server to run the tests that use REDIS_URL against it
# (its database is flushed); unset, each such test starts a server of its own,
# so parallel runs on one machine cannot take each other's tasks.
TEST_REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL")


@pytest.fixture
def redis_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of an empty Redis server that wirewatch is given as REDIS_URL."""
    if TEST_REDIS_URL is None:
        server = EmbeddedRedis(tmp_path_factory.mktemp("redis-server"))
        yield server.start()
        server.stop()
        return
    client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.fail(f"WIREWATCH_TEST_REDIS_URL={TEST_REDIS_URL} names no running Redis server")
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


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    """A news site on loopback: an RSS feed and article pages with boilerplate."""
    with Site() as site:
        yield Newsroom(site)


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    """A real SMTP server on loopback collecting what wirewatch sends."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def loopback_config(tmp_path: Path) -> Path:
    """A config folder with settings.yaml alone, for commands that fetch from loopback."""
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "settings.yaml").write_text("allow_private_networks: true\n")
    return directory
