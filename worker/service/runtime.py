"""Where this process finds its config, data and Redis, from the environment.

Environment (docs/commands.md, "Environment"): REDIS_URL, WIREWATCH_CONFIG (default ./config),
WIREWATCH_DATA (default ./data). When REDIS_URL is unset, `wirewatch run`
starts an embedded Redis and writes its URL to WIREWATCH_DATA/redis.url, so
that commands find it while it runs (its workers get it in REDIS_URL).
Commands that read state also read it after the run stopped: see
worker/cli/state.py.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from worker.errors import WirewatchError
from worker.service.live_config import LiveConfig
from worker.service.presence import Presence, new_owner
from worker.store import Store

__all__ = [
    "ARTICLES_QUEUE",
    "EMBEDDED_URL_FILE",
    "TICKS_QUEUE",
    "config_dir",
    "data_dir",
    "get_store",
    "live_config",
    "redis_url",
]

EMBEDDED_URL_FILE = "redis.url"
# The Celery queues of article processing and of the tick (polls and
# deliveries use the default "celery"); here so the supervisor need not
# import the Celery app.
ARTICLES_QUEUE = "articles"
TICKS_QUEUE = "ticks"


def config_dir() -> Path:
    return Path(os.environ.get("WIREWATCH_CONFIG", "config")).resolve()


def data_dir() -> Path:
    return Path(os.environ.get("WIREWATCH_DATA", "data")).resolve()


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    if url:
        return url
    url_file = data_dir() / EMBEDDED_URL_FILE
    if url_file.exists():
        return url_file.read_text().strip()
    raise WirewatchError(
        "no Redis to talk to: set REDIS_URL, or start `wirewatch run` "
        f"(its embedded Redis is found through {url_file})"
    )


@cache
def get_store() -> Store:
    """The process's one Store; redis-py's pool makes it safe to share across threads.

    Only worker and beat processes use it: the locks they take name this
    process, which says it is alive for as long as it runs (`presence`).
    """
    store = Store.from_url(redis_url(), owner=new_owner())
    presence().start_for(store)
    return store


@cache
def live_config() -> LiveConfig:
    """The process's config in force, reloaded as the files change (workers' tasks)."""
    return LiveConfig(config_dir(), get_store())


@cache
def presence() -> Presence:
    """This process's presence in Redis; `leave` it as the process stops its work."""
    return Presence()
