"""max_age (README "Sources"): an unseen entry published longer ago is remembered as
seen and counted, never fetched, stored, fanned out or matched; unknown or future
dates count as now. In the real worker, in `wirewatch poll`, and on bad feeds."""

from __future__ import annotations

import json
import os
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.newsroom import S300, Newsroom, Story
from tests.receivers import SmtpReceiver
from tests.test_e2e_pipeline import settled
from tests.waiting import wait_until
from tests.web import Site
from tests.wirewatch_process import Wirewatch, run_cli
from worker.config import Config, load_config
from worker.fetch import Fetcher, make_client
from worker.models import FeedEntry
from worker.pipeline import PollContext, begin_poll, poll_source, settle_poll, split_by_age
from worker.store import Store

NOW = datetime.now(UTC).replace(microsecond=0)
# Matches the rule as well as S300 does: only its date keeps it from alerting.
OLD = Story("s400-last-month", "Iran signs S-400 contract with Russia", "s400", NOW - timedelta(30))


def entry(published: datetime | None) -> FeedEntry:
    return FeedEntry("g", "https://example.org/a", "t", "", "", published)


def test_only_a_date_known_to_be_old_sets_an_entry_aside() -> None:
    cutoff = (NOW - timedelta(days=7)).timestamp()
    old, week, future, undated = (
        entry(NOW - timedelta(days=30)),
        entry(NOW - timedelta(days=6)),
        entry(NOW + timedelta(days=365)),
        entry(None),
    )
    assert split_by_age([old, week, future, undated], cutoff) == ([week, future, undated], [old])


def write_config(directory: Path, site: Site, smtp: SmtpReceiver | None = None) -> None:
    directory.mkdir()
    (directory / "settings.yaml").write_text(
        "tick: 1s\nallow_private_networks: true\nfetch: {per_host_delay: 0s}\n"
    )
    (directory / "sources.yaml").write_text(
        textwrap.dedent(
            f"""\
            sources:
              - id: wire
                url: {site.url("/rss")}
                type: feed
                interval: 30s
            """
        )
    )
    (directory / "rules.yaml").write_text(
        'rules:\n  - id: s300-iran\n    query: \'("S-300" OR "S-400") AND Iran\'\n'
    )
    if smtp is not None:
        (directory / "apprise.yml").write_text(
            f"urls:\n  - {smtp.apprise_url(to='analyst@example.org')}\n"
        )


@pytest.mark.e2e
@pytest.mark.slow
def test_the_worker_alerts_on_news_not_on_last_months_story(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, redis_server_url: str
) -> None:
    newsroom.publish(OLD)
    newsroom.publish(S300)
    write_config(tmp_path / "config", newsroom.site, smtp)
    wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", redis_server_url)
    store = Store.from_url(redis_server_url)
    wirewatch.start()
    try:
        smtp.wait_for(1, timeout=60)
        wait_until(lambda: settled(store, 1), 60, "the new story processed")
        wait_until(lambda: store.sources.state("wire").old == 1, 30, "the old story counted")
        status = wirewatch.cli("status", "--json")
        assert status.returncode == 0, status.stderr
        (source,) = json.loads(status.stdout)["sources"]
        assert (source["items"], source["new"], source["old"]) == (2, 1, 1)
        # Remembered as seen: a later poll does not count it again.
        store.redis.set("ww:started", time.time())
        wait_until(lambda: newsroom.site.hits["/rss"] >= 2, 30, "a second poll")
        wait_until(lambda: store.sources.state("wire").last_result == "not-modified", 30, "304")
        assert store.sources.state("wire").old == 1
    finally:
        assert wirewatch.stop() == 0, wirewatch.log()
    assert [str(m["Subject"]) for m in smtp.items] == [f"s300-iran: {S300.title}"]
    assert newsroom.site.hits[OLD.path] == 0  # never fetched
    assert newsroom.site.hits[S300.path] >= 1
    assert len(store.archive.since(0)) == 1
    assert store.redis.keys("ww:entry:*") == []


def config_for(tmp_path: Path, site: Site) -> Config:
    write_config(tmp_path / "config", site)
    return load_config(tmp_path / "config")


def poll_once(config: Config, store: Store | None) -> tuple[int, int, int, str]:
    limits = config.settings.fetch_limits
    source = config.sources[0]
    with make_client(limits) as client:
        ctx = PollContext(config, store, Fetcher(client, limits), time.time())
        if store is not None:
            ctx = begin_poll(ctx, source, lock_ttl=60.0)
        outcome = poll_source(ctx, source)
        if store is not None:
            settle_poll(ctx, source, outcome)
    return outcome.items, len(outcome.new), len(outcome.old), outcome.label


ODD_DATES = (
    "Tue, 10 Jun 2003 04:00:00 GMT",  # old
    "Fri, 01 Jan 2100 00:00:00 GMT",  # the future: counts as now
    "",  # none
    "yesterday at noon",
    "32/13/2026",
    "2026-02-30T25:61:00Z",  # rolled over by the date parser to 3 March 2026: old
    "Mon, 99 Foo 12345 00:00:00 +9999",
    "0000-00-00",
)


def odd_feed(items: int) -> str:
    rows = []
    for n in range(items):
        date = ODD_DATES[n % len(ODD_DATES)]
        pub = f"<pubDate>{date}</pubDate>" if date else ""
        rows.append(
            f"<item><title>Item {n}</title><link>https://example.org/{n}</link>"
            f"<guid>item-{n}</guid>{pub}</item>"
        )
    channel = f"<channel><title>t</title>{''.join(rows)}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def test_thousands_of_items_with_odd_dates_are_counted_not_crashed_on(
    tmp_path: Path, redis_server_url: str
) -> None:
    items = 4000
    store = Store.from_url(redis_server_url)
    with Site() as site:
        site.put("/rss", odd_feed(items), "application/rss+xml")
        config = config_for(tmp_path, site)
        total, new, old, result = poll_once(config, store)
        # Only 2003 and the rolled-over date are known to be old; every other entry is news.
        assert (total, new + old, old, result) == (items, items, 2 * items // len(ODD_DATES), "ok")
        assert store.sources.state("wire").old == old
        assert len(store.redis.keys("ww:entry:*")) == new  # the old ones wait for nothing
        # All remembered: the same items again are neither new nor counted twice.
        site.put("/rss", odd_feed(items) + " ", "application/rss+xml")
        assert poll_once(config, store) == (items, 0, 0, "ok")
        assert store.sources.state("wire").old == old


def test_a_dry_run_applies_max_age_too(tmp_path: Path) -> None:
    with Site() as site:
        newsroom = Newsroom(site)
        newsroom.publish(OLD)
        newsroom.publish(S300)
        config = config_for(tmp_path, site)
        assert poll_once(config, None) == (2, 1, 1, "ok")


@pytest.mark.slow
def test_wirewatch_poll_dry_run_says_what_it_skipped(tmp_path: Path) -> None:
    with Site() as site:
        newsroom = Newsroom(site)
        newsroom.publish(OLD)
        newsroom.publish(S300)
        write_config(tmp_path / "config", site)
        env = {"WIREWATCH_CONFIG": str(tmp_path / "config")}
        result = run_cli("poll", "wire", "--dry-run", env={**os.environ, **env}, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "1 older than max_age (skipped)" in result.stdout
    assert S300.title in result.stdout and OLD.title not in result.stdout
