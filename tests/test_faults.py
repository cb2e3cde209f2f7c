"""Faults real deployments meet, with wirewatch running for real; every test
asserts on the alerts a user receives. Each test starts its own redis-server
(never the machine's shared one) so it may stop, restart or pause it."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.newsroom import LATER, S300, S400, Newsroom
from tests.receivers import SmtpReceiver
from tests.test_e2e_pipeline import by_subject, settled, write_config
from tests.waiting import wait_until
from tests.wirewatch_process import Wirewatch
from worker.embedded_redis import EmbeddedRedis
from worker.store import Store

pytestmark = pytest.mark.e2e


@pytest.fixture
def running(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, own_redis: EmbeddedRedis
) -> Iterator[Wirewatch]:
    write_config(tmp_path / "config", newsroom.site, smtp)
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
    assert own_redis.port is not None
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
    last_tick = store.last_heartbeat()
    running.start()
    smtp.wait_for(2, timeout=120)
    wait_until(lambda: store.last_heartbeat() != last_tick, 60, "the restarted worker to tick")
    wait_until(lambda: settled(store, 2), 60, "everything delivered")
    assert set(by_subject(smtp)) == {f"s300-iran: {S300.title}", f"s300-iran: {S400.title}"}
    assert len(smtp.items) == 2
