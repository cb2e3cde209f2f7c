"""Celery tasks: thin wrappers that take ids, call `pipeline`, and enqueue the next step.

    tick (beat, every few seconds) -> poll(source_id) -> process(article_id) -> deliver(key)

Each task can run twice (at-least-once delivery from the broker); the
pipeline's writes are idempotent and `deliver` checks the outbox record
before sending, so a repeat sends nothing twice.
"""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

import httpx
import redis
from celery import Task

from worker.config import Config, Source
from worker.errors import FetchError
from worker.fetch import Fetcher, FetchLimits, HostBusy, make_client, origin_of
from worker.models import FeedEntry
from worker.pipeline import PollContext, begin_poll, end_poll, poll_source, settle_poll
from worker.pipeline.delivery import deliver
from worker.pipeline.digest import close_digests
from worker.pipeline.outcome import PollOutcome
from worker.service import logs
from worker.service.app import app, max_countdown, task_lease
from worker.service.runtime import get_store, live_config
from worker.store import Store

if TYPE_CHECKING:
    # The article path (extraction, language, near-duplicates) is imported
    # where an article is processed: the poll worker never loads it.
    from worker.pipeline.article import BuiltArticle

    ArticleBuilder = Callable[[str, FeedEntry, Source, Config, Store], BuiltArticle | None]

__all__ = [
    "ARTICLES_PER_TASK",
    "MAX_STARTS",
    "GuardedTask",
    "deliver_task",
    "fan_out",
    "poll",
    "process",
    "tick",
]

log = logging.getLogger(__name__)
# One human line per event (a poll's summary, an alert sent): worker.service.logs.
events = logging.getLogger(logs.EVENTS)


@cache
def _client(limits: FetchLimits) -> httpx.Client:
    return make_client(limits)


def _fetcher(config: Config, store: Store) -> Fetcher:
    limits = config.settings.fetch_limits
    return Fetcher(_client(limits), limits, store.hosts)


def _config() -> Config | None:
    config = live_config().current()
    if config is None:
        log.error("no valid config yet; fix the errors reported above (wirewatch check)")
    return config


def _host_wait(retry_after: float | None) -> float:
    # Jitter spreads the tasks that wait on one busy host over time. A long
    # Retry-After is waited out in several hops: a countdown longer than the
    # lease would make Redis hand the waiting task to a second worker.
    return min(max(retry_after or 0.0, 1.0) * random.uniform(1.0, 1.5), max_countdown())


def _spread_by_host(source_ids: list[str], config: Config) -> list[str]:
    """Round-robin over hosts, so polls in a row rarely wait for the same host's slot."""
    by_host: dict[str, list[str]] = {}
    for source_id in source_ids:
        source = config.source(source_id)
        by_host.setdefault(origin_of(source.url) if source else "", []).append(source_id)
    rounds = itertools.zip_longest(*by_host.values())
    return [source_id for batch in rounds for source_id in batch if source_id is not None]


# A task that meets a Redis outage (restart, pause, failover) runs again
# later instead of failing for good: every step is safe to repeat.
REDIS_OUTAGE_RETRY: dict[str, Any] = {
    "autoretry_for": (redis.ConnectionError, redis.TimeoutError),
    "retry_backoff": 5,
    # Capped further by the lease (GuardedTask.retry).
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 10,  # about ten minutes of outage
}
# Tries of an article page before settling for the feed's own text.
PAGE_RETRIES = 3
# Articles per process task when they need no page fetch (fan_out).
ARTICLES_PER_TASK = 10
# Starts of one task message that never finished (its worker died each time:
# a page that crashes a parser, one that exhausts memory) before it is set
# aside, so a poison message cannot take down every worker in turn.
MAX_STARTS = 5


class GuardedTask(Task):  # type: ignore[misc]  # Celery ships no type hints
    """A task that counts its starts in Redis and refuses to run a poison message.

    A task may name a `safe_variant`: what to run instead once the message
    came back too often, before it is set aside for good. All tasks in flight
    die with a crashing worker and are counted with the culprit, so an
    innocent one must still get its work done.
    """

    safe_variant: Callable[..., None] | None = None
    # What a message that was started before (its worker died mid-task) does
    # instead, when it says it did (True): a batch hands its items on one by
    # one, so that a poison item is found alone and the others are not held
    # back by it.
    on_restart: Callable[..., bool] | None = None
    # The task counts its starts itself, in a round trip it makes anyway (poll).
    counts_own_starts = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        request = self.request
        if request.id and not request.called_directly and not self.counts_own_starts:
            store = get_store()
            try:
                starts = store.guard.count_start(
                    request.id, request.retries, (2 * MAX_STARTS + 1) * task_lease()
                )
            except redis.RedisError:
                starts = 1  # count nothing rather than block work during an outage
            if starts > 1 and self.on_restart is not None and self.on_restart(*args, **kwargs):
                log.warning("task=%s id=%s started again; its items go one by one",
                            self.name, request.id)  # fmt: skip
                return None
            if starts > MAX_STARTS:
                what = f"task={self.name} id={request.id} args={args} started {starts} times"
                if self.safe_variant is not None and starts <= 2 * MAX_STARTS:
                    log.error("%s; running its safe variant", what)
                    return self.safe_variant(*args, **kwargs)
                log.error("%s; set aside", what)
                store.guard.set_aside(self.name, request.id, args, time.time())
                return None
        return super().__call__(*args, **kwargs)

    def retry(self, *args: Any, countdown: float | None = None, **kwargs: Any) -> Any:
        # A countdown longer than the lease would make Redis hand the waiting
        # task to a second worker; the lease is known only once settings are read.
        if countdown is not None:
            countdown = min(countdown, max_countdown())
        return super().retry(*args, countdown=countdown, **kwargs)


