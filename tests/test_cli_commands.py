"""Every command of docs/commands.md as a user runs it: the console script in a
subprocess, on a real Redis and a real (loopback) news site, checking output,
the shape of `--json`, exit codes and the error paths.

Each start of the command costs about a second, so checks are grouped, and
independent commands of one test run side by side.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import psutil
import pytest
from click.testing import CliRunner

from tests.newsroom import GRAIN, S300, S400, Newsroom, write_site_config
from tests.receivers import closed_port
from worker.cli import main
from worker.service.embedded_redis import EmbeddedRedis
from worker.service.runtime import EMBEDDED_URL_FILE
from worker.store import Store

PROJECT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).with_name("wirewatch")
OPML = Path(__file__).parent / "fixtures" / "opml" / "feeds.opml"
GRAIN_PAGE = Path(__file__).parent / "fixtures" / "parse" / "article_grain.html"
RULES = 'rules:\n  - id: s300-iran\n    query: \'("S-300" OR "S-400") AND (Iran OR Tehran)\'\n'
# Variables that change how output looks, or where state is: the tests set their own.
_OWN_ENV = (
    "REDIS_URL",
    "WIREWATCH_CONFIG",
    "WIREWATCH_DATA",
    "WIREWATCH_DEBUG",
    "FORCE_COLOR",
    "NO_COLOR",
    "TTY_COMPATIBLE",
    "TTY_INTERACTIVE",
    "COLUMNS",
)


def cli(
    *args: str, env: dict[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """The installed `wirewatch` script (or `python -m worker` without one)."""
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "worker"]
    base = {k: v for k, v in os.environ.items() if k not in _OWN_ENV}
    return subprocess.run(
        [*command, *args],
        cwd=PROJECT,
        env={**base, **env},
        input=stdin or "",  # never the terminal pytest runs in
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def side_by_side(
    *runs: tuple[Sequence[str], dict[str, str]],
) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(max_workers=3) as pool:
        return list(pool.map(lambda run: cli(*run[0], env=run[1]), runs))


def json_lines(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    assert "\x1b" not in result.stdout  # --json output carries no decoration
    return [json.loads(line) for line in result.stdout.splitlines()]


def one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    """A user error: the exit code, `wirewatch: error: ...` naming it, a hint, no traceback."""
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("wirewatch: error: "), result.stderr
    assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert "hint:" in result.stderr or "Usage:" in result.stderr, result.stderr


def redis_servers_on(directory: Path) -> list[psutil.Process]:
    """redis-server processes working in `directory` (Redis rewrites its command line)."""
    found = []
    for process in psutil.process_iter(["name"]):
        try:
            if "redis-server" in (process.info["name"] or "") and Path(process.cwd()) == directory:
                found.append(process)
        except psutil.Error:
            continue  # gone, or not ours to look at
    return found


@pytest.fixture
def site_config(tmp_path: Path, newsroom: Newsroom) -> Path:
    """The news site's feed as source `daily-wire`, a source that is gone, one webhook target."""
    for story in (S300, GRAIN):
        newsroom.publish(story)
    directory = tmp_path / "config"
    write_site_config(
        directory,
        newsroom.site,
        rules=RULES,
        apprise=f"urls:\n  - json://127.0.0.1:{closed_port()}/hook\n",
        settings="fetch: {per_host_delay: 0s}  # one test server, no one to be polite to\n",
    )
    with (directory / "sources.yaml").open("a") as sources:
        sources.write(f"  - {{id: gone, url: '{newsroom.site.url('/gone')}', type: feed}}\n")
    return directory


# -- help ----------------------------------------------------------------------


def test_help_has_an_example_for_every_command() -> None:
    top = cli("--help", env={})
    assert top.returncode == 0
    assert "Getting started:" in top.stdout
    for step in ("check", "match", "poll moscow-times --dry-run", "run", "status", "alerts"):
        assert f"wirewatch {step}" in top.stdout
    for name in main.list_commands(None):  # type: ignore[arg-type]
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert "Examples:" in result.output, name
        assert f"  wirewatch {name}" in result.output, name
        assert name in top.stdout
    typo = CliRunner().invoke(main, ["stat"])
    assert typo.exit_code == 2 and "Did you mean status?" in typo.stderr


