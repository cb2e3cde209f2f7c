"""Alerts end to end through `wirewatch run`: a digest at its scheduled time, a
mail server that is down and comes back, a target that keeps failing, a hostile
title, and a target password that must never show. Real receivers, and a Redis
of each test's own: on a machine-wide one, the workers of another run of the
suite would take these tasks and flush this state."""

from __future__ import annotations

import re
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.newsroom import BASE_TIME, GRAIN, S300, Newsroom, Story, write_site_config
from tests.receivers import SmtpReceiver, WebhookReceiver, closed_port
from tests.test_e2e_pipeline import text_part
from tests.waiting import wait_until
from tests.web import Site
from tests.wirewatch_process import Wirewatch
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BERLIN = ZoneInfo("Europe/Berlin")
SECRET = "Pa55-w0rd-XYZZY"
HOSTILE = Story(
    "hostile-title",
    "<b>Iran</b> [S-400 deal](http://evil.example/x) @everyone",
    "s400",
    BASE_TIME + timedelta(hours=5),
)


def write_config(directory: Path, site: Site, settings: str, rules: str, apprise: str) -> None:
    write_site_config(directory, site, rules=rules, apprise=apprise, settings=settings)


def hhmm(moment: datetime) -> str:
    return f'"{moment:%H:%M}"'


def test_digest_is_sent_at_its_time_grouped_by_rule(
    tmp_path: Path, newsroom: Newsroom, own_redis: EmbeddedRedis
) -> None:
    newsroom.publish(S300)
    newsroom.publish(GRAIN)
    config = tmp_path / "config"
    rules = textwrap.dedent(
        """\
        rules:
          - id: s300-iran
            query: '("S-300" OR "S-400") AND (Iran OR Tehran)'
            mode: digest
          - id: grain
            query: '"grain exports"'
            mode: digest
        """
    )
    with SmtpReceiver() as smtp:
        # The digest time starts two hours back: the rules start collecting,
        # and nothing is due until the time is moved to the current minute.
        earlier = datetime.now(BERLIN) - timedelta(hours=2)
        write_config(
            config,
            newsroom.site,
            f"digest: [{hhmm(earlier)}]\n",
            rules,
            f"urls:\n  - {smtp.apprise_url()}\n",
        )
        store = Store.from_url(own_redis.url)
        wirewatch = Wirewatch(config, tmp_path / "data", own_redis.url)
        wirewatch.start()
        try:
            wait_until(
                lambda: all(store.digests.pending(r) for r in ("s300-iran", "grain")),
                60,
                "both alerts waiting for the digest",
            )
            assert smtp.items == []
            now = datetime.now(BERLIN)
            settings = (config / "settings.yaml").read_text()
            (config / "settings.yaml").write_text(settings.replace(hhmm(earlier), hhmm(now)))
            [mail] = smtp.wait_for(1, timeout=60)
            wait_until(lambda: store.outbox.size() == 0, 30, "the digest marked sent")
            # Later ticks send no second digest for the same window.
            beat = store.sources.last_heartbeat() or 0
            wait_until(
                lambda: (store.sources.last_heartbeat() or 0) > beat + 3, 30, "three more ticks"
            )
            assert len(smtp.items) == 1
        finally:
            if wirewatch.alive():
                assert wirewatch.stop() == 0, wirewatch.log()
    window = now.replace(second=0, microsecond=0)
    assert str(mail["Subject"]) == (f"wirewatch digest {window:%Y-%m-%d %H:%M %Z}: 2 alerts")
    html, text = text_part(mail, "html"), text_part(mail, "plain")
    for body in (html, text):
        order = [body.index(s) for s in ("grain (1)", GRAIN.title, "s300-iran (1)", S300.title)]
        assert order == sorted(order)
        assert newsroom.site.url(S300.path) in body
        assert "The Daily Wire Test" in body
    assert re.search(r"<mark[^>]*><b>S-300</b></mark>", html)
    assert "Traceback" not in wirewatch.log()


