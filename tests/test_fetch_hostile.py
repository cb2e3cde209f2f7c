"""Fetching from hostile servers: every misbehaviour ends in a clear error, in
bounded time, and leaves the other sources alone.

Real HTTP servers on loopback (tests/hostile.py), real Redis for the shared
politeness state. Refusing private addresses is tested honestly on loopback:
the client under test exempts exactly one (address, port) pair, the hostile
server's own, so the check itself runs unchanged on every other address:
redirects to 127.0.0.1 on another port, to [::1], to 169.254.169.254 and
100.64.0.1 (refused before any packet is sent), and names that resolve to
loopback (`localhost`, or a test resolver standing in for a DNS answer).
Webhook targets are sent through Apprise, whose connections the same check
guards; a scripted resolver plays a DNS server that rebinds a name between
the check at send time and the connection, another one that never answers.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import httpx
import pytest

from tests.hostile import HangingDns, HostileServer, ScriptedDns
from tests.receivers import WebhookReceiver
from tests.waiting import wait_until
from tests.web import Site
from tests.wirewatch_process import Wirewatch
from worker.config import Config, load_config
from worker.errors import FetchError
from worker.fetch import (
    Fetcher,
    FetchLimits,
    HostBusy,
    check_url,
    fetch,
    make_client,
    origin_of,
    webhook_refusal,
)
from worker.models import DeliveryKind, FeedEntry
from worker.notify import Message, Target, send
from worker.pipeline import PollContext, PollOutcome, build_article, poll_source, settle_poll
from worker.pipeline.delivery import deliver
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store

T = TypeVar("T")

LIMITS = FetchLimits(timeout=2.0, connect_timeout=2.0, max_bytes=1_000_000, per_host_delay=0.0)
# Every test below must end well within this, whatever the server does.
BOUND = 20.0


def bounded(call: Callable[[], T], within: float = BOUND) -> T:
    """Run `call` in a thread; fail if it has not returned or raised within `within` s."""
    outcome: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(call())
        except BaseException as exc:  # handed to the test thread below
            error.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(within)
    assert not thread.is_alive(), f"still running after {within:g}s"
    if error:
        raise error[0]
    return outcome[0]


def fetch_error(call: Callable[[], object]) -> FetchError:
    with pytest.raises(FetchError) as info:
        bounded(call)
    return info.value


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


@pytest.fixture
def client(hostile: HostileServer) -> Iterator[httpx.Client]:
    """allow_private_networks is off; only the hostile server's own socket is exempt."""
    with make_client(LIMITS, exempt=[("127.0.0.1", hostile.port)]) as c:
        yield c


@pytest.fixture
def store(own_redis: EmbeddedRedis) -> Store:
    return Store.from_url(own_redis.url)


# -- limits ------------------------------------------------------------------


def test_slow_drip_body_ends_at_the_total_deadline(
    hostile: HostileServer, client: httpx.Client
) -> None:
    error = fetch_error(lambda: fetch(client, hostile.url("/drip"), LIMITS))
    assert error.kind == "timeout"


def test_headers_dripped_byte_by_byte_end_at_the_total_deadline(
    hostile: HostileServer, client: httpx.Client
) -> None:
    # Each byte arrives well within the read timeout; only the total deadline stops it.
    error = fetch_error(lambda: fetch(client, hostile.url("/drip-headers"), LIMITS))
    assert error.kind == "timeout"


@pytest.mark.slow
def test_dripping_robots_txt_on_every_hop_counts_against_one_deadline(
    hostile: HostileServer,
) -> None:
    # Each robots.txt arrives in full, in most of the request's time; the
    # redirect leads to a second host whose robots.txt must be read too.
    # Fetching it on a fresh deadline of its own made the request last
    # 1.6 times its timeout; the whole fetch has one deadline.
    limits = replace(LIMITS, timeout=3.0)
    with HostileServer() as other:
        hostile.robots_drip = other.robots_drip = limits.timeout * 0.8
        exempt = [("127.0.0.1", hostile.port), ("127.0.0.1", other.port)]
        with make_client(limits, exempt=exempt) as client:
            url = hostile.url(f"/redirect?to={other.url('/feed')}")
            started = time.monotonic()
            error = fetch_error(lambda: fetch(client, url, limits, robots=True))
            elapsed = time.monotonic() - started
    assert error.kind == "timeout"
    assert elapsed < limits.timeout * 1.3, f"took {elapsed:.1f}s"
    assert other.hits["/feed"] == 0


