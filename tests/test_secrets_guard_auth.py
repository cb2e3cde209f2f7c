"""Secrets from `${NAME}` never shown; every HTTP notification target guarded;
authenticated sources send their credentials to their own host only."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.hostile import ScriptedDns
from tests.receivers import WebhookReceiver, closed_port
from tests.test_cli_commands import cli
from worker.config import Config, Settings, Source, load_config
from worker.fetch import Fetcher, FetchLimits, is_refused_address, make_client
from worker.notify import Message, load_targets, send
from worker.pipeline import PollContext, build_article, poll_source

SECRET = "s3cr3t-Value_42"


# -- secrets -----------------------------------------------------------------


def _secret_config(tmp_path: Path, port: int, *, private: bool) -> Path:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.yaml").write_text(f"allow_private_networks: {str(private).lower()}\n")
    (config / "sources.yaml").write_text("sources: []\n")
    (config / "rules.yaml").write_text("rules: []\n")
    (config / "apprise.yml").write_text(
        "urls:\n"
        f"  - json://user:${{PW}}@127.0.0.1:{port}/hooks/${{PW}}"
        "?+Authorization=Bearer%20${PW}\n"
    )
    return config


@pytest.mark.parametrize("private", [True, False])
def test_notify_test_never_shows_a_secret(tmp_path: Path, private: bool) -> None:
    config = _secret_config(tmp_path, closed_port(), private=private)
    env = {"WIREWATCH_CONFIG": str(config), "PW": SECRET}
    for args in (["notify-test"], ["notify-test", "--json"]):
        result = cli(*args, env=env)
        assert result.returncode == 1, result.stderr  # nothing listens: the send fails
        shown = result.stdout + result.stderr
        assert "****" in shown
        assert SECRET not in shown


def test_send_details_and_shown_urls_mask_every_secret(tmp_path: Path) -> None:
    (tmp_path / "apprise.yml").write_text(
        f"urls:\n  - json://user:${{PW}}@127.0.0.1:{closed_port()}/hooks/${{PW}}"
        "?+Authorization=Bearer%20${PW}\n"
    )
    (target,) = load_targets(tmp_path / "apprise.yml", {"PW": SECRET})
    assert SECRET not in target.safe_url and SECRET not in repr(target)
    for private in (True, False):
        result = send(target, Message("t", "b", "text"), allow_private_networks=private)
        assert not result.ok
        assert SECRET not in result.detail  # what the outbox stores and the worker logs


# -- the connection guard ----------------------------------------------------


@pytest.mark.parametrize("address", ["fec0::1", "fec0:1::2", "64:ff9b:1::a00:1"])
def test_site_local_and_local_nat64_addresses_are_refused(address: str) -> None:
    assert is_refused_address(address)


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.mark.parametrize(
    "url",
    [
        "ntfy://127.0.0.1:{port}/alerts",
        "gotify://127.0.0.1:{port}/AbCdEfGhIjKlMnO",
        "apprise://127.0.0.1:{port}/token",
    ],
)
def test_http_targets_on_loopback_are_refused_like_webhooks(
    tmp_path: Path, webhook: WebhookReceiver, url: str
) -> None:
    (tmp_path / "apprise.yml").write_text(f"urls:\n  - {url.format(port=webhook.port)}\n")
    (target,) = load_targets(tmp_path / "apprise.yml", {})
    refused = send(target, Message("t", "b", "text"))
    assert not refused.ok and refused.final
    assert "loopback" in refused.detail
    assert webhook.requests == []


def test_a_named_service_is_checked_where_it_connects(tmp_path: Path) -> None:
    """ntfy://topic posts to ntfy.sh: when that name points at loopback, the
    guard refuses the connection itself."""
    (tmp_path / "apprise.yml").write_text("urls:\n  - ntfy://wirewatch-alerts\n")
    (target,) = load_targets(tmp_path / "apprise.yml", {})
    dns = ScriptedDns("ntfy.sh", ["127.0.0.1"])
    result = send(target, Message("t", "b", "text"), resolver=dns)
    assert not result.ok and result.final
    assert "loopback" in result.detail


# -- authenticated sources ---------------------------------------------------


class _Recorder:
    """A loopback server that records each request's headers; `routes` maps a
    path to (status, headers, body); a path under `protected` needs `token`."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.seen: list[tuple[str, str | None]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                auth = self.headers.get("Authorization")
                recorder.seen.append((self.path, auth))
                if recorder.token is not None and auth != recorder.token:
                    self.send_response(401)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, headers, body = recorder.routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for name, value in {**headers, "Content-Length": str(len(body))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


LIMITS = FetchLimits(timeout=5.0, allow_private_networks=True)


def _feed(link: str) -> bytes:
    item = f"<item><title>Wire story</title><link>{link}</link><guid>w1</guid></item>"
    return f'<rss version="2.0"><channel><title>W</title>{item}</channel></rss>'.encode()


def test_source_credentials_go_to_its_own_host_only() -> None:
    wire = _Recorder(token=f"Bearer {SECRET}")
    elsewhere = _Recorder()
    try:
        wire.routes["/feed"] = (
            200,
            {"Content-Type": "application/rss+xml"},
            _feed(elsewhere.url("/story")),
        )
        wire.routes["/moved"] = (302, {"Location": elsewhere.url("/feed")}, b"")
        elsewhere.routes["/feed"] = (
            200,
            {"Content-Type": "application/rss+xml"},
            _feed(elsewhere.url("/story")),
        )
        elsewhere.routes["/story"] = (200, {"Content-Type": "text/html"}, b"<p>story</p>")
        data = {
            "id": "wire",
            "url": wire.url("/feed"),
            "headers": {"Authorization": "Bearer ${WIRE_TOKEN}"},
            "robots": False,
        }
        source = Source.model_validate(data, context={"environ": {"WIRE_TOKEN": SECRET}})
        assert SECRET not in repr(source.credentials)
        assert source.secrets.mask(f"Bearer {SECRET}") == "Bearer ****"
        fetcher = Fetcher(make_client(LIMITS), LIMITS)
        dry_run = PollContext(Config(Settings(), (), (), (), Path(".")), None, fetcher, time.time())

        outcome = poll_source(dry_run, source)
        assert outcome.error is None, outcome.error
        assert wire.seen[-1] == ("/feed", f"Bearer {SECRET}")

        # The article page lives on another host: it never sees the token.
        build_article("a1", outcome.new[0].entry, source, fetcher)
        # A redirect to another host neither.
        moved = source.model_copy(update={"url": wire.url("/moved")})
        assert poll_source(dry_run, moved).error is None
        assert elsewhere.seen and all(auth is None for _, auth in elsewhere.seen)
        without = Source.model_validate({"id": "wire", "url": wire.url("/feed"), "robots": False})
        assert poll_source(dry_run, without).label == "http-401"
    finally:
        wire.close()
        elsewhere.close()


def test_basic_auth_of_a_source_and_missing_secrets(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "rules.yaml").write_text("rules: []\n")
    (config / "sources.yaml").write_text(
        "sources:\n  - id: wire\n    url: https://wire.example/feed\n"
        "    auth: {username: '${WIRE_USER}', password: '${WIRE_PASSWORD}'}\n"
    )
    loaded = load_config(config, {"WIRE_USER": "ana", "WIRE_PASSWORD": SECRET})
    (source,) = loaded.sources
    assert source.credentials is not None
    ((name, value),) = source.credentials.headers
    assert name == "Authorization" and value.startswith("Basic ")
    assert loaded.secrets.mask(f"{SECRET} {value}") == "**** Basic ****"
    result = cli("check", env={"WIREWATCH_CONFIG": str(config)})
    assert result.returncode == 1
    assert "WIRE_USER is not set" in result.stdout + result.stderr
    assert "sources.yaml:2: sources[0]" in result.stdout + result.stderr
