"""The Celery app: broker, reliability settings and the beat schedule.

Each setting that makes at-least-once delivery real carries its reason.
Exactly-once alerts come on top of that from the outbox in `store`.
"""

from __future__ import annotations

import atexit
import logging
import time
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import click
from celery import Celery, bootsteps
from celery.signals import (
    beat_init,
    celeryd_init,
    setup_logging,
    worker_shutdown,
    worker_shutting_down,
)

from worker.config import Settings, load_settings
from worker.errors import WirewatchError
from worker.secrets import Secrets
from worker.service import logs
from worker.service.log_masking import mask_handlers
from worker.service.runtime import ARTICLES_QUEUE, TICKS_QUEUE, config_dir, redis_url

__all__ = ["BeatThread", "app", "broker_url", "max_countdown", "settings_at_start", "task_lease"]

log = logging.getLogger(__name__)


@cache
def settings_at_start() -> Settings:
    """settings.yaml as the worker starts: `tick` and `task_lease` need a restart to change.

    Read on first use (a worker's start, or the first task sent), never at
    import: importing the tasks needs neither a config nor a Redis.
    """
    try:
        return load_settings(config_dir())
    except WirewatchError as exc:
        log.warning("settings.yaml unusable, using the defaults: %s", exc)
        return Settings()


def task_lease() -> float:
    """Redis re-delivers an unacknowledged task after this long (the visibility timeout).

    It must exceed the longest task and every retry countdown, or a slow task
    would run twice; tasks cap their countdowns at a third of it (`max_countdown`).
    """
    return settings_at_start().task_lease.total_seconds()


def max_countdown() -> float:
    return task_lease() / 3


def broker_url(url: str) -> str:
    """REDIS_URL as kombu reads it: redis-py's `unix://PATH?db=N` is kombu's
    `redis+socket://PATH?virtual_host=N`; any other URL is the same for both."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = urlencode([("virtual_host" if k == "db" else k, v) for k, v in parse_qsl(parts.query)])
    return f"redis+socket://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")


def _configuration() -> dict[str, Any]:
    """The app's settings, computed when Celery first needs them (see `app`)."""
    lease = task_lease()
    # The threads pool enforces no time limit: fetch deadlines bound every task.
    # For a pool that does (prefork, should a deployment choose it), a task is
    # stopped well before the lease hands it to another worker.
    time_limit = 0.8 * lease
    tick = settings_at_start().tick.total_seconds()
    return {
        # REDIS_URL, or the embedded Redis of a running `wirewatch run`.
        "broker_url": broker_url(redis_url()),
        "task_serializer": "json",  # tasks carry ids and small JSON, nothing pickled
        "accept_content": ["json"],
        "task_ignore_result": True,  # results live in the store; no result backend to fill up
        # Acknowledge a task when it is done, not when it starts, so a worker that
        # dies mid-task leaves the task in the queue for another worker.
        "task_acks_late": True,
        # A child killed by the OS (kill -9, out of memory) counts as "not done":
        # the task is re-queued instead of being marked failed.
        "task_reject_on_worker_lost": True,
        # Tasks run in threads of one process: polls and page fetches wait on the
        # network, so 64 threads keep 1,000+ feeds a minute moving on two cores in
        # ~150 MB, where prefork needs a process (and its memory) per task in
        # flight. At-least-once holds as before: acks stay late, so the tasks of a
        # worker that dies return to the queue after the visibility timeout
        # (reject_on_worker_lost only matters to prefork children). Time limits
        # are not enforced by this pool; every fetch carries its own deadline.
        "worker_pool": "threads",
        "worker_concurrency": 64,
        # Article processing (page fetch, extraction, matching) is CPU-heavy and
        # comes in bursts of hundreds per cold poll; on a queue of its own, served
        # by its own worker process (supervisor), it neither starves the polls of
        # threads nor shares their interpreter lock, and uses the second core.
        "task_routes": {
            "wirewatch.process": {"queue": ARTICLES_QUEUE},
            "wirewatch.fan_out": {"queue": ARTICLES_QUEUE},
            # The tick publishes every due poll: on a worker busy extracting
            # articles it took seconds to do so, and polls missed their hosts'
            # politeness slots (bench/poll.py). Served by the poll worker only
            # (`wirewatch run`) or by a worker that does everything (compose).
            "wirewatch.tick": {"queue": TICKS_QUEUE},
        },
        # Reserve one task per thread, so a crash strands at most that many.
        "worker_prefetch_multiplier": 1,
        "task_time_limit": time_limit,
        "task_soft_time_limit": 0.9 * time_limit,
        "broker_transport_options": {
            "visibility_timeout": lease,
            # Look for the tasks of a vanished worker every 10 s (kombu's default
            # looks every 100 s): a cheap range query, and recovery then takes
            # the lease plus seconds, not the lease plus minutes.
            "unacked_restore_interval": 10,
            "unacked_restore_throttle": 1,
            # A Redis that stops answering must fail calls, not hang the worker.
            "socket_timeout": 30,
            "socket_connect_timeout": 10,
            "health_check_interval": 25,
        },
        # Wait for Redis at start (it may come up after the worker in compose).
        "broker_connection_retry_on_startup": True,
        "broker_connection_max_retries": None,
        # A late-acked task whose connection was lost may be re-delivered elsewhere:
        # cancel it here rather than let it run twice.
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # On SIGTERM, let running tasks finish for a while before the cold shutdown
        # requeues what is left (compose's stop_grace_period is longer).
        "worker_soft_shutdown_timeout": 20.0,
        "worker_enable_soft_shutdown_on_idle": True,
        "beat_schedule": {
            "tick": {
                "task": "wirewatch.tick",
                "schedule": tick,
                # Ticks that no worker took in time are dropped, not run in a burst
                # when one comes back: the next tick does all that is due anyway.
                "options": {"expires": tick},
            },
        },
        "timezone": "UTC",
    }