def test_down_and_failing_targets_get_each_alert_once_and_secrets_never_show(
    tmp_path: Path, newsroom: Newsroom, own_redis: EmbeddedRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    newsroom.publish(S300)
    newsroom.publish(HOSTILE)
    monkeypatch.setenv("HOOK_PASSWORD", SECRET)
    smtp_port = closed_port()
    config = tmp_path / "config"
    with WebhookReceiver() as hook:
        failing = f"json://bot:${{HOOK_PASSWORD}}@127.0.0.1:{closed_port()}/hook"
        write_config(
            config,
            newsroom.site,
            "",
            'rules:\n  - id: s300-iran\n    query: \'("S-300" OR "S-400") AND (Iran OR Tehran)\'\n',
            f"urls:\n"
            f"  - mailto://127.0.0.1:{smtp_port}/analyst@example.org?from=ww@example.org\n"
            f"  - {hook.apprise_url()}\n"
            f"  - {failing}\n",
        )
        store = Store.from_url(own_redis.url)
        wirewatch = Wirewatch(config, tmp_path / "data", own_redis.url)
        wirewatch.start()
        try:
            hook.wait_for(2, timeout=60)
            # The mail server stays down through three attempts of each email
            # delivery (the backoff waits 30 s, then 60 s: about two minutes).
            down_since = time.monotonic()
            wait_until(
                lambda: (
                    len(pending := store.outbox.undelivered()) == 4
                    and all(d.attempts >= 3 for d in pending)
                ),
                240,
                "three failed attempts for each email and failing-webhook delivery",
            )
            assert time.monotonic() - down_since > 60
            with SmtpReceiver(port=smtp_port) as smtp:
                smtp.wait_for(2, timeout=240)  # the fourth attempt comes 90-150 s later
                wait_until(
                    lambda: (
                        len(pending := store.outbox.undelivered()) == 2
                        and all(d.attempts >= 4 for d in pending)
                    ),
                    240,
                    "the failing webhook retried",
                )
                outputs = [
                    wirewatch.cli("alerts"),
                    wirewatch.cli("alerts", "--json"),
                    wirewatch.cli("status"),
                    wirewatch.cli("status", "--json"),
                ]
                assert wirewatch.stop() == 0, wirewatch.log()
        finally:
            if wirewatch.alive():
                assert wirewatch.stop() == 0, wirewatch.log()

    # Each alert reached each working target once.
    assert len(smtp.items) == 2 and len(hook.items) == 2, "\n".join(
        [str(m["Subject"]) + " " + str(m["Date"]) for m in smtp.items]
        + [line for line in wirewatch.log().splitlines() if "delivery=" in line]
    )
    # The failing target stays visible, by its masked URL only.
    alerts, _alerts_json, status, _status_json = outputs
    assert alerts.stdout.count("pending  json://bot:") == 2, alerts.stdout
    assert alerts.stdout.count("sent     mailto://") == 2, alerts.stdout
    assert status.stdout.count("pending") == 2 and "attempts" in status.stdout
    for run in outputs:
        assert run.returncode == 0, run.stderr
        assert SECRET not in run.stdout + run.stderr
    assert SECRET not in wirewatch.log()
    assert "Traceback" not in wirewatch.log(), wirewatch.log()

    # The hostile title is inert in the email (HTML and text) and the webhook.
    mail = next(m for m in smtp.items if "deal" in str(m["Subject"]))
    subject = str(mail["Subject"])
    html, text = text_part(mail, "html"), text_part(mail, "plain")
    assert "@everyone" not in subject + html + text
    # The only tags are ours: the heading (the title) holds none, the text no links.
    [heading] = re.findall(r"<h1[^>]*>(.*?)</h1>", html, re.S)
    assert "<" not in heading and "deal" in heading
    assert re.findall(r'href="([^"]*)"', html) == [newsroom.site.url(HOSTILE.path)]
    [payload] = [p for p in hook.items if "deal" in p["title"]]
    assert "@everyone" not in payload["title"] + payload["message"]
    assert "http://evil" not in payload["title"] + payload["message"] + html + text