@app.task(name="wirewatch.tick")
def tick() -> None:
    """Enqueue the polls that are due, deliveries to retry, and digests whose time came."""
    config = _config()
    if config is None:
        return
    store = get_store()
    now = time.time()
    store.sources.heartbeat(now)
    # One round trip for every source's claim: a tick must stay cheap with thousands.
    due = store.sources.claim_polls(
        [(s.id, s.interval.total_seconds()) for s in config.sources], now
    )
    with app.producer_or_acquire() as producer:
        for source_id in _spread_by_host(due, config):
            poll.apply_async((source_id,), producer=producer)
    for key in store.outbox.take_due(now, config.settings.delivery_lease):
        deliver_task.delay(key)
    with store.locks.hold("digests", ttl=60) as taken:
        if taken:
            for key in close_digests(config, store, now):
                deliver_task.delay(key)


@app.task(
    name="wirewatch.poll", bind=True, base=GuardedTask, counts_own_starts=True, **REDIS_OUTAGE_RETRY
)
def poll(self: Task, source_id: str) -> None:
    config = _config()
    source = config.source(source_id) if config else None
    if config is None or source is None:
        log.info("source=%s: no longer configured, poll dropped", source_id)
        return
    store = get_store()
    request = self.request
    task = (
        (request.id, request.retries, (2 * MAX_STARTS + 1) * task_lease()) if request.id else None
    )
    # The lock lasts as long as the lease: longer than any poll (three
    # requests at most), and about gone when the broker hands a dead worker's
    # poll to another (if not, the next interval's claim polls the source).
    # Taken with the source's state and this message's start count: one round trip.
    ctx = begin_poll(
        PollContext(config, store, _fetcher(config, store), time.time()),
        source,
        lock_ttl=task_lease(),
        task=task,
    )
    start = ctx.start
    assert start is not None
    if start.starts > MAX_STARTS:
        end_poll(store, start)
        log.error("task=%s id=%s args=%s started %d times; set aside", self.name, request.id,
                  [source_id], start.starts)  # fmt: skip
        store.guard.set_aside(self.name, request.id, [source_id], time.time())
        return
    if start.lock is None:
        log.info("source=%s: a poll is already running, this one is dropped", source_id)
        return
    try:
        outcome = poll_source(ctx, source)
        if outcome.result == "host-busy":
            # The host's politeness slot is taken: come back later rather than
            # hold a worker thread; not an error of the source.
            end_poll(store, start)
            countdown = _host_wait(outcome.retry_after)
            log.info("source=%s host busy, poll re-scheduled in %.1fs", source_id, countdown)
            poll.apply_async((source_id,), countdown=countdown)
            return
        # Enqueue before marking seen (settle_poll): a crash in between
        # re-finds the entries on the next poll, and the repeat is harmless.
        # One message for all: publishing one per article would cost the poll
        # worker more than the poll.
        if outcome.new:
            # Articles made from the feed's text alone take milliseconds each,
            # less than a task's own cost: they go in batches. A page fetch
            # takes up to fetch.timeout: one article per task, so that a batch
            # never outlasts the task lease.
            per_task = 1 if source.full_text else ARTICLES_PER_TASK
            fan_out.delay([entry.article_id for entry in outcome.new], per_task)
        deliveries = settle_poll(ctx, source, outcome)  # releases the lock
    except BaseException:
        end_poll(store, start)
        raise
    for key in deliveries:
        deliver_task.delay(key)
    if not outcome.error:
        events.info("source=%s polled: %s", source_id, _poll_summary(outcome))


def _poll_summary(outcome: PollOutcome) -> str:
    """`3 new (12 items)`, or `not modified` when the source sent nothing new."""
    if outcome.result in ("not-modified", "unchanged"):
        return outcome.result.replace("-", " ")
    old = f", {len(outcome.old)} older than max_age" if outcome.old else ""
    return f"{len(outcome.new)} new ({outcome.items} items{old})"


@app.task(name="wirewatch.fan_out", base=GuardedTask)
def fan_out(article_ids: list[str], per_task: int = 1) -> None:
    """The process tasks of new articles, `per_task` articles each, published on
    the articles worker's time."""
    with app.producer_or_acquire() as producer:
        for start in range(0, len(article_ids), max(1, per_task)):
            batch = article_ids[start : start + max(1, per_task)]
            # One article: its id alone, as a message always said it.
            process.apply_async((batch if len(batch) > 1 else batch[0],), producer=producer)


