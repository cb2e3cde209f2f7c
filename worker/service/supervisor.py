"""`wirewatch run`: Redis (embedded unless REDIS_URL is set), the workers and beat, as one unit.

The workers are the same `celery` processes compose runs, started as
children so that one command on a laptop behaves like the deployment; beat
runs as a thread of the poll worker (compose runs it as a service of its
own). A SIGTERM or SIGINT stops them in order (the poll worker and its beat
first, so nothing new is queued; then the articles worker, which finishes or
requeues what it holds), then Redis.

Each child runs in a session of its own: Ctrl-C in a terminal, or a signal
sent to the whole process group, reaches this process only, which then stops
the children in that order. (Redis going first would fail the tasks in flight
and leave their locks in the append-only file.) Each child also gets SIGTERM
from the kernel should this process be killed outright.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from worker.config import load_config
from worker.errors import ConfigError
from worker.service.embedded_redis import EmbeddedRedis, die_with_parent
from worker.service.logs import VERBOSE_ENV, masked_url
from worker.service.runtime import ARTICLES_QUEUE, EMBEDDED_URL_FILE, TICKS_QUEUE
from worker.store import Store

__all__ = ["run"]

log = logging.getLogger("wirewatch")

# Longer than the worker's soft shutdown (worker.service.app: worker_soft_shutdown_timeout).
STOP_GRACE = 40.0


def celery_command(
    role: str, data_dir: Path, loglevel: str, concurrency: int, *, verbose: bool = False
) -> list[str]:
    # --quiet: no banner; Celery's own log lines are quiet too (service.logs).
    quiet = [] if verbose else ["--quiet"]
    base = [sys.executable, "-m", "celery", "-A", "worker.service.app", *quiet]
    if role == "worker":
        # Ticks, polls, deliveries. Threads: a poll mostly waits on the network,
        # so many run in one process (see worker.service.app: worker_pool).
        # Beat runs as one more thread of it (worker.service.app: BeatThread).
        return [
            *base, "worker",
            "--pool", "threads",
            "--queues", f"celery,{TICKS_QUEUE}",
            "--loglevel", loglevel,
            "--concurrency", str(concurrency),
            "--hostname", f"wirewatch@{socket.gethostname()}",
            "--beat-thread",
            "--schedule-filename", str(data_dir / "celerybeat-schedule"),
        ]  # fmt: skip
    # "articles": article processing is mostly CPU: a few threads, in a
    # process (and on a core) of its own, so a burst of new articles never
    # delays polls. It takes polls too (Celery alternates between the queues),
    # so parsing a thousand cold feeds gets the second core's share as well.
    return [
        *base, "worker",
        "--pool", "threads",
        "--queues", f"{ARTICLES_QUEUE},celery",
        "--loglevel", loglevel,
        "--concurrency", str(max(2, concurrency // 8)),
        "--hostname", f"articles@{socket.gethostname()}",
    ]  # fmt: skip


def run(
    config_dir: Path,
    data_dir: Path,
    *,
    loglevel: str = "INFO",
    concurrency: int = 64,
    verbose: bool = False,
) -> int:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, WIREWATCH_CONFIG=str(config_dir), WIREWATCH_DATA=str(data_dir))
    env[VERBOSE_ENV] = "1" if verbose else "0"
    # glibc gives each thread that allocates its own malloc arena: with 64
    # worker threads that is tens of MB that are never given back.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    embedded: EmbeddedRedis | None = None
    url_file = data_dir / EMBEDDED_URL_FILE
    if not env.get("REDIS_URL"):
        embedded = EmbeddedRedis(data_dir)
        env["REDIS_URL"] = embedded.start()
        url_file.write_text(env["REDIS_URL"] + "\n")
    try:
        store = Store.from_url(env["REDIS_URL"])
        if embedded is not None:
            # This process alone runs this Redis (the data directory's lock):
            # whoever holds a lock in it belongs to a run that is over.
            store.owners.forget_all()
        config = _counts_in_child(config_dir, env)
        if config is None and store.config.good() is None:
            print("wirewatch: the config cannot be used (see above)", file=sys.stderr)
            return 1
        log.info("%s", _summary(config, config_dir, data_dir, env["REDIS_URL"], embedded))
        return _supervise(
            [
                celery_command("worker", data_dir, loglevel, concurrency, verbose=verbose),
                celery_command("articles", data_dir, loglevel, concurrency, verbose=verbose),
            ],
            env,
        )
    finally:
        if embedded is not None:
            embedded.stop()
            url_file.unlink(missing_ok=True)
            log.info("embedded Redis stopped")


@dataclass(frozen=True)
class ConfigCounts:
    """What the first line says of the config: all this process keeps of it."""

    sources: int
    rules: int
    targets: int


def _counts_in_child(config_dir: Path, env: dict[str, str]) -> ConfigCounts | None:
    """`_counts` in a forked child, which exits as soon as it has answered.

    This process runs for as long as the service does, and needs the config
    only for its first line: loading it here would keep Apprise and its
    plugins loaded and the parsed config's memory (about 110 MB at 10,000
    sources, since freed arenas are not given back) for the whole run.
    """
    # Fork: nothing to import again, and no thread runs here yet.
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as child:
        return child.submit(_counts, config_dir, env).result()


def _counts(config_dir: Path, env: dict[str, str]) -> ConfigCounts | None:
    """The config on disk, counted; None, its errors printed, when it has some
    (the workers then run on the last good one, if Redis keeps one)."""
    try:
        config = load_config(config_dir, env)
    except ConfigError as exc:
        print(f"wirewatch: the config has errors:\n{exc}", file=sys.stderr, flush=True)
        return None
    return ConfigCounts(len(config.sources), len(config.rules), len(config.targets))


def _summary(
    config: ConfigCounts | None,
    config_dir: Path,
    data_dir: Path,
    redis_url: str,
    embedded: EmbeddedRedis | None,
) -> str:
    """`wirewatch run`'s first line: what it watches, whom it tells, where state lives."""
    if embedded is not None:
        state = f"state in {data_dir} (embedded Redis)"
    else:
        state = f"state in Redis at {masked_url(redis_url)}"
    if config is None:
        what = "the last good config"
    else:

        def count(n: int, noun: str) -> str:
            return f"{n} {noun}{'' if n == 1 else 's'}"

        what = ", ".join(
            (
                count(config.sources, "source"),
                count(config.rules, "rule"),
                count(config.targets, "target"),
            )
        )
    return f"wirewatch run: {what} from {config_dir}; {state}"


def _role(command: list[str]) -> str:
    """`wirewatch` (the poll worker) or `articles`, for log lines."""
    return command[command.index("--hostname") + 1].split("@")[0]


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
    children = [_start_child(cmd, env) for cmd in commands]
    deaths: list[float] = []
    try:
        while not stop.wait(0.5) and _restart_dead(children, commands, env, deaths, stop):
            pass
        # The poll worker (the first child, beat's thread with it) first, so
        # nothing new is queued while the articles worker drains.
        for command, child in zip(commands, children, strict=True):
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
        children[index] = _start_child(commands[index], env)
    return True


def _start_child(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # A session of its own: a terminal's Ctrl-C or a signal to our group
    # reaches us, and we stop the children in order (module docstring).
    return subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=die_with_parent,
    )


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
