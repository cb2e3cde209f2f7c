"""Alert latency of the real worker: item in the feed -> email at the SMTP server.

    python bench/latency.py [--items 100] [--outlets 5] [--interval 30] [--rounds 4] [--seed 7]

Starts `--outlets` news sites on 127.0.0.1, each its own origin (an RSS feed
and one article page per item, each with its own text, so no item is a
near-duplicate of another), and a plain SMTP server on loopback, then runs
`wirewatch run` (worker threads plus beat, exactly as a user starts it, with
its embedded Redis) with one feed source per site, `interval: --interval`
and `full_text: true`, default politeness (2 requests in flight, 1 s between
request starts per host, robots.txt checked), and one instant rule that
matches every item, sent by email.

After the first poll, `--items` items are published at random moments
(seeded) spread over `--rounds` poll intervals, taking the outlets in turn;
an item's publish time is when it appears in its feed.

Politeness sets the floor: the article pages one poll finds on one host are
fetched at most one a second, so `--outlets 1` (25 new items per poll on one
host with the defaults) measures the politeness delay more than wirewatch.

An alert's arrival time is when the SMTP server accepts the message whose
subject is `<rule>: <title>`.

Printed: count, p50, p95 and max latency, and PASS or MISS for the target
p95 <= interval + 5 s. The run stops by itself: it waits at most
`--interval + --grace` seconds after the last publish for missing alerts,
then stops wirewatch with SIGTERM.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.receivers import SmtpReceiver  # noqa: E402
from tests.web import Site  # noqa: E402
from tests.wirewatch_process import Wirewatch  # noqa: E402

RULE = "dispatch"

WORDS = [
    *("ministry", "sanctions", "grain", "exports", "talks", "summit", "parliament"),
    *("court", "ruling", "pipeline", "election", "protest", "border", "ceasefire"),
    *("delegation", "minister", "contract", "shipment", "report", "harbour", "tanker"),
    *("budget", "tariff", "coalition", "strike", "refinery", "satellite", "treaty"),
    *("embassy", "verdict", "inquiry", "drought", "harvest", "currency", "reserve"),
    *("airport", "railway", "frontier", "envoy", "militia", "convoy", "uranium"),
    *("vaccine", "outbreak", "flood", "wildfire", "pension", "subsidy", "quota"),
    *("auction", "merger", "lawsuit", "senate", "governor", "mayor", "council"),
]


class TimedSmtp(SmtpReceiver):
    """SmtpReceiver that notes when each message arrived, by subject."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()

    def _sink(self, message: EmailMessage, envelope: Any) -> None:
        now = time.time()
        with self.lock:
            self.arrived.setdefault(str(message["Subject"]), now)
        super()._sink(message, envelope)


class HitClock(threading.Thread):
    """When each path of the site was first requested, and every feed request (20 ms steps)."""

    def __init__(self, site: Site) -> None:
        super().__init__(daemon=True)
        self.site = site
        self.first: dict[str, float] = {}
        self.feed_polls: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        feed_hits = 0
        while not self.stop.wait(0.02):
            now = time.time()
            with self.site._lock:
                hits = dict(self.site.hits)
            for path in hits:
                self.first.setdefault(path, now)
            if hits.get("/rss", 0) > feed_hits:
                feed_hits = hits["/rss"]
                self.feed_polls.append(now)


class UserRun(Wirewatch):
    """`wirewatch run` with its default concurrency, as a user starts it."""

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "worker", "run"],
            cwd=ROOT,
            env=self.env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )


class Newsdesk:
    """The feed and article pages of the loopback news site."""

    def __init__(self, site: Site, rng: random.Random) -> None:
        self.site = site
        self.rng = rng
        self.items: list[tuple[str, str, datetime]] = []  # (slug, title, published)
        self.site.put("/rss", self.rss(), "application/rss+xml; charset=utf-8")

    def publish(self, n: int) -> str:
        """Put item `n` online (page first, then feed); returns its title."""
        words = self.rng.sample(WORDS, 4)
        title = f"Story {n}: {' '.join(words)} {RULE}"
        slug = f"story-{n}"
        paragraphs = "".join(
            "<p>" + " ".join(self.rng.choice(WORDS) for _ in range(40)) + f" {RULE}.</p>"
            for _ in range(5)
        )
        page = (
            f"<!doctype html><html><head><title>{escape(title)}</title></head><body>"
            f"<nav><a href='/'>Home</a></nav><article><h1>{escape(title)}</h1>"
            f"{paragraphs}</article></body></html>"
        )
        self.site.put(f"/news/{slug}", page)
        self.items.append((slug, title, datetime.now(UTC)))
        self.site.put("/rss", self.rss(), "application/rss+xml; charset=utf-8")
        return title

    def rss(self) -> str:
        entries = "".join(
            f"<item><title>{escape(title)}</title>"
            f"<link>{self.site.url('/news/' + slug)}</link>"
            f'<guid isPermaLink="false">{slug}</guid>'
            f"<pubDate>{format_datetime(published)}</pubDate>"
            f"<description>{escape(title)}.</description></item>"
            for slug, title, published in reversed(self.items)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Latency Wire</title><link>{self.site.url('/')}</link>"
            f"<description>Bench news</description>{entries}</channel></rss>"
        )


