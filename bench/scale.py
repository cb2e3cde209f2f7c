"""Scale: thousands of feeds on one machine, and a backlog drained by 1..N worker processes.

    python bench/scale.py --small                  # a quick run (at most 9 minutes)
    python bench/scale.py                          # 10,000 feeds, 500 origins, 50 rules
    python bench/scale.py --rules 1000             # the same with 1,000 rules
    python bench/scale.py --drain 100000 --workers 1,2,4,8 --skip-rounds

Rounds (the default): one process serves `--feeds` RSS feeds of `--items`
items on `--origins` loopback ports (asyncio, HTTP/1.1 keep-alive, ETag and
304); every `--full-text-every`th source has `full_text: true` and its
article pages are served too. `wirewatch run` (supervisor, poll worker,
articles worker, beat) runs on a Redis the benchmark starts, exactly as a
user starts it with REDIS_URL. First the cold start: every source polled
once and every new article processed (max_age sets how many: items are
dated `--spacing` apart, newest first). Then `--rounds` rounds of
`--interval`: at the start of each a fifth of the feeds gain
`--new-per-round` items and every source is made due at once (as a beat
restart does: the burstiest round), and the round lasts until every source
was polled and every new article processed; CPU is over the whole interval.
Printed per phase: its duration, CPU of wirewatch's processes and its Redis
as a share of all cores, and their peak RSS
together (the feed servers and this script are not counted; this script's
reads of Redis are one HGETALL a second).

Drain (`--drain N`): a backlog of N queued articles is built once through
the real poll path (poll worker and beat only, `full_text: false`), saved,
and for each count in `--workers` restored into the same Redis and drained
by that many article worker processes; printed: articles/s per count.

Every wait has a deadline (`--deadline`, seconds for the whole run): the
script stops by itself, printing what it measured so far.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from html import escape
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path

import psutil
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.config import load_config, parse_duration  # noqa: E402
from worker.service.embedded_redis import EmbeddedRedis  # noqa: E402

CORES = psutil.cpu_count() or 1
METRICS_KEY = "ww:metrics"  # worker.metrics.KEY: counters by "name|labels"
ARTICLES_QUEUE = "articles"

WORDS = (
    "ministry",
    "sanctions",
    "grain",
    "exports",
    "talks",
    "summit",
    "parliament",
    "court",
    "ruling",
    "pipeline",
    "election",
    "protest",
    "border",
    "ceasefire",
    "delegation",
    "minister",
    "contract",
    "shipment",
    "report",
    "tariff",
    "refinery",
    "harbour",
    "drought",
    "wheat",
    "barley",
    "reactor",
    "satellite",
    "treaty",
    "budget",
    "strike",
    "union",
    "tanker",
    "missile",
    "frigate",
    "airline",
    "merger",
    "bank",
    "inflation",
    "currency",
    "coalition",
    "senate",
    "governor",
)


# ---------------------------------------------------------------- the feeds


@dataclass(frozen=True)
class Layout:
    feeds: int
    origins: int
    items: int
    new_per_round: int
    spacing: float  # seconds between the dates of a feed's original items
    full_text_every: int
    started: float  # dates are relative to this

    def origin_of(self, feed: int) -> int:
        return feed % self.origins

    def changes(self, feed: int, round_no: int) -> int:
        """How many rounds up to `round_no` changed `feed` (a fifth change each round)."""
        return sum(1 for r in range(1, round_no + 1) if feed % 5 == r % 5)


# The rest of the text: 3,000 made-up words, so that a rule matches the few
# articles about its topic (as in a real newsroom), not a third of them.
_SYLLABLES = ("ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "da", "po", "gu", "he", "bi")
FILLER = tuple(
    sorted({"".join(random.Random(n).choices(_SYLLABLES, k=3)) + str(n % 7) for n in range(3000)})
)
# Share of words drawn from the topics (WORDS) the rules are about: about three
# per feed item, and as many in an article page ten times longer.
TOPIC_SHARE = 0.06


def _sentence(rng: random.Random, words: int, topic_share: float = TOPIC_SHARE) -> str:
    chosen = (
        rng.choice(WORDS) if rng.random() < topic_share else rng.choice(FILLER)
        for _ in range(words)
    )
    return " ".join(chosen).capitalize() + "."


def feed_body(layout: Layout, feed: int, generation: int, dated: dict[int, float]) -> bytes:
    """The feed's newest `items` items; items past the original ones are dated when first
    served (`dated`), as a newsroom publishes them."""
    total = layout.items + generation * layout.new_per_round
    origin = layout.origin_of(feed)
    entries = []
    for number in range(total - 1, total - 1 - layout.items, -1):
        if number < layout.items:
            published = layout.started - (layout.items - number) * layout.spacing
        else:
            published = dated.setdefault(number, time.time())
        rng = random.Random(feed * 100_003 + number)
        link = f"http://127.0.0.1:{{port}}/a/{feed}/{number}.html"
        entries.append(
            f"<item><title>{escape(_sentence(rng, 8))}</title><link>{link}</link>"
            f'<guid isPermaLink="false">f{feed}-i{number}</guid>'
            f"<pubDate>{formatdate(published)}</pubDate>"
            f"<description>{escape(' '.join(_sentence(rng, 14) for _ in range(3)))}</description>"
            "</item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {feed} of origin {origin}</title>{''.join(entries)}</channel></rss>"
    ).encode()


def article_page(feed: int, number: int) -> bytes:
    rng = random.Random(feed * 100_003 + number)
    title = _sentence(rng, 8)
    share = TOPIC_SHARE / 10
    paragraphs = "".join(
        f"<p>{_sentence(rng, 25, share)} {_sentence(rng, 20, share)}</p>" for _ in range(12)
    )
    return (
        f"<!DOCTYPE html><html><head><title>{title}</title></head><body>"
        f"<nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{paragraphs}</article>"
        "<footer>Copyright</footer></body></html>"
    ).encode()


def serve(layout: Layout, round_no: Synchronized[int], ports: multiprocessing.Queue[int]) -> None:
    """The origins, in a process of their own: one asyncio loop listening on every port."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    cache: dict[tuple[int, int], tuple[bytes, str]] = {}
    dated: dict[int, dict[int, float]] = {}

    def feed(number: int, port: int) -> tuple[bytes, str]:
        generation = layout.changes(number, round_no.value)
        key = (number, generation)
        if key not in cache:
            cache.pop((number, generation - 1), None)
            body = feed_body(layout, number, generation, dated.setdefault(number, {}))
            cache[key] = (body.replace(b"{port}", str(port).encode()), f'"{number}-{generation}"')
        return cache[key]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                status, body, extra = _answer(path, headers, port, feed)
                writer.write(
                    f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        servers = []
        for _ in range(layout.origins):
            server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=256)
            servers.append(server)
            ports.put(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    asyncio.run(main())


def _answer(
    path: str, headers: dict[str, str], port: int, feed: Callable[[int, int], tuple[bytes, str]]
) -> tuple[str, bytes, str]:
    if path == "/robots.txt":
        return "200 OK", b"User-agent: *\nAllow: /\n", "Content-Type: text/plain\r\n"
    parts = path.strip("/").split("/")
    if parts[0] == "feed" and len(parts) == 2:
        body, etag = feed(int(parts[1].removesuffix(".xml")), port)
        if headers.get("if-none-match") == etag:
            return "304 Not Modified", b"", f"ETag: {etag}\r\n"
        return "200 OK", body, f"ETag: {etag}\r\nContent-Type: application/rss+xml\r\n"
    if parts[0] == "a" and len(parts) == 3:
        page = article_page(int(parts[1]), int(parts[2].removesuffix(".html")))
        return "200 OK", page, "Content-Type: text/html; charset=utf-8\r\n"
    return "404 Not Found", b"", ""


# ---------------------------------------------------------------- config


def rule_queries(count: int) -> list[str]:
    """`count` rules of the shapes users write: phrases, AND/OR/NOT, NEAR, prefixes."""
    rng = random.Random(1000 + count)
    queries = []
    for number in range(count):
        a, b, c = rng.sample(WORDS, 3)
        shape = number % 5
        queries.append(
            [
                f'"{a} {b}"',
                f"{a} AND ({b} OR {c})",
                f"{a} NEAR/4 {b}",
                f"{a[:4]}* AND {b} NOT {c}",
                f"({a} OR {b}) AND {c}",
            ][shape]
        )
    return queries


def write_config(
    directory: Path, ports: list[int], layout: Layout, rules: int, interval: str, max_age: str
) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "settings.yaml").write_text(
        f"allow_private_networks: true   # the benchmark's servers are on loopback\n"
        f"max_age: {max_age}\n"
    )
    ids = []
    lines = [f"defaults: {{interval: {interval}, full_text: false, robots: true}}", "sources:"]
    for number in range(layout.feeds):
        port = ports[layout.origin_of(number)]
        # Spread over the origins: politeness (1 s between requests per origin)
        # would otherwise make one origin's page fetches the whole round.
        nth = number // layout.origins
        full = "true" if layout.full_text_every and nth % layout.full_text_every == 0 else "false"
        ids.append(f"f{number}")
        lines.append(
            f"  - {{id: f{number}, url: 'http://127.0.0.1:{port}/feed/{number}.xml', "
            f"type: feed, full_text: {full}}}"
        )
    (directory / "sources.yaml").write_text("\n".join(lines) + "\n")
    rule_lines = ["rules:"] + [
        f"  - {{id: r{n}, query: '{q}', mode: digest}}" for n, q in enumerate(rule_queries(rules))
    ]
    (directory / "rules.yaml").write_text("\n".join(rule_lines) + "\n")
    (directory / "apprise.yml").write_text("version: 1\n")
    load_config(directory, {})  # a mistake here would otherwise look like a stalled worker
    return ids


