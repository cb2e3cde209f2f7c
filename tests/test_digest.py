"""Digests over a simulated clock, on a real Redis restarted in between, delivered
to a real SMTP server and a JSON webhook: one message per target per window,
grouped by rule and in time order, `max_per_hour` overflow included, nothing lost."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.receivers import SmtpReceiver, WebhookReceiver
from worker.config import Config, load_config
from worker.models import Article
from worker.pipeline import match_article, record_matches
from worker.pipeline.delivery import deliver, deliveries_of
from worker.pipeline.digest import close_digests
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store

BERLIN = ZoneInfo("Europe/Berlin")


def at(hhmm: str, day: int = 24) -> float:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(2026, 11, day, hour, minute, tzinfo=BERLIN).timestamp()


def article(article_id: str, title: str, body: str, hhmm: str) -> Article:
    return Article(
        id=article_id,
        source_id="wire",
        url=f"https://news.example.org/{article_id}",
        title=title,
        summary="",
        body=body,
        published=datetime.fromtimestamp(at(hhmm), BERLIN),
    )


S300_A = article(
    "s300-a",
    "Russia delivers S-300 to Iran",
    "The first S-300 batteries left Russia by sea on Monday, the ministry said.",
    "06:10",
)
S300_B = article(
    "s300-b",
    "Iran shows S-300 at parade",
    "Tehran displayed an S-300 launcher during the army day parade, state TV reported.",
    "06:20",
)
SANCTIONS_A = article(
    "sanctions-a",
    "EU adopts new sanctions",
    "The European Union adopted a new package of sanctions against banks on Monday.",
    "06:15",
)
SANCTIONS_B = article(
    "sanctions-b",
    "US widens sanctions list",
    "Washington added forty shipping firms to its sanctions list, the treasury said.",
    "09:00",
)
GRAIN = [
    article(
        f"grain-{n}",
        f"Grain report {n}",
        f"Grain exports from port number {n} {word} this week, traders said.",
        f"06:3{n}",
    )
    for n, word in enumerate(["rose", "fell", "stalled"])
]


def make_config(directory: Path, urls: list[str]) -> Config:
    directory.mkdir(exist_ok=True)
    (directory / "settings.yaml").write_text(
        'timezone: Europe/Berlin\ndigest: ["08:00"]\nallow_private_networks: true\n'
    )
    (directory / "sources.yaml").write_text(
        "sources:\n  - id: wire\n    name: The Wire\n    url: https://news.example.org/rss\n"
    )
    (directory / "rules.yaml").write_text(
        textwrap.dedent(
            """\
            rules:
              - id: s300
                query: 'S-300'
                mode: digest                 # at settings' 08:00
              - id: sanctions
                query: 'sanction*'
                mode: digest
                digest: ["12:00", "18:00"]
              - id: grain
                query: 'grain'
                max_per_hour: 1              # the rest of the hour waits for 08:00
            """
        )
    )
    lines = "".join(f"  - {url}\n" for url in urls)
    (directory / "apprise.yml").write_text(f"urls:\n{lines}")
    return load_config(directory)


def record(store: Store, config: Config, art: Article, now: float) -> list[str]:
    store.archive.put(art, now, 30 * 86400)
    return record_matches(art, match_article(art, config.rules, config), config, store, now)


def send_all(keys: list[str], config: Config, store: Store, now: float) -> None:
    for key in keys:
        assert deliver(key, config, store, now).startswith("sent"), key


def restart(redis_server: EmbeddedRedis, store: Store) -> Store:
    store.redis.close()
    redis_server.stop()
    return Store.from_url(redis_server.start())


def parts(message: EmailMessage) -> tuple[str, str]:
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    assert html is not None and text is not None
    return str(html.get_content()), str(text.get_content())


@pytest.fixture
def receivers() -> Iterator[tuple[SmtpReceiver, WebhookReceiver]]:
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        yield smtp, hook


def test_digests_per_window_per_target_across_redis_restarts(
    tmp_path: Path,
    own_redis: EmbeddedRedis,
    receivers: tuple[SmtpReceiver, WebhookReceiver],
) -> None:
    smtp, hook = receivers
    config = make_config(tmp_path / "config", [smtp.apprise_url(), hook.apprise_url()])
    store = Store.from_url(own_redis.url)

    # Rules start collecting when first seen; yesterday's windows send nothing.
    assert close_digests(config, store, at("06:00")) == []
    for art in (S300_A, SANCTIONS_A, S300_B):
        assert record(store, config, art, at(art.published.strftime("%H:%M"))) == []  # type: ignore[union-attr]
    # The first grain alert of the hour is instant, the next two join the digest.
    instant = record(store, config, GRAIN[0], at("06:30"))
    assert len(instant) == 2
    send_all(instant, config, store, at("06:30"))
    assert record(store, config, GRAIN[1], at("06:31")) == []
    assert record(store, config, GRAIN[2], at("06:32")) == []
    smtp.wait_for(1)
    hook.wait_for(1)

    store = restart(own_redis, store)
    assert close_digests(config, store, at("07:59")) == []

    # 08:00: the s300 rule and the grain overflow share the window: one message per target.
    due = close_digests(config, store, at("08:00") + 30)
    assert len(due) == 2
    assert close_digests(config, store, at("08:01")) == []  # a second tick adds nothing
    store = restart(own_redis, store)  # the deliveries wait in the outbox meanwhile
    send_all(due, config, store, at("08:01"))
    smtp.wait_for(2)
    hook.wait_for(2)

    mail = smtp.items[1]
    # Named after the window's scheduled time, in the configured zone.
    assert str(mail["Subject"]) == "wirewatch digest 2026-11-24 08:00 CET: 4 alerts"
    html, text = parts(mail)
    for body in (html, text):
        order = [
            body.index(s)
            for s in (
                "grain (2)",
                GRAIN[1].title,
                GRAIN[2].title,
                "s300 (2)",
                S300_A.title,
                S300_B.title,
            )
        ]
        assert order == sorted(order), body
        assert "sanction" not in body.lower()
        assert S300_A.url in body
    assert "<mark" in html
    assert "CET" in text  # published times in the configured zone
    assert "4 alerts" in hook.items[1]["title"]
    # `wirewatch alerts` shows a digest alert's delivery: the digest's, per target.
    carried = deliveries_of(store, f"s300:{S300_A.id}", [t.id for t in config.targets])
    assert [d.state for d in carried] == ["sent", "sent"]
    assert {d.kind for d in carried} == {"digest"}
    assert S300_B.title in hook.items[1]["message"]

    # 12:00: the sanctions rule's own schedule; an alert recorded after 08:00 is in it.
    assert record(store, config, SANCTIONS_B, at("09:00")) == []
    assert close_digests(config, store, at("11:59")) == []
    due = close_digests(config, store, at("12:00"))
    assert len(due) == 2
    send_all(due, config, store, at("12:00"))
    smtp.wait_for(3)
    html, text = parts(smtp.items[2])
    assert text.index(SANCTIONS_A.title) < text.index(SANCTIONS_B.title)
    assert "S-300" not in text and "Grain" not in text

    # Nothing is left over, and nothing is sent twice.
    assert close_digests(config, store, at("18:00")) == []
    assert close_digests(config, store, at("08:00", day=25)) == []
    assert store.outbox.size() == 0
    assert len(smtp.items) == 3 and len(hook.items) == 3


def test_a_crash_between_creating_and_closing_a_digest_sends_it_once(
    tmp_path: Path,
    own_redis: EmbeddedRedis,
    receivers: tuple[SmtpReceiver, WebhookReceiver],
) -> None:
    smtp, hook = receivers
    config = make_config(tmp_path / "config", [hook.apprise_url()])
    store = Store.from_url(own_redis.url)
    close_digests(config, store, at("06:00"))
    record(store, config, S300_A, at("06:10"))
    first = close_digests(config, store, at("08:00"))
    # As if the tick died before it closed the window: the next tick makes the same delivery.
    store.redis.set("ww:digest-sent:s300", at("08:00", day=23))
    store.redis.zadd("ww:digest:s300", {f"s300:{S300_A.id}": at("06:10")})
    again = close_digests(config, store, at("08:00") + 10)
    assert again == first
    send_all(first, config, store, at("08:01"))
    assert deliver(first[0], config, store, at("08:02")) == "already sent"
    hook.wait_for(1)
    assert len(hook.items) == 1
    assert not smtp.items
