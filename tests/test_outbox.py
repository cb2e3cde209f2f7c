"""The outbox: each (rule, article, target) delivered once, retried until it is,
across restarts of Redis. Real Redis (with AOF), real SMTP and webhook receivers."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

from tests.receivers import SmtpReceiver, WebhookReceiver, closed_port
from worker.config import Config, Settings, load_config
from worker.models import Article, RuleMatch, Span
from worker.pipeline import record_matches
from worker.pipeline.delivery import deliver
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store

DELIVERY_LEASE = Settings().delivery_lease

ARTICLE = Article(
    id="a1",
    source_id="wire",
    url="https://news.example.org/s300",
    title="Russia delivers S-300 to Iran",
    summary="",
    body="Russia has begun delivering S-300 systems to Iran, officials said.",
    published=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
)
MATCH = RuleMatch("s300-iran", (Span("body", 29, 34),))


def make_config(directory: Path, urls: list[str], mode: str = "instant") -> Config:
    directory.mkdir(exist_ok=True)
    (directory / "settings.yaml").write_text("allow_private_networks: true\n")
    (directory / "sources.yaml").write_text(
        "sources:\n  - id: wire\n    url: https://news.example.org/rss\n"
    )
    (directory / "rules.yaml").write_text(
        textwrap.dedent(
            f"""\
            rules:
              - id: s300-iran
                query: 'S-300 AND Iran'
                mode: {mode}
            """
        )
    )
    lines = "".join(f"  - {url}\n" for url in urls)
    (directory / "apprise.yml").write_text(f"urls:\n{lines}")
    return load_config(directory)


def store_with_alert(url: str, config: Config, now: float) -> tuple[Store, list[str]]:
    store = Store.from_url(url)
    store.archive.put(ARTICLE, now, 86400)
    return store, record_matches(ARTICLE, [MATCH], config, store, now)


def test_failed_delivery_is_retried_until_sent_then_never_again(
    tmp_path: Path, own_redis: EmbeddedRedis
) -> None:
    port = closed_port()
    config = make_config(
        tmp_path / "config", [f"mailto://127.0.0.1:{port}/desk@example.org?from=ww@example.org"]
    )
    now = 1_000_000.0
    store, keys = store_with_alert(own_redis.url, config, now)
    assert len(keys) == 1
    key = keys[0]

    outcome = deliver(key, config, store, now)
    assert "will retry" in outcome
    record = store.outbox.get(key)
    assert record is not None and record.state == "pending" and record.attempts == 1
    assert store.outbox.take_due(now + 1, DELIVERY_LEASE) == []  # backing off

    # The mail server comes back on the address the target names.
    with SmtpReceiver(port=port) as smtp:
        due = store.outbox.take_due(now + 7200, DELIVERY_LEASE)
        assert due == [key]
        assert deliver(key, config, store, now + 7200).startswith("sent")
        # A repeated task, or a lost one picked up again, sends nothing more.
        assert deliver(key, config, store, now + 7300) == "already sent"
        assert store.outbox.take_due(now + 99999, DELIVERY_LEASE) == []
        smtp.wait_for(1)
        assert len(smtp.items) == 1
    assert store.outbox.get(key).attempts == 2  # type: ignore[union-attr]


def test_repeated_matching_creates_no_second_delivery(
    tmp_path: Path, own_redis: EmbeddedRedis
) -> None:
    with WebhookReceiver() as hook:
        config = make_config(tmp_path / "config", [hook.apprise_url()])
        store, keys = store_with_alert(own_redis.url, config, 1_000_000.0)
        # The process task ran twice (redelivered after a crash): same keys, no new state.
        again = record_matches(ARTICLE, [MATCH], config, store, 1_000_100.0)
        assert again == keys
        for key in keys + again:
            deliver(key, config, store, 1_000_200.0)
        hook.wait_for(1)
        assert len(hook.items) == 1


def test_one_failing_target_does_not_block_or_repeat_the_others(
    tmp_path: Path, own_redis: EmbeddedRedis
) -> None:
    with WebhookReceiver() as good, WebhookReceiver(status=500) as bad:
        config = make_config(tmp_path / "config", [good.apprise_url(), bad.apprise_url()])
        store, keys = store_with_alert(own_redis.url, config, 1_000_000.0)
        assert len(keys) == 2
        for key in keys:
            deliver(key, config, store, 1_000_000.0)
        states = {store.outbox.get(k).state for k in keys}  # type: ignore[union-attr]
        assert states == {"sent", "pending"}
        bad.status = 200
        for key in store.outbox.take_due(1_009_000.0, DELIVERY_LEASE):
            deliver(key, config, store, 1_009_000.0)
        assert len(good.items) == 1
        assert len(bad.items) == 2  # the failed attempt, then the retry
        assert {store.outbox.get(k).state for k in keys} == {"sent"}  # type: ignore[union-attr]


def test_delivery_state_survives_a_redis_restart(tmp_path: Path, own_redis: EmbeddedRedis) -> None:
    with WebhookReceiver() as hook:
        config = make_config(tmp_path / "config", [hook.apprise_url()])
        store, keys = store_with_alert(own_redis.url, config, 1_000_000.0)
        deliver(keys[0], config, store, 1_000_000.0)
        hook.wait_for(1)
        # Stop Redis (SIGTERM fsyncs the append-only file) and start it on the same files.
        store.redis.close()
        own_redis.stop()
        url = own_redis.start()
        store = Store.from_url(url)
        assert store.outbox.get(keys[0]).state == "sent"  # type: ignore[union-attr]
        assert record_matches(ARTICLE, [MATCH], config, store, 1_000_500.0) == keys
        assert deliver(keys[0], config, store, 1_000_500.0) == "already sent"
        assert len(hook.items) == 1


def test_failure_is_final_after_the_retry_period(tmp_path: Path, own_redis: EmbeddedRedis) -> None:
    config = make_config(tmp_path / "config", [f"json://127.0.0.1:{closed_port()}/hook"])
    store, keys = store_with_alert(own_redis.url, config, 1_000_000.0)
    day_later = 1_000_000.0 + config.settings.delivery_retry_for.total_seconds() + 1
    assert "failed for good" in deliver(keys[0], config, store, day_later)
    assert [d.key for d in store.outbox.undelivered()] == keys
    assert store.outbox.take_due(day_later + 99999, DELIVERY_LEASE) == []
