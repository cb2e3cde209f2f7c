"""A worker or beat process says, in Redis, that it runs (worker.store.owners).

Its locks name it; while `ww:alive:{owner}` lives nobody else takes them. The
key is refreshed every PRESENCE_REFRESH seconds for PRESENCE_TTL, and deleted
when the process stops its work (Celery's worker_shutdown, after its tasks
finished or were requeued). A process that dies without a word is gone for the
others PRESENCE_TTL seconds later; `wirewatch run` on its own embedded Redis
knows at start that nobody else can be running and forgets them all at once.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading

import redis

from worker.store import Store

__all__ = ["PRESENCE_REFRESH", "PRESENCE_TTL", "Presence", "new_owner"]

log = logging.getLogger(__name__)

PRESENCE_TTL = 30.0
PRESENCE_REFRESH = 10.0


def new_owner() -> str:
    """An id no other process, here or on another machine, has had."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"


class Presence:
    """Keeps a store's owner alive from a daemon thread, until `leave`."""

    def __init__(self) -> None:
        self._store: Store | None = None
        self._stop = threading.Event()

    def start_for(self, store: Store) -> None:
        self._store = store
        self._refresh()  # before the first lock is taken
        threading.Thread(target=self._run, name="wirewatch-presence", daemon=True).start()

    def leave(self) -> None:
        self._stop.set()
        if self._store is None:
            return
        try:
            self._store.owners.leave()
        except redis.RedisError as exc:
            log.debug("could not say goodbye to Redis: %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(PRESENCE_REFRESH):
            self._refresh()

    def _refresh(self) -> None:
        if self._store is None or self._stop.is_set():
            return
        try:
            self._store.owners.alive(PRESENCE_TTL)
        except redis.RedisError as exc:
            # An outage: the next refresh says it again; the locks wait meanwhile.
            log.debug("presence not refreshed: %s", exc)