def test_endless_body_stops_at_the_size_limit(hostile: HostileServer, client: httpx.Client) -> None:
    error = fetch_error(lambda: fetch(client, hostile.url("/endless"), LIMITS))
    assert error.kind == "too-large"


def test_gzip_bomb_stops_at_the_size_limit_after_decompression(
    hostile: HostileServer, client: httpx.Client
) -> None:
    error = fetch_error(lambda: fetch(client, hostile.url("/gzip-bomb"), LIMITS))
    assert error.kind == "too-large"
    assert "1000000" in error.message


@pytest.mark.parametrize("path", ["/gzip-feed", "/deflate-feed", "/raw-deflate-feed"])
def test_compressed_bodies_are_decoded(
    hostile: HostileServer, client: httpx.Client, path: str
) -> None:
    result = bounded(lambda: fetch(client, hostile.url(path), LIMITS))
    assert result.content.startswith(b"<?xml") and b"new sanctions" in result.content


def test_redirect_loop_stops_after_max_redirects(
    hostile: HostileServer, client: httpx.Client
) -> None:
    error = fetch_error(lambda: fetch(client, hostile.url("/loop"), LIMITS))
    assert error.kind == "redirects"
    assert hostile.hits["/loop"] == LIMITS.max_redirects + 1


def test_server_error_and_rate_limit_are_clear(
    hostile: HostileServer, client: httpx.Client
) -> None:
    assert fetch_error(lambda: fetch(client, hostile.url("/500"), LIMITS)).kind == "http-500"
    error = fetch_error(lambda: fetch(client, hostile.url("/429"), LIMITS))
    assert error.kind == "http-429"
    assert error.retry_after == 120


# -- private addresses -----------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{other}/",
        "http://[::1]:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
        "http://169.254.169.254/latest/meta-data/",
        "http://100.64.0.1/",
        "http://10.0.0.1/",
        "http://[fd00::1]/",
        "http://[64:ff9b::a00:1]/",  # NAT64 to 10.0.0.1
        "http://[::ffff:0:a9fe:a9fe]/",  # IPv4-translated 169.254.169.254
        "http://localhost:{other}/feed",
    ],
)
def test_redirect_to_a_private_address_is_refused(
    hostile: HostileServer,
    client: httpx.Client,
    target: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with HostileServer() as other:
        destination = target.format(port=hostile.port, other=other.port)
        url = hostile.url("/redirect?to=" + destination)
        with caplog.at_level(logging.WARNING, logger="worker.fetch"):
            error = fetch_error(lambda: fetch(client, url, LIMITS))
        assert error.kind == "blocked", error
        assert other.hits.total() == 0
    assert "allow_private_networks" in error.message
    assert any("refused" in r.getMessage() and "/" in r.getMessage() for r in caplog.records)


def test_a_name_resolving_to_loopback_is_refused(hostile: HostileServer) -> None:
    with make_client(LIMITS) as plain:  # no exemption at all
        error = fetch_error(lambda: fetch(plain, f"http://localhost:{hostile.port}/feed", LIMITS))
    assert error.kind == "blocked"
    assert "loopback" in error.message
    assert hostile.hits.total() == 0


def test_the_checked_address_is_the_one_connected_to(hostile: HostileServer) -> None:
    """One resolution, checked, then connected to: the Host header keeps the name."""

    def dns(answer: list[str]) -> Callable[[str, int], list[str]]:
        return lambda host, port: answer if host == "news.example" else []

    url = f"http://news.example:{hostile.port}/echo-host"
    # The "DNS" says loopback: refused without an exemption, nothing sent.
    with make_client(LIMITS, resolver=dns(["127.0.0.1"])) as rebound:
        assert fetch_error(lambda: fetch(rebound, url, LIMITS)).kind == "blocked"
    # A public and a private answer together: refused (the attacker would pick).
    with make_client(LIMITS, resolver=dns(["93.184.215.14", "127.0.0.1"])) as mixed:
        assert fetch_error(lambda: fetch(mixed, url, LIMITS)).kind == "blocked"
    assert hostile.hits.total() == 0
    # Exempted: the request reaches the checked address with the name as Host.
    with make_client(
        LIMITS, resolver=dns(["127.0.0.1"]), exempt=[("127.0.0.1", hostile.port)]
    ) as allowed:
        result = bounded(lambda: fetch(allowed, url, LIMITS))
    assert result.content == f"news.example:{hostile.port}".encode()


def test_a_resolver_that_never_answers_ends_in_a_timeout_naming_the_host() -> None:
    with HangingDns() as dns, make_client(LIMITS, resolver=dns) as c:
        started = time.monotonic()
        error = fetch_error(lambda: fetch(c, "http://news.example/feed", LIMITS))
        elapsed = time.monotonic() - started
    assert dns.asked.is_set()
    assert error.kind == "timeout"
    assert f"DNS lookup of news.example did not finish within {LIMITS.connect_timeout:g}s" in (
        error.message
    )
    assert elapsed < LIMITS.connect_timeout + 2


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.org/feed", "javascript:alert(1)", "gopher://x/"],
)
def test_only_http_and_https_are_fetched(url: str, client: httpx.Client) -> None:
    assert fetch_error(lambda: fetch(client, url, LIMITS)).kind == "blocked"
    with pytest.raises(FetchError):
        check_url(url)