# -- poll ------------------------------------------------------------------------


@pytest.mark.slow
def test_dry_run_poll_shows_every_entry_and_records_nothing(
    tmp_path: Path, site_config: Path, newsroom: Newsroom
) -> None:
    data = tmp_path / "data"
    env = {"WIREWATCH_CONFIG": str(site_config), "WIREWATCH_DATA": str(data)}
    text, as_json, gone, typo, every = side_by_side(
        (["poll", "daily-wire", "--dry-run"], env),
        (["poll", "daily-wire", "--dry-run", "--json"], env),
        (["poll", "gone", "--dry-run"], env),
        (["poll", "daily-wir", "--dry-run"], env),
        (["poll", "--all", "--dry-run", "--json"], env),
    )
    assert text.returncode == 0, text.stderr
    assert "daily-wire: ok, 2 items, 2 entries" in text.stdout
    [s300_line] = [line for line in text.stdout.splitlines() if S300.title in line]
    assert "s300-iran (S-300, Iran" in s300_line  # the rule, and the terms it found
    assert newsroom.site.url(S300.path) in s300_line
    [grain_line] = [line for line in text.stdout.splitlines() if GRAIN.title in line]
    assert "s300-iran" not in grain_line
    assert "dry run: nothing was recorded" in text.stderr

    assert as_json.returncode == 0, as_json.stderr
    records = {r["title"]: r for r in json_lines(as_json)}
    assert set(records) == {S300.title, GRAIN.title}
    s300 = records[S300.title]
    assert set(s300) == {"source", "url", "title", "published", "text", "rules"}
    assert s300["source"] == "daily-wire"
    assert s300["url"] == newsroom.site.url(S300.path)
    assert datetime.fromisoformat(s300["published"]) == S300.published
    assert isinstance(s300["text"], int) and s300["text"] > 200  # the page's text, extracted
    assert s300["rules"] == ["s300-iran"]
    assert records[GRAIN.title]["rules"] == []

    one_line_error(gone, 1, "gone: http-404")
    one_line_error(typo, 2, "no source 'daily-wir' in sources.yaml")
    assert "did you mean daily-wire?" in typo.stderr
    # Every source: the entries of those that worked, exit 1 for the one that failed.
    one_line_error(every, 1, "gone: http-404")
    assert {(r["source"], r["title"]) for r in json_lines(every)} == {
        ("daily-wire", S300.title),
        ("daily-wire", GRAIN.title),
    }
    # Nothing was recorded anywhere, and no Redis was started for it.
    assert not data.exists()


@pytest.mark.slow
def test_a_dry_run_needs_no_secrets_but_a_real_poll_does(
    site_config: Path, redis_server_url: str
) -> None:
    # Secrets are often set only where the worker runs (compose's .env).
    (site_config / "apprise.yml").write_text(
        f"urls:\n  - json://bot:${{WIREWATCH_UNSET_TOKEN}}@127.0.0.1:{closed_port()}/hook\n"
    )
    env = {"WIREWATCH_CONFIG": str(site_config), "REDIS_URL": redis_server_url}
    dry, real = side_by_side(
        (["poll", "daily-wire", "--dry-run", "--json"], env),
        (["poll", "daily-wire"], env),
    )
    assert dry.returncode == 0, dry.stderr
    assert len(json_lines(dry)) == 2
    one_line_error(real, 2, "environment variable WIREWATCH_UNSET_TOKEN is not set")


