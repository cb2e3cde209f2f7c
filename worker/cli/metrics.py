"""`wirewatch metrics`: the Prometheus metrics of the whole deployment."""

from __future__ import annotations

import threading

import click
from prometheus_client import CollectorRegistry, generate_latest, start_http_server

from worker.cli.common import store_or_exit
from worker.metrics import RedisCollector

__all__ = ["command"]


@click.command("metrics")
@click.option("--serve", "port", type=int, default=None, help="Serve /metrics on this port.")
@click.option("--bind", default="0.0.0.0", show_default=True, help="Address to serve on.")
def command(port: int | None, bind: str) -> None:
    """Print the metrics in Prometheus' text format, or serve them for scraping."""
    registry = CollectorRegistry(auto_describe=True)
    registry.register(RedisCollector(store_or_exit()))
    if port is None:
        click.echo(generate_latest(registry).decode(), nl=False)
        return
    start_http_server(port, addr=bind, registry=registry)
    click.echo(f"serving metrics on http://{bind}:{port}/metrics")
    threading.Event().wait()
