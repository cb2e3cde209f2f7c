"""A source without `name:` is named by its feed's own title (docs/configuration.md,
"sources"): in the alert as sent, in `wirewatch status` and in `wirewatch alerts`."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.newsroom import S300, Newsroom, write_site_config
from tests.receivers import SmtpReceiver
from tests.wirewatch_process import run_cli
from worker.config import load_config
from worker.pipeline.delivery import deliver
from worker.store import Store

pytestmark = pytest.mark.slow  # runs the wirewatch command three times

FEED_TITLE = "The Daily Wire Test"  # the <title> of the newsroom's RSS channel


def test_a_source_without_a_name_shows_its_feeds_title(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver, redis_server_url: str
) -> None:
    newsroom.publish(S300)
    config_dir = tmp_path / "config"
    write_site_config(
        config_dir,
        newsroom.site,
        rules="rules:\n  - id: s300-iran\n    query: 'S-300 AND Iran'\n",
        apprise=f"urls:\n  - {smtp.apprise_url()}\n",
    )
    sources = config_dir / "sources.yaml"
    sources.write_text(sources.read_text().replace(f"    name: {FEED_TITLE}\n", ""))
    config = load_config(config_dir)
    assert config.sources[0].name is None
    env = {k: v for k, v in os.environ.items() if k != "WIREWATCH_DATA"}
    env.update(WIREWATCH_CONFIG=str(config_dir), REDIS_URL=redis_server_url)

    polled = run_cli("poll", "daily-wire", env=env)
    assert polled.returncode == 0, polled.stdout + polled.stderr

    store = Store.from_url(redis_server_url)
    try:
        now = time.time()
        [key] = store.outbox.take_due(now, config.settings.delivery_lease)
        assert deliver(key, config, store, now).startswith("sent")
    finally:
        store.redis.close()
    [mail] = smtp.wait_for(1)
    text = mail.get_body(preferencelist=("plain",))
    assert text is not None and FEED_TITLE in text.get_content()

    status = run_cli("status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    [source] = json.loads(status.stdout)["sources"]
    assert (source["id"], source["name"]) == ("daily-wire", FEED_TITLE)

    alerts = run_cli("alerts", env=env)
    assert alerts.returncode == 0, alerts.stderr
    assert f"[{FEED_TITLE}, instant]" in alerts.stdout