@pytest.mark.slow
def test_sources_on_one_host_wait_their_turn_instead_of_failing(
    tmp_path: Path, newsroom: Newsroom
) -> None:
    """Two sources on one host with a politeness delay longer than a poll waits
    for a slot: the second is polled after the delay, not reported as failed."""
    newsroom.publish(S300)
    directory = tmp_path / "config"
    write_site_config(
        directory,
        newsroom.site,
        rules=RULES,
        apprise="urls: []\n",
        settings="fetch: {per_host_delay: 5s}\n",
    )
    with (directory / "sources.yaml").open("a") as sources:
        sources.write(f"  - {{id: same-wire, url: '{newsroom.site.url('/rss')}', type: feed}}\n")
    result = cli("poll", "--all", "--dry-run", "--json", env={"WIREWATCH_CONFIG": str(directory)})
    assert result.returncode == 0, result.stderr
    assert {r["source"] for r in json_lines(result)} == {"daily-wire", "same-wire"}


@pytest.mark.slow
def test_poll_records_and_state_commands_read_it_from_redis_url(
    site_config: Path, newsroom: Newsroom, redis_server_url: str
) -> None:
    env = {"WIREWATCH_CONFIG": str(site_config), "REDIS_URL": redis_server_url}
    first = cli("poll", "daily-wire", env=env)
    assert first.returncode == 0, first.stderr
    assert "daily-wire: ok, 2 items, 2 new" in first.stdout
    assert "1 delivery queued: `wirewatch run` sends it" in first.stderr
    newsroom.publish(S400)
    second = cli("poll", "daily-wire", "--json", env=env)
    assert second.returncode == 0, second.stderr
    [record] = json_lines(second)  # only what is new since the first poll
    assert (record["title"], record["rules"]) == (S400.title, ["s300-iran"])

    # The alerts wait in the outbox, due now: the worker's next tick sends them.
    store = Store.from_url(redis_server_url)
    # redis-py's stubs do not narrow the reply by `withscores`.
    due = cast("list[tuple[bytes, float]]", store.redis.zrange("ww:outbox", 0, -1, withscores=True))
    assert len(due) == 2 and all(at <= datetime.now().timestamp() for _, at in due)

    status, alerts, backtest, metrics = side_by_side(
        (["status", "--json"], env),
        (["alerts", "--json"], env),
        (["backtest", "s300-iran", "--json"], env),
        (["metrics", "--json"], env),
    )
    assert status.returncode == 0, status.stderr
    [report] = json_lines(status)
    [source] = [s for s in report["sources"] if s["id"] == "daily-wire"]
    assert (source["result"], source["items"], source["new"], source["errors"]) == ("ok", 3, 1, 0)
    # Polled by hand counts as polled: the worker's next poll is an interval (30 s)
    # after the hand poll began, which is before it was recorded as done. Measured
    # against the recorded poll, not the clock, so a slow machine cannot fail it.
    began = source["next_due"] - 30
    assert 0 <= source["last_poll"] - began < 30
    assert report["outbox"] == 2 and len(report["undelivered"]) == 2

    assert alerts.returncode == 0, alerts.stderr
    listed = json_lines(alerts)
    assert [a["title"] for a in listed] == [S300.title, S400.title]
    for alert in listed:
        assert {"at", "rule", "source", "title", "url", "mode", "deliveries"} <= set(alert)
        assert alert["rule"] == "s300-iran" and alert["source"] == "daily-wire"
        assert list(alert["deliveries"].values()) == ["pending"]

    assert backtest.returncode == 0, backtest.stderr
    assert [r["title"] for r in json_lines(backtest)] == [S300.title, S400.title]
    assert "2 of 3 articles match" in backtest.stderr

    assert metrics.returncode == 0, metrics.stderr
    samples = {
        (s["name"], tuple(sorted(s["labels"].items()))): s["value"] for s in json_lines(metrics)
    }
    assert samples[("wirewatch_polls_total", (("result", "ok"),))] == 2
    assert samples[("wirewatch_matches_total", (("rule", "s300-iran"),))] == 2
    assert samples[("wirewatch_articles_total", ())] == 3


# -- the state of a stopped `wirewatch run` ---------------------------------------