def test_article_links_from_a_feed_are_checked(hostile: HostileServer, tmp_path: Path) -> None:
    config = make_config(tmp_path, hostile, sources=[("wire", "/feed", "feed")])
    source = config.sources[0].model_copy(update={"full_text": True})
    entry = FeedEntry(
        guid="x",
        url="http://169.254.169.254/latest/meta-data/iam/",
        title="click me",
        summary="",
        content="",
        published=None,
    )
    with make_client(LIMITS, exempt=[("127.0.0.1", hostile.port)]) as c:
        built = build_article("a1", entry, source, Fetcher(c, LIMITS))
    # Refused, and the entry still goes on with the feed's own text.
    assert built.fallback is not None and built.fallback.kind == "blocked"
    assert built.article.title == "click me"


def test_webhook_targets_on_private_addresses_are_refused_at_send_time(
    tmp_path: Path, store: Store
) -> None:
    assert webhook_refusal("json://127.0.0.1:9/hook", allow_private_networks=False)
    assert webhook_refusal("xmls://[::1]/hook", allow_private_networks=False)
    assert webhook_refusal("form://localhost/", allow_private_networks=False)
    assert webhook_refusal("json://127.0.0.1:9/hook", allow_private_networks=True) is None
    # A local mail relay is a deliberate choice, not a webhook.
    assert webhook_refusal("mailto://127.0.0.1:25?to=a@b.org", allow_private_networks=False) is None

    with WebhookReceiver() as hook:
        config = make_config(
            tmp_path,
            None,
            sources=[("wire", "http://news.example.org/rss", "feed")],
            targets=((hook.apprise_url(), "admin"),),
            allow_private=False,
        )
        key = "health:test:1"
        store.outbox.create(
            key,
            kind=DeliveryKind.HEALTH,
            target_id=config.targets[0].id,
            alert_keys=[],
            title="t",
            now=time.time(),
            lease=300,
            message="m",
        )
        outcome = deliver(key, config, store, time.time())
        assert "private" in outcome or "loopback" in outcome
        assert hook.items == []
    record = store.outbox.get(key)
    assert record is not None and record.state == "failed"


