"""Polling throughput of the real worker: 1,000 feeds on loopback.

    python bench/poll.py [--feeds 1000] [--hosts 100] [--items 50] [--latency 0.05]
                         [--concurrency 64]

Starts (in a separate process) `--hosts` HTTP servers on 127.0.0.1, each an
origin serving `feeds / hosts` RSS feeds of `--items` items, answering every
request after `--latency` seconds and honouring If-None-Match with 304. Then
runs `wirewatch run --concurrency N` (worker threads plus beat, exactly as a
user starts it) against a Redis of its own, with the default politeness
(2 requests in flight and 1 s between request starts per origin, robots.txt
checked) and `full_text: false`, so each poll is one feed request.

Printed:
  cold round   first tick -> every feed polled once (all items new)
  articles     new items processed per second (matched, archived) by the
               articles worker during --backlog-window seconds after the cold round
  warm round   every feed made due again (as a beat restart does) -> all polled (304s)
  breakdown    where the warm round's time went, from the request times the
               servers saw: until the first request, each origin's span
               against the politeness floor, and from the last request until
               every poll was recorded; then Redis commands per poll and the
               CPU time of each worker process (and of its main thread, where
               Celery receives, acknowledges and dispatches) in the round
  feeds/s      per round
  peak memory  RSS of the celery worker process, sampled every 0.2 s
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from queue import Empty

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.service.embedded_redis import EmbeddedRedis  # noqa: E402
from worker.store import Store  # noqa: E402

WORDS = [
    *("ministry", "sanctions", "grain", "exports", "talks", "summit", "parliament"),
    *("court", "ruling", "pipeline", "election", "protest", "border", "ceasefire"),
    *("delegation", "minister", "contract", "shipment", "report"),
]


STARTED = time.time()


def feed_xml(host: int, feed: int, items: int) -> bytes:
    entries = []
    for i in range(items):
        words = " ".join(WORDS[(host + feed + i + k) % len(WORDS)] for k in range(40))
        entries.append(
            f"<item><title>Story {host}-{feed}-{i}: {WORDS[i % len(WORDS)]}</title>"
            f"<link>https://news{host}.example.org/{feed}/{i}</link>"
            f"<guid>h{host}f{feed}i{i}</guid>"
            # Dated in the last hours, so max_age (default 7d) lets them through.
            f"<pubDate>{formatdate(STARTED - 3600 - i * 60)}</pubDate>"
            f"<description>{words}</description></item>"
        )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Feed {host}-{feed}</title><link>https://news{host}.example.org/</link>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def serve(
    hosts: int,
    per_host: int,
    items: int,
    latency: float,
    ports: multiprocessing.Queue,  # type: ignore[type-arg]
    seen: multiprocessing.Queue,  # type: ignore[type-arg]
) -> None:
    """The feed servers, in their own process; puts each port on `ports`, and
    (origin, arrival time) of every request on `seen`."""
    servers = []
    for host in range(hosts):
        feeds = {f"/feed/{f}.xml": feed_xml(host, f, items) for f in range(per_host)}
        etags = {path: '"' + hashlib.sha1(body).hexdigest() + '"' for path, body in feeds.items()}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            _feeds = feeds
            _etags = etags
            _host = host

            def do_GET(self) -> None:
                seen.put((self._host, time.time()))
                time.sleep(latency)
                body = self._feeds.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = self._etags[self.path]
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        ports.put(server.server_address[1])
    threading.Event().wait()


def write_config(directory: Path, ports: list[int], per_host: int) -> int:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "settings.yaml").write_text(
        "tick: 1s\nallow_private_networks: true   # the benchmark's servers are on loopback\n"
    )
    lines = ["defaults: {interval: 24h, full_text: false}", "sources:"]
    count = 0
    for h, port in enumerate(ports):
        for f in range(per_host):
            lines.append(
                f"  - {{id: h{h}-f{f}, url: 'http://127.0.0.1:{port}/feed/{f}.xml', type: feed}}"
            )
            count += 1
    (directory / "sources.yaml").write_text("\n".join(lines) + "\n")
    (directory / "rules.yaml").write_text(
        "rules:\n"
        "  - {id: sanctions, query: 'sanction* NEAR/5 (grain OR exports)'}\n"
        "  - {id: s300, query: '\"S-300\" AND (Iran OR Tehran)'}\n"
        "  - {id: court, query: 'court AND ruling NOT election'}\n"
    )
    (directory / "apprise.yml").write_text("version: 1\n")
    return count


def worker_processes(root: psutil.Process) -> dict[str, psutil.Process]:
    """The celery worker processes under `wirewatch run`, by the queue they serve."""
    found = {}
    for child in root.children(recursive=True):
        try:
            cmd = child.cmdline()
        except psutil.Error:
            continue
        if "celery" in " ".join(cmd) and "worker" in cmd and "--queues" in cmd:
            found[cmd[cmd.index("--queues") + 1].split(",")[0]] = child
    return found


class MemorySampler(threading.Thread):
    """Peak RSS of each worker process and of their sum, sampled every 0.2 s."""

    def __init__(self, root: psutil.Process) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peaks: dict[str, int] = {}
        self.peak_total = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.2):
            total = 0
            for queue, process in worker_processes(self.root).items():
                try:
                    rss = int(process.memory_info().rss)
                except psutil.Error:
                    continue
                self.peaks[queue] = max(self.peaks.get(queue, 0), rss)
                total += rss
            self.peak_total = max(self.peak_total, total)


def cpu_seconds(root: psutil.Process) -> dict[str, float]:
    """CPU time (user + system) used so far by each worker process, by queue, and by
    the main thread of each (Celery's consumer: receiving, acknowledging, dispatching)."""
    used = {}
    for queue, process in worker_processes(root).items():
        try:
            times = process.cpu_times()
            threads = process.threads()
        except psutil.Error:
            continue
        used[f"{queue} worker"] = times.user + times.system
        main = [t for t in threads if t.id == process.pid]
        used[f"{queue} worker's main thread"] = sum(t.user_time + t.system_time for t in main)
    return used


def redis_calls(store: Store) -> dict[str, int]:
    """Calls per Redis command so far (all clients: workers, beat, this script)."""
    stats = store.redis.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}


