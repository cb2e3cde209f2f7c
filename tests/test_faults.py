"""Faults real deployments meet, with wirewatch running for real; every test
asserts on the alerts a user receives. Each test starts its own redis-server
(never the machine's shared one) so it may stop, restart or pause it."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from celery import Celery

from tests.newsroom import LATER, S300, S400, Newsroom
from tests.receivers import SmtpReceiver
from tests.test_e2e_pipeline import by_subject, settled, write_config
from tests.waiting import wait_until
from tests.wirewatch_process import Wirewatch
from worker.service.app import broker_url
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


# The shortest lease settings.yaml allows: work held by a killed worker is
# taken over after about 30 s instead of the default 10 minutes.
SHORT_LEASE = "task_lease: 30s\nfetch:\n  timeout: 10s\n"


@pytest.fixture
def running(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, own_redis: EmbeddedRedis
) -> Iterator[Wirewatch]:
    write_config(tmp_path / "config", newsroom.site, smtp, settings=SHORT_LEASE)
    wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", own_redis.url)
    yield wirewatch
    if wirewatch.alive():
        assert wirewatch.stop() == 0, wirewatch.log()


def test_redis_restart_loses_nothing_and_the_worker_resumes_by_itself(
    running: Wirewatch, newsroom: Newsroom, smtp: SmtpReceiver, own_redis: EmbeddedRedis
) -> None:
    newsroom.publish(S300)
    running.start()
    smtp.wait_for(1, timeout=60)
    # None when it listens on its unix socket, which is the same after the restart.
    port = own_redis.port

    # Redis goes down (SIGTERM: it fsyncs its append-only file) and comes back.
    own_redis.stop()
    own_redis.start(port=port)
    store = Store.from_url(own_redis.url)
    assert store.redis.zcard("ww:archive") == 1  # state survived
    newsroom.publish(LATER)
    smtp.wait_for(2, timeout=120)
    wait_until(lambda: settled(store, 2), 60, "the new article handled")
    assert set(by_subject(smtp)) == {f"s300-iran: {LATER.title}", f"s300-iran: {S300.title}"}
    assert len(smtp.items) == 2
    assert running.alive()


def test_a_paused_redis_hangs_nothing_and_work_resumes(
    running: Wirewatch, newsroom: Newsroom, smtp: SmtpReceiver, own_redis: EmbeddedRedis
) -> None:
    newsroom.publish(S300)
    running.start()
    smtp.wait_for(1, timeout=60)
    assert own_redis.process is not None
    pid = own_redis.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        newsroom.publish(LATER)
        # While Redis is frozen nothing can be polled; wirewatch must not die or hang.
        with pytest.raises(AssertionError):
            smtp.wait_for(2, timeout=60)
        assert running.alive()
    finally:
        os.kill(pid, signal.SIGCONT)
    smtp.wait_for(2, timeout=120)
    store = Store.from_url(own_redis.url)
    wait_until(lambda: settled(store, 2), 60, "the new article handled")
    assert len(smtp.items) == 2


def test_sigterm_with_a_task_in_flight_finishes_or_requeues_it(
    running: Wirewatch, newsroom: Newsroom, smtp: SmtpReceiver, own_redis: EmbeddedRedis
) -> None:
    newsroom.publish(S300)
    newsroom.site.hold(S400.path)
    newsroom.publish(S400)
    running.start()
    smtp.wait_for(1, timeout=60)
    # The worker is now fetching the S-400 page, which does not answer yet.
    wait_until(lambda: newsroom.site.hits[S400.path] >= 1, 30, "the page fetch to start")
    assert running.process is not None
    running.process.send_signal(signal.SIGTERM)
    newsroom.site.release(S400.path)
    assert running.process.wait(90) == 0, running.log()
    running.process = None

    store = Store.from_url(own_redis.url)
    last_tick = store.sources.last_heartbeat()
    running.start()
    smtp.wait_for(2, timeout=120)
    wait_until(
        lambda: store.sources.last_heartbeat() != last_tick, 60, "the restarted worker to tick"
    )
    wait_until(lambda: settled(store, 2), 60, "everything delivered")
    assert set(by_subject(smtp)) == {f"s300-iran: {S300.title}", f"s300-iran: {S400.title}"}
    assert len(smtp.items) == 2


def _worker_talking_to(wirewatch: Wirewatch, port: int) -> psutil.Process:
    """The child of `wirewatch run` holding a connection to a loopback port."""
    assert wirewatch.process is not None
    children = psutil.Process(wirewatch.process.pid).children(recursive=True)
    for child in children:
        with contextlib.suppress(psutil.Error):
            if any(c.raddr and c.raddr.port == port for c in child.net_connections("tcp")):
                return child
    raise AssertionError(f"no process of wirewatch run is connected to port {port}")


def _settled_for_good(store: Store, articles: int) -> bool:
    """Settled, and no task message is left reserved by a worker (dead or alive)."""
    return settled(store, articles) and store.redis.hlen("unacked") == 0


def test_kill_9_in_the_middle_of_a_poll_loses_nothing(
    running: Wirewatch, newsroom: Newsroom, smtp: SmtpReceiver, own_redis: EmbeddedRedis
) -> None:
    newsroom.publish(S300)
    newsroom.site.hold("/rss")
    running.start()
    wait_until(lambda: newsroom.site.hits["/rss"] >= 1, 60, "the poll to start")
    victim = _worker_talking_to(running, newsroom.site.server.server_address[1])
    victim.kill()
    victim.wait(10)
    newsroom.site.release("/rss")

    # `wirewatch run` starts the worker again; the poll is taken over when its
    # lease runs out (or the next interval comes first), and alerts once.
    smtp.wait_for(1, timeout=120)
    store = Store.from_url(own_redis.url)
    wait_until(lambda: _settled_for_good(store, 1), 120, "the killed poll's task to settle")
    assert [str(m["Subject"]) for m in smtp.items] == [f"s300-iran: {S300.title}"]
    assert running.alive()


def test_kill_9_in_the_middle_of_a_delivery_loses_nothing_and_repeats_nothing(
    running: Wirewatch, newsroom: Newsroom, smtp: SmtpReceiver, own_redis: EmbeddedRedis
) -> None:
    newsroom.publish(S300)
    smtp.hold()
    running.start()
    # The worker is connected and waits for the server to take the recipient.
    wait_until(lambda: smtp.recipients_offered >= 1, 60, "the delivery to start")
    victim = _worker_talking_to(running, smtp.port)
    victim.kill()
    victim.wait(10)
    smtp.release()

    # The tick takes the delivery again after its lease (two minutes at least).
    smtp.wait_for(1, timeout=240)
    store = Store.from_url(own_redis.url)
    wait_until(lambda: _settled_for_good(store, 1), 120, "the killed delivery's task to settle")
    assert [str(m["Subject"]) for m in smtp.items] == [f"s300-iran: {S300.title}"]
    assert running.alive()


def test_a_task_that_keeps_coming_back_is_set_aside(
    running: Wirewatch, own_redis: EmbeddedRedis
) -> None:
    """A message whose every start kills its worker comes back after each lease.
    After five starts (worker.service.tasks.MAX_STARTS) an article is made from the
    feed's text instead of its page, five times more at most; any other task,
    or an article that still comes back, is set aside and shown by `status`."""
    running.start()
    store = Store.from_url(own_redis.url)
    wait_until(lambda: store.sources.last_heartbeat() is not None, 60, "the worker to tick")
    broker = Celery(broker=broker_url(own_redis.url))

    def deliveries_of_one_message(task: str, task_id: str, times: int) -> None:
        # What a broker does with a task whose worker died each time.
        key = f"ww:starts:{task_id}:0"
        total = int(store.redis.get(key) or 0) + times
        for _ in range(times):
            broker.send_task(task, ("no-such-id",), task_id=task_id)
        wait_until(lambda: int(store.redis.get(key) or 0) == total, 60, f"{total} starts")

    deliveries_of_one_message("wirewatch.deliver", "poison-deliver", 8)
    deliveries_of_one_message("wirewatch.process", "poison-article", 10)
    assert [t["id"] for t in store.guard.set_aside_tasks()] == ["poison-deliver"]
    deliveries_of_one_message("wirewatch.process", "poison-article", 1)  # the 11th start
    # Set aside just after its start is counted.
    wait_until(lambda: len(store.guard.set_aside_tasks()) == 2, 30, "the article set aside")
    set_aside = {t["id"]: t for t in store.guard.set_aside_tasks()}
    assert set(set_aside) == {"poison-deliver", "poison-article"}
    assert (set_aside["poison-deliver"]["task"], set_aside["poison-deliver"]["args"]) == (
        "wirewatch.deliver",
        ["no-such-id"],
    )
    status = running.cli("status")
    assert "poison-deliver" in status.stdout and "poison-article" in status.stdout


def test_a_batch_of_articles_started_again_goes_on_one_article_to_a_task(
    running: Wirewatch, own_redis: EmbeddedRedis
) -> None:
    """A batch (fan_out, feed-text articles) whose worker died mid-way comes back:
    its articles are sent on one to a message, so that the one that stops its
    worker is found alone (and the others never count its starts)."""
    running.start()
    store = Store.from_url(own_redis.url)
    wait_until(lambda: store.sources.last_heartbeat() is not None, 60, "the worker to tick")
    broker = Celery(broker=broker_url(own_redis.url))
    batch = ["no-such-a", "no-such-b"]

    # What a broker does with a task whose worker died: the same message again.
    broker.send_task("wirewatch.process", (batch,), task_id="restarted-batch")
    started = "ww:starts:restarted-batch:0"
    wait_until(lambda: int(store.redis.get(started) or 0) == 1, 60, "a start")
    broker.send_task("wirewatch.process", (batch,), task_id="restarted-batch")
    wait_until(
        lambda: "id=restarted-batch started again; its items go one by one" in running.log(),
        60,
        "the batch split",
    )
    assert store.guard.set_aside_tasks() == []
    assert "Traceback" not in running.log(), running.log()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_to_the_whole_group_mid_poll_stops_in_order_and_the_restart_polls_at_once(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, signum: signal.Signals
) -> None:
    """Ctrl-C in a terminal (or kill -TERM -PGID) while a poll holds its lock:
    Redis stops last, so the poll ends and nothing blocks the next run."""
    newsroom.publish(S300)
    newsroom.site.hold("/rss")
    write_config(tmp_path / "config", newsroom.site, smtp)
    wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", None)
    wirewatch.start()
    assert wirewatch.process is not None
    wait_until(lambda: newsroom.site.hits["/rss"] >= 1, 60, "the poll to start")
    os.killpg(wirewatch.process.pid, signum)
    newsroom.site.release("/rss")  # the source answers, slowly
    assert wirewatch.process.wait(90) == 0, wirewatch.log()
    wirewatch.process = None
    first_run = wirewatch.log()
    assert "Connection refused" not in first_run and "Traceback" not in first_run, first_run

    polls = newsroom.site.hits["/rss"]
    wirewatch.start()
    try:
        wait_until(lambda: newsroom.site.hits["/rss"] > polls, 60, "a poll after the restart")
        smtp.wait_for(1, timeout=60)
    finally:
        assert wirewatch.stop() == 0, wirewatch.log()
    second_run = wirewatch.log().removeprefix(first_run)
    assert second_run.count("every source is due now") == 1, second_run
    assert "a poll is already running" not in second_run, second_run