def test_a_webhook_name_rebound_to_loopback_after_the_check_is_refused() -> None:
    """The check at send time sees a public address; the connection is checked again.

    The name is `localhost`, which this machine really resolves to loopback:
    a connection Apprise made with its own lookup, past the guard, would
    reach the receiver.
    """
    with WebhookReceiver() as hook:
        dns = ScriptedDns("localhost", ["93.184.215.14"], ["127.0.0.1"])
        url = f"json://localhost:{hook.port}/hook"
        assert webhook_refusal(url, allow_private_networks=False, resolver=dns) is None
        target = Target("rebinding", url, url, frozenset(), "text")
        # Sent with Apprise's deadline, so the plugin runs on Apprise's own thread.
        result = bounded(lambda: send(target, Message("t", "b", "text"), resolver=dns))
        assert not result.ok
        assert "localhost resolves to 127.0.0.1, a loopback address" in result.detail
        assert "allow_private_networks" in result.detail
        assert dns.lookups == [["93.184.215.14"], ["127.0.0.1"]]
        assert hook.items == []


def test_a_webhook_whose_dns_never_answers_fails_in_bounded_time() -> None:
    # cto=1: Apprise's connect timeout, which also bounds the lookup.
    url = "json://hooks.example:9/hook?cto=1"
    target = Target("hanging", url, url, frozenset(), "text")
    with HangingDns() as dns:
        started = time.monotonic()
        result = bounded(
            lambda: send(
                target, Message("t", "b", "text"), allow_private_networks=True, resolver=dns
            )
        )
        elapsed = time.monotonic() - started
    assert dns.asked.is_set()
    assert not result.ok
    assert "DNS lookup of hooks.example did not finish within 1s" in result.detail
    assert elapsed < 5


# -- feeds -------------------------------------------------------------------


def test_billion_laughs_and_xxe_feeds_are_refused_or_defused(
    hostile: HostileServer, tmp_path: Path
) -> None:
    config = make_config(
        tmp_path, hostile, sources=[("laughs", "/laughs", "feed"), ("xxe", "/xxe", "feed")]
    )
    with make_client(LIMITS, exempt=[("127.0.0.1", hostile.port)]) as c:
        laughs = bounded(lambda: poll_source(dry_run(config, c), config.sources[0]))
        xxe = bounded(lambda: poll_source(dry_run(config, c), config.sources[1]))
    assert laughs.label == "unparsable", laughs
    # XXE: refused outright, or parsed with the entity left unresolved.
    entries = xxe.feed.entries if xxe.feed is not None else ()
    assert xxe.label == "unparsable" or "root:" not in json.dumps(
        [(e.title, e.summary) for e in entries]
    ), xxe


def test_a_wrong_charset_declaration_still_reads_the_text(
    hostile: HostileServer, tmp_path: Path
) -> None:
    config = make_config(tmp_path, hostile, sources=[("ru", "/wrong-charset", "feed")])
    with make_client(LIMITS, exempt=[("127.0.0.1", hostile.port)]) as c:
        outcome = bounded(lambda: poll_source(dry_run(config, c), config.sources[0]))
    assert outcome.result == "ok", outcome
    assert outcome.feed is not None
    assert outcome.feed.entries[0].title == "Москва объявила новые санкции"


# -- politeness --------------------------------------------------------------


def test_robots_txt_is_honoured_and_fetched_once(
    hostile: HostileServer, client: httpx.Client, store: Store
) -> None:
    error = fetch_error(
        lambda: fetch(client, hostile.url("/private/feed"), LIMITS, gate=store.hosts, robots=True)
    )
    assert error.kind == "robots"
    assert bounded(
        lambda: fetch(client, hostile.url("/feed"), LIMITS, gate=store.hosts, robots=True)
    )
    # Switched off per source: the same page is fetched.
    assert bounded(lambda: fetch(client, hostile.url("/private/feed"), LIMITS, gate=store.hosts))
    assert hostile.hits["/robots.txt"] == 1


def test_per_host_concurrency_and_delay_hold_across_threads(
    hostile: HostileServer, client: httpx.Client, store: Store
) -> None:
    limits = FetchLimits(
        timeout=5.0, per_host_concurrency=2, per_host_delay=0.2, max_host_wait=30.0
    )
    threads = [
        threading.Thread(
            target=lambda: fetch(client, hostile.url("/slow"), limits, gate=store.hosts),
            daemon=True,
        )
        for _ in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND)
    assert hostile.hits["/slow"] == 6
    assert hostile.max_in_flight <= 2
    gaps = [b - a for a, b in zip(hostile.starts, hostile.starts[1:], strict=False)]
    assert min(gaps) >= 0.2 * 0.9  # the delay between starts, less timer slack


