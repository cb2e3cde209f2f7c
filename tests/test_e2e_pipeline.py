"""wirewatch end to end: `wirewatch run` (workers and beat as subprocesses), real
Redis, a loopback news site and a real SMTP server receiving the alerts."""

from __future__ import annotations

import email.message
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from tests.newsroom import (
    BASE_TIME,
    GRAIN,
    LATER,
    S300,
    S400,
    Newsroom,
    Story,
    write_site_config,
)
from tests.receivers import SmtpReceiver
from tests.waiting import wait_until
from tests.web import Site
from tests.wirewatch_process import Wirewatch
from worker.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def write_config(directory: Path, site: Site, smtp: SmtpReceiver, settings: str = "") -> None:
    write_site_config(
        directory,
        site,
        settings=settings,
        rules=textwrap.dedent(
            """\
            rules:
              - id: s300-iran
                query: '("S-300" OR "S-400") AND (Iran OR Tehran)'
                notify: [analysts]
            """
        ),
        apprise=textwrap.dedent(
            f"""\
            urls:
              - {smtp.apprise_url(to="analyst@example.org")}:
                  tag: analysts
            """
        ),
    )


def text_part(message: email.message.EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None, f"no text/{subtype} part in {message['Subject']!r}"
    return str(part.get_content())


def by_subject(smtp: SmtpReceiver) -> dict[str, email.message.EmailMessage]:
    return {str(m["Subject"]): m for m in smtp.items}


def settled(store: Store, articles: int) -> bool:
    """All published articles processed and nothing left to deliver."""
    return store.redis.zcard("ww:archive") >= articles and store.outbox.size() == 0


@pytest.fixture(params=["redis-url", "embedded"])
def redis_mode(request: pytest.FixtureRequest) -> str | None:
    if request.param == "redis-url":
        url: str = request.getfixturevalue("redis_server_url")
        return url
    return None


def test_alerts_end_to_end(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, redis_mode: str | None
) -> None:
    for story in (S300, S400, GRAIN):
        newsroom.publish(story)
    write_config(tmp_path / "config", newsroom.site, smtp)
    wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", redis_mode)
    wirewatch.start()
    try:
        store = Store.from_url(
            redis_mode or wait_until(lambda: _embedded_url(tmp_path), 30, "the embedded Redis")
        )
        # One email per matching article, right after start.
        smtp.wait_for(2, timeout=60)
        wait_until(lambda: settled(store, 3), 60, "all three articles processed")
        mails = by_subject(smtp)
        assert set(mails) == {f"s300-iran: {S300.title}", f"s300-iran: {S400.title}"}
        check_alert_mail(mails[f"s300-iran: {S300.title}"], S300, newsroom.site, "S-300")
        check_alert_mail(mails[f"s300-iran: {S400.title}"], S400, newsroom.site, "S-400")

        # A new item in the feed: one new email, on the next poll.
        newsroom.publish(LATER)
        smtp.wait_for(3, timeout=60)
        wait_until(lambda: settled(store, 4), 60, "the new article processed")
        check_alert_mail(
            by_subject(smtp)[f"s300-iran: {LATER.title}"], LATER, newsroom.site, "S-300"
        )

        # A restart polls again at once and sends nothing twice.
        assert wirewatch.stop() == 0, wirewatch.log()
        polls_before = newsroom.site.hits["/rss"]
        wirewatch.start()
        if redis_mode is None:
            store = Store.from_url(wait_until(lambda: _embedded_url(tmp_path), 30, "Redis again"))
        wait_until(lambda: newsroom.site.hits["/rss"] > polls_before, 60, "a poll after restart")
        wait_until(lambda: settled(store, 4), 60, "the poll after restart handled")
        assert len(smtp.items) == 3, [m["Subject"] for m in smtp.items]
    finally:
        if wirewatch.alive():
            assert wirewatch.stop() == 0, wirewatch.log()
    assert "Traceback" not in wirewatch.log(), wirewatch.log()
    if redis_mode is None:
        assert not (tmp_path / "data" / "redis.url").exists()
        assert (tmp_path / "data" / "appendonlydir").exists() or any(
            (tmp_path / "data").glob("*.aof")
        )


# Three words of its own per story: no two stories are near-duplicates.
_WORDS = [
    "amber",
    "basalt",
    "cobalt",
    "dune",
    "ember",
    "fjord",
    "glacier",
    "harbor",
    "island",
    "jungle",
    "kelp",
    "lagoon",
    "meadow",
    "nectar",
    "orchard",
    "prairie",
    "quarry",
    "reef",
    "savanna",
    "tundra",
    "upland",
    "valley",
    "willow",
    "yarrow",
    "zephyr",
    "alder",
    "birch",
    "cedar",
    "dogwood",
    "elm",
    "fir",
    "ginkgo",
    "hazel",
    "ivy",
    "juniper",
    "larch",
]


def test_feed_text_articles_go_ten_to_a_task_and_each_alerts_once(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, redis_server_url: str
) -> None:
    """Without full_text, a poll's new articles reach the articles worker in
    batches (worker.service.tasks.ARTICLES_PER_TASK): twelve are two tasks, and
    every article alerts once, as it would one to a task."""
    stories = [
        Story(
            f"batch-{n}",
            f"{' '.join(_WORDS[3 * n : 3 * n + 3]).title()}: S-300 for Iran",
            "s300",
            BASE_TIME + timedelta(minutes=n),
        )
        for n in range(12)
    ]
    for story in stories:
        newsroom.publish(story)
    write_config(tmp_path / "config", newsroom.site, smtp)
    sources = tmp_path / "config" / "sources.yaml"
    sources.write_text(sources.read_text().replace("full_text: true", "full_text: false"))
    wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", redis_server_url)
    wirewatch.start()
    try:
        store = Store.from_url(redis_server_url)
        smtp.wait_for(12, timeout=90)
        wait_until(lambda: settled(store, 12), 60, "all twelve articles processed")
    finally:
        assert wirewatch.stop() == 0, wirewatch.log()
    assert set(by_subject(smtp)) == {f"s300-iran: {story.title}" for story in stories}
    assert len(smtp.items) == 12
    assert not any(newsroom.site.hits[story.path] for story in stories)  # no page fetched
    assert "Traceback" not in wirewatch.log(), wirewatch.log()


def _embedded_url(tmp_path: Path) -> str | None:
    url_file = tmp_path / "data" / "redis.url"
    return url_file.read_text().strip() if url_file.exists() else None


def check_alert_mail(
    message: email.message.EmailMessage, story: Story, site: Site, term: str
) -> None:
    html = text_part(message, "html")
    text = text_part(message, "plain")
    link = site.url(story.path)
    for body in (html, text):
        assert link in body
        assert "The Daily Wire Test" in body  # the source
        assert "Support The Moscow Times" not in body
        assert "Donate" not in body and "cookies" not in body
        assert "Related articles" not in body
    assert (
        f"<mark>{term}</mark>" in html
        or f"<b>{term}</b>" in html
        or f"<strong>{term}</strong>" in html
    )
    assert term in text


def test_config_edits_apply_without_restart_and_bad_edits_change_nothing(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, redis_server_url: str
) -> None:
    newsroom.publish(S300)
    config = tmp_path / "config"
    write_config(config, newsroom.site, smtp)
    wirewatch = Wirewatch(config, tmp_path / "data", redis_server_url)
    store = Store.from_url(redis_server_url)
    wirewatch.start()
    try:
        smtp.wait_for(1, timeout=60)

        # A new rule, live within a tick: the next grain story alerts under it.
        rules = config / "rules.yaml"
        rules.write_text(
            rules.read_text()
            + "  - id: grain\n    query: '\"grain exports\"'\n    notify: [analysts]\n"
        )
        newsroom.publish(GRAIN)
        smtp.wait_for(2, timeout=60)
        assert f"grain: {GRAIN.title}" in by_subject(smtp)

        # An invalid edit is reported and the last good config stays in force.
        good_rules = rules.read_text()
        rules.write_text(good_rules.replace("'\"grain exports\"'", "'(grain exports'"))
        status = wait_until(
            lambda: (r := wirewatch.cli("status")).returncode == 0 and "rejected" in r.stdout and r,
            30,
            "status to report the rejected config",
        )
        assert "rules.yaml:" in status.stdout and "column" in status.stdout
        newsroom.publish(LATER)
        smtp.wait_for(3, timeout=60)
        assert f"s300-iran: {LATER.title}" in by_subject(smtp)
        assert wirewatch.alive()

        # Fixed again: the error is gone.
        rules.write_text(good_rules)
        wait_until(
            lambda: "rejected" not in wirewatch.cli("status").stdout, 30, "the error to clear"
        )
        wait_until(lambda: settled(store, 3), 30, "deliveries to finish")
        assert len(smtp.items) == 3
    finally:
        if wirewatch.alive():
            assert wirewatch.stop() == 0, wirewatch.log()
