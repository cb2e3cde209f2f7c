"""Polling on real loopback servers and Redis: an unchanged feed costs no parse, and a
listing page whose selectors find nothing is reported by `wirewatch status`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.newsroom import GRAIN, S300, Newsroom
from tests.web import Site
from tests.wirewatch_process import run_cli
from worker.config import Config, load_config
from worker.fetch import Fetcher, make_client
from worker.models import ParsedFeed
from worker.parse import parse_feed
from worker.pipeline import PollContext
from worker.pipeline import poll as pipeline
from worker.store import Store


class NoValidatorsServer:
    """A server that sends neither ETag nor Last-Modified: every poll gets the full body."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/feed":
                    self.send_error(404)
                    return
                server.hits += 1
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    def url(self) -> str:
        host, port = self.http.server_address[:2]
        return f"http://{host!s}:{port}/feed"

    def __enter__(self) -> NoValidatorsServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


def make_config(directory: Path, source: str) -> Config:
    directory.mkdir()
    (directory / "settings.yaml").write_text("allow_private_networks: true\n")
    (directory / "sources.yaml").write_text("sources:\n" + textwrap.indent(source, "  "))
    (directory / "rules.yaml").write_text("rules:\n  - id: any\n    query: iran\n")
    return load_config(directory)


@pytest.fixture
def store(redis_server_url: str) -> Iterator[Store]:
    store = Store.from_url(redis_server_url)
    yield store
    store.redis.close()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The url of every feed the pipeline parses."""
    calls: list[str] = []
    real: Callable[..., ParsedFeed] = parse_feed

    def counting(data: bytes, **kwargs: Any) -> ParsedFeed:
        calls.append(str(kwargs.get("url")))
        return real(data, **kwargs)

    monkeypatch.setattr(pipeline, "parse_feed", counting)
    return calls


def poll(config: Config, store: Store) -> pipeline.PollOutcome:
    """One poll, recorded as the worker's poll task records it."""
    limits = config.settings.fetch_limits
    source = config.sources[0]
    with make_client(limits) as client:
        ctx = PollContext(config, store, Fetcher(client, limits, store.hosts), time.time())
        ctx = pipeline.begin_poll(ctx, source, lock_ttl=60.0)
        outcome = pipeline.poll_source(ctx, source)
        pipeline.settle_poll(ctx, source, outcome)
    assert outcome.error is None, outcome.error
    return outcome


@pytest.mark.slow
def test_unchanged_feed_is_not_parsed_again_304(
    tmp_path: Path, store: Store, parses: list[str]
) -> None:
    with Site() as site:
        newsroom = Newsroom(site)
        newsroom.publish(S300)
        config = make_config(
            tmp_path / "config", f"- id: wire\n  url: {site.url('/rss')}\n  type: feed\n"
        )
        first = poll(config, store)
        assert (first.result, first.items, len(first.new), len(parses)) == ("ok", 1, 1, 1)

        second = poll(config, store)
        assert second.result == "not-modified"
        assert second.items == 1 and second.new == ()
        assert len(parses) == 1  # a 304 has no body to parse
        assert site.hits["/rss"] == 2

        newsroom.publish(GRAIN)  # a changed feed is parsed again
        third = poll(config, store)
        assert (third.result, third.items, len(parses)) == ("ok", 2, 2)
        assert [new.entry.title for new in third.new] == [GRAIN.title]


@pytest.mark.slow
def test_unchanged_feed_is_not_parsed_again_same_body(
    tmp_path: Path, store: Store, parses: list[str]
) -> None:
    """A server that ignores conditional GET sends the whole feed; its hash spares the parse."""
    with Site() as site:
        body = Newsroom(site).rss().encode()  # an empty channel is fine for this
        body = body.replace(
            b"</channel>",
            b"<item><title>Iran</title><link>https://a.example/1</link></item></channel>",
        )
    with NoValidatorsServer(body, "application/rss+xml") as server:
        config = make_config(
            tmp_path / "config", f"- id: plain\n  url: {server.url()}\n  type: feed\n"
        )
        first = poll(config, store)
        assert (first.result, first.items, len(parses)) == ("ok", 1, 1)
        second = poll(config, store)
        assert (second.result, second.items, second.new) == ("unchanged", 1, ())
        assert len(parses) == 1
        assert server.hits == 2