def test_a_long_wait_for_a_host_is_handed_back_not_slept(
    hostile: HostileServer, client: httpx.Client, store: Store
) -> None:
    origin = origin_of(hostile.url("/"))
    store.hosts.defer_host(origin, time.time() + 600)
    with pytest.raises(HostBusy) as info:
        bounded(lambda: fetch(client, hostile.url("/feed"), LIMITS, gate=store.hosts))
    assert info.value.retry_after is not None and info.value.retry_after > 500
    assert hostile.hits.total() == 0


def test_retry_after_keeps_every_worker_off_the_host(
    hostile: HostileServer, client: httpx.Client, store: Store
) -> None:
    error = fetch_error(lambda: fetch(client, hostile.url("/429"), LIMITS, gate=store.hosts))
    assert error.retry_after == 120
    # Another source on the same host now waits instead of hammering it.
    with pytest.raises(HostBusy):
        bounded(lambda: fetch(client, hostile.url("/feed"), LIMITS, gate=store.hosts))
    assert hostile.hits["/feed"] == 0


# -- source health -------------------------------------------------------------


def dry_run(config: Config, client: httpx.Client) -> PollContext:
    return PollContext(config, None, Fetcher(client, config.settings.fetch_limits), time.time())


def poll_once(config: Config, store: Store, client: httpx.Client, index: int = 0) -> list[str]:
    """What the poll task does with an outcome, minus Celery."""
    source = config.sources[index]
    ctx = PollContext(config, store, Fetcher(client, config.settings.fetch_limits), time.time())
    outcome: PollOutcome = poll_source(ctx, source)
    return settle_poll(ctx, source, outcome)


def test_health_alerts_go_to_admin_only_once_and_on_recovery(
    hostile: HostileServer, tmp_path: Path, store: Store
) -> None:
    with WebhookReceiver() as admin, WebhookReceiver() as desk:
        config = make_config(
            tmp_path,
            hostile,
            sources=[("flaky", "/flaky", "feed")],
            targets=((admin.apprise_url(), "admin"), (desk.apprise_url(), "desk")),
        )
        keys: list[str] = []
        with make_client(LIMITS, exempt=[("127.0.0.1", hostile.port)]) as c:
            for _ in range(8):
                keys += poll_once(config, store, c)
            assert len(keys) == 1, keys  # one alert, not one per failed poll
            hostile.failing = False
            keys += poll_once(config, store, c)
            keys += poll_once(config, store, c)
        assert len(keys) == 2, keys
        for key in keys:
            assert deliver(key, config, store, time.time()).startswith("sent")
        messages = admin.wait_for(2)
        assert "flaky is failing" in messages[0]["title"]
        assert "500" in messages[0]["message"]
        assert "recovered" in messages[1]["title"]
        assert desk.items == []


def test_listing_selectors_finding_nothing_alerts_admin(
    hostile: HostileServer, tmp_path: Path, store: Store
) -> None:
    with WebhookReceiver() as admin:
        config = make_config(
            tmp_path,
            hostile,
            sources=[("ministry", "/empty-listing", "html")],
            targets=((admin.apprise_url(), "admin"),),
        )
        with make_client(LIMITS, exempt=[("127.0.0.1", hostile.port)]) as c:
            keys = poll_once(config, store, c) + poll_once(config, store, c)
        assert len(keys) == 1
        assert "selectors" in store.sources.state("ministry").health_detail  # type: ignore[operator]


# -- through the real worker ---------------------------------------------------


