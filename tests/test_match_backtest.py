"""`wirewatch backtest QUERY|RULE_ID` (docs/commands.md) over articles archived in Redis."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from worker.cli import main
from worker.models import Article
from worker.service.embedded_redis import EmbeddedRedis
from worker.service.runtime import get_store
from worker.store import Store

DAY = 86400.0
S300 = "\u0421-300"  # written in Cyrillic


def _article(article_id: str, source: str, title: str, body: str) -> Article:
    return Article(
        article_id,
        source,
        f"https://news.example.org/{article_id}",
        title,
        "",
        body,
        datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
    )


@pytest.fixture
def archive(own_redis: EmbeddedRedis) -> Iterator[str]:
    """Four archived articles, from 10 days to 1 hour old; yields the Redis URL."""
    store = Store.from_url(own_redis.url)
    store.redis.flushdb()
    now = time.time()
    articles = [
        (_article("old", "wire", "S-300 for Iran, last month", "An old story."), now - 10 * DAY),
        (
            _article(
                "s300", "wire", "Missiles for Tehran", f"Russia will deliver the {S300} to Iran."
            ),
            now - 2 * DAY,
        ),
        (_article("sport", "sport", "Iran win the S-300 cup", "A sports story."), now - DAY),
        (_article("oil", "wire", "Oil prices", "Iran sells oil; no missiles here."), now - 3600),
    ]
    for article, archived_at in articles:
        store.archive.put(article, archived_at, 30 * DAY)
    get_store.cache_clear()  # the process's Store must be this test's Redis
    yield own_redis.url
    get_store.cache_clear()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "sources.yaml").write_text(
        "sources:\n"
        "  - id: wire\n    name: The Wire\n    url: https://news.example.org/rss\n"
        "    tags: [world]\n"
        "  - id: sport\n    name: Sport\n    url: https://sport.example.org/rss\n"
    )
    (directory / "rules.yaml").write_text(
        "rules:\n  - id: s300-iran\n    query: 'S-300 AND Iran'\n    sources: [world]\n"
    )
    (directory / "apprise.yml").write_text("urls: []\n")
    return directory


def run(redis_url: str, config: Path, *args: str) -> Result:
    return CliRunner().invoke(
        main,
        ["backtest", *args, "--config", str(config)],
        env={"REDIS_URL": redis_url},
        catch_exceptions=False,
    )


def _lines(result: Result) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_query_over_the_last_week_says_why(archive: str, config: Path) -> None:
    result = run(archive, config, "S-300 AND Iran")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4 articles archived" not in out  # the 10-day-old one is outside the default 7d
    assert "3 articles archived" in out
    assert "Missiles for Tehran" in out and "Iran win the S-300 cup" in out
    assert "last month" not in out and "Oil prices" not in out
    # Why: the terms, and each field's snippet with the matched words marked.
    assert f"terms: {S300}, Iran" in out
    assert f"body: Russia will deliver the [[{S300}]] to [[Iran]]." in out
    assert "2 of 3 articles match" in out


def test_json_lists_terms_fields_and_spans(archive: str, config: Path) -> None:
    result = run(archive, config, "S-300 AND Iran", "--json")
    assert result.exit_code == 0, result.output
    records = _lines(result)
    assert [r["id"] for r in records] == ["s300", "sport"]  # oldest first
    first = records[0]
    assert first["rule"] is None
    assert first["title"] == "Missiles for Tehran"
    assert first["url"] == "https://news.example.org/s300"
    assert first["terms"] == [S300, "Iran"]
    assert [(s["field"], s["text"]) for s in first["spans"]] == [
        ("body", S300),
        ("body", "Iran"),
    ]
    assert first["snippets"] == [
        {"field": "body", "text": f"Russia will deliver the [[{S300}]] to [[Iran]]."}
    ]
    assert "2 of 3 articles match" in result.stderr


def test_since_filters_by_archive_time(archive: str, config: Path) -> None:
    ids = [r["id"] for r in _lines(run(archive, config, "iran", "--json", "--since", "30d"))]
    assert ids == ["old", "s300", "sport", "oil"]
    ids = [r["id"] for r in _lines(run(archive, config, "iran", "--json", "--since", "36h"))]
    assert ids == ["sport", "oil"]
    ids = [r["id"] for r in _lines(run(archive, config, "iran", "--json", "--since", "30m"))]
    assert ids == []


def test_rule_id_runs_the_rule_on_the_sources_it_watches(archive: str, config: Path) -> None:
    result = run(archive, config, "s300-iran", "--json")
    assert result.exit_code == 0
    records = _lines(result)
    assert [(r["rule"], r["id"]) for r in records] == [("s300-iran", "s300")]  # not sport
    text = run(archive, config, "s300-iran").stdout
    assert "rule s300-iran: S-300 AND Iran" in text
    assert "1 of 2 articles match (1 from sources the rule does not watch skipped)" in text


def test_no_match_and_bad_query(archive: str, config: Path) -> None:
    result = run(archive, config, "zanzibar")
    assert result.exit_code == 0
    assert "0 of 3 articles match" in result.stdout
    result = run(archive, config, "iran AND")
    assert result.exit_code == 2
    assert "column" in result.stderr


def test_bad_since(archive: str, config: Path) -> None:
    result = CliRunner().invoke(
        main, ["backtest", "iran", "--since", "soon", "--config", str(config)]
    )
    assert result.exit_code == 2
    assert "--since" in result.output


def test_inflected_forms_are_explained_in_the_source_language(
    own_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    """`word~` stems in the source's `language:`, else the declared one, else the
    detected one; backtest says which form matched and why."""
    store = Store.from_url(own_redis.url)
    store.redis.flushdb()
    now = time.time()
    russian = "\u0421\u0430\u043d\u043a\u0446\u0438\u0438 \u043f\u0440\u043e\u0442\u0438\u0432"
    articles = [
        # No declared language: detected as Russian.
        _article(
            "ru",
            "wire",
            "\u0417\u0430\u044f\u0432\u043b\u0435\u043d\u0438\u0435 "
            "\u041f\u0443\u0442\u0438\u043d\u0430",
            f"{russian} \u0431\u0430\u043d\u043a\u043e\u0432 \u0432\u0432\u0435\u043b\u0438 "
            "\u0432\u0447\u0435\u0440\u0430, \u0441\u043e\u043e\u0431\u0449\u0438\u043b\u0438 "
            "\u0432 \u041a\u0440\u0435\u043c\u043b\u0435.",
        ),
        # Declared English by the page, but the source is set to German.
        Article(
            "de",
            "dpa",
            "https://dpa.example.org/1",
            "Neue Sanktionen",
            "",
            "Die Bank wurde mit Sanktionen belegt.",
            datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
            language="en",
        ),
    ]
    for article in articles:
        store.archive.put(article, now - 3600, 30 * DAY)
    get_store.cache_clear()
    directory = tmp_path / "config"
    directory.mkdir()
    (directory / "sources.yaml").write_text(
        "sources:\n"
        "  - id: wire\n    url: https://news.example.org/rss\n"
        "  - id: dpa\n    url: https://dpa.example.org/rss\n    language: de\n"
    )
    (directory / "rules.yaml").write_text("rules: []\n")
    (directory / "apprise.yml").write_text("urls: []\n")
    try:
        result = run(own_redis.url, directory, "Putin~ OR Sanktion~", "--json")
        text = run(own_redis.url, directory, "Putin~").stdout
    finally:
        get_store.cache_clear()
    assert result.exit_code == 0, result.output
    records = {r["id"]: r for r in _lines(result)}
    assert records["ru"]["language"] == "ru"
    assert records["ru"]["terms"] == ["\u041f\u0443\u0442\u0438\u043d\u0430"]
    assert records["ru"]["inflections"] == [
        {
            "text": "\u041f\u0443\u0442\u0438\u043d\u0430",
            "word": "putin~",
            "language": "ru",
            "reason": "putin + ending -\u0430",
        }
    ]
    assert records["de"]["language"] == "de"
    assert records["de"]["terms"] == ["Sanktionen"]
    assert records["de"]["inflections"][0]["reason"] == "sanktion + ending -en"
    assert "inflected: \u041f\u0443\u0442\u0438\u043d\u0430 (putin~: Russian putin + ending" in text
