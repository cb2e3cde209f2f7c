"""What an idle `wirewatch run` holds: RSS and PSS per process, and the total.

    python bench/idle_memory.py                    # one source on a loopback feed, embedded Redis
    python bench/idle_memory.py --sources 10000    # and 9,999 more, each on an empty loopback feed

Starts `wirewatch run` on a config of one source (a loopback RSS feed of 20
items), one rule and one target, waits for the first poll's line, lets it
settle for `--settle` seconds, then prints each process's RSS and PSS
(psutil), the supervisor's children found by walking the tree. PSS counts a
page shared by several processes once, split among them: it is what the
machine spends.

With `--sources N`, the other N-1 sources are feeds of no items on the same
loopback server (no politeness delay between them, so that their first polls
take a minute, not hours): the run is measured once all N have been polled.
What it shows is the cost of the config and of the sources' state, without
the articles of a full scale run (bench/scale.py).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil

ITEMS = 20


def _feed() -> bytes:
    now = time.time()
    items = "".join(
        f"<item><title>Story {n}</title><link>http://127.0.0.1/story/{n}</link>"
        f"<guid>story-{n}</guid><pubDate>{formatdate(now - 600 * n)}</pubDate>"
        f"<description>Ministers met in Tehran about item {n}.</description></item>"
        for n in range(ITEMS)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Idle</title>'
        f"<link>http://127.0.0.1/</link><description>d</description>{items}</channel></rss>"
    ).encode()


EMPTY = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Empty</title>'
    b"<link>http://127.0.0.1/</link><description>d</description></channel></rss>"
)


class _Feed(BaseHTTPRequestHandler):
    body = _feed()
    protocol_version = "HTTP/1.1"  # keep-alive: ten thousand polls, not ten thousand connects

    def do_GET(self) -> None:
        if self.path == "/rss":
            status, body = 200, self.body
        elif self.path.startswith("/empty/"):
            status, body = 200, EMPTY
        else:
            status, body = 404, b""
        self.send_response(status)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _write_config(directory: Path, port: int, sources: int) -> None:
    directory.mkdir()
    settings = "tick: 1s\nallow_private_networks: true\n"
    if sources > 1:
        # One loopback origin serves them all: without this its 1 s between
        # requests would spread the first polls over hours.
        settings += "fetch: {per_host_delay: 0s, per_host_concurrency: 16}\n"
    (directory / "settings.yaml").write_text(settings)
    lines = [
        "defaults: {interval: 1h, robots: false}",
        "sources:",
        f"  - {{id: idle, url: 'http://127.0.0.1:{port}/rss', type: feed, interval: 10m}}",
    ]
    lines += [
        # A tenth with full_text, as in bench/scale.py: the config's shape, not its work.
        f"  - {{id: s{n}, url: 'http://127.0.0.1:{port}/empty/{n}.xml', type: feed, "
        f"full_text: {'true' if n % 10 == 0 else 'false'}}}"
        for n in range(1, sources)
    ]
    (directory / "sources.yaml").write_text("\n".join(lines) + "\n")
    (directory / "rules.yaml").write_text(
        "rules:\n  - id: tehran\n    query: Tehran\n    notify: [desk]\n"
    )
    # A target nobody listens on: sending fails and is retried; idle memory is the point.
    (directory / "apprise.yml").write_text("urls:\n  - json://127.0.0.1:9/hook:\n      tag: desk\n")


def _measure(root: psutil.Process) -> list[tuple[str, int, int]]:
    rows = []
    for process in [root, *root.children(recursive=True)]:
        try:
            info = process.memory_full_info()
            cmd = process.cmdline()
        except psutil.Error:
            continue
        if "redis-server" in " ".join(cmd[:1]):
            name = "redis"
        elif "beat" in cmd:
            name = "beat"
        elif "--hostname" in cmd:
            name = cmd[cmd.index("--hostname") + 1].split("@")[0]
        elif process.pid == root.pid:
            name = "supervisor"
        else:
            name = " ".join(cmd)[:40]
        rows.append((name, int(info.rss), int(info.pss)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=10.0, help="seconds idle before measuring")
    parser.add_argument("--sources", type=int, default=1, help="sources in the config")
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"
        _write_config(config, server.server_address[1], args.sources)
        env = dict(os.environ, WIREWATCH_CONFIG=str(config), WIREWATCH_DATA=str(Path(tmp) / "data"))
        env.pop("REDIS_URL", None)
        log = Path(tmp) / "run.log"
        with log.open("wb") as out:
            child = subprocess.Popen(
                [sys.executable, "-m", "worker", "run"], env=env, stdout=out, stderr=out
            )
        try:
            deadline = time.monotonic() + args.timeout
            start = time.monotonic()
            while log.read_text(errors="replace").count("polled:") < args.sources:
                if time.monotonic() > deadline or child.poll() is not None:
                    text = log.read_text(errors="replace")
                    raise SystemExit(f"{text.count('polled:')} polls of {args.sources}:\n{text}")
                time.sleep(0.5)
            print(f"{args.sources} sources polled {time.monotonic() - start:.0f} s after start")
            time.sleep(args.settle)
            rows = _measure(psutil.Process(child.pid))
        finally:
            child.terminate()
            child.wait(60)
            server.shutdown()
    mb = 1024 * 1024
    print(f"{'process':<12} {'RSS MB':>8} {'PSS MB':>8}")
    for name, rss, pss in rows:
        print(f"{name:<12} {rss / mb:8.1f} {pss / mb:8.1f}")
    print(f"{'total':<12} {sum(r[1] for r in rows) / mb:8.1f} {sum(r[2] for r in rows) / mb:8.1f}")
    wire = [r for r in rows if r[0] != "redis"]
    print(
        f"{'w/o redis':<12} {sum(r[1] for r in wire) / mb:8.1f} {sum(r[2] for r in wire) / mb:8.1f}"
    )


if __name__ == "__main__":
    main()