LISTING = """<!DOCTYPE html><html><head><title>Press</title></head><body>
<main>{items}</main></body></html>"""
ITEM = '<article class="news"><a href="/news/{slug}"><h2>{title}</h2></a></article>'


def status_json(config_dir: Path, redis_url: str) -> dict[str, Any]:
    env = {**os.environ, "REDIS_URL": redis_url, "WIREWATCH_CONFIG": str(config_dir)}
    result = run_cli("status", "--json", env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


@pytest.mark.slow
def test_listing_that_finds_nothing_is_shown_in_status(
    tmp_path: Path, store: Store, redis_server_url: str
) -> None:
    with Site() as site:
        site.put("/press", LISTING.format(items="<p>We moved our news to a new design.</p>"))
        config_dir = tmp_path / "config"
        config = make_config(
            config_dir,
            f"- id: ministry\n  url: {site.url('/press')}\n  type: html\n"
            '  select: {item: "article.news", link: "a", title: "h2"}\n',
        )
        outcome = poll(config, store)
        assert (outcome.result, outcome.items) == ("ok", 0)
        problem = "selector 'article.news' with link 'a' found no items"
        assert store.sources.state("ministry").problem == problem

        report = status_json(config_dir, redis_server_url)
        (source,) = report["sources"]
        assert source["id"] == "ministry" and source["problem"] == problem

        # An unchanged page is not parsed again, and its problem stays.
        assert poll(config, store).result == "not-modified"
        assert store.sources.state("ministry").problem == problem

        # Items again: the problem is gone.
        site.put("/press", LISTING.format(items=ITEM.format(slug="s300", title=S300.title)))
        fixed = poll(config, store)
        assert (fixed.result, fixed.items) == ("ok", 1)
        assert store.sources.state("ministry").problem is None
        assert status_json(config_dir, redis_server_url)["sources"][0]["problem"] is None


COUNT_ROUND_TRIPS = """
import json, sys
import redis.connection
from worker.service import tasks

sends = []
real = redis.connection.AbstractConnection.send_packed_command

def counting(self, command, check_health=True):
    sends.append(1)  # one send per command or per pipeline: a round trip
    return real(self, command, check_health)

# On AbstractConnection: a TCP and a unix-socket REDIS_URL both count.
redis.connection.AbstractConnection.send_packed_command = counting
counts = []
for n in range(4):
    before = len(sends)
    tasks.poll.apply(args=(sys.argv[1],), task_id=f"poll-{n}")
    counts.append(len(sends) - before)
print(json.dumps(counts))
"""


@pytest.mark.slow
def test_a_warm_poll_costs_at_most_four_redis_round_trips(
    tmp_path: Path, redis_server_url: str
) -> None:
    """The poll task as the worker runs it (start counted, lock, robots.txt
    checked, politeness slot): one read before the fetch, one write after."""
    with Site() as site:
        Newsroom(site).publish(S300)
        config_dir = tmp_path / "config"
        make_config(config_dir, f"- id: wire\n  url: {site.url('/rss')}\n  type: feed\n")
        # Polls back to back: with the default delay between requests to a
        # host, the gate would (rightly) make each wait and ask again.
        (config_dir / "settings.yaml").write_text(
            "allow_private_networks: true\nfetch: {per_host_delay: 0s}\n"
        )
        script = tmp_path / "count.py"
        script.write_text(COUNT_ROUND_TRIPS)
        env = {
            **os.environ,
            "REDIS_URL": redis_server_url,
            "WIREWATCH_CONFIG": str(config_dir),
            "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
        }
        run = subprocess.run(
            [sys.executable, str(script), "wire"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, run.stderr
        cold, *warm = json.loads(run.stdout.splitlines()[-1])
        assert site.hits["/rss"] == 4
    # The cold poll also fetches robots.txt, stores the new entry and enqueues it.
    assert cold > 4
    assert all(trips <= 4 for trips in warm), warm
    store = Store.from_url(redis_server_url)
    assert store.sources.state("wire").last_result == "not-modified"
