"""`wirewatch run`: Redis (embedded unless REDIS_URL is set), a worker and beat, as one unit.

The worker and beat are the same `celery` processes compose runs, started as
children so that one command on a laptop behaves like the deployment. A
SIGTERM or SIGINT stops them in order (beat first, so nothing new is queued;
then the worker, which finishes or requeues what it holds), then Redis.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType

from worker.config import load_config
from worker.errors import ConfigError
from worker.service.embedded_redis import EmbeddedRedis
from worker.service.runtime import ARTICLES_QUEUE, EMBEDDED_URL_FILE, TICKS_QUEUE
from worker.store import Store

__all__ = ["run"]

log = logging.getLogger("wirewatch.run")

# Longer than the worker's soft shutdown (celery_app.worker_soft_shutdown_timeout).
STOP_GRACE = 40.0


def celery_command(role: str, data_dir: Path, loglevel: str, concurrency: int) -> list[str]:
    base = [sys.executable, "-m", "celery", "-A", "worker.service.app"]
    if role == "worker":
        # Ticks, polls, deliveries. Threads: a poll mostly waits on the network,
        # so many run in one process (see celery_app: worker_pool).
        return [
            *base, "worker",
            "--pool", "threads",
            "--queues", f"celery,{TICKS_QUEUE}",
            "--loglevel", loglevel,
            "--concurrency", str(concurrency),
            "--hostname", f"wirewatch@{socket.gethostname()}",
        ]  # fmt: skip
    if role == "articles":
        # Article processing is mostly CPU: a few threads, in a process (and on
        # a core) of its own, so a burst of new articles never delays polls.
        # It takes polls too (Celery alternates between the queues), so parsing
        # a thousand cold feeds gets the second core's share as well.
        return [
            *base, "worker",
            "--pool", "threads",
            "--queues", f"{ARTICLES_QUEUE},celery",
            "--loglevel", loglevel,
            "--concurrency", str(max(2, concurrency // 8)),
            "--hostname", f"articles@{socket.gethostname()}",
        ]  # fmt: skip
    return [
        *base, "beat",
        "--loglevel", loglevel,
        "--schedule", str(data_dir / "celerybeat-schedule"),
    ]  # fmt: skip


def run(config_dir: Path, data_dir: Path, *, loglevel: str = "INFO", concurrency: int = 64) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, WIREWATCH_CONFIG=str(config_dir), WIREWATCH_DATA=str(data_dir))
    # glibc gives each thread that allocates its own malloc arena: with 64
    # worker threads that is tens of MB that are never given back.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    embedded: EmbeddedRedis | None = None
    url_file = data_dir / EMBEDDED_URL_FILE
    if not env.get("REDIS_URL"):
        embedded = EmbeddedRedis(data_dir)
        env["REDIS_URL"] = embedded.start()
        url_file.write_text(env["REDIS_URL"] + "\n")
        log.info("embedded Redis on %s, data in %s", env["REDIS_URL"], data_dir)
    try:
        if not _config_usable(config_dir, env):
            return 1
        return _supervise(
            [
                celery_command("worker", data_dir, loglevel, concurrency),
                celery_command("articles", data_dir, loglevel, concurrency),
                celery_command("beat", data_dir, loglevel, concurrency),
            ],
            env,
        )
    finally:
        if embedded is not None:
            embedded.stop()
            url_file.unlink(missing_ok=True)
            log.info("embedded Redis stopped")


def _config_usable(config_dir: Path, env: dict[str, str]) -> bool:
    try:
        load_config(config_dir, env)
    except ConfigError as exc:
        store = Store.from_url(env["REDIS_URL"])
        if store.config.good() is None:
            print(f"wirewatch: the config cannot be used:\n{exc}", file=sys.stderr)
            return False
        log.error("config has errors, running on the last good one:\n%s", exc)
    return True


def _role(command: list[str]) -> str:
    """`worker`, `articles` or `beat`, for log lines."""
    if "--hostname" in command:
        return command[command.index("--hostname") + 1].split("@")[0]
    return command[5]


# A child that dies is started again, as compose's restart policy would; one
# that dies this often within RESTART_WINDOW seconds is broken, not unlucky,
# and takes the whole run down so that the user sees it.
MAX_RESTARTS = 5
RESTART_WINDOW = 300.0


def _supervise(commands: list[list[str]], env: dict[str, str]) -> int:
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    children = [subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL) for cmd in commands]
    deaths: list[float] = []
    try:
        while not stop.wait(0.5) and _restart_dead(children, commands, env, deaths, stop):
            pass
        # Beat (the last child) first, so nothing new is queued while the worker drains.
        for command, child in reversed(list(zip(commands, children, strict=True))):
            _stop_child(child, _role(command))
        return 0 if stop.is_set() else 1
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _restart_dead(
    children: list[subprocess.Popen[bytes]],
    commands: list[list[str]],
    env: dict[str, str],
    deaths: list[float],
    stop: threading.Event,
) -> bool:
    """Start again each child that exited; False when they die too often to go on."""
    for index, child in enumerate(children):
        if child.poll() is None:
            continue
        if stop.is_set():
            return False  # a child exiting on the user's Ctrl-C is not restarted
        now = time.monotonic()
        deaths[:] = [t for t in deaths if now - t < RESTART_WINDOW] + [now]
        role = _role(commands[index])
        if len(deaths) > MAX_RESTARTS:
            log.error("%s exited with %s, too often; stopping", role, child.returncode)
            return False
        # Its unfinished tasks return to the queue when their lease runs out.
        log.error("%s exited with %s; starting it again", role, child.returncode)
        children[index] = subprocess.Popen(commands[index], env=env, stdin=subprocess.DEVNULL)
    return True


def _stop_child(child: subprocess.Popen[bytes], role: str) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(STOP_GRACE)
    except subprocess.TimeoutExpired:
        log.warning("%s did not stop in %.0fs, killing it", role, STOP_GRACE)
        child.kill()
        child.wait()
