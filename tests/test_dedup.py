"""Near-duplicates: one story from several sources alerts once per rule.

The similarity itself is checked on plain text; the pipeline part on a real
Redis with a real webhook receiving the alerts, with retries, concurrent
workers, a second rule, the window, and `wirewatch alerts`.
"""

from __future__ import annotations

import json
import os
import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.receivers import WebhookReceiver
from tests.wirewatch_process import run_cli
from worker.config import Config, load_config
from worker.models import Article
from worker.pipeline import compiled_rules, match_article, record_matches
from worker.pipeline.dedup import NearDuplicates, band_keys, lsh_params, upgrade_index
from worker.pipeline.delivery import deliver
from worker.pipeline.minhash import NUM_PERM, shingles, signature, similarity
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store

STORY = (
    "Russia has begun delivering S-300 air defence systems to Iran, the defence ministry in "
    "Moscow said on Tuesday, ending years of delays over a contract signed in 2007. The first "
    "batteries left by sea and are expected to reach the port of Bandar Abbas within two "
    "weeks, officials said. Israel and the United States have long opposed the sale, saying "
    "the missiles would make strikes on Iranian nuclear sites harder. Tehran paid for the "
    "systems in full, a spokesman said, and its crews have trained in Russia since spring. "
    "Analysts said the delivery marks a shift in relations after the lifting of some "
    "sanctions, and that more contracts could follow this year."
)
OTHER_STORY = (
    "Iran said on Tuesday it would test a domestically built air defence system next month, "
    "which officials called an answer to the S-300 delays. The Bavar-373 has been in "
    "development since 2010 and uses missiles made in Iran, the ministry said. Experts doubt "
    "that it can match Russian systems. Parliament approved more money for the program, and "
    "the army plans a public exercise near Isfahan with foreign observers invited to attend."
)


def copy(article_id: str, source: str, title: str, body: str) -> Article:
    return Article(
        id=article_id,
        source_id=source,
        url=f"https://{source}.example.org/{article_id}",
        title=title,
        summary="",
        body=body,
        published=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )


ORIGINAL = copy("a-wire", "wire", "Russia delivers S-300 systems to Iran", STORY)
# Edited title, a dateline and a closing credit, another URL: the same story.
REUTERS = copy(
    "a-reuters",
    "reuters",
    "Russia starts S-300 deliveries to Iran, ministry says",
    f"MOSCOW (Reuters) - {STORY} (Reporting by Jane Doe; editing by John Roe)",
)
AP = copy(
    "a-ap",
    "ap",
    "Russia ships S-300 missiles to Iran",
    STORY.replace("on Tuesday", "Tuesday").replace("officials said", "officials told reporters"),
)
UNRELATED = copy("a-other", "wire", "Iran to test its own air defence system", OTHER_STORY)


def sim(first: str, second: str) -> float:
    return similarity(signature(first), signature(second))


# ---------------------------------------------------------------- the measure


def test_wire_copies_are_similar_and_a_related_story_is_not() -> None:
    assert sim(REUTERS.title + "\n" + REUTERS.body, ORIGINAL.title + "\n" + ORIGINAL.body) >= 0.8
    assert sim(AP.title + "\n" + AP.body, ORIGINAL.title + "\n" + ORIGINAL.body) >= 0.8
    assert sim(OTHER_STORY, STORY) < 0.1
    assert sim("", "") == 0.0  # empty texts are never "the same story"


def test_similarity_estimates_jaccard() -> None:
    words = [f"w{i}" for i in range(400)]
    first = " ".join(words)
    second = " ".join(words[:300] + [f"x{i}" for i in range(100)])
    a, b = set(shingles(first)), set(shingles(second))
    exact = len(a & b) / len(a | b)
    # 256 hash functions: the standard error is about 0.03.
    assert abs(sim(first, second) - exact) < 0.15


def test_case_width_and_punctuation_do_not_matter() -> None:
    assert sim("Russia delivers S-300 to Iran!", "RUSSIA delivers \uff33-300, to Iran") == 1.0


def test_lsh_finds_copies_at_the_threshold() -> None:
    for threshold in (0.5, 0.8, 0.9):
        bands, rows = lsh_params(threshold)
        assert bands * rows <= NUM_PERM
        assert 1 - (1 - threshold**rows) ** bands >= 0.99


# ---------------------------------------------------------------- the pipeline