# ---------------------------------------------------------------- measuring


@dataclass
class Usage:
    """CPU seconds and peak RSS of a set of processes (and their children), sampled."""

    roots: list[psutil.Process]
    interval: float = 0.5
    peak_rss: int = 0
    # Proportional set size: shared pages (libraries, forked memory) split
    # among the processes sharing them, so the sum is what the machine spends.
    peak_pss: int = 0
    # Peak RSS by role (supervisor, worker, articles, extraction, beat, redis): where memory goes.
    peak_by_role: dict[str, int] = field(default_factory=dict)
    _cpu: dict[int, float] = field(default_factory=dict)
    _samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)

    def processes(self) -> list[psutil.Process]:
        found = []
        for root in self.roots:
            try:
                found += [root, *root.children(recursive=True)]
            except psutil.Error:
                continue
        return found

    def sample(self) -> None:
        rss = pss = 0
        self._samples += 1
        # PSS reads /proc/PID/smaps: every fifth sample only.
        with_pss = self._samples % 5 == 1
        for process in self.processes():
            try:
                times = process.cpu_times()
                used = int(process.memory_info().rss)
                role = _role(process.cmdline())
                if with_pss:
                    pss += int(process.memory_full_info().pss)
            except psutil.Error:
                continue
            rss += used
            self.peak_by_role[role] = max(self.peak_by_role.get(role, 0), used)
            # Children included: a worker's own threads and any process it starts.
            self._cpu[process.pid] = times.user + times.system
        self.peak_rss = max(self.peak_rss, rss)
        if with_pss:
            self.peak_pss = max(self.peak_pss, pss)

    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def roles(self) -> str:
        by_role = ", ".join(f"{r} {b / 1e6:.0f}" for r, b in sorted(self.peak_by_role.items()))
        return f"{by_role}; peak PSS of all {self.peak_pss / 1e6:.0f} MB"

    def run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    @contextmanager
    def sampling(self) -> Iterator[Usage]:
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


