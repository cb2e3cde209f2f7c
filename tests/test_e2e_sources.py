"""`html` and `auto` sources in the real worker: `wirewatch run` as a subprocess, Redis,
a loopback news site and an SMTP server receiving the alerts. One poll each."""

from __future__ import annotations

import textwrap
from html import escape
from pathlib import Path

import pytest

from tests.newsroom import GRAIN, S300, S400, Newsroom, Story
from tests.receivers import SmtpReceiver
from tests.test_e2e_pipeline import settled, text_part
from tests.waiting import wait_until
from tests.wirewatch_process import Wirewatch
from worker.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def write_config(directory: Path, source: str, smtp: SmtpReceiver) -> None:
    directory.mkdir()
    (directory / "settings.yaml").write_text(
        textwrap.dedent(
            """\
            tick: 1s
            allow_private_networks: true   # the test site lives on loopback
            fetch: {per_host_delay: 0s}     # every page comes from one host here
            """
        )
    )
    (directory / "sources.yaml").write_text("sources:\n" + textwrap.indent(source, "  "))
    (directory / "rules.yaml").write_text(
        textwrap.dedent(
            """\
            rules:
              - id: s300-iran
                query: '("S-300" OR "S-400") AND (Iran OR Tehran)'
            """
        )
    )
    (directory / "apprise.yml").write_text(
        f"urls:\n  - {smtp.apprise_url(to='analyst@example.org')}\n"
    )


def listing_page(stories: list[Story]) -> str:
    """A press page without a feed: teasers in <article class="news">, with chrome around."""
    teasers = "".join(
        f"""
      <article class="news">
        <a href="{story.path}"><h2>{escape(story.title)}</h2></a>
        <p class="lead">{escape(story.title)}.</p>
      </article>"""
        for story in stories
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><title>Press releases</title></head>
<body>
  <nav><a href="/">Home</a> <a href="/about">About us</a></nav>
  <main>{teasers}
  </main>
  <aside><a href="/news/{GRAIN.slug}-old">Most read: an old story</a></aside>
</body></html>"""


def run_until_alerted(
    tmp_path: Path, source: str, smtp: SmtpReceiver, redis_url: str, articles: int
) -> Wirewatch:
    config = tmp_path / "config"
    write_config(config, source, smtp)
    wirewatch = Wirewatch(config, tmp_path / "data", redis_url)
    store = Store.from_url(redis_url)
    wirewatch.start()
    try:
        smtp.wait_for(1, timeout=60)
        wait_until(lambda: settled(store, articles), 60, f"{articles} articles processed")
    except BaseException:
        if wirewatch.alive():
            wirewatch.stop()
        raise
    return wirewatch


def test_html_listing_source(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, redis_server_url: str
) -> None:
    for story in (S300, GRAIN):
        newsroom.publish(story)
    newsroom.site.put("/press", listing_page([S300, GRAIN]))
    source = f"""\
- id: ministry
  name: Ministry Press
  url: {newsroom.site.url("/press")}
  type: html
  interval: 30s
  select: {{item: "article.news", link: "a", title: "h2", summary: "p.lead"}}
"""
    wirewatch = run_until_alerted(tmp_path, source, smtp, redis_server_url, articles=2)
    try:
        assert [str(m["Subject"]) for m in smtp.items] == [f"s300-iran: {S300.title}"]
        text = text_part(smtp.items[0], "plain")
        assert newsroom.site.url(S300.path) in text
        assert "Ministry Press" in text
        # The article page was fetched and its text extracted, without its chrome.
        assert newsroom.site.hits[S300.path] >= 1
        assert "Related articles" not in text and "Donate" not in text
        status = wirewatch.cli("status", "--json")
        assert status.returncode == 0, status.stderr
        assert '"problem": null' in status.stdout
        assert newsroom.site.hits["/rss"] == 0  # a listing source never looks for a feed
    finally:
        assert wirewatch.stop() == 0, wirewatch.log()
    assert "Traceback" not in wirewatch.log(), wirewatch.log()


def test_auto_source_follows_the_feed_a_page_links_to(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, redis_server_url: str
) -> None:
    for story in (S400, GRAIN):
        newsroom.publish(story)
    newsroom.site.put(
        "/",
        """<!DOCTYPE html>
<html lang="en"><head><title>The Daily Wire Test</title>
  <link rel="stylesheet" href="/style.css">
  <link rel="alternate" type="application/rss+xml" title="All news" href="/rss">
</head><body><h1>The Daily Wire Test</h1><p>Latest news.</p></body></html>""",
    )
    source = f"""\
- id: daily-wire
  url: {newsroom.site.url("/")}
  interval: 30s
"""  # no type: auto is the default
    wirewatch = run_until_alerted(tmp_path, source, smtp, redis_server_url, articles=2)
    try:
        assert [str(m["Subject"]) for m in smtp.items] == [f"s300-iran: {S400.title}"]
        text = text_part(smtp.items[0], "plain")
        assert newsroom.site.url(S400.path) in text
        assert newsroom.site.hits["/"] >= 1 and newsroom.site.hits["/rss"] >= 1
    finally:
        assert wirewatch.stop() == 0, wirewatch.log()
    assert "Traceback" not in wirewatch.log(), wirewatch.log()
