"""`wirewatch run` as a user starts it, on a loopback news site with the
embedded Redis: what it prints, and how soon the first alert comes."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.newsroom import S300, Newsroom
from tests.receivers import SmtpReceiver
from tests.test_e2e_pipeline import write_config
from tests.waiting import wait_until
from tests.wirewatch_process import Wirewatch

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Celery's own lines: banners, per-task lines, the warning for raw Celery.
_CELERY_NOISE = (
    "-------------- ",  # the worker banner's frame
    "celery beat v",
    "Task wirewatch.",
    "succeeded in",
    "SecurityWarning",
    "superuser privileges",
    "Connected to redis",
)


def test_run_says_what_it_runs_then_one_line_per_event_and_alerts_within_seconds(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver
) -> None:
    newsroom.publish(S300)
    write_config(tmp_path / "config", newsroom.site, smtp)
    wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", None)
    started = time.monotonic()
    wirewatch.start()
    try:
        smtp.wait_for(1, timeout=60)
        latency = time.monotonic() - started
        wait_until(lambda: "-> analysts (email): sent" in wirewatch.log(), 30, "the alert line")
    finally:
        assert wirewatch.stop() == 0, wirewatch.log()
    log = wirewatch.log()
    lines = log.splitlines()
    # Measured, not asserted (the machine may be busy): see the report.
    print(f"first alert {latency:.1f}s after `wirewatch run` started")
    summary = lines[0]
    assert re.search(
        r"wirewatch run: 1 source, 1 rule, 1 target from \S+config; state in ", summary
    )
    assert "(embedded Redis)" in summary
    assert any(re.search(r"source=\S+ polled: 1 new \(1 items?\)", line) for line in lines), log
    assert any("alert s300-iran -> analysts (email): sent" in line for line in lines), log
    assert any("every source is due now" in line for line in lines), log
    for noise in _CELERY_NOISE:
        assert noise not in log, f"{noise!r} printed without -v:\n{log}"
    assert "Traceback" not in log, log


def test_run_verbose_shows_celery_lines(
    tmp_path: Path, newsroom: Newsroom, smtp: SmtpReceiver
) -> None:
    newsroom.publish(S300)
    write_config(tmp_path / "config", newsroom.site, smtp)
    wirewatch = Wirewatch(tmp_path / "config", tmp_path / "data", None, verbose=True)
    wirewatch.start()
    try:
        smtp.wait_for(1, timeout=60)
        wait_until(lambda: "succeeded in" in wirewatch.log(), 30, "Celery's task lines")
    finally:
        assert wirewatch.stop() == 0, wirewatch.log()
    log = wirewatch.log()
    assert "beat: Starting..." in log and "Task wirewatch.tick" in log, log