def _role(cmdline: list[str]) -> str:
    line = " ".join(cmdline)
    if "redis-server" in line:
        return "redis"
    if "worker.parse.budget" in line:
        return "extraction"  # the page-extraction server and its children
    if " beat" in line:
        return "beat"
    if "articles" in line:
        return "articles"
    if "celery" in line and " worker" in line:
        return "worker"
    return "supervisor"


@dataclass
class Phase:
    name: str
    seconds: float
    cpu_share: float  # of all cores
    peak_rss: int
    note: str = ""

    def show(self) -> None:
        print(
            f"  {self.name:<24} {self.seconds:7.1f} s  CPU {self.cpu_share * 100:5.1f}% of "
            f"{CORES} cores  peak RSS {self.peak_rss / 1e6:6.0f} MB  {self.note}",
            flush=True,
        )


class Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()

    def wait_for(self, what: str, check: Callable[[], bool], poll: float = 1.0) -> bool:
        while not check():
            if self.left() <= 0:
                print(f"  deadline reached waiting for {what}", flush=True)
                return False
            time.sleep(poll)
        return True


def counters(client: redis.Redis) -> tuple[int, int]:
    """(polls, articles) processed so far, from wirewatch's own metrics."""
    raw = client.hgetall(METRICS_KEY)
    polls = articles = 0
    for name, value in raw.items():
        key = name.decode() if isinstance(name, bytes) else str(name)
        if key.startswith("wirewatch_polls"):
            polls += int(value)
        elif key.startswith("wirewatch_articles"):
            articles += int(value)
    return polls, articles