def make_config(directory: Path, hook: WebhookReceiver, extra_rules: str = "") -> Config:
    directory.mkdir(exist_ok=True)
    (directory / "settings.yaml").write_text(
        "near_duplicate: {threshold: 0.8, window: 3d}\nallow_private_networks: true\n"
    )
    sources = "".join(
        f"  - id: {sid}\n    name: {name}\n    url: https://{sid}.example.org/rss\n"
        for sid, name in (("wire", "The Wire"), ("reuters", "Reuters"), ("ap", "AP News"))
    )
    (directory / "sources.yaml").write_text(f"sources:\n{sources}")
    (directory / "rules.yaml").write_text(
        "rules:\n  - id: s300-iran\n    query: 'S-300 AND Iran'\n" + extra_rules
    )
    (directory / "apprise.yml").write_text(f"urls:\n  - {hook.apprise_url()}\n")
    return load_config(directory)


def process(article: Article, config: Config, store: Store, now: float) -> list[str]:
    store.archive.put(article, now, 86400 * 30)
    matches = match_article(article, config.rules, config)
    keys = record_matches(article, matches, config, store, now)
    for key in keys:
        deliver(key, config, store, now)
    return keys


@pytest.fixture
def hook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


def test_copies_alert_once_and_are_recorded_on_the_first_alert(
    tmp_path: Path, own_redis: EmbeddedRedis, hook: WebhookReceiver
) -> None:
    config = make_config(tmp_path / "config", hook)
    store = Store.from_url(own_redis.url)
    now = 1_000_000.0
    assert len(process(ORIGINAL, config, store, now)) == 1
    assert process(REUTERS, config, store, now + 60) == []
    assert process(AP, config, store, now + 120) == []
    # A repeated task (the worker died after recording) changes nothing.
    assert process(REUTERS, config, store, now + 180) == []

    hook.wait_for(1)
    assert len(hook.items) == 1
    assert store.alerts.also_reported_by(f"s300-iran:{ORIGINAL.id}") == ["Reuters", "AP News"]
    assert store.alerts.get(f"s300-iran:{REUTERS.id}") is None


def test_a_copy_from_the_same_source_is_not_listed_as_another_reporter(
    tmp_path: Path, own_redis: EmbeddedRedis, hook: WebhookReceiver
) -> None:
    config = make_config(tmp_path / "config", hook)
    store = Store.from_url(own_redis.url)
    process(ORIGINAL, config, store, 1_000_000.0)
    republished = copy("a-wire-2", "wire", ORIGINAL.title + " (updated)", ORIGINAL.body)
    assert process(republished, config, store, 1_000_060.0) == []
    assert store.alerts.also_reported_by(f"s300-iran:{ORIGINAL.id}") == []


def test_a_different_story_and_another_rule_still_alert(
    tmp_path: Path, own_redis: EmbeddedRedis, hook: WebhookReceiver
) -> None:
    config = make_config(
        tmp_path / "config",
        hook,
        "  - id: dateline\n    query: 'Reuters'\n",
    )
    store = Store.from_url(own_redis.url)
    now = 1_000_000.0
    process(ORIGINAL, config, store, now)
    related = copy("a-related", "ap", "S-300 delays: Iran tests its own system", OTHER_STORY)
    assert len(process(related, config, store, now + 60)) == 1
    # The copy is a repeat for s300-iran, but the first alert of rule `dateline`.
    keys = process(REUTERS, config, store, now + 120)
    assert keys == [k for k in keys if k.startswith(f"dateline:{REUTERS.id}:")] and keys
    hook.wait_for(3)
    assert len(hook.items) == 3


def test_copies_after_the_window_alert_again(
    tmp_path: Path, own_redis: EmbeddedRedis, hook: WebhookReceiver
) -> None:
    config = make_config(tmp_path / "config", hook)
    store = Store.from_url(own_redis.url)
    process(ORIGINAL, config, store, 1_000_000.0)
    four_days = 4 * 86400
    assert len(process(REUTERS, config, store, 1_000_000.0 + four_days)) == 1


