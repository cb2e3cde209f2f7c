"""`wirewatch health`: a container healthcheck that beat and a worker are both alive."""

from __future__ import annotations

import sys
import time

import click

from worker.cli.common import ago, store_or_exit

__all__ = ["command"]


@click.command("health")
@click.option(
    "--max-age",
    default=60.0,
    show_default=True,
    help="Seconds since the last tick that count as healthy.",
)
def command(max_age: float) -> None:
    """Exit 0 if a tick ran in the last --max-age seconds (beat sent it, a worker ran it)."""
    store = store_or_exit()
    now = time.time()
    last = store.last_heartbeat()
    healthy = last is not None and now - last <= max_age
    click.echo(f"last tick: {ago(last, now)}")
    sys.exit(0 if healthy else 1)
