"""One rule for every entry (docs/how-it-works.md): whatever happens while its page is
fetched, parsed or extracted, the entry is matched on the feed's own text, the
reason is counted (metrics and `wirewatch status`), and the run goes on."""

from __future__ import annotations

from pathlib import Path

import hypothesis.strategies as st
import pytest
import redis
from hypothesis import HealthCheck, given, settings

from tests.test_cli_commands import cli
from tests.web import Site
from worker.config import Source
from worker.fetch import Fetcher, FetchLimits, make_client
from worker.models import FeedEntry
from worker.parse import canonical_url
from worker.pipeline import ArticleContext, build_article, finish_article
from worker.pipeline import article as article_step
from worker.pipeline.poll import article_id_for
from worker.store import Store

MALFORMED = ("http://0177.0.0.1/x", "http://☃.net/", "http://2130706433/", "http://a:99999/")
LIMITS = FetchLimits(timeout=3.0, connect_timeout=1.0, allow_private_networks=True)


def _source(url: str = "https://wire.example/feed") -> Source:
    return Source(id="wire", url=url, full_text=True, robots=False)


def _entry(link: str | None) -> FeedEntry:
    return FeedEntry(
        guid="g1", url=link, title="Sanctions on Iran widen", summary="the feed's own text",
        content="", published=None, author=None,
    )  # fmt: skip


@pytest.fixture(scope="module")
def fetcher() -> Fetcher:
    # Every name resolves to loopback, where nothing listens on port 80 or 443:
    # any URL that passes the checks fails fast as a connection error.
    client = make_client(LIMITS, resolver=lambda host, port: ["127.0.0.1"])
    return Fetcher(client, LIMITS)


@pytest.mark.parametrize("link", MALFORMED)
def test_a_malformed_link_gives_the_feed_text_and_its_reason(link: str, fetcher: Fetcher) -> None:
    built = build_article("a1", _entry(link), _source(), fetcher)
    assert built.article.title == "Sanctions on Iran widen"
    assert built.article.summary == "the feed's own text"
    assert built.fallback is not None and built.fallback.kind == "bad-url"


_LINKS = st.one_of(
    st.text(max_size=40),
    st.builds(
        lambda scheme, host, rest: f"{scheme}://{host}{rest}",
        st.sampled_from(["http", "https", "HTTP", "ftp", "javascript", ""]),
        st.text(max_size=20),
        st.text(max_size=20),
    ),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(link=_LINKS)
def test_no_link_string_raises_or_loses_the_entry(link: str, fetcher: Fetcher) -> None:
    url = canonical_url(link)  # the poll step's identity of the entry: never raises
    article_id = article_id_for("wire", _entry(link), url)
    built = build_article(article_id, _entry(link), _source(), fetcher)
    assert built.article.title == "Sanctions on Iran widen"
    # Nothing answers on loopback: a page is never had (an empty link asks for none).
    assert (built.fallback is not None) == bool(link)


def test_a_parser_that_raises_costs_the_page_only(
    monkeypatch: pytest.MonkeyPatch, fetcher: Fetcher, redis_server_url: str
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(article_step, "extract_article", broken)
    with Site() as site:
        site.put("/story", "<html><body><p>Page</p></body></html>")
        entry = _entry(site.url("/story"))
        built = build_article("a2", entry, _source(), fetcher)
    assert built.fallback is not None and built.fallback.kind == "parser-error"
    assert "RecursionError" in built.fallback.detail
    from worker.config import Config, Settings

    config = Config(Settings(), (_source(),), (), (), Path("."))
    store = Store(redis.Redis.from_url(redis_server_url))
    finish_article(ArticleContext(config, store, 1000.0), built.article, _source(), built.fallback)
    state = store.sources.state("wire")
    assert state.fallbacks == 1 and state.last_fallback is not None
    assert state.last_fallback.startswith("parser-error")
    assert store.archive.get("a2") is not None


def _feed(links: list[str]) -> str:
    items = "".join(
        f"<item><title>Story {i}: Iran sanctions</title><link>{link}</link>"
        f"<guid>id-{i}</guid><description>text {i}</description></item>"
        for i, link in enumerate(links)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'
    )


def test_poll_dry_run_shows_entries_with_malformed_links(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    with Site() as site:
        site.put("/feed", _feed(list(MALFORMED)), "application/rss+xml")
        (config / "settings.yaml").write_text("allow_private_networks: true\n")
        (config / "sources.yaml").write_text(
            f"sources:\n  - id: wire\n    url: {site.url('/feed')}\n    robots: false\n"
        )
        (config / "rules.yaml").write_text("rules:\n  - id: iran\n    query: Iran\n")
        result = cli("poll", "wire", "--dry-run", "--json", env={"WIREWATCH_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    shown = result.stdout
    for i in range(len(MALFORMED)):
        assert f"Story {i}: Iran sanctions" in shown
    assert "iran" in shown


def test_a_source_url_in_octal_form_is_an_error_of_that_source(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "sources.yaml").write_text(
        "sources:\n  - id: octal\n    url: http://0177.0.0.1/feed\n"
    )
    (config / "rules.yaml").write_text("rules:\n  - id: iran\n    query: Iran\n")
    result = cli("poll", "octal", "--dry-run", "--json", env={"WIREWATCH_CONFIG": str(config)})
    assert result.returncode != 70, result.stderr
    assert "Traceback" not in result.stderr
    assert "0177.0.0.1" in result.stdout + result.stderr
