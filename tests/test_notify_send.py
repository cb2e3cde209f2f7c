"""send(): real deliveries to a loopback SMTP server, a JSON webhook and Mosquitto.

The receivers live on loopback, so webhook sends here allow private networks
unless a test is about refusing them.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import urllib3

from tests.hostile import ScriptedDns
from tests.receivers import MqttSubscriber, SmtpReceiver, WebhookReceiver, closed_port
from worker.fetch.netguard import install_urllib3_guard
from worker.models import Article, Span
from worker.notify import AlertContent, Message, Target, load_targets, render_alert, send
from worker.notify.send import _prepare
from worker.notify.targets import plugin_for

HOSTILE = "<script>x</script> [click](http://evil) @everyone"
URL = "https://example.org/news/1?a=1&b=2"
BERLIN = ZoneInfo("Europe/Berlin")


def hostile_alert() -> AlertContent:
    body = (
        f"{'Lead paragraph. ' * 20}Russia said the S-300 delivery to Iran is off. {'More. ' * 40}"
    )
    art = Article("a1", "src", URL, HOSTILE, "", body, datetime(2026, 11, 25, 12, 0, tzinfo=UTC))
    start = body.index("S-300")
    return AlertContent("s300-iran", art, (Span("body", start, start + 5),), "Moscow Times")


def target_for(tmp_path: Path, url: str) -> Target:
    (tmp_path / "apprise.yml").write_text(f"urls:\n  - {url}\n", encoding="utf-8")
    (target,) = load_targets(tmp_path / "apprise.yml", {})
    return target


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def parts(message: EmailMessage) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            assert isinstance(part, EmailMessage)
            found[part.get_content_type()] = str(part.get_content())
    return found


def test_email_alert_has_text_and_html_parts_and_is_inert(
    tmp_path: Path, smtp: SmtpReceiver
) -> None:
    target = target_for(tmp_path, smtp.apprise_url())
    assert target.format == "html"
    message = render_alert(hostile_alert(), target.format, BERLIN)

    result = send(target, message, timeout=10)

    assert result.ok, result.detail
    [mail] = smtp.wait_for(1, timeout=10)
    assert smtp.envelopes[0][1] == ["analyst@example.org"]
    subject = str(mail["Subject"])
    assert subject.startswith("s300-iran: ") and "\n" not in subject
    assert "@everyone" not in subject
    bodies = parts(mail)
    assert set(bodies) >= {"text/plain", "text/html"}
    html, text = bodies["text/html"], bodies["text/plain"]
    assert "<script" not in html and "&lt;script&gt;" in html
    assert "http://evil" not in html and "@everyone" not in html
    assert re.findall(r"href=\"([^\"]*)\"", html) == [URL.replace("&", "&amp;")]
    assert re.search(r"<mark[^>]*><b>S-300</b></mark>", html)
    for body in (html, text):
        assert "delivery to Iran is off" in body
        assert "Moscow Times" in body
    assert "S-300 delivery" in text
    assert URL in text


def test_json_webhook(tmp_path: Path, webhook: WebhookReceiver) -> None:
    target = target_for(tmp_path, webhook.apprise_url("/wirewatch"))
    message = render_alert(hostile_alert(), target.format, BERLIN)

    result = send(target, message, allow_private_networks=True)

    assert result.ok, result.detail
    [payload] = webhook.wait_for(1)
    assert webhook.requests[0][1] == "/wirewatch"
    assert payload["title"] == message.title
    assert "S-300 delivery to Iran" in payload["message"]
    assert URL in payload["message"]


def test_webhook_error_status_is_a_failed_result(tmp_path: Path) -> None:
    with WebhookReceiver(status=500) as failing:
        target = target_for(tmp_path, failing.apprise_url())
        result = send(target, Message("t", "b", "text"), allow_private_networks=True)
        assert not result.ok
        assert failing.wait_for(1)
    assert "failure" in result.detail


def test_mqtt_via_mosquitto(tmp_path: Path) -> None:
    pytest.importorskip("paho.mqtt.client")
    try:
        with socket.create_connection(("127.0.0.1", 1883), timeout=2):
            pass
    except OSError:
        pytest.skip("no MQTT broker on 127.0.0.1:1883")
    with MqttSubscriber() as subscriber:
        target = target_for(tmp_path, subscriber.apprise_url())
        assert target.format == "text"
        message = render_alert(hostile_alert(), target.format, BERLIN)

        result = send(target, message)

        assert result.ok, result.detail
        [(topic, payload)] = subscriber.wait_for(1)
    text = payload.decode("utf-8")
    assert topic == subscriber.topic
    # MQTT has no title field: the title leads the body.
    assert text.startswith("s300-iran: ")
    assert "S-300 delivery to Iran" in text and URL in text


def test_target_that_is_down_fails_fast_and_others_still_work(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    down = Target("down", f"json://127.0.0.1:{closed_port()}/x", "json://down", frozenset(), "text")
    smtp_down = target_for(
        tmp_path, f"mailto://127.0.0.1:{closed_port()}/a@example.org?from=w@example.org"
    )
    up = target_for(tmp_path, webhook.apprise_url())
    message = Message("title", "body", "text")

    started = time.monotonic()
    results = [send(down, message, allow_private_networks=True), send(smtp_down, message)]
    elapsed = time.monotonic() - started

    assert [r.ok for r in results] == [False, False]
    assert elapsed < 10
    assert all("failure" in r.detail for r in results)
    assert send(up, message, allow_private_networks=True).ok
    assert webhook.wait_for(1)


def test_detail_never_contains_secrets(tmp_path: Path) -> None:
    port = closed_port()
    (tmp_path / "apprise.yml").write_text(
        f"urls:\n  - mailto://bot:${{PASS}}@127.0.0.1:{port}/a@example.org?from=w@example.org\n",
        encoding="utf-8",
    )
    (target,) = load_targets(tmp_path / "apprise.yml", {"PASS": "topsecretpass"})
    result = send(target, Message("t", "b", "text"), timeout=5)
    assert not result.ok
    assert "topsecretpass" not in result.detail


def test_unloadable_url_is_a_failed_result() -> None:
    broken = Target("b", "nosuch://x", "nosuch://x", frozenset(), "text")
    result = send(broken, Message("t", "b", "text"))
    assert not result.ok and "cannot load" in result.detail


def test_long_message_is_cut_for_a_service_limit() -> None:
    discord = plugin_for("discord://1234/abcdef")
    body = "\n\n".join(f"paragraph {i} " + "word " * 60 for i in range(40))
    title, fitted = _prepare(discord, Message("t", body, "markdown", link=URL))
    assert title == "t"
    assert len(fitted.body) <= discord.body_maxlen
    label = URL.replace("&", "\\&")
    assert fitted.body.endswith(f"[{label}]({URL})")
    assert "… full text" in fitted.body


def test_title_is_folded_escaped_into_body_for_services_without_titles() -> None:
    telegram = plugin_for("tgram://123456789:abcdefg_hijklmnop/12315544/")
    title, fitted = _prepare(telegram, Message("r: **x** @everyone", "body", "markdown"))
    assert title == ""
    assert fitted.body.startswith("**r: \\*\\*x\\*\\* @\u200beveryone**\n\nbody")


def test_target_that_never_answers_times_out() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        target = Target("hang", f"json://127.0.0.1:{port}/x", "json://hang", frozenset(), "text")
        started = time.monotonic()
        result = send(target, Message("t", "b", "text"), timeout=1, allow_private_networks=True)
        elapsed = time.monotonic() - started
    assert not result.ok and "timeout" in result.detail
    assert elapsed < 5


# -- where webhooks may connect ----------------------------------------------


def test_webhook_on_loopback_is_refused_unless_private_networks_are_allowed(
    tmp_path: Path, webhook: WebhookReceiver
) -> None:
    target = target_for(tmp_path, webhook.apprise_url())
    message = Message("t", "b", "text")

    refused = send(target, message)

    assert not refused.ok
    assert "127.0.0.1 is a loopback address" in refused.detail
    assert "allow_private_networks" in refused.detail
    assert webhook.items == []
    assert send(target, message, allow_private_networks=True).ok
    assert webhook.wait_for(1)


def test_a_webhook_connects_to_the_address_it_checked(webhook: WebhookReceiver) -> None:
    """`hooks.example` exists only in the guard's resolver: a delivery proves that
    the connection went to the address the guard resolved, not to a lookup of its own."""
    dns = ScriptedDns("hooks.example", ["127.0.0.1"])
    url = f"json://hooks.example:{webhook.port}/hook"
    target = Target("named", url, url, frozenset(), "text")

    result = send(target, Message("t", "b", "text"), allow_private_networks=True, resolver=dns)

    assert result.ok, result.detail
    assert webhook.wait_for(1)
    assert webhook.requests[0][2]["Host"] == f"hooks.example:{webhook.port}"
    assert dns.lookups == [["127.0.0.1"]]


def test_a_connection_made_outside_any_send_is_checked_strictly(
    webhook: WebhookReceiver,
) -> None:
    """Fail closed: a thread that lost the send's context is not let through unchecked."""
    install_urllib3_guard()
    errors: list[BaseException] = []

    def post() -> None:
        try:
            urllib3.PoolManager().request(
                "POST", f"http://127.0.0.1:{webhook.port}/hook", body=b"{}", retries=False
            )
        except Exception as exc:
            errors.append(exc)

    thread = threading.Thread(target=post)
    thread.start()
    thread.join(10)

    assert not thread.is_alive()
    [error] = errors
    assert "127.0.0.1 is a loopback address" in str(error)
    assert webhook.items == []


def test_a_webhook_behind_a_proxy_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The proxy would connect wherever the name points, out of the guard's sight.
    for name in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    dns = ScriptedDns("hooks.example", ["93.184.215.14"])
    target = Target(
        "proxied", "jsons://hooks.example/hook", "jsons://hooks.example/hook", frozenset(), "text"
    )

    result = send(target, Message("t", "b", "text"), resolver=dns)

    assert not result.ok
    assert "proxy" in result.detail and "hooks.example" in result.detail
    assert dns.lookups == []