@pytest.mark.slow
def test_state_commands_read_a_stopped_run_and_use_a_live_one(
    tmp_path: Path, site_config: Path
) -> None:
    data = tmp_path / "data"
    env = {"WIREWATCH_CONFIG": str(site_config), "WIREWATCH_DATA": str(data)}

    none_yet = cli("status", env=env)
    one_line_error(none_yet, 2, f"no state yet: {data} does not exist")
    assert not data.exists()  # no server was started for it

    # A recording poll with no Redis around starts the embedded one on the data folder.
    polled = cli("poll", "daily-wire", env=env)
    assert polled.returncode == 0, polled.stderr
    assert (data / "appendonly.aof").exists()
    assert not (data / EMBEDDED_URL_FILE).exists()

    # Read side by side: each starts the server for itself, one after the other.
    status, alerts, backtest, health = side_by_side(
        (["status"], env),
        (["alerts", "--json"], env),
        (["backtest", "S-300", "--json"], env),
        (["health"], env),
    )
    assert status.returncode == 0, status.stderr
    [row] = [line for line in status.stdout.splitlines() if line.startswith("daily-wire ")]
    assert " ok " in row, status.stdout
    assert "pending" in status.stdout and S300.title in status.stdout
    assert alerts.returncode == 0, alerts.stderr
    assert [a["title"] for a in json_lines(alerts)] == [S300.title]
    assert backtest.returncode == 0, backtest.stderr
    assert [r["title"] for r in json_lines(backtest)] == [S300.title]
    one_line_error(health, 1, "no `wirewatch run` is live")
    assert redis_servers_on(data) == []  # every command stopped the server it started

    # A live run's server is used, never a second one on its files (this one
    # holds the data folder's lock: a command that tried would wait and fail).
    live = EmbeddedRedis(data)
    url = live.start()
    try:
        (data / EMBEDDED_URL_FILE).write_text(url + "\n")
        Store.from_url(url).sources.heartbeat(datetime.now().timestamp())
        status, health = side_by_side((["status", "--json"], env), (["health", "--json"], env))
        assert status.returncode == 0, status.stderr
        assert [s["result"] for s in json_lines(status)[0]["sources"]] == ["ok", None]
        assert health.returncode == 0, health.stderr
        [healthy] = json_lines(health)
        assert healthy["healthy"] is True and healthy["age"] < 60
        assert len(redis_servers_on(data)) == 1
    finally:
        live.stop()
    # A run that died left its redis.url behind: the command starts its own server.
    stale = cli("alerts", env=env)
    assert stale.returncode == 0, stale.stderr
    assert f"s300-iran: {S300.title}" in stale.stdout
    assert redis_servers_on(data) == []


# -- error paths ------------------------------------------------------------------


@pytest.mark.slow
def test_unreachable_redis_missing_config_and_bad_input_are_one_line_errors(
    tmp_path: Path, site_config: Path
) -> None:
    dead = {
        "WIREWATCH_CONFIG": str(site_config),
        "REDIS_URL": f"redis://:secret@127.0.0.1:{closed_port()}/0",
    }
    nowhere = {"WIREWATCH_CONFIG": str(tmp_path / "no-such-folder")}
    config = {"WIREWATCH_CONFIG": str(site_config), "WIREWATCH_DATA": str(tmp_path / "data")}
    results = side_by_side(
        (["status"], dead),
        (["alerts", "--json"], dead),
        (["backtest", "iran"], dead),
        (["metrics"], dead),
        (["health"], dead),
        (["poll", "daily-wire"], dead),
        (["status"], nowhere),
        (["alerts"], nowhere),
        (["poll", "daily-wire", "--dry-run"], nowhere),
        (["notify-test"], nowhere),
        (["check"], nowhere),
        (["backtest", "iran AND"], config),
        (["alerts", "--since", "soon"], config),
    )
    *unreachable, health, poll = results[:6]
    for result in [*unreachable, poll]:
        one_line_error(result, 2, "cannot reach Redis at redis://:***@127.0.0.1:")
        assert "secret" not in result.stderr
    one_line_error(health, 1, "cannot reach Redis")  # 1: a healthcheck says unhealthy

    status, alerts, poll_nowhere, notify, check = results[6:11]
    for result in (status, alerts, poll_nowhere, notify):
        one_line_error(result, 2, f"no config folder at {tmp_path / 'no-such-folder'}")
        assert "WIREWATCH_CONFIG" in result.stderr  # the hint says how to point at it
    assert check.returncode == 1
    assert "config directory does not exist" in check.stdout

    bad_query, bad_since = results[11:]
    one_line_error(bad_query, 2, "(column 6)")
    assert "iran AND\n     ^" in bad_query.stderr
    assert bad_since.returncode == 2 and "--since" in bad_since.stderr
    assert not (tmp_path / "data").exists()  # the bad query was refused before any Redis


