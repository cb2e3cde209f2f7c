"""Real receivers for notification tests: an SMTP server, a JSON webhook, an MQTT subscriber.

Each runs on loopback, collects what it receives, and lets a test wait for
a number of deliveries on a condition with a timeout (no sleeping). Use them
as context managers:

    with SmtpReceiver() as smtp:
        url = smtp.apprise_url()          # mailto://127.0.0.1:PORT/...
        ...
        [message] = smtp.wait_for(1, timeout=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import socket
import threading
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

from aiosmtpd.controller import Controller

__all__ = [
    "Collector",
    "MqttSubscriber",
    "SmtpReceiver",
    "WebhookReceiver",
    "closed_port",
]

T = TypeVar("T")


def closed_port() -> int:
    """A loopback TCP port with nothing listening on it (connections are refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Collector(Generic[T]):
    """Thread-safe list of received items that a test can wait on."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._changed = threading.Condition()

    def add(self, item: T) -> None:
        with self._changed:
            self._items.append(item)
            self._changed.notify_all()

    @property
    def items(self) -> list[T]:
        with self._changed:
            return list(self._items)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[T]:
        """Block until at least `count` items arrived; AssertionError after `timeout` s."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._items) >= count, timeout):
                raise AssertionError(
                    f"expected {count} deliveries within {timeout}s, got {len(self._items)}"
                )
            return list(self._items)


class _Receiver(Generic[T]):
    def __init__(self) -> None:
        self.received: Collector[T] = Collector()

    @property
    def items(self) -> list[T]:
        return self.received.items

    def wait_for(self, count: int, timeout: float = 10.0) -> list[T]:
        return self.received.wait_for(count, timeout)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# ---------------------------------------------------------------- SMTP


class _SmtpHandler:
    def __init__(self, sink: Callable[[EmailMessage, Any], None]) -> None:
        self._sink = sink
        self.recipients_offered = 0
        # Cleared by SmtpReceiver.hold(): the server then stalls before it
        # answers RCPT TO, so a sender is caught mid-delivery, before the
        # server has accepted anything.
        self.open = threading.Event()
        self.open.set()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self.recipients_offered += 1
        if not self.open.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self.open.wait)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.content
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        message = email.message_from_bytes(data, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self._sink(message, envelope)
        return "250 Message accepted"


class SmtpReceiver(_Receiver[EmailMessage]):
    """A plain (no TLS, no auth) SMTP server on a free loopback port.

    `envelopes` keeps (mail_from, rcpt_tos) per message, in the same order.
    """

    def __init__(self, port: int | None = None) -> None:
        super().__init__()
        self.envelopes: list[tuple[str, list[str]]] = []
        self.port = port or 0
        self._fixed_port = port is not None
        self._controller: Controller | None = None
        self._handler = _SmtpHandler(self._sink)

    @property
    def recipients_offered(self) -> int:
        """RCPT TO commands seen, accepted or still held."""
        return self._handler.recipients_offered

    def hold(self) -> None:
        """Stall every session before RCPT TO is answered, until release()."""
        self._handler.open.clear()

    def release(self) -> None:
        self._handler.open.set()

    def _sink(self, message: EmailMessage, envelope: Any) -> None:
        self.envelopes.append((str(envelope.mail_from), list(envelope.rcpt_tos)))
        self.received.add(message)

    def start(self) -> None:
        # aiosmtpd needs a concrete port; another process may take the one we
        # picked before we bind it, so try a few.
        for _attempt in range(5):
            port = self.port if self._fixed_port else closed_port()
            controller = Controller(
                self._handler, hostname="127.0.0.1", port=port, ready_timeout=10
            )
            try:
                controller.start()
            except (OSError, RuntimeError):
                continue
            self._controller, self.port = controller, port
            return
        raise RuntimeError("could not start the SMTP receiver")

    def stop(self) -> None:
        self.release()  # a held session would keep the server's loop from closing
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def apprise_url(
        self, to: str = "analyst@example.org", sender: str = "wirewatch@example.org"
    ) -> str:
        """An Apprise URL that delivers here.

        `mailto://` (not `mailtos://`) means no TLS; no user and password
        means no SMTP AUTH; the recipient goes in the path, the sender in
        `from=` (Apprise needs an address with a real-looking domain).
        """
        return f"mailto://127.0.0.1:{self.port}/{to}?from={sender}"


# ---------------------------------------------------------------- JSON webhook


class WebhookReceiver(_Receiver[dict[str, Any]]):
    """An HTTP server collecting JSON request bodies, for Apprise `json://` URLs.

    Each item is the decoded body; `requests` keeps (method, path, headers).
    `status` is what it answers (set 500 to make a target fail).
    """

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "receiver not started"
        return int(self._server.server_address[1])

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = {"_raw": raw.decode("utf-8", "replace")}
                # Recorded before answering, so it is there once the sender returns.
                receiver.requests.append(("POST", self.path, dict(self.headers.items())))
                receiver.received.add(body if isinstance(body, dict) else {"_value": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                # Keep test output clean; requests are recorded above.
                pass

        return Handler

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        server = self._server
        # A short poll interval only makes shutdown() quick at teardown.
        self._thread = threading.Thread(
            target=lambda: server.serve_forever(poll_interval=0.05), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def apprise_url(self, path: str = "/hook") -> str:
        return f"json://127.0.0.1:{self.port}{path}"


# ---------------------------------------------------------------- MQTT


class MqttSubscriber(_Receiver[tuple[str, bytes]]):
    """A paho-mqtt subscriber on a fresh topic of a running broker; items are (topic, payload).

    Needs the optional `paho-mqtt` package (also what Apprise's mqtt:// uses).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 1883, topic: str = "") -> None:
        super().__init__()
        self.host, self.port = host, port
        self.topic = topic or f"wirewatch-test-{uuid.uuid4().hex}"
        self._client: Any = None
        self._subscribed = threading.Event()

    def start(self) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.on_connect = lambda c, _u, _f, _rc, _p: c.subscribe(self.topic, qos=1)
        client.on_subscribe = lambda *_args: self._subscribed.set()
        client.on_message = lambda _c, _u, msg: self.received.add((msg.topic, bytes(msg.payload)))
        client.connect(self.host, self.port)
        client.loop_start()
        self._client = client
        if not self._subscribed.wait(10):
            self.stop()
            raise RuntimeError(f"no MQTT subscription on {self.host}:{self.port} within 10s")

    def stop(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def apprise_url(self) -> str:
        return f"mqtt://{self.host}:{self.port}/{self.topic}"
