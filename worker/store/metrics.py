"""Prometheus metrics, counted in Redis so every worker process and machine adds to one set.

Counters are fields of one Redis hash (`ww:metrics`), so a scrape of any
`wirewatch metrics` server sees the whole deployment, and counts survive a
restart of the workers. Gauges (queue depth, outbox) are read at scrape time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import redis
from redis.client import Pipeline

from worker.store import keys
from worker.store.codec import mapping

__all__ = ["COUNTERS", "DELAY_BUCKETS", "CounterSpec", "Metrics"]


@dataclass(frozen=True, slots=True)
class CounterSpec:
    help: str
    labels: tuple[str, ...] = ()


COUNTERS: Mapping[str, CounterSpec] = {
    "wirewatch_polls": CounterSpec(
        "Source polls, by result (ok, not-modified, unchanged, or an error kind).", ("result",)
    ),
    "wirewatch_fetch_errors": CounterSpec(
        "Failed fetches of sources and pages, by kind.", ("kind",)
    ),
    "wirewatch_articles": CounterSpec("Articles processed (fetched, extracted, matched)."),
    "wirewatch_page_fallbacks": CounterSpec(
        "Articles matched on the feed's own text because the page could not be fetched,"
        " parsed or extracted, by reason (bad-url, parser-error, over-budget, http-404...).",
        ("kind",),
    ),
    "wirewatch_matches": CounterSpec("Rule matches, by rule.", ("rule",)),
    "wirewatch_alerts_sent": CounterSpec(
        "Deliveries sent, by kind (alert, digest, health).", ("kind",)
    ),
    "wirewatch_alerts_failed": CounterSpec("Delivery attempts that failed, by kind.", ("kind",)),
}

# Seconds from an article's publication to its alert leaving wirewatch.
DELAY_BUCKETS = (15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 21600.0, 86400.0)


def _field(name: str, labels: Mapping[str, str]) -> str:
    spec = COUNTERS[name]
    values = [labels[label] for label in spec.labels]
    return "|".join([name, *values])


class Metrics:
    def __init__(self, client: redis.Redis) -> None:
        self._redis = client

    def count(self, name: str, amount: int = 1, **labels: str) -> None:
        """Add to one of `COUNTERS`, with a value for each of its labels."""
        self._redis.hincrby(keys.METRICS, _field(name, labels), amount)

    def queue_count(self, pipe: Pipeline, name: str, amount: int = 1, **labels: str) -> None:
        """`count` in a caller's pipeline."""
        pipe.hincrby(keys.METRICS, _field(name, labels), amount)

    def observe_delay(self, seconds: float) -> None:
        """Record one publication-to-alert delay in the histogram's buckets."""
        seconds = max(seconds, 0.0)
        pipe = self._redis.pipeline()
        for bound in DELAY_BUCKETS:
            if seconds <= bound:
                pipe.hincrby(keys.METRICS, f"delay_bucket|{bound}", 1)
        pipe.hincrby(keys.METRICS, "delay_count", 1)
        pipe.hincrbyfloat(keys.METRICS, "delay_sum", seconds)
        pipe.execute()

    def read(self) -> dict[str, str]:
        """Every counter and histogram field, as the collector reads them at a scrape."""
        return mapping(self._redis.hgetall(keys.METRICS))
