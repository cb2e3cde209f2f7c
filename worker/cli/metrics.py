"""`wirewatch metrics`: the Prometheus metrics of the whole deployment."""

from __future__ import annotations

import threading

import click
from prometheus_client import CollectorRegistry, generate_latest, start_http_server

from worker.cli import ui
from worker.cli.common import json_option
from worker.cli.state import open_store
from worker.metrics import RedisCollector

__all__ = ["command"]


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