def _one_by_one(article_ids: str | list[str]) -> bool:
    """A batch that was started before: one message per article, so that a page
    or an article that stops its worker is found alone (GuardedTask.on_restart)."""
    if isinstance(article_ids, str) or len(article_ids) < 2:
        return False
    with app.producer_or_acquire() as producer:
        for article_id in article_ids:
            process.apply_async((article_id,), producer=producer)
    return True


def _each(article_ids: str | list[str]) -> list[str]:
    return [article_ids] if isinstance(article_ids, str) else list(article_ids)


def _process_entry(article_id: str, build: ArticleBuilder, config: Config | None) -> None:
    """Build the article of a waiting entry, match it, and put its alerts in the outbox."""
    from worker.pipeline.article import ArticleContext, entry_from_json, finish_article

    store = get_store()
    data = store.archive.entry(article_id)
    if data is None or config is None:
        return  # already processed (a repeat of this task) or nothing to run on
    source = config.source(str(data["source_id"]))
    if source is None:
        store.archive.drop_entry(article_id)
        return
    built = build(article_id, entry_from_json(data), source, config, store)
    if built is None:
        return  # the build re-scheduled itself
    matches, deliveries = finish_article(
        ArticleContext(config, store, time.time()), built.article, source, built.fallback
    )
    for key in deliveries:
        deliver_task.delay(key)
    if matches:
        rules = ", ".join(m.rule_id for m in matches)
        events.info("source=%s article matches %s: %s", source.id, rules, built.article.url)
    else:
        log.debug(
            "article=%s source=%s matches no rule: %s", article_id, source.id, built.article.url
        )


def _from_the_feed(article_ids: str | list[str]) -> None:
    """process() for a message that kept killing its worker: the page is the
    likely culprit (a parser crash, a page that exhausts memory), so the
    article is made from the feed's own text and still matched and alerted."""
    from worker.pipeline.article import BuiltArticle, Fallback, fallback_article

    def build(
        article_id: str, entry: FeedEntry, source: Source, _config: Config, _store: Store
    ) -> BuiltArticle:
        reason = Fallback("worker-crash", "the page's task kept stopping its worker")
        return BuiltArticle(fallback_article(article_id, entry, source), reason)

    config = _config()
    for article_id in _each(article_ids):
        _process_entry(article_id, build, config)


@app.task(
    name="wirewatch.process",
    bind=True,
    base=GuardedTask,
    safe_variant=staticmethod(_from_the_feed),
    on_restart=staticmethod(_one_by_one),
    **REDIS_OUTAGE_RETRY,
)
def process(self: Task, article_ids: str | list[str]) -> None:
    """Fetch and extract each article, match it, and put its alerts in the outbox.

    `article_ids`: one id, or a batch of ids (fan_out) done one after the other.
    """
    from worker.pipeline.article import build_article

    batch = not isinstance(article_ids, str)

    def build(
        article_id: str, entry: FeedEntry, source: Source, config: Config, store: Store
    ) -> BuiltArticle | None:
        retries = self.request.retries
        try:
            # Whatever else goes wrong with the page, the feed's text is used
            # and the reason counted (build_article, finish_article).
            built = build_article(
                article_id, entry, source, _fetcher(config, store), retry=retries < PAGE_RETRIES
            )
        except HostBusy as exc:
            # Not a failure of the page: a fresh task (not a retry) waits for the host.
            process.apply_async((article_id,), countdown=_host_wait(exc.retry_after))
            return None
        except FetchError as exc:  # one a later try may cure
            store.metrics.count("wirewatch_fetch_errors", kind=exc.kind)
            countdown = min(30 * 2**retries * random.uniform(0.5, 1.5), max_countdown())
            log.info("article=%s page fetch failed, retry in %.0fs: %s", article_id, countdown, exc)
            if batch:
                # This article alone tries again; the rest of the batch goes on.
                process.apply_async((article_id,), countdown=countdown, retries=retries + 1)
                return None
            raise self.retry(countdown=countdown, exc=exc) from exc
        return built

    config = _config()
    for article_id in _each(article_ids):
        _process_entry(article_id, build, config)


@app.task(name="wirewatch.deliver", base=GuardedTask, **REDIS_OUTAGE_RETRY)
def deliver_task(key: str) -> None:
    config = _config()
    if config is None:
        return
    store = get_store()
    # Held for most of the outbox lease, so no second sender starts while this
    # one still sends or records; and free again when the tick takes a
    # delivery whose task vanished, or that retake would find it held.
    with store.locks.hold(f"deliver:{key}", ttl=0.9 * config.settings.delivery_lease) as taken:
        if not taken:
            return  # another worker is sending this very delivery
        outcome = deliver(key, config, store, time.time())
    # A repeat of a delivery already made is no event; a failure is worth a look.
    if outcome.startswith(("already", "unknown")):
        level = logging.DEBUG
    else:
        level = logging.INFO if outcome.startswith("sent") else logging.WARNING
    events.log(level, "%s", logs.delivery_line(key, outcome, config.targets))