def polled_since(store: Store, ids: list[str], since: float) -> tuple[int, dict[str, int]]:
    pipe = store.redis.pipeline()
    for sid in ids:
        pipe.hmget(f"ww:source:{sid}", ["last_poll", "last_result"])
    done = 0
    results: dict[str, int] = {}
    for last_poll, result in pipe.execute():
        if last_poll and float(last_poll) >= since:
            done += 1
            results[result] = results.get(result, 0) + 1
    return done, results


def wait_round(store: Store, ids: list[str], since: float, timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    shown = time.monotonic()
    while True:
        done, results = polled_since(store, ids, since)
        if done == len(ids):
            return results
        if time.monotonic() - shown > 5:
            print(f"  ... {done}/{len(ids)} polled {results}", file=sys.stderr, flush=True)
            shown = time.monotonic()
        if time.monotonic() > deadline:
            raise SystemExit(
                f"round not complete after {timeout:.0f}s: {done}/{len(ids)} {results}"
            )
        time.sleep(0.1)


def drain(seen: multiprocessing.Queue) -> list[tuple[int, float]]:  # type: ignore[type-arg]
    """Every (origin, arrival time) the servers reported so far."""
    found = []
    while True:
        try:
            found.append(seen.get(timeout=0.5))
        except Empty:
            return found


def show_breakdown(
    requests: list[tuple[int, float]], start: float, end: float, delay: float
) -> None:
    """Where a round's time went: waiting for the first request, each origin's requests
    against the politeness floor (one start per `delay`), recording the last polls."""
    by_origin: dict[int, list[float]] = {}
    for origin, at in requests:
        by_origin.setdefault(origin, []).append(at)
    spans = sorted(max(times) - min(times) for times in by_origin.values())
    gaps = [b - a for times in by_origin.values() for a, b in itertools.pairwise(sorted(times))]
    per_origin = max(len(times) for times in by_origin.values())
    first = min(at for _, at in requests) - start
    last = max(at for _, at in requests) - start
    print(
        f"  breakdown: first request after {first:.1f} s; per origin {per_origin} requests "
        f"spanning {spans[0]:.1f}-{spans[-1]:.1f} s (median {statistics.median(spans):.1f}; "
        f"floor {(per_origin - 1) * delay:.1f} s), gaps mean {statistics.mean(gaps):.2f} s, "
        f"max {max(gaps):.2f} s; last request at {last:.1f} s, all recorded at "
        f"{end - start:.1f} s",
        flush=True,
    )


def show_round(name: str, seconds: float, feeds: int, results: dict[str, int]) -> None:
    print(f"{name} round:  {seconds:6.1f} s  {feeds / seconds:6.1f} feeds/s  {results}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--backlog-window", type=float, default=30.0)
    args = parser.parse_args()
    per_host = args.feeds // args.hosts

    ports_queue: multiprocessing.Queue[int] = multiprocessing.Queue()
    seen: multiprocessing.Queue[tuple[int, float]] = multiprocessing.Queue()
    servers = multiprocessing.Process(
        target=serve,
        args=(args.hosts, per_host, args.items, args.latency, ports_queue, seen),
        daemon=True,
    )
    servers.start()
    ports = [ports_queue.get(timeout=60) for _ in range(args.hosts)]

    with tempfile.TemporaryDirectory(prefix="wirewatch-bench-") as tmp:
        work = Path(tmp)
        redis_server = EmbeddedRedis(work / "redis")
        url = redis_server.start()
        store = Store.from_url(url)
        count = write_config(work / "config", ports, per_host)
        ids = [f"h{h}-f{f}" for h in range(args.hosts) for f in range(per_host)]
        env = dict(
            os.environ,
            REDIS_URL=url,
            WIREWATCH_CONFIG=str(work / "config"),
            WIREWATCH_DATA=str(work / "data"),
        )
        command = [sys.executable, "-m", "worker", "run", "--concurrency", str(args.concurrency)]
        log = (work / "wirewatch.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        sampler = MemorySampler(psutil.Process(process.pid))
        sampler.start()
        try:
            while store.sources.last_heartbeat() is None:
                if process.poll() is not None:
                    raise SystemExit((work / "wirewatch.log").read_text())
                time.sleep(0.05)
            start = time.time()
            cold = wait_round(store, ids, 0, 600)
            cold_s = time.time() - start
            print(
                f"cold round:  {cold_s:6.1f} s  {count / cold_s:6.1f} feeds/s  {cold}", flush=True
            )

            # The new articles are processed by the articles worker meanwhile;
            # its rate is measured, not the whole backlog (it is CPU-bound).
            window_start, archived = time.time(), store.redis.zcard("ww:archive")
            time.sleep(args.backlog_window)
            window = time.time() - window_start
            rate = (store.redis.zcard("ww:archive") - archived) / window
            pending = store.guard.queue_depth("articles")
            print(f"articles:    {rate:6.1f} processed/s, {pending} tasks still queued", flush=True)

            # What a beat restart does: every source is due at the next tick.
            drain(seen)  # the cold round's requests
            cpu_before = cpu_seconds(psutil.Process(process.pid))
            calls_before = redis_calls(store)
            warm_start = time.time()
            store.redis.set("ww:started", warm_start)
            warm = wait_round(store, ids, warm_start, 600)
            warm_end = time.time()
            warm_s = warm_end - warm_start
            print(
                f"warm round:  {warm_s:6.1f} s  {count / warm_s:6.1f} feeds/s  {warm}", flush=True
            )
            requests = [(o, at) for o, at in drain(seen) if at >= warm_start]
            show_breakdown(requests, warm_start, warm_end, delay=1.0)
            cpu_after = cpu_seconds(psutil.Process(process.pid))
            calls = {
                name: (n - calls_before.get(name, 0)) / count
                for name, n in redis_calls(store).items()
            }
            top = sorted(calls.items(), key=lambda item: -item[1])[:8]
            print(
                f"  Redis commands per poll, all clients (hmget is this script watching): "
                f"{sum(calls.values()):.1f} ("
                + ", ".join(f"{name} {n:.1f}" for name, n in top)
                + ")",
                flush=True,
            )
            used = {q: cpu_after[q] - cpu_before.get(q, 0.0) for q in sorted(cpu_after)}
            per_poll = used.get("celery worker", 0.0) / count * 1000
            print(
                "  CPU during the warm round: "
                + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in used.items())
                + f" ({per_poll:.1f} ms per poll in the poll worker, queue celery)",
                flush=True,
            )
        finally:
            sampler.stop.set()
            process.terminate()
            process.wait(120)
            redis_server.stop()
            servers.terminate()

    print(f"command: {' '.join(['python', 'bench/poll.py', *sys.argv[1:]])}")
    print(
        f"{count} feeds on {args.hosts} loopback origins, {args.items} items each, "
        f"{args.latency * 1000:.0f} ms latency; worker: {args.concurrency} threads, "
        f"{psutil.cpu_count()} cores"
    )
    peaks = ", ".join(f"{q} {b / 1e6:.0f} MB" for q, b in sorted(sampler.peaks.items()))
    print(f"peak memory: {sampler.peak_total / 1e6:6.1f} MB both worker processes ({peaks})")


if __name__ == "__main__":
    main()
