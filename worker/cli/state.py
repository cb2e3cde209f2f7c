"""The Redis that a command reads wirewatch's state from.

In order:

1. REDIS_URL, when set: the deployment's Redis.
2. The embedded Redis of a `wirewatch run` that is live on WIREWATCH_DATA
   (it writes its URL to `redis.url` there).
3. Otherwise the state a stopped `wirewatch run` left in WIREWATCH_DATA: the
   command starts the embedded server on that directory for itself, and
   stops it (its append-only file synced) when done, also on Ctrl-C or
   SIGTERM. A directory without wirewatch state is never given a server
   (it might be any `data` folder): the command says there is no state yet.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

import redis

from worker.cli.ui import Failure
from worker.errors import WirewatchError
from worker.service.embedded_redis import DataDirBusy, EmbeddedRedis
from worker.service.runtime import EMBEDDED_URL_FILE, data_dir
from worker.store import Store

__all__ = ["has_state", "live_embedded_url", "masked_url", "open_store"]

# What the embedded server leaves in its directory (Redis 6 and 7 layouts).
_STATE_FILES = ("appendonly.aof", "appendonlydir", "dump.rdb")
_CONNECT_TIMEOUT = 3.0
# How long to wait while another command holds a stopped run's data directory.
_BUSY_WAIT = 30.0
_REDIS_URL_HINT = (
    "is the Redis server at REDIS_URL up? Unset REDIS_URL to use the embedded "
    "Redis of `wirewatch run` instead"
)
_LIVE_HINT = "did `wirewatch run` just stop? Try again"
_NO_REDIS_HINT = (
    "set REDIS_URL to your deployment's Redis, or WIREWATCH_DATA to the data "
    "folder of `wirewatch run` (default ./data)"
)


def masked_url(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def has_state(directory: Path) -> bool:
    return any((directory / name).exists() for name in _STATE_FILES)


def _answers(url: str, directory: Path) -> bool:
    """Whether a Redis answers at `url` and keeps its data in `directory`.

    The directory check keeps a stale `redis.url`, whose port some other
    Redis on this machine now uses, from pointing a command at that one.
    """
    client = redis.Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=_CONNECT_TIMEOUT,
        socket_timeout=_CONNECT_TIMEOUT,
    )
    try:
        served = str(client.config_get("dir").get("dir", ""))
        return Path(served).resolve() == directory.resolve()
    except redis.BusyLoadingError:
        return True  # a live server still loading its append-only file
    except (redis.RedisError, OSError, ValueError):
        return False
    finally:
        client.close()


def live_embedded_url(directory: Path) -> str | None:
    """The URL of the embedded Redis of a `wirewatch run` live on `directory`, if any."""
    try:
        url = (directory / EMBEDDED_URL_FILE).read_text().strip()
    except OSError:
        return None
    return url if url and _answers(url, directory) else None


def _store(url: str, where: str, hint: str, code: int) -> Store:
    client = redis.Redis.from_url(
        url, socket_connect_timeout=_CONNECT_TIMEOUT, socket_timeout=_CONNECT_TIMEOUT
    )
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        raise Failure(
            f"Redis at {masked_url(url)} ({where}) refused the login: {exc}",
            hint="check the user and password in REDIS_URL (redis://:password@host:6379/0)",
            code=code,
        ) from None
    except redis.BusyLoadingError:
        pass  # it answers; the store's own commands wait for the load
    except (redis.RedisError, OSError, ValueError):
        raise Failure(
            f"cannot reach Redis at {masked_url(url)} ({where})", hint=hint, code=code
        ) from None
    finally:
        client.close()
    return Store.from_url(url)


def _embedded(directory: Path) -> str:
    return f"the embedded Redis of `wirewatch run` in {directory}"


@contextmanager
def open_store(*, create: bool = False, live_only: bool = False, code: int = 2) -> Iterator[Store]:
    """The store to read wirewatch's state in.

    `create`: also where there is no state yet (a command that records it).
    `live_only`: only a running Redis, never one started for the command.
    `code`: the exit code when there is none.
    """
    url = os.environ.get("REDIS_URL")
    if url:
        yield _store(url, "REDIS_URL", _REDIS_URL_HINT, code)
        return
    directory = data_dir()
    if live_only:
        live = live_embedded_url(directory)
        if live is None:
            raise Failure(
                f"no `wirewatch run` is live on {directory}",
                hint="start `wirewatch run`, or " + _NO_REDIS_HINT,
                code=code,
            )
        yield _store(live, _embedded(directory), _LIVE_HINT, code)
        return
    if not create and not has_state(directory):
        what = "does not exist" if not directory.exists() else "holds no wirewatch state"
        raise Failure(
            f"no state yet: {directory} {what} (wirewatch has not run here)",
            hint="start `wirewatch run`, or " + _NO_REDIS_HINT,
            code=code,
        )
    deadline = time.monotonic() + _BUSY_WAIT
    while True:
        live = live_embedded_url(directory)
        if live is not None:
            yield _store(live, _embedded(directory), _LIVE_HINT, code)
            return
        with _stopped_on_sigterm():
            server = _start_own(directory, code)
            if server is not None:
                try:
                    yield Store.from_url(server.url)
                finally:
                    server.stop()
                return
        # A run is starting, or another command reads the state: wait for
        # either to be done rather than run a second server on one file.
        if time.monotonic() > deadline:
            raise Failure(
                f"{directory} is in use by another wirewatch that does not answer",
                hint="wait for it to finish, or stop it",
                code=code,
            )
        time.sleep(0.1)


def _start_own(directory: Path, code: int) -> EmbeddedRedis | None:
    """The embedded server on `directory`, started for this command; None if it is taken."""
    server = EmbeddedRedis(directory)
    try:
        server.start(lock_wait=0, brief=True)
    except DataDirBusy:
        return None
    except WirewatchError as exc:
        raise Failure(str(exc), hint="is the data folder writable?", code=code) from None
    return server


@contextmanager
def _stopped_on_sigterm() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the server this command started is stopped."""

    def on_term(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
