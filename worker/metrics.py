"""Prometheus metrics, counted in Redis so every worker process and machine adds to one set.

Counters are fields of one Redis hash (`ww:metrics`), so a scrape of any
`wirewatch metrics` server sees the whole deployment, and counts survive a
restart of the workers. Gauges (queue depth, outbox) are read at scrape time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from worker.store import Store

__all__ = ["COUNTERS", "DELAY_BUCKETS", "RedisCollector", "count", "observe_delay"]

KEY = "ww:metrics"


@dataclass(frozen=True, slots=True)
class CounterSpec:
    help: str
    labels: tuple[str, ...] = ()


COUNTERS: Mapping[str, CounterSpec] = {
    "wirewatch_polls": CounterSpec(
        "Source polls, by result (ok, not-modified, or an error kind).", ("result",)
    ),
    "wirewatch_fetch_errors": CounterSpec(
        "Failed fetches of sources and pages, by kind.", ("kind",)
    ),
    "wirewatch_articles": CounterSpec("Articles processed (fetched, extracted, matched)."),
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


def count(store: Store, name: str, amount: int = 1, **labels: str) -> None:
    store.redis.hincrby(KEY, _field(name, labels), amount)


def observe_delay(store: Store, seconds: float) -> None:
    """Record one publication-to-alert delay in the histogram's buckets."""
    seconds = max(seconds, 0.0)
    pipe = store.redis.pipeline()
    for bound in DELAY_BUCKETS:
        if seconds <= bound:
            pipe.hincrby(KEY, f"delay_bucket|{bound}", 1)
    pipe.hincrby(KEY, "delay_count", 1)
    pipe.hincrbyfloat(KEY, "delay_sum", seconds)
    pipe.execute()


class RedisCollector(Collector):
    """Reads the counters from Redis at each scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        raw = {
            (k.decode() if isinstance(k, bytes) else str(k)): (
                v.decode() if isinstance(v, bytes) else str(v)
            )
            for k, v in self.store.redis.hgetall(KEY).items()
        }
        yield from self._counters(raw)
        yield self._delay(raw)
        queue = GaugeMetricFamily("wirewatch_queue_depth", "Tasks waiting in the broker queue.")
        queue.add_metric([], self.store.queue_depth())
        yield queue
        outbox = GaugeMetricFamily(
            "wirewatch_outbox", "Deliveries not yet sent (pending or backing off)."
        )
        outbox.add_metric([], self.store.outbox_size())
        yield outbox

    def _counters(self, raw: Mapping[str, str]) -> Iterator[Metric]:
        for name, spec in COUNTERS.items():
            family = CounterMetricFamily(name, spec.help, labels=list(spec.labels))
            for field, value in raw.items():
                parts = field.split("|")
                if parts[0] == name and len(parts) == len(spec.labels) + 1:
                    family.add_metric(parts[1:], float(value))
            if not spec.labels and not family.samples:
                family.add_metric([], 0.0)
            yield family

    def _delay(self, raw: Mapping[str, str]) -> Metric:
        buckets = [(str(b), float(raw.get(f"delay_bucket|{b}", 0))) for b in DELAY_BUCKETS]
        total = float(raw.get("delay_count", 0))
        family = HistogramMetricFamily(
            "wirewatch_alert_delay_seconds",
            "Seconds from an article's publication to its alert being sent.",
        )
        family.add_metric([], [*buckets, ("+Inf", total)], sum_value=float(raw.get("delay_sum", 0)))
        return family
