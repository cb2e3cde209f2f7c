"""Polls are claimed once per interval however many beats tick, and a failing
source backs off. Real Redis; the e2e variant runs two real beats."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.newsroom import S300, Newsroom
from tests.receivers import SmtpReceiver
from tests.test_e2e_pipeline import write_config
from tests.waiting import wait_until
from tests.web import Site
from tests.wirewatch_process import PROJECT, Wirewatch
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store


def test_one_claim_per_interval_across_beats(own_redis: EmbeddedRedis) -> None:
    beat_a, beat_b = Store.from_url(own_redis.url), Store.from_url(own_redis.url)
    assert beat_a.sources.claim_polls([("wire", 60)], 1000.0)
    assert not beat_b.sources.claim_polls([("wire", 60)], 1000.5)
    assert not beat_a.sources.claim_polls([("wire", 60)], 1059.0)
    assert beat_b.sources.claim_polls([("wire", 60)], 1060.0)
    assert not beat_a.sources.claim_polls([("wire", 60)], 1060.0)


def test_a_shorter_interval_applies_at_once(own_redis: EmbeddedRedis) -> None:
    store = Store.from_url(own_redis.url)
    assert store.sources.claim_polls([("wire", 3600)], 1000.0)
    assert store.sources.claim_polls([("wire", 60)], 1060.0)  # edited from 1h to 1m


def test_every_source_is_due_right_after_beat_starts_once(own_redis: EmbeddedRedis) -> None:
    store = Store.from_url(own_redis.url)
    assert store.sources.claim_polls([("wire", 3600)], 1000.0)
    assert not store.sources.claim_polls([("wire", 3600)], 1100.0)
    assert store.sources.mark_started(1200.0)
    assert not store.sources.mark_started(1201.0)  # a second beat, started by mistake
    assert store.sources.claim_polls([("wire", 3600)], 1202.0)
    assert not store.sources.claim_polls([("wire", 3600)], 1203.0)


def test_failing_source_backs_off_exponentially(own_redis: EmbeddedRedis) -> None:
    store = Store.from_url(own_redis.url)
    assert store.sources.claim_polls([("bad", 30)], 1000.0)
    assert store.sources.record_error("bad", "timeout", 1000.0, backoff=60) == 1
    assert not store.sources.claim_polls([("bad", 30)], 1059.0)
    assert store.sources.claim_polls([("bad", 30)], 1060.0)
    assert store.sources.record_error("bad", "timeout", 1060.0, backoff=60) == 2
    assert not store.sources.claim_polls([("bad", 30)], 1060.0 + 119)
    assert store.sources.claim_polls([("bad", 30)], 1060.0 + 120)
    assert store.sources.state("bad").errors == 2


def test_poll_lock_keeps_a_poll_from_overlapping_itself(own_redis: EmbeddedRedis) -> None:
    store = Store.from_url(own_redis.url)
    with (
        store.locks.hold("poll:wire", ttl=60) as first,
        store.locks.hold("poll:wire", ttl=60) as second,
    ):
        assert first and not second
    with store.locks.hold("poll:wire", ttl=60) as again:
        assert again


@pytest.mark.e2e
@pytest.mark.slow
def test_two_beats_poll_each_source_once_per_interval(
    tmp_path: Path, redis_server_url: str
) -> None:
    with Site() as site, SmtpReceiver() as smtp:
        newsroom = Newsroom(site)
        newsroom.publish(S300)
        write_config(tmp_path / "config", site, smtp)
        wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", redis_server_url)
        store = Store.from_url(redis_server_url)
        wirewatch.start()
        second_beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "worker.service.app", "beat",
             "--schedule", str(tmp_path / "beat2-schedule")],
            cwd=PROJECT, env=wirewatch.env(),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            smtp.wait_for(1, timeout=60)
            # Let both beats tick several times (1 s tick) within the 30 s interval.
            first = store.sources.last_heartbeat()
            for _ in range(5):
                _another_tick(store)
            assert store.sources.last_heartbeat() != first
            assert site.hits["/rss"] == 1
            assert len(smtp.items) == 1
        finally:
            second_beat.terminate()
            second_beat.wait(30)
            assert wirewatch.stop() == 0, wirewatch.log()


def _another_tick(store: Store) -> None:
    """Wait until a beat writes a heartbeat other than the one there now."""
    seen = store.sources.last_heartbeat()
    wait_until(lambda: store.sources.last_heartbeat() != seen, 10, "another tick")


def test_a_lock_or_start_left_by_a_process_that_is_gone_is_free(own_redis: EmbeddedRedis) -> None:
    old = Store.from_url(own_redis.url, owner="old-run")
    new = Store.from_url(own_redis.url, owner="new-run")
    old.owners.alive(30)
    new.owners.alive(30)
    assert old.sources.mark_started(1000.0)
    assert not new.sources.mark_started(1001.0)  # the first beat still runs
    with old.locks.hold("poll:wire", ttl=600) as held:
        assert held
        with new.locks.hold("poll:wire", ttl=600) as taken:
            assert not taken
        old.owners.leave()  # its process stopped (or a new run forgot it)
        with new.locks.hold("poll:wire", ttl=600) as taken:
            assert taken
    assert new.sources.mark_started(1002.0)
    # A lock taken by hand (no owner) waits for its TTL.
    by_hand = Store.from_url(own_redis.url)
    with (
        by_hand.locks.hold("poll:other", ttl=600) as held,
        new.locks.hold("poll:other", ttl=600) as taken,
    ):
        assert held and not taken
    assert new.owners.forget_all() == 1
