"""`wirewatch health`: a container healthcheck that beat and a worker are both alive."""

from __future__ import annotations

import time

import click

from worker.cli import ui
from worker.cli.common import ago, iso, json_option
from worker.cli.state import open_store

__all__ = ["command"]

# Docker reads 1 as unhealthy and reserves 2: every failure here is 1.
_EXIT_HEALTHY, _EXIT_UNHEALTHY = 0, 1


@click.command("health", short_help="Healthcheck: did a tick run in the last minute?")
@click.option(
    "--max-age",
    default=60.0,
    show_default=True,
    help="Seconds since the last tick that count as healthy.",
)
@json_option
def command(max_age: float, as_json: bool) -> None:
    """Exit 0 if a tick ran in the last --max-age seconds (beat sent it, a worker ran it).

    Exits 1 otherwise, also when Redis cannot be reached: it is meant for a
    container's healthcheck. It looks only at a running Redis (REDIS_URL,
    or a live `wirewatch run`'s). With --json, one object: healthy,
    last_tick (ISO 8601 or null), age (seconds or null).

    \b
    Examples:
      wirewatch health
      wirewatch health --max-age 120 --json
    """
    with open_store(live_only=True, code=_EXIT_UNHEALTHY) as store:
        last = store.sources.last_heartbeat()
    now = time.time()
    healthy = last is not None and now - last <= max_age
    if as_json:
        ui.emit_json(
            {
                "healthy": healthy,
                "last_tick": iso(last) if last is not None else None,
                "age": round(now - last, 3) if last is not None else None,
            }
        )
    else:
        ui.stdout().print(f"{'healthy' if healthy else 'unhealthy'}: last tick {ago(last, now)}")
    raise SystemExit(_EXIT_HEALTHY if healthy else _EXIT_UNHEALTHY)