def write_config(directory: Path, sites: list[Site], smtp: SmtpReceiver, interval: int) -> None:
    directory.mkdir(parents=True)
    (directory / "settings.yaml").write_text(
        "tick: 1s\nallow_private_networks: true   # the bench servers are on loopback\n"
    )
    (directory / "sources.yaml").write_text(
        "sources:\n"
        + "".join(
            f"  - {{id: wire-{i}, url: '{site.url('/rss')}', type: feed,"
            f" interval: {interval}s, full_text: true}}\n"
            for i, site in enumerate(sites)
        )
    )
    (directory / "rules.yaml").write_text(
        f"rules:\n  - {{id: {RULE}, query: '{RULE}', notify: [analysts]}}\n"
    )
    (directory / "apprise.yml").write_text(
        f"urls:\n  - {smtp.apprise_url()}:\n      tag: analysts\n"
    )


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted `values`."""
    rank = max(1, int(-(-q * len(values) // 100)))  # ceil(q/100 * n)
    return values[min(rank, len(values)) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--outlets", type=int, default=5, help="news sites, each its own host")
    parser.add_argument("--interval", type=int, default=30, help="poll interval, seconds")
    parser.add_argument("--rounds", type=float, default=4, help="publish over this many intervals")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--grace", type=float, default=60, help="extra wait for late alerts, s")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    span = args.rounds * args.interval
    offsets = sorted(rng.uniform(0, span) for _ in range(args.items))

    with tempfile.TemporaryDirectory(prefix="wirewatch-latency-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        sites = [stack.enter_context(Site()) for _ in range(args.outlets)]
        smtp = stack.enter_context(TimedSmtp())
        desks = [Newsdesk(site, rng) for site in sites]
        write_config(work / "config", sites, smtp, args.interval)
        wirewatch = UserRun(work / "config", work / "data", None)  # embedded Redis
        clocks = [HitClock(site) for site in sites]
        for clock in clocks:
            clock.start()
        wirewatch.start()
        published: dict[str, float] = {}
        pages: dict[str, tuple[HitClock, str]] = {}
        try:
            deadline = time.monotonic() + 120
            while any(site.hits["/rss"] == 0 for site in sites):  # first polls, empty feeds
                if not wirewatch.alive() or time.monotonic() > deadline:
                    raise SystemExit("wirewatch did not poll the feeds:\n" + wirewatch.log())
                time.sleep(0.05)
            start = time.monotonic()
            print(
                f"first polls done; publishing {args.items} items over {span:.0f} s",
                file=sys.stderr,
                flush=True,
            )
            for n, offset in enumerate(offsets):
                time.sleep(max(0.0, start + offset - time.monotonic()))
                title = desks[n % args.outlets].publish(n)
                published[f"{RULE}: {title}"] = time.time()
                pages[f"{RULE}: {title}"] = (clocks[n % args.outlets], f"/news/story-{n}")
            deadline = time.monotonic() + args.interval + args.grace
            while time.monotonic() < deadline:
                with smtp.lock:
                    if all(s in smtp.arrived for s in published):
                        break
                if not wirewatch.alive():
                    raise SystemExit("wirewatch exited:\n" + wirewatch.log())
                time.sleep(0.2)
        finally:
            for clock in clocks:
                clock.stop.set()
            if wirewatch.alive():
                wirewatch.stop()
        with smtp.lock:
            arrived = dict(smtp.arrived)

    latencies = sorted(arrived[s] - t for s, t in published.items() if s in arrived)
    missing = len(published) - len(latencies)
    target = args.interval + 5
    print(f"command: {' '.join(['python', 'bench/latency.py', *sys.argv[1:]])}")
    print(
        f"{args.items} items from {args.outlets} outlets over {span:.0f} s (seed {args.seed}), "
        f"poll interval "
        f"{args.interval} s, full_text, one rule, email to loopback SMTP"
    )
    if not latencies:
        print(f"no alert arrived ({missing} missing): MISS")
        raise SystemExit(1)
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    verdict = "PASS" if p95 <= target and missing == 0 else "MISS"
    print(
        f"count {len(latencies)}/{len(published)} ({missing} missing)  "
        f"p50 {p50:.1f} s  p95 {p95:.1f} s  max {latencies[-1]:.1f} s  "
        f"min {latencies[0]:.1f} s"
    )
    # Where the time goes: waiting for the next poll of the feed, then from
    # that poll to the article page fetch, then from the fetch to the email.
    waits, fetches, sends = [], [], []
    for s, t in published.items():
        clock, page = pages[s]
        polled = next((p for p in clock.feed_polls if p >= t), None)
        fetched = clock.first.get(page)
        if s in arrived and polled is not None and fetched is not None:
            waits.append(polled - t)
            fetches.append(fetched - polled)
            sends.append(arrived[s] - fetched)
    for name, part in (("to next poll", waits), ("poll->page", fetches), ("page->email", sends)):
        if part:
            part.sort()
            print(
                f"  {name:13s} p50 {percentile(part, 50):5.1f} s  "
                f"p95 {percentile(part, 95):5.1f} s  max {part[-1]:5.1f} s"
            )
    print(f"target p95 <= {target} s: {verdict}")
    if verdict == "MISS":
        raise SystemExit(1)


if __name__ == "__main__":
    main()