@pytest.mark.slow
def test_hostile_sources_fail_clearly_and_the_good_one_is_polled(
    tmp_path: Path, hostile: HostileServer, own_redis: EmbeddedRedis
) -> None:
    """`wirewatch run` with one good source and several hostile ones on 2 threads."""
    # The rate-limited source lives on a host of its own: its 429 keeps every
    # worker off its host for the Retry-After, which must not hold up the others.
    with Site() as site, HostileServer() as limiting_host:
        site.put("/rss", _good_feed(site.base), "application/rss+xml")
        directory = tmp_path / "config"
        directory.mkdir()
        (directory / "settings.yaml").write_text(
            "tick: 1s\nallow_private_networks: true  # the test servers live on loopback\n"
            "fetch: {timeout: 3s, max_bytes: 1000000, per_host_delay: 0s}\n"
        )
        hostile_sources = {"drip": "/drip", "bomb": "/gzip-bomb", "limited": "/429"}
        lines = [f"  - {{id: good, url: '{site.url('/rss')}', full_text: false}}"]
        hosts = {"drip": hostile, "bomb": hostile, "limited": limiting_host}
        lines += [
            f"  - {{id: {sid}, url: '{hosts[sid].url(path)}', type: feed, full_text: false}}"
            for sid, path in hostile_sources.items()
        ]
        (directory / "sources.yaml").write_text("sources:\n" + "\n".join(lines) + "\n")
        (directory / "rules.yaml").write_text("rules:\n  - {id: any, query: sanctions}\n")
        wirewatch = Wirewatch(directory, tmp_path / "data", own_redis.url)
        wirewatch.start()
        try:

            def report() -> dict[str, dict[str, object]] | None:
                result = wirewatch.cli("status", "--json")
                if result.returncode != 0:
                    return None
                by_id = {s["id"]: s for s in json.loads(result.stdout)["sources"]}
                done = by_id["good"]["result"] == "ok" and all(
                    by_id[sid]["errors"] for sid in hostile_sources
                )
                return by_id if done else None

            try:
                by_id = wait_until(report, 120, "every source polled once")
            except AssertionError as exc:
                status = wirewatch.cli("status")
                raise AssertionError(
                    f"{exc}\nstatus:\n{status.stdout}{status.stderr}\n"
                    f"log tail:\n{wirewatch.log()[-4000:]}"
                ) from None
            assert by_id["good"]["items"] == 1
            assert by_id["drip"]["result"] == "timeout"
            assert by_id["bomb"]["result"] == "too-large"
            assert by_id["limited"]["result"] == "http-429"
            # The rate-limited source waits at least as long as it was asked to.
            assert float(by_id["limited"]["next_due"]) >= time.time() + 60  # type: ignore[arg-type]
            table = wirewatch.cli("status").stdout
            assert "good" in table and "timeout" in table and "last error" in table
        finally:
            assert wirewatch.stop() == 0, wirewatch.log()


def _good_feed(base: str) -> str:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title>'
        f"<item><title>New sanctions</title><link>{base}/news/1</link><guid>g1</guid>"
        "<description>sanctions</description></item></channel></rss>"
    )


# -- config --------------------------------------------------------------------


def make_config(
    tmp_path: Path,
    server: HostileServer | None,
    *,
    sources: list[tuple[str, str, str]],
    targets: tuple[tuple[str, str], ...] = (),
    allow_private: bool = True,
) -> Config:
    directory = tmp_path / "config"
    directory.mkdir(exist_ok=True)
    (directory / "settings.yaml").write_text(
        f"allow_private_networks: {str(allow_private).lower()}\n"
        "fetch: {timeout: 2s, per_host_delay: 0s}\n"
    )
    lines = []
    for sid, path, kind in sources:
        url = server.url(path) if server is not None and path.startswith("/") else path
        select = ", select: {item: article, link: a}" if kind == "html" else ""
        lines.append(
            f"  - {{id: {sid}, url: '{url}', type: {kind}, full_text: false, robots: false"
            f"{select}}}"
        )
    (directory / "sources.yaml").write_text("sources:\n" + "\n".join(lines) + "\n")
    (directory / "rules.yaml").write_text("rules:\n  - {id: any, query: sanctions}\n")
    urls = "".join(f"  - {url}:\n      tag: {tag}\n" for url, tag in targets)
    (directory / "apprise.yml").write_text(f"urls:\n{urls}" if urls else "version: 1\n")
    return load_config(directory)