def test_an_index_of_version_1_is_reindexed_and_a_copy_still_folds(
    tmp_path: Path, own_redis: EmbeddedRedis, hook: WebhookReceiver
) -> None:
    """An upgrade from version 1 (unversioned keys, other hash functions): the
    articles it indexed are re-indexed from the archive, once, so a copy that
    arrives after the upgrade still folds into the alert made before it."""
    config = make_config(tmp_path / "config", hook)
    store = Store.from_url(own_redis.url)
    now = 1_000_000.0
    assert len(process(ORIGINAL, config, store, now)) == 1
    # What version 1 left in Redis instead: a 128 x 64-bit signature and
    # bucket under unversioned keys, and no version marker.
    for key in store.redis.scan_iter(match="ww:dedup:v2:*"):
        store.redis.delete(key)
    store.redis.delete("ww:dedup:version")
    store.redis.set(f"ww:dedup:sig:{ORIGINAL.id}", "ab" * 8 * 128)
    store.redis.zadd("ww:dedup:band:16x8:0:0123456789abcdef", {ORIGINAL.id: now})
    # An article v1 indexed that the archive no longer holds is skipped.
    store.redis.set("ww:dedup:sig:a-expired", "cd" * 8 * 128)

    assert process(REUTERS, config, store, now + 60) == []
    assert store.alerts.also_reported_by(f"s300-iran:{ORIGINAL.id}") == ["Reuters"]
    assert store.dedup.version() == 2
    assert list(store.redis.scan_iter(match="ww:dedup:sig:*")) == []
    assert list(store.redis.scan_iter(match="ww:dedup:band:*")) == []
    # Once is enough: the next copy finds a current index.
    assert upgrade_index(store, 0.8, 3 * 86400, now + 120) == 0
    assert process(AP, config, store, now + 120) == []
    assert store.alerts.also_reported_by(f"s300-iran:{ORIGINAL.id}") == ["Reuters", "AP News"]
    hook.wait_for(1)
    assert len(hook.items) == 1


def test_concurrent_workers_alert_once(
    tmp_path: Path, own_redis: EmbeddedRedis, hook: WebhookReceiver
) -> None:
    config = make_config(tmp_path / "config", hook)
    compiled_rules(config.rules, config.fingerprint)  # compiled before the threads race
    copies = [
        copy(f"a-{i}", random.choice(["wire", "reuters", "ap"]), f"Copy {i}", f"{STORY} [{i}]")
        for i in range(8)
    ]
    barrier = threading.Barrier(len(copies))
    results: dict[str, list[str]] = {}

    def work(article: Article) -> None:
        store = Store.from_url(own_redis.url)  # a connection of its own, like a worker
        barrier.wait()
        results[article.id] = process(article, config, store, 1_000_000.0)

    threads = [threading.Thread(target=work, args=(a,)) for a in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(len(keys) for keys in results.values()) == 1, results
    hook.wait_for(1)
    assert len(hook.items) == 1


@pytest.mark.slow
def test_lookup_cost_does_not_grow_with_the_index(own_redis: EmbeddedRedis) -> None:
    """With thousands of unrelated articles indexed, a lookup reads a fixed number of
    buckets and finds no false candidates to verify."""
    index = NearDuplicates(Store.from_url(own_redis.url))
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(20000)]
    for n in range(1500):
        text = " ".join(rng.choices(vocabulary, k=150))
        index.add(f"n{n}", signature(text), 0.8, 1_000_000.0, 86400.0)
    sig = signature(STORY)
    bands, rows = lsh_params(0.8)
    assert len(band_keys(sig, bands, rows)) == bands
    assert index.candidates(sig, 0.8, 0.0, exclude="") == []
    index.add("story", sig, 0.8, 1_000_000.0, 86400.0)
    found = index.similar(signature(REUTERS.body), 0.8, 0.0, exclude="")
    assert [article for article, _ in found] == ["story"]


@pytest.mark.slow
def test_wirewatch_alerts_shows_also_reported_by(
    tmp_path: Path, own_redis: EmbeddedRedis, hook: WebhookReceiver
) -> None:
    config = make_config(tmp_path / "config", hook)
    store = Store.from_url(own_redis.url)
    now = datetime.now(UTC).timestamp()
    process(ORIGINAL, config, store, now)
    process(REUTERS, config, store, now + 1)
    env = {"REDIS_URL": own_redis.url, "WIREWATCH_CONFIG": str(tmp_path / "config")}
    run = run_cli("alerts", "--json", env={**_base_env(), **env}, timeout=60)
    assert run.returncode == 0, run.stderr
    [record] = [json.loads(line) for line in run.stdout.splitlines()]
    assert record["also_reported_by"] == ["Reuters"]
    assert record["title"] == ORIGINAL.title
    listing = run_cli("alerts", env={**_base_env(), **env}, timeout=60)
    assert listing.returncode == 0, listing.stderr
    text = listing.stdout
    assert "also reported by: Reuters" in text


def _base_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
