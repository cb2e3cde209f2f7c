"""A real Matrix homeserver for the chat tests: Synapse, started as our child.

Synapse is not a dependency of wirewatch (it is large and pins much of what it
uses), so it lives in a virtualenv of its own, whose interpreter is named by
WIREWATCH_TEST_SYNAPSE_PYTHON:

    python3 -m venv .venv-synapse && .venv-synapse/bin/pip install matrix-synapse
    export WIREWATCH_TEST_SYNAPSE_PYTHON=.venv-synapse/bin/python

The server is a throwaway: SQLite in a temporary directory, loopback only, no
federation, open registration, rate limits out of the way. Use it as a
context manager:

    with Synapse(python, tmp_dir) as server:
        server.url                        # http://127.0.0.1:PORT
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import httpx
import yaml

from tests.waiting import wait_until
from tests.wirewatch_process import free_port
from worker.service.embedded_redis import die_with_parent

__all__ = ["SERVER_NAME", "Synapse"]

SERVER_NAME = "localhost"
# Far above anything a test does; Synapse's defaults (a few messages, logins
# and registrations per IP) would make a busy test fail with 429.
_UNLIMITED = {"per_second": 1000, "burst_count": 1000}


def _config(directory: Path, port: int) -> dict[str, Any]:
    return {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                # The client API only: nothing for another server to talk to.
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "media_store_path": str(directory / "media"),
        # Missing, so Synapse generates it at start (its default mode).
        "signing_key_path": str(directory / "signing.key"),
        "macaroon_secret_key": secrets.token_hex(32),
        "form_secret": secrets.token_hex(32),
        "report_stats": False,
        "enable_registration": True,
        "enable_registration_without_verification": True,
        # No federation at all, and no fetching keys from matrix.org.
        "federation_domain_whitelist": [],
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "presence": {"enabled": False},
        "rc_message": _UNLIMITED,
        "rc_registration": _UNLIMITED,
        "rc_room_creation": _UNLIMITED,
        "rc_login": {
            "address": _UNLIMITED,
            "account": _UNLIMITED,
            "failed_attempts": _UNLIMITED,
        },
        "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    }


class Synapse:
    """A Synapse homeserver on a free loopback port, with its files under `directory`."""

    def __init__(self, python: str, directory: Path) -> None:
        # Absolute but not resolved: a venv's python is a symlink, and only the
        # link's own path makes it use the venv's packages.
        self.python = str(Path(shutil.which(python) or python).absolute())
        self.directory = directory
        self.log = directory / "synapse.log"
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> str:
        """Start the server and wait until its client API answers; return its base URL."""
        port = free_port()
        config = self.directory / "homeserver.yaml"
        config.write_text(yaml.safe_dump(_config(self.directory, port)))
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [self.python, "-m", "synapse.app.homeserver", "--config-path", str(config)],
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=die_with_parent,
            )
        self.url = f"http://127.0.0.1:{port}"
        try:
            wait_until(self._answers, timeout, f"Synapse at {self.url} (log: {self.log})", 0.2)
        except BaseException:
            self.stop()
            raise
        return self.url

    def _answers(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise AssertionError(f"Synapse exited with {self.process.returncode}:\n{tail}")
        try:
            httpx.get(f"{self.url}/_matrix/client/versions", timeout=2).raise_for_status()
        except httpx.HTTPError:
            return False
        return True

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server: SIGTERM for a clean shutdown, SIGKILL if it does not come."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
