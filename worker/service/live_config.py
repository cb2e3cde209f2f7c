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
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from worker.config import CONFIG_FILES, Config, load_config
from worker.errors import ConfigError
from worker.store import Store

__all__ = ["LiveConfig", "read_config_files"]

log = logging.getLogger(__name__)


def read_config_files(directory: Path) -> dict[str, str]:
    return {
        name: (directory / name).read_text(encoding="utf-8")
        for name in CONFIG_FILES
        if (directory / name).exists()
    }


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
        with self._lock:
            stamp = self._file_stamp()
            if stamp != self._stamp:
                self._stamp = stamp
                self._reload()
            return self._config

    def _file_stamp(self) -> tuple[tuple[str, int, int], ...]:
        # stat() is cheap enough for every task; reading and validating is not.
        stamps = []
        for name in CONFIG_FILES:
            try:
                st = (self.directory / name).stat()
            except FileNotFoundError:
                continue
            stamps.append((name, st.st_mtime_ns, st.st_size))
        return tuple(stamps)

    def _reload(self) -> None:
        try:
            files = read_config_files(self.directory)
            config = load_config(self.directory, self.environ)
        except (ConfigError, OSError) as exc:
            self.error = str(exc)
            log.error("config rejected, the last good config stays in force:\n%s", exc)
            if self._config is None:
                self._config = self._from_snapshot()
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
        self.store.config.save_good(files)

    def _from_snapshot(self) -> Config | None:
        files = self.store.config.good()
        if not files:
            return None
        with tempfile.TemporaryDirectory(prefix="wirewatch-config-") as tmp:
            for name, text in files.items():
                (Path(tmp) / name).write_text(text, encoding="utf-8")
            try:
                config = load_config(Path(tmp), self.environ)
            except ConfigError:
                return None
        log.warning("running on the last good config kept in Redis")
        return config
