"""A real HTTP server on loopback that misbehaves in every way a stranger's server can.

Paths pick the misbehaviour; `hits` counts requests per path, `in_flight`
and `starts` record concurrency and timing for the politeness tests.

`ScriptedDns` and `HangingDns` stand in for a hostile DNS server: one that
rebinds a name between two lookups, one that never answers. Both plug into
the `resolver` seam of `make_client` and `send`.
"""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections import Counter
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Good wire</title><link>{base}/</link>
<item><title>Ministry announces new sanctions</title><link>{base}/news/1</link>
<guid>n1</guid><description>Sanctions on grain exports.</description></item>
</channel></rss>
"""

# Billion laughs: ten levels of ten-fold entity expansion (10^9 "lol"s).
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<rss version="2.0"><channel><title>&lol9;</title>'
    "<item><title>&lol9;</title><link>http://example.org/1</link></item></channel></rss>\n"
)

XXE = """<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>XXE</title>
<item><title>Leak &xxe;</title><link>http://example.org/xxe</link>
<description>&xxe;</description></item></channel></rss>
"""

# Declared UTF-8, written in windows-1251: what a misconfigured Russian site sends.
WRONG_CHARSET = (
    '<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Лента</title>'
    "<item><title>Москва объявила новые санкции</title><link>http://example.org/ru/1</link>"
    "<description>Москва и Тегеран</description></item></channel></rss>\n"
).encode("windows-1251")

ROBOTS = "User-agent: *\nDisallow: /private\n"


class ScriptedDns:
    """Answers lookups of `name` from a script, one answer per lookup, the last one
    repeated: what a rebinding attacker's DNS server does with a TTL of zero."""

    def __init__(self, name: str, *answers: list[str]) -> None:
        self.name = name
        self._answers = list(answers)
        self._lock = threading.Lock()
        self.lookups: list[list[str]] = []

    def __call__(self, host: str, port: int) -> list[str]:
        if host != self.name:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        with self._lock:
            answer = self._answers[min(len(self.lookups), len(self._answers) - 1)]
            self.lookups.append(answer)
            return answer


class HangingDns:
    """A resolver that never answers, until the `with` block ends (so no lookup
    thread outlives the test)."""

    def __init__(self) -> None:
        self.asked = threading.Event()
        self._released = threading.Event()

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.set()
        self._released.wait()
        raise OSError(f"gave up on {host}")

    def __enter__(self) -> HangingDns:
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()


@cache
def gzip_bomb() -> bytes:
    """About 100 KB on the wire, 100 MB once decompressed."""
    return gzip.compress(b"\0" * 100_000_000, compresslevel=9)


class HostileServer:
    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.starts: list[float] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.failing = True  # /flaky answers 500 while set
        # When set, robots.txt arrives a byte at a time over this many seconds.
        self.robots_drip: float | None = None
        self.closing = threading.Event()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server._lock:
                    server.hits[parts.path] += 1
                    server.starts.append(time.monotonic())
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    server.route(self, parts.path, parse_qs(parts.query))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up: that is the point of most paths here
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=lambda: self.server.serve_forever(poll_interval=0.05), daemon=True
        )

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def route(self, h: BaseHTTPRequestHandler, path: str, query: dict[str, list[str]]) -> None:
        if path == "/feed" or path == "/private/feed" or path.startswith("/news/"):
            self.send(h, 200, RSS.format(base=self.base).encode(), "application/rss+xml")
        elif path == "/robots.txt" and self.robots_drip is not None:
            self.drip_robots(h, self.robots_drip)
        elif path == "/robots.txt":
            self.send(h, 200, ROBOTS.encode(), "text/plain")
        elif path == "/slow":
            self.closing.wait(0.3)
            self.send(h, 200, RSS.format(base=self.base).encode(), "application/rss+xml")
        elif path == "/echo-host":
            self.send(h, 200, str(h.headers.get("Host")).encode(), "text/plain")
        elif path == "/drip":
            self.drip_body(h)
        elif path == "/drip-headers":
            self.drip_headers(h)
        elif path == "/endless":
            self.endless(h)
        elif path == "/gzip-bomb":
            body = gzip_bomb()
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.send_header("Content-Encoding", "gzip")
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        elif path in ("/gzip-feed", "/deflate-feed", "/raw-deflate-feed"):
            rss = RSS.format(base=self.base).encode()
            if path == "/gzip-feed":
                body, encoding = gzip.compress(rss), "gzip"
            elif path == "/deflate-feed":
                body, encoding = zlib.compress(rss), "deflate"
            else:
                packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
                body, encoding = packer.compress(rss) + packer.flush(), "deflate"
            h.send_response(200)
            h.send_header("Content-Type", "application/rss+xml")
            h.send_header("Content-Encoding", encoding)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        elif path == "/loop":
            self.redirect(h, "/loop")
        elif path == "/redirect":
            self.redirect(h, query["to"][0])
        elif path == "/laughs":
            self.send(h, 200, LAUGHS.encode(), "application/rss+xml")
        elif path == "/xxe":
            self.send(h, 200, XXE.encode(), "application/rss+xml")
        elif path == "/wrong-charset":
            self.send(h, 200, WRONG_CHARSET, "application/rss+xml; charset=utf-8")
        elif path == "/500":
            self.send(h, 500, b"oops", "text/plain")
        elif path == "/flaky":
            if self.failing:
                self.send(h, 500, b"down", "text/plain")
            else:
                self.send(h, 200, RSS.format(base=self.base).encode(), "application/rss+xml")
        elif path == "/429":
            h.send_response(429)
            h.send_header("Retry-After", "120")
            h.send_header("Content-Length", "0")
            h.end_headers()
        elif path == "/empty-listing":
            self.send(h, 200, b"<html><body><p>Redesigned!</p></body></html>", "text/html")
        else:
            self.send(h, 404, b"not here", "text/plain")

    @staticmethod
    def send(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    @staticmethod
    def redirect(h: BaseHTTPRequestHandler, location: str) -> None:
        h.send_response(302)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def drip_body(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", "1000000")
        h.end_headers()
        while not self.closing.wait(0.1):
            h.wfile.write(b"<")
            h.wfile.flush()

    def drip_robots(self, h: BaseHTTPRequestHandler, seconds: float) -> None:
        """A whole robots.txt, each byte well within the read timeout, all of it in `seconds`."""
        body = ROBOTS.encode()
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        for index in range(len(body)):
            if self.closing.wait(seconds / len(body)):
                return
            h.wfile.write(body[index : index + 1])
            h.wfile.flush()

    def drip_headers(self, h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"HTTP/1.1 200 OK\r\n")
        while not self.closing.wait(0.1):
            h.wfile.write(b"X")
            h.wfile.flush()

    def endless(self, h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Connection", "close")
        h.end_headers()
        chunk = b"<item>" * 10_000
        while not self.closing.is_set():
            h.wfile.write(chunk)

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