@pytest.mark.slow
def test_match_check_extract_notify_and_import_speak_json(
    tmp_path: Path, site_config: Path
) -> None:
    env = {"WIREWATCH_CONFIG": str(site_config)}
    sources_before = (site_config / "sources.yaml").read_text()
    results = side_by_side(
        (["match", "S-300 AND Iran", "-", "--json"], env),
        (["check", "--json"], env),
        (["extract", str(GRAIN_PAGE), "--json"], env),
        (["notify-test", "--tag", "nobody", "--json"], env),
        (["import-opml", str(OPML), "--dry-run", "--json"], env),
    )
    match, check, extract, notify, opml = results
    # stdin is empty here: a query on an empty text matches nothing.
    assert match.returncode == 1
    assert json_lines(match)[0]["match"] is False

    assert check.returncode == 0, check.stdout
    [checked] = json_lines(check)
    assert checked["ok"] is True and checked["errors"] == []
    assert (checked["sources"], checked["rules"], checked["targets"]) == (2, 1, 1)

    assert extract.returncode == 0, extract.stderr
    [page] = json_lines(extract)
    assert {"title", "url", "published", "author", "language", "text"} <= set(page)

    one_line_error(notify, 1, "no targets tagged 'nobody' in apprise.yml")

    assert opml.returncode == 0, opml.stderr
    feeds = json_lines(opml)
    assert {f["action"] for f in feeds} == {"added"}
    assert {"id", "url"} <= set(feeds[0])
    assert "not changed" in opml.stderr
    assert (site_config / "sources.yaml").read_text() == sources_before

    piped = cli("match", "S-300 AND Iran", "-", env=env, stdin="Russia sold the S300 to Iran.")
    assert piped.returncode == 0
    assert "body: Russia sold the [[S300]] to [[Iran]]." in piped.stdout  # no colour in a pipe


# -- on a terminal ------------------------------------------------------------------


@pytest.mark.slow
def test_progress_on_a_terminal_leaves_json_clean(site_config: Path) -> None:
    terminal = {
        "WIREWATCH_CONFIG": str(site_config),
        "TTY_COMPATIBLE": "1",  # rich: treat the output as a terminal
        "TTY_INTERACTIVE": "1",
        "WIREWATCH_PROGRESS_DELAY": "0",  # the bar at once, however fast the poll
    }
    result = cli("poll", "daily-wire", "--dry-run", "--json", env=terminal)
    assert result.returncode == 0, result.stderr
    assert "daily-wire: article 2/2" in result.stderr and "━" in result.stderr  # the bar
    assert {r["title"] for r in json_lines(result)} == {S300.title, GRAIN.title}


def test_a_bug_is_one_line_too_and_debug_shows_the_traceback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("worker.cli.check.load_config", broken)
    monkeypatch.delenv("WIREWATCH_DEBUG", raising=False)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 70
    assert "wirewatch: error: internal error: RuntimeError: boom" in result.stderr
    assert "WIREWATCH_DEBUG=1" in result.stderr
    debug = CliRunner().invoke(main, ["check"], env={"WIREWATCH_DEBUG": "1"})
    assert isinstance(debug.exception, RuntimeError)


def test_messages_never_show_a_redis_password() -> None:
    from worker.cli.state import masked_url

    assert masked_url("redis://:pw@host:6379/0") == "redis://:***@host:6379/0"
    assert masked_url("redis://user:pw@host/1") == "redis://user:***@host/1"
    assert masked_url("redis://host:6379/0") == "redis://host:6379/0"
