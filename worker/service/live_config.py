"""The config in force: reloaded when its files change, never replaced by a broken one.

Each task asks `LiveConfig.current()`. A changed file is loaded and
validated as a whole; if it fails, the error is logged, and the last good
config stays in force. `wirewatch status` reads the files the same way to
show the error. The last good files are also kept in Redis, so a worker
that starts while the files are broken still runs on what last worked.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path

from worker.config import (
    CONFIG_FILES,
    Config,
    ConfigFiles,
    config_from_files,
    read_config_files,
)
from worker.errors import ConfigError
from worker.store import Store

__all__ = ["LiveConfig"]

log = logging.getLogger(__name__)


class LiveConfig:
    def __init__(
        self, directory: Path, store: Store, environ: Mapping[str, str] | None = None
    ) -> None:
        self.directory = directory
        self.store = store
        self.environ = os.environ if environ is None else environ
        self._stamp: tuple[tuple[str, int, int], ...] | None = None
        self._config: Config | None = None
        self.error: str | None = None
        self._lock = threading.Lock()

    def current(self) -> Config | None:
        """The config in force, or None if no valid config was ever seen."""
        # Worker threads share this object: without the lock, a thread could see
        # the new stamp while another is still loading and get no config at all.
        # Once there is a config, a thread never waits for another's reload: it
        # goes on with the config in force, which is what a failed reload keeps.
        if not self._lock.acquire(blocking=self._config is None):
            return self._config
        try:
            stamp = self._file_stamp()
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload()
            return self._config
        finally:
            self._lock.release()

    @property
    def in_force(self) -> Config | None:
        """The config in force, without looking at the files or waiting on a reload
        (for a log filter, which may run while a reload is logging)."""
        return self._config

    def _file_stamp(self) -> tuple[tuple[str, int, int], ...]:
        # stat() is cheap enough for every task; reading and validating is not.
        stamps = []
        for name in CONFIG_FILES:
            try:
                st = (self.directory / name).stat()
            except OSError:
                continue
            stamps.append((name, st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def _reload(self) -> None:
        try:
            # Read once, bounded, and validated from those very bytes: the
            # snapshot kept below is exactly what passed.
            files = read_config_files(self.directory)
            config = config_from_files(files, self.environ)
        except ConfigError as exc:
            self._reject(str(exc))
            return
        except Exception as exc:
            # A flaw in validation itself must not stop the tick either: the
            # edit is rejected like an invalid one, with what went wrong.
            log.exception("config could not be loaded")
            self._reject(f"{self.directory}: config could not be loaded: {exc!r}")
            return
        if self._config is None or config.fingerprint != self._config.fingerprint:
            log.info(
                "config loaded: %d sources, %d rules, %d targets",
                len(config.sources),
                len(config.rules),
                len(config.targets),
            )
        self.error = None
        self._config = config
        self.store.config.save_good(files.texts())

    def _reject(self, error: str) -> None:
        self.error = error
        log.error("config rejected, the last good config stays in force:\n%s", error)
        if self._config is None:
            self._config = self._from_snapshot()

    def _from_snapshot(self) -> Config | None:
        texts = self.store.config.good()
        if not texts:
            return None
        files = ConfigFiles(
            self.directory,
            {name: texts[name].encode("utf-8") if name in texts else None for name in CONFIG_FILES},
        )
        try:
            config = config_from_files(files, self.environ)
        except ConfigError:
            return None
        log.warning("running on the last good config kept in Redis")
        return config
