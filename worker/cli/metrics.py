"""`wirewatch metrics`: the Prometheus metrics of the whole deployment."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping

import click
from prometheus_client import CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from worker.cli import ui
from worker.cli.common import json_option
from worker.cli.state import open_store
from worker.store import Store
from worker.store.metrics import COUNTERS, DELAY_BUCKETS

__all__ = ["RedisCollector", "command"]


class RedisCollector(Collector):
    """Reads the counters from Redis at each scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        raw = self.store.metrics.read()
        yield from self._counters(raw)
        yield self._delay(raw)
        queue = GaugeMetricFamily("wirewatch_queue_depth", "Tasks waiting in the broker queue.")
        queue.add_metric([], self.store.guard.queue_depth())
        yield queue
        outbox = GaugeMetricFamily(
            "wirewatch_outbox", "Deliveries not yet sent (pending or backing off)."
        )
        outbox.add_metric([], self.store.outbox.size())
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


@click.command("metrics", short_help="Prometheus metrics of the whole deployment.")
@click.option("--serve", "port", type=int, default=None, help="Serve /metrics on this port.")
@click.option("--bind", default="0.0.0.0", show_default=True, help="Address to serve on.")
@json_option
def command(port: int | None, bind: str, as_json: bool) -> None:
    """Print the metrics in Prometheus' text format, or serve them for scraping.

    The counters live in Redis, so they add up every worker's. With --json,
    one line per sample: name, labels, value. --serve needs a running Redis
    (REDIS_URL, or a live `wirewatch run`).

    \b
    Examples:
      wirewatch metrics | grep wirewatch_polls_total
      wirewatch metrics --json | jq 'select(.name == "wirewatch_outbox") | .value'
      wirewatch metrics --serve 9108
    """
    with open_store(live_only=port is not None) as store:
        registry = CollectorRegistry(auto_describe=True)
        registry.register(RedisCollector(store))
        if port is None:
            if as_json:
                for family in registry.collect():
                    for sample in family.samples:
                        ui.emit_json(
                            {"name": sample.name, "labels": sample.labels, "value": sample.value}
                        )
            else:
                click.echo(generate_latest(registry).decode(), nl=False)
            return
        start_http_server(port, addr=bind, registry=registry)
        ui.stderr().print(f"serving metrics on http://{bind}:{port}/metrics (Ctrl-C stops)")
        threading.Event().wait()
