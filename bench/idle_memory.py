"""What an idle `wirewatch run` holds: RSS and PSS per process, and the total.

    python bench/idle_memory.py            # one source on a loopback feed, embedded Redis

Starts `wirewatch run` on a one-source config (a loopback RSS feed of 20
items, one rule, one target), waits for the first poll's line, lets it settle
for `--settle` seconds, then prints each process's RSS and PSS (psutil), the
supervisor's children found by walking the tree. PSS counts a page shared by
several processes once, split among them: it is what the machine spends.
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


class _Feed(BaseHTTPRequestHandler):
    body = _feed()

    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/rss" else 404)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _write_config(directory: Path, port: int) -> None:
    directory.mkdir()
    (directory / "settings.yaml").write_text("tick: 1s\nallow_private_networks: true\n")
    (directory / "sources.yaml").write_text(
        "sources:\n"
        f"  - id: idle\n    url: http://127.0.0.1:{port}/rss\n    type: feed\n"
        "    interval: 10m\n"
    )
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
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config"
        _write_config(config, server.server_address[1])
        env = dict(os.environ, WIREWATCH_CONFIG=str(config), WIREWATCH_DATA=str(Path(tmp) / "data"))
        env.pop("REDIS_URL", None)
        log = Path(tmp) / "run.log"
        with log.open("wb") as out:
            child = subprocess.Popen(
                [sys.executable, "-m", "worker", "run"], env=env, stdout=out, stderr=out
            )
        try:
            deadline = time.monotonic() + args.timeout
            while "polled:" not in log.read_text(errors="replace"):
                if time.monotonic() > deadline or child.poll() is not None:
                    raise SystemExit(f"no poll line:\n{log.read_text(errors='replace')}")
                time.sleep(0.5)
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