def settled(client: redis.Redis, polls_wanted: int) -> Callable[[], bool]:
    """All wanted polls counted and no article left queued, steady for 3 s."""
    last: list[tuple[int, int]] = []

    def check() -> bool:
        polls, articles = counters(client)
        queued = int(client.llen(ARTICLES_QUEUE))
        last.append((polls, articles))
        steady = len(last) >= 4 and len(set(last[-4:])) == 1
        return polls >= polls_wanted and queued == 0 and steady

    return check


def _drained(client: redis.Redis, articles_wanted: int) -> Callable[[], bool]:
    def check() -> bool:
        return client.llen(ARTICLES_QUEUE) == 0 and counters(client)[1] >= articles_wanted

    return check


def _env(work: Path, url: str) -> dict[str, str]:
    return dict(
        os.environ,
        REDIS_URL=url,
        WIREWATCH_CONFIG=str(work / "config"),
        WIREWATCH_DATA=str(work / "data"),
        PYTHONPATH=str(ROOT),
    )


def _celery(*args: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "worker.service.app", *args]


def _stop(process: subprocess.Popen[bytes], grace: float = 60.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# ---------------------------------------------------------------- the runs


def start_origins(
    layout: Layout,
) -> tuple[Synchronized[int], multiprocessing.Process, list[int]]:
    """The loopback origins in a process of their own: the round counter they
    read, the process, and the port of each origin."""
    round_no: Synchronized[int] = multiprocessing.Value("i", 0)
    ports_queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    servers = multiprocessing.Process(
        target=serve, args=(layout, round_no, ports_queue), daemon=True
    )
    servers.start()
    return round_no, servers, [ports_queue.get(timeout=120) for _ in range(layout.origins)]


def run_rounds(args: argparse.Namespace, layout: Layout, work: Path, deadline: Deadline) -> None:
    round_no, servers, ports = start_origins(layout)
    ids = write_config(work / "config", ports, layout, args.rules, args.interval, args.max_age)
    interval = parse_duration(args.interval).total_seconds()
    redis_server = EmbeddedRedis(work / "redis")
    url = redis_server.start()
    client = redis.Redis.from_url(url)
    command = [sys.executable, "-m", "worker", "run", "--concurrency", str(args.concurrency)]
    log = (work / "wirewatch.log").open("wb")
    process = subprocess.Popen(
        command, cwd=ROOT, env=_env(work, url), stdout=log, stderr=subprocess.STDOUT
    )
    assert redis_server.process is not None
    usage = Usage([psutil.Process(process.pid), psutil.Process(redis_server.process.pid)])
    phases: list[Phase] = []
    try:
        with usage.sampling():
            start, cpu0 = time.time(), usage.cpu_seconds()
            done = deadline.wait_for("the cold start", settled(client, len(ids)), poll=1.0)
            seconds = time.time() - start
            _, articles = counters(client)
            phases.append(
                Phase(
                    "cold start + backlog",
                    seconds,
                    (usage.cpu_seconds() - cpu0) / seconds / CORES,
                    usage.peak_rss,
                    f"{articles} articles{'' if done else ' (unfinished)'}",
                )
            )
            phases[-1].show()
            print(f"    peak RSS by process, MB: {usage.roles()}", flush=True)
            for number in range(1, args.rounds + 1):
                if not done or deadline.left() < interval:
                    break
                polls0, articles0 = counters(client)
                usage.peak_rss = 0
                usage.peak_by_role.clear()
                usage.peak_pss = 0
                round_no.value = number  # a fifth of the feeds gain items
                start, cpu0 = time.time(), usage.cpu_seconds()
                # Every source due at once (what a beat restart does): the
                # burstiest round, measured from its first tick to its last article.
                client.set("ww:started", start)
                done = deadline.wait_for(
                    f"round {number}", settled(client, polls0 + len(ids)), poll=1.0
                )
                busy = time.time() - start
                # The rest of the interval counts too: CPU is per interval.
                rest = start + interval - time.time()
                if rest > 0:
                    time.sleep(min(rest, max(deadline.left(), 0)))
                spent = time.time() - start
                polls, articles = counters(client)
                phases.append(
                    Phase(
                        f"round {number}",
                        busy,
                        (usage.cpu_seconds() - cpu0) / spent / CORES,
                        usage.peak_rss,
                        f"{polls - polls0} polls, {articles - articles0} articles; "
                        f"within the {interval:.0f} s interval: "
                        + ("yes" if busy <= interval else "NO"),
                    )
                )
                phases[-1].show()
                print(f"    peak RSS by process, MB: {usage.roles()}", flush=True)
    finally:
        _stop(process)
        redis_server.stop()
        servers.terminate()
        servers.join(10)


def build_backlog(
    args: argparse.Namespace, work: Path, deadline: Deadline
) -> tuple[str, EmbeddedRedis, int]:
    """Poll enough feeds (full_text off) with the poll worker alone to queue `--drain` articles."""
    feeds = -(-args.drain // args.items)
    layout = Layout(feeds, min(args.origins, feeds), args.items, 0, 60.0, 0, time.time())
    _, servers, ports = start_origins(layout)
    ids = write_config(work / "config", ports, layout, args.rules, "24h", "90d")
    redis_server = EmbeddedRedis(work / "redis")
    url = redis_server.start()
    client = redis.Redis.from_url(url)
    env = _env(work, url)
    poller = subprocess.Popen(
        _celery("worker", "--pool", "threads", "--concurrency", str(args.concurrency),
                "--queues", "celery,ticks", "--hostname", f"poll@{socket.gethostname()}"),
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    beat = subprocess.Popen(
        _celery("beat", "--schedule", str(work / "celerybeat-schedule")),
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    start = time.time()
    try:
        # Each poll queues one fan_out message (on the articles queue) that
        # becomes a process task per new item: the backlog a cold start leaves.
        built = deadline.wait_for(
            "the backlog",
            lambda: counters(client)[0] >= len(ids) and client.llen(ARTICLES_QUEUE) >= len(ids),
            poll=1.0,
        )
    finally:
        _stop(beat)
        _stop(poller)
        servers.terminate()
    queued = len(ids) * args.items if built else 0
    print(
        f"  backlog: {queued} articles ({client.llen(ARTICLES_QUEUE)} fan-out messages) "
        f"from {len(ids)} feeds, built in {time.time() - start:.0f} s"
        + ("" if built else " (unfinished: no drain)"),
        flush=True,
    )
    return url, redis_server, queued


def run_drain(args: argparse.Namespace, work: Path, deadline: Deadline) -> None:
    url, redis_server, queued = build_backlog(args, work, deadline)
    if not queued:
        redis_server.stop()
        return
    client = redis.Redis.from_url(url)
    snapshot = [(key, client.pttl(key), client.dump(key)) for key in client.scan_iter(count=1000)]
    results = []
    try:
        for count in [int(n) for n in args.workers.split(",")]:
            if deadline.left() < 30:
                print("  deadline reached; no more worker counts", flush=True)
                break
            client.flushall()
            pipe = client.pipeline(transaction=False)
            for key, ttl, value in snapshot:
                if value is not None:
                    pipe.restore(key, max(int(ttl), 0), value, replace=True)
            pipe.execute()
            _, articles0 = counters(client)
            workers = [
                subprocess.Popen(
                    _celery(
                        "worker",
                        "--pool",
                        "threads",
                        "--concurrency",
                        str(args.threads),
                        "--queues",
                        ARTICLES_QUEUE,
                        "--hostname",
                        f"drain{n}@{socket.gethostname()}",
                        "--prefetch-multiplier",
                        "4",
                    ),
                    cwd=ROOT,
                    env=_env(work, url),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                for n in range(count)
            ]
            start = time.time()
            assert redis_server.process is not None
            measured = [psutil.Process(w.pid) for w in workers]
            measured.append(psutil.Process(redis_server.process.pid))
            # CPU of the workers and of Redis from the first article done (the
            # workers' start left out): on a shared machine, steadier than the rate.
            deadline.wait_for("a first article", _drained_past(client, articles0), poll=0.05)
            cpu0, first = _cpu(measured), counters(client)[1]
            drained = _drained(client, articles0 + queued)
            done = deadline.wait_for(f"the drain by {count}", drained, poll=0.5)
            seconds = time.time() - start
            processed = counters(client)[1] - articles0
            cpu = _cpu(measured) - cpu0
            after_first = counters(client)[1] - first
            for worker in workers:
                _stop(worker)
            rate = processed / seconds
            results.append((count, rate))
            print(
                f"  {count} worker process{'es' if count > 1 else ''}: {processed} articles in "
                f"{seconds:6.1f} s = {rate:7.1f} articles/s"
                f" (x{rate / results[0][1]:.2f} vs 1){'' if done else ' (unfinished)'}; "
                f"CPU {1000 * cpu / max(after_first, 1):.1f} ms per article",
                flush=True,
            )
    finally:
        redis_server.stop()


def _drained_past(client: redis.Redis, articles: int) -> Callable[[], bool]:
    return lambda: counters(client)[1] > articles


def _cpu(processes: list[psutil.Process]) -> float:
    """User and system CPU seconds of `processes` (and their threads) so far."""
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a quick run: 100 feeds, 10 origins")
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--origins", type=int, default=500)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--new-per-round", type=int, default=5)
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--full-text-every", type=int, default=10)
    parser.add_argument("--interval", default="5m", help="source interval: 30s..59m")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spacing", type=float, default=6 * 3600, help="s between item dates")
    parser.add_argument("--max-age", default="1d")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--drain", type=int, default=0, help="articles in the drain backlog")
    parser.add_argument("--workers", default="1,2,4,8")
    parser.add_argument("--threads", type=int, default=2, help="threads per drain worker")
    parser.add_argument("--skip-rounds", action="store_true")
    parser.add_argument("--deadline", type=float, default=3600.0)
    args = parser.parse_args()
    if args.small:
        # Until max_age is enforced a cold start processes every item: 20 each.
        args.feeds, args.origins, args.items, args.interval, args.rounds = 100, 10, 20, "30s", 2
        args.drain = args.drain or 600
        args.workers = "1,2"
        args.deadline = min(args.deadline, 540.0)
    deadline = Deadline(args.deadline)
    print(f"command: python bench/scale.py {' '.join(sys.argv[1:])}")
    print(f"machine: {CORES} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB")
    with tempfile.TemporaryDirectory(prefix="wirewatch-scale-") as tmp:
        work = Path(tmp)
        if not args.skip_rounds:
            layout = Layout(
                args.feeds, args.origins, args.items, args.new_per_round, args.spacing,
                args.full_text_every, time.time(),
            )  # fmt: skip
            print(
                f"rounds: {args.feeds} feeds on {args.origins} origins, {args.items} items, "
                f"{args.rules} rules, full_text on 1 in {args.full_text_every}, interval "
                f"{args.interval}, +{args.new_per_round} items on a fifth each round, "
                f"max_age {args.max_age}",
                flush=True,
            )
            run_rounds(args, layout, work / "rounds", deadline)
        if args.drain:
            print(f"drain: {args.drain} articles, worker processes {args.workers}", flush=True)
            run_drain(args, work / "drain", deadline)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
