"""A real chat server: an alert and a digest sent through Apprise's matrix:// to a
Matrix homeserver on loopback, read back as a room member's client would.

The homeserver is Synapse, started for the session by tests/synapse.py from the
virtualenv whose interpreter WIREWATCH_TEST_SYNAPSE_PYTHON names; or, with
WIREWATCH_TEST_MATRIX_URL, a server already running with open registration
(`enable_registration` and `enable_registration_without_verification`).
Skipped when neither is set.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.synapse import Synapse
from tests.waiting import wait_until
from worker.models import Article, Span
from worker.notify import AlertContent, DigestItem, load_targets, render_alert, render_digest, send

pytestmark = pytest.mark.slow  # starts a Synapse homeserver when one is configured

SYNAPSE_PYTHON = os.environ.get("WIREWATCH_TEST_SYNAPSE_PYTHON", "")
HOMESERVER = os.environ.get("WIREWATCH_TEST_MATRIX_URL", "")
HOW_TO_RUN = (
    "needs a Matrix homeserver: `python3 -m venv .venv-synapse && "
    ".venv-synapse/bin/pip install matrix-synapse`, then set "
    "WIREWATCH_TEST_SYNAPSE_PYTHON=.venv-synapse/bin/python (or set "
    "WIREWATCH_TEST_MATRIX_URL to a running homeserver with open registration)"
)
BERLIN = ZoneInfo("Europe/Berlin")
HOSTILE = "<b>Breaking</b> [S-300 deal](http://evil.example/x) @everyone @room"


class Client:
    """The few client-server API calls a room member needs."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=20)
        self.token = ""

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.http.request(
            method, f"/_matrix/client/v3{path}", json=body, headers=headers
        )
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def register(self, user: str, password: str) -> None:
        body = {"username": user, "password": password, "auth": {"type": "m.login.dummy"}}
        self.token = self.call("POST", "/register", body)["access_token"]

    def messages(self, room_id: str) -> list[dict[str, Any]]:
        chunk = self.call("GET", f"/rooms/{quote(room_id)}/messages?dir=f&limit=50")["chunk"]
        return [e["content"] for e in chunk if e["type"] == "m.room.message"]


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a Matrix homeserver with open registration."""
    if SYNAPSE_PYTHON:
        if shutil.which(SYNAPSE_PYTHON) is None:
            pytest.fail(f"WIREWATCH_TEST_SYNAPSE_PYTHON={SYNAPSE_PYTHON} is no interpreter")
        with Synapse(SYNAPSE_PYTHON, tmp_path_factory.mktemp("synapse")) as server:
            yield server.url
        return
    if not HOMESERVER:
        pytest.skip(HOW_TO_RUN)
    try:
        httpx.get(f"{HOMESERVER}/_matrix/client/versions", timeout=5).raise_for_status()
    except httpx.HTTPError as e:
        # Asked for by name: a server that is not there is a failure, not a skip.
        pytest.fail(f"WIREWATCH_TEST_MATRIX_URL={HOMESERVER} does not answer: {e}")
    yield HOMESERVER


@pytest.fixture
def room(homeserver: str) -> tuple[Client, str, str]:
    """A reader in a fresh public room, and the Apprise URL of a bot that posts there."""
    tag = secrets.token_hex(4)
    reader, bot = Client(homeserver), Client(homeserver)
    reader.register(f"reader{tag}", "reader-pass-1")
    bot_password = "bot-pass-1"
    bot.register(f"bot{tag}", bot_password)
    alias = f"alerts{tag}"
    room_id = reader.call(
        "POST", "/createRoom", {"room_alias_name": alias, "preset": "public_chat"}
    )["room_id"]
    server = reader.call("GET", "/account/whoami")["user_id"].split(":", 1)[1]
    hostport = urlsplit(homeserver).netloc
    url = f"matrix://bot{tag}:{bot_password}@{hostport}/#{alias}:{server}"
    return reader, room_id, url


def alert() -> AlertContent:
    body = f"{'Background. ' * 10}Russia said the S-300 delivery to Iran is on. {HOSTILE}"
    start = body.index("S-300")
    article = Article(
        "m1",
        "wire",
        "https://news.example.org/s300?a=1&b=2",
        HOSTILE,
        "",
        body,
        datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    return AlertContent("s300-iran", article, (Span("body", start, start + 5),), "Wire", ("AP",))


def test_alert_and_digest_reach_a_matrix_room_as_formatted_inert_messages(
    tmp_path: Path, room: tuple[Client, str, str]
) -> None:
    reader, room_id, url = room
    (tmp_path / "apprise.yml").write_text(f"urls:\n  - {url}\n")
    (target,) = load_targets(tmp_path / "apprise.yml", {})
    assert target.format == "markdown"
    content = alert()
    items = [
        DigestItem(content, datetime(2026, 11, 24, 9, 5, tzinfo=UTC) + timedelta(minutes=n))
        for n in range(2)
    ]

    for message in (
        render_alert(content, target.format, BERLIN),
        render_digest(items, target.format, BERLIN, window_label="2026-11-24 10:00 CET"),
    ):
        result = send(target, message, timeout=20, allow_private_networks=True)
        assert result.ok, result.detail
        assert "bot-pass-1" not in result.detail

    received = wait_until(
        lambda: found if len(found := reader.messages(room_id)) >= 2 else None,
        30,
        "both messages in the room",
    )
    alert_msg, digest_msg = received[-2:]
    for msg in (alert_msg, digest_msg):
        html = msg.get("formatted_body", "")
        assert msg.get("format") == "org.matrix.custom.html", msg
        # Our own markup renders: highlighted term, and a link to the article only.
        assert "<strong>S-300</strong>" in html
        assert re.findall(r'href="([^"]*)"', html) == [
            "https://news.example.org/s300?a=1&amp;b=2"
        ] * html.count("href=")
        assert "evil.example/x" not in " ".join(re.findall(r'href="([^"]*)"', html))
        # The article's markup and mentions arrive as text, not as markup or pings.
        assert "<b>Breaking" not in html and "&lt;b&gt;Breaking" in html
        assert "@everyone" not in html + msg["body"] and "@room" not in html + msg["body"]
    assert "Also reported by:" in alert_msg["formatted_body"]
    assert "s300-iran (2)" in digest_msg["formatted_body"]
    # Every fact on its own line: a hard break between them, not one run-on line.
    assert re.search(r"Wire</strong>.*<br", alert_msg["formatted_body"], re.S) or (
        "Source:</strong> Wire<br" in alert_msg["formatted_body"]
    )
