"""`wirewatch run` as a real subprocess, the way a user starts it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: Mapping[str, str], stdin: str = "", timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m worker ARGS` in a subprocess, with exactly `env`, as a shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        cwd=PROJECT,
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


class Wirewatch:
    def __init__(
        self, config_dir: Path, data_dir: Path, redis_url: str | None, *, verbose: bool = False
    ) -> None:
        self.verbose = verbose
        self.config_dir = config_dir
        self.data_dir = data_dir
        self.redis_url = redis_url
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir.parent / "wirewatch.log"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(
            WIREWATCH_CONFIG=str(self.config_dir),
            WIREWATCH_DATA=str(self.data_dir),
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env

    def run_args(self) -> list[str]:
        """The options `wirewatch run` is started with."""
        return ["--concurrency", "2", *(["--verbose"] if self.verbose else [])]

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker", "run", *self.run_args()],
            cwd=PROJECT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            # Its own process group, as a shell gives it: a test may signal the group.
            start_new_session=True,
        )

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return run_cli(*args, env=self.env(), timeout=timeout)

    def stop(self, timeout: float = 90) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"wirewatch did not stop on SIGTERM; log:\n{self.log()}") from None
        self.process = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def free_port() -> int:
    """A loopback TCP port free right now (for servers that cannot take port 0)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
