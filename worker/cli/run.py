"""`wirewatch run`: workers and beat (and Redis) as children, stopped in order."""

from __future__ import annotations

import click

from worker.cli.init import init_hint
from worker.cli.ui import Failure
from worker.service import logs
from worker.service.runtime import config_dir, data_dir
from worker.service.supervisor import run

__all__ = ["command"]


@click.command("run", short_help="Run the worker and beat (and an embedded Redis).")
@click.option(
    "--concurrency",
    default=64,
    show_default=True,
    help="Tasks run at once (worker threads: fetching waits on the network, not the CPU).",
)
@click.option(
    "--loglevel",
    default="INFO",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Also print Celery's banners, its warnings and a line per task.",
)
def command(concurrency: int, loglevel: str, verbose: bool) -> None:
    """Run the worker and beat (and an embedded Redis when REDIS_URL is unset).

    Polls every source right away, then each at its interval; matches new
    articles against the rules and sends the alerts. Prints what it runs
    on, then one line per event: a poll's summary, an alert sent, an error. The embedded Redis
    keeps its data in WIREWATCH_DATA (default ./data), where `status`,
    `alerts` and `backtest` find it, also after the run stopped. Ctrl-C or
    SIGTERM stops everything cleanly.

    \b
    Examples:
      wirewatch run
      WIREWATCH_CONFIG=/srv/ww/config WIREWATCH_DATA=/srv/ww/data wirewatch run
      REDIS_URL=redis://localhost:6379/0 wirewatch run --concurrency 16
    """
    config = config_dir()
    if not config.is_dir():
        raise Failure(f"no config folder at {config}", hint=init_hint(config))
    loglevel = loglevel.upper()
    logs.configure(loglevel, loud=verbose)
    raise SystemExit(
        run(config, data_dir(), loglevel=loglevel, concurrency=concurrency, verbose=verbose)
    )
