"""`wirewatch notify-test`, `wirewatch alerts` and the undelivered part of `wirewatch status`,
run as commands against a real Redis and real receivers. Secrets never appear."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.receivers import SmtpReceiver, WebhookReceiver, closed_port
from tests.wirewatch_process import run_cli
from worker.config import Config, load_config
from worker.models import Article
from worker.pipeline import match_article, record_matches
from worker.pipeline.delivery import deliver
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store

pytestmark = pytest.mark.slow  # each test runs the wirewatch command several times

SECRET = "Pa55-w0rd-XYZZY"


def wirewatch(
    config: Path, *args: str, redis_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(WIREWATCH_CONFIG=str(config), HOOK_PASSWORD=SECRET)
    if redis_url:
        env["REDIS_URL"] = redis_url
    return run_cli(*args, env=env)


def write_config(directory: Path, apprise: str) -> Config:
    directory.mkdir(exist_ok=True)
    (directory / "settings.yaml").write_text("allow_private_networks: true\n")
    (directory / "sources.yaml").write_text(
        "sources:\n  - id: wire\n    name: The Wire\n    url: https://news.example.org/rss\n"
    )
    (directory / "rules.yaml").write_text(
        "rules:\n"
        "  - id: s300-iran\n    query: 'S-300 AND Iran'\n"
        "  - id: sanctions\n    query: 'sanction*'\n"
    )
    (directory / "apprise.yml").write_text(apprise)
    return load_config(directory, {"HOOK_PASSWORD": SECRET})


def article(article_id: str, title: str, body: str) -> Article:
    return Article(
        article_id,
        "wire",
        f"https://news.example.org/{article_id}",
        title,
        "",
        body,
        datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )


def test_notify_test_sends_to_each_target_of_a_tag_and_reports_failures(tmp_path: Path) -> None:
    with SmtpReceiver() as smtp, WebhookReceiver() as hook:
        failing = f"json://bot:${{HOOK_PASSWORD}}@127.0.0.1:{closed_port()}/hook"
        config = tmp_path / "config"
        write_config(
            config,
            f"urls:\n"
            f"  - {smtp.apprise_url()}:\n      tag: desk\n"
            f"  - {hook.apprise_url()}:\n      tag: [desk, chat]\n"
            f"  - {failing}:\n      tag: chat\n",
        )
        desk = wirewatch(config, "notify-test", "--tag", "desk")
        assert desk.returncode == 0, desk.stdout + desk.stderr
        assert desk.stdout.count("sent") == 2
        [mail] = smtp.wait_for(1)
        assert str(mail["Subject"]) == "notify-test: Test alert from wirewatch"
        assert mail.get_body(preferencelist=("html",)) is not None
        hook.wait_for(1)

        chat = wirewatch(config, "notify-test", "--tag", "chat")
        assert chat.returncode == 1
        assert "FAILED" in chat.stdout and "json://bot:" in chat.stdout
        hook.wait_for(2)
        assert len(smtp.items) == 1
        for run in (desk, chat):
            assert SECRET not in run.stdout + run.stderr

        none = wirewatch(config, "notify-test", "--tag", "nobody")
        assert none.returncode == 1 and "no targets tagged 'nobody'" in none.stderr


def test_alerts_lists_recent_alerts_per_rule_with_final_failures(
    tmp_path: Path, own_redis: EmbeddedRedis
) -> None:
    with WebhookReceiver() as hook:
        failing = f"json://bot:${{HOOK_PASSWORD}}@127.0.0.1:{closed_port()}/hook"
        config_dir = tmp_path / "config"
        config = write_config(config_dir, f"urls:\n  - {hook.apprise_url()}\n  - {failing}\n")
        store = Store.from_url(own_redis.url)
        now = time.time()
        old = article("old", "Sanctions from last week", "New sanctions on banks.")
        s300 = article("s300", "Russia delivers S-300 to Iran", "S-300 systems reach Iran.")
        fresh = article("fresh", "US widens sanctions list", "More sanctions on shipping firms.")
        for art, moment in ((old, now - 3 * 86400), (s300, now - 600), (fresh, now - 60)):
            store.archive.put(art, moment, 30 * 86400)
            keys = record_matches(
                art, match_article(art, config.rules, config), config, store, moment
            )
            for key in keys:
                deliver(key, config, store, moment)
        # The failing target's retries run out: the delivery fails for good.
        retry_for = config.settings.delivery_retry_for.total_seconds()
        for key in store.outbox.take_due(now + retry_for + 3600, 300):
            deliver(key, config, store, now + retry_for + 3600)
        hook.wait_for(3)

        listed = wirewatch(config_dir, "alerts", "--json", redis_url=own_redis.url)
        assert listed.returncode == 0, listed.stderr
        records = [json.loads(line) for line in listed.stdout.splitlines()]
        assert [r["title"] for r in records] == [s300.title, fresh.title]  # default: 1 day
        for record in records:
            assert sorted(record["deliveries"].values()) == ["failed", "sent"]

        week = wirewatch(
            config_dir, "alerts", "--since", "7d", "--rule", "sanctions", redis_url=own_redis.url
        )
        assert week.returncode == 0, week.stderr
        assert old.title in week.stdout and fresh.title in week.stdout
        assert s300.title not in week.stdout
        assert "failed   json://bot:" in week.stdout

        status = wirewatch(config_dir, "status", redis_url=own_redis.url)
        assert status.returncode == 0, status.stderr
        assert status.stdout.count("failed") >= 3
        assert "s300-iran: Russia delivers S-300 to Iran" in status.stdout
        status_json = wirewatch(config_dir, "status", "--json", redis_url=own_redis.url)
        undelivered = json.loads(status_json.stdout)["undelivered"]
        assert {d["state"] for d in undelivered} == {"failed"} and len(undelivered) == 3

        bad = wirewatch(config_dir, "alerts", "--since", "soon", redis_url=own_redis.url)
        assert bad.returncode == 2 and "--since" in bad.stderr
        for run in (listed, week, status, status_json, bad):
            assert SECRET not in run.stdout + run.stderr
        assert all(SECRET not in (d["last_error"] or "") for d in undelivered)
