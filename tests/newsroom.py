"""A small news site for end-to-end tests: an RSS feed and article pages with
navigation, a related-articles sidebar, a cookie banner and a donation appeal."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

from tests.web import Site

FIXTURES = Path(__file__).parent / "fixtures" / "site"


@dataclass(frozen=True)
class Story:
    slug: str
    title: str
    body_file: str
    published: datetime

    @property
    def path(self) -> str:
        return f"/news/{self.slug}"


# Relative to now: max_age (default 7d) would set aside stories dated further
# back. A whole hour six hours ago, so the later stories are still in the past
# and dates survive RFC 822's whole seconds unchanged.
BASE_TIME = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)

S300 = Story(
    "russia-delivers-s300-iran", "Russia delivers S-300 systems to Iran", "s300", BASE_TIME
)
S400 = Story(
    "iran-signs-s400-contract", "Iran signs S-400 contract", "s400", BASE_TIME + timedelta(hours=1)
)
GRAIN = Story(
    "grain-exports-rise", "Grain exports rise by a fifth", "grain", BASE_TIME + timedelta(hours=2)
)
LATER = Story(
    "second-s300-shipment",
    "Second S-300 shipment leaves for Iran",
    "later",
    BASE_TIME + timedelta(hours=3),
)


class Newsroom:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.stories: list[Story] = []

    def publish(self, story: Story) -> None:
        layout = (FIXTURES / "_layout.html").read_text()
        body = (FIXTURES / f"{story.body_file}.body.html").read_text()
        page = layout.format(
            title=escape(story.title),
            url=self.site.url(story.path),
            author="Jane Reporter",
            published=story.published.isoformat(),
            body=body,
        )
        self.site.put(story.path, page)
        self.stories.append(story)
        self.site.put("/rss", self.rss(), "application/rss+xml; charset=utf-8")

    def rss(self) -> str:
        items = "".join(
            f"""
    <item>
      <title>{escape(s.title)}</title>
      <link>{self.site.url(s.path)}</link>
      <guid isPermaLink="false">story-{s.slug}</guid>
      <pubDate>{format_datetime(s.published)}</pubDate>
      <description>{escape(s.title)}.</description>
    </item>"""
            for s in reversed(self.stories)
        )
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
  <channel>
    <title>The Daily Wire Test</title>
    <link>{self.site.url("/")}</link>
    <description>Test news</description>{items}
  </channel>
</rss>
"""


def write_site_config(
    directory: Path, site: Site, *, rules: str, apprise: str, settings: str = ""
) -> None:
    """A config watching the news site's feed (full text, Moscow Times appeal stripped)."""
    directory.mkdir(exist_ok=True)
    (directory / "settings.yaml").write_text(
        "timezone: Europe/Berlin\ntick: 1s\n"
        "allow_private_networks: true  # the test site lives on loopback\n" + settings
    )
    (directory / "sources.yaml").write_text(
        textwrap.dedent(
            f"""\
            sources:
              - id: daily-wire
                name: The Daily Wire Test
                url: {site.url("/rss")}
                type: feed
                interval: 30s
                full_text: true
                strip: ["Support The Moscow Times!"]
            """
        )
    )
    (directory / "rules.yaml").write_text(rules)
    (directory / "apprise.yml").write_text(apprise)
