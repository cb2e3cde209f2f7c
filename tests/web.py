"""A real HTTP server on loopback serving whatever a test puts at a path."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Page:
    body: bytes
    content_type: str
    status: int = 200


class Site:
    """Pages by path; conditional GET by ETag, like a well-behaved news site."""

    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.hits: Counter[str] = Counter()
        self.held: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with site._lock:
                    site.hits[self.path] += 1
                    gate = site.held.get(self.path)
                if gate is not None:
                    gate.wait(120)  # a server that is slow to answer, until the test lets it
                with site._lock:
                    page = site.pages.get(self.path)
                if page is None:
                    self.send_error(404)
                    return
                etag = '"' + hashlib.sha1(page.body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(page.body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def put(
        self, path: str, body: str | bytes, content_type: str = "text/html; charset=utf-8"
    ) -> None:
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self.pages[path] = Page(data, content_type)

    def hold(self, path: str) -> None:
        """Requests for `path` wait, unanswered, until `release(path)`."""
        with self._lock:
            self.held[path] = threading.Event()

    def release(self, path: str) -> None:
        with self._lock:
            gate = self.held.pop(path, None)
        if gate is not None:
            gate.set()

    def __enter__(self) -> Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for path in list(self.held):
            self.release(path)
        self.server.shutdown()
        self.server.server_close()