# Built without I/O: Celery reads `_configuration` (settings.yaml, the Redis
# URL) only when a worker starts or a task is first sent. No `include`: beat
# imports those modules too, and it sends tasks by name; a worker imports
# them as it starts (`_worker_starting`).
app = Celery("wirewatch")
app.add_defaults(_configuration)


class BeatThread(bootsteps.StartStopStep):  # type: ignore[misc]  # Celery ships no type hints
    """Beat as a thread of this worker (`--beat-thread`), for `wirewatch run`.

    Beat's whole work is to send a tick every few seconds: a process of its
    own for that cost 50 MB (PSS) more than a thread, and Celery's `-B` forks
    one. It stops ticking as soon as the worker's shutdown begins, before the
    consumer and the pool stop, so that nothing new is queued while the
    tasks in flight finish (beat first, as when it was a process). Compose
    still runs beat as a service of its own, which scales the workers apart
    from it.
    """

    label = "BeatThread"
    conditional = True
    requires = ("celery.worker.components:Pool",)

    def __init__(self, parent: Any, beat_thread: bool = False, **kwargs: Any) -> None:
        self.enabled = bool(beat_thread)
        super().__init__(parent, **kwargs)

    def create(self, parent: Any) -> Any:
        from celery.beat import EmbeddedService

        beat = EmbeddedService(
            parent.app,
            thread=True,
            schedule_filename=parent.schedule_filename,
            scheduler_cls=parent.scheduler,
        )

        def stop_ticking(**_: Any) -> None:
            # From the shutdown's signal handler: no waiting here; the thread
            # ends within a second, and the step's own stop joins it.
            beat.service.stop(wait=False)

        worker_shutting_down.connect(stop_ticking, weak=False)
        return beat


app.steps["worker"].add(BeatThread)
app.user_options["worker"].add(
    click.Option(
        ["--beat-thread"],
        is_flag=True,
        default=False,
        help="Run beat as a thread of this worker (--schedule-filename names its file).",
    )
)


@celeryd_init.connect
def _worker_starting(**_: Any) -> None:
    """A worker, not beat, is starting: its tasks, before it consumes anything.

    Sent before the worker sets itself up (its task registry, its consumer)
    and before it checks its privileges (a warning when root).
    """
    import worker.service.tasks  # noqa: F401 (registers the tasks on `app`)

    logs.quiet_celery_warnings()


@setup_logging.connect
def _logging(loglevel: int | str, **_: Any) -> None:
    """wirewatch's one line per event, Celery's own lines only when verbose (`logs`).

    Every line through the root logger's handlers, Apprise's and Celery's own
    included, is masked: the config's secrets, URL passwords (`log_masking`).
    """
    logs.configure(loglevel, loud=logs.verbose())
    mask_handlers(logging.getLogger(), _secrets_in_force)


def _secrets_in_force() -> Secrets:
    from worker.service.runtime import live_config

    try:
        config = live_config().in_force
    except WirewatchError:
        return Secrets()  # no Redis named yet: no config, so no secrets either
    return config.secrets if config is not None else Secrets()


@worker_shutdown.connect
def _leave(**_: Any) -> None:
    """The worker's tasks are finished or back in the queue: its locks are free now."""
    from worker.service.runtime import presence

    presence().leave()


@beat_init.connect
def _poll_everything_at_start(sender: Any = None, **_: Any) -> None:
    """Every source is polled right after start (docs/how-it-works.md, "Scheduling").

    Done here, in beat before its first tick, so no tick can claim a poll
    that the start then makes due again; and the first tick is sent now
    rather than a whole tick interval later, when beat's schedule would.
    """
    from worker.service.runtime import get_store, presence

    store = get_store()
    # Beat has no shutdown signal: a beat that stops says so as its interpreter exits.
    atexit.register(presence().leave)
    if store.sources.mark_started(time.time()):
        logging.getLogger(logs.EVENTS).info("beat started: every source is due now")
    tick = settings_at_start().tick.total_seconds()
    (sender.app if sender is not None else app).send_task(
        "wirewatch.tick", queue=TICKS_QUEUE, expires=max(tick, 30.0)
    )
