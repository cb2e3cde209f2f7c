"""`wirewatch run`: worker and beat in one process group."""

from __future__ import annotations

import logging

import click

from worker.runtime import config_dir, data_dir
from worker.supervisor import run

__all__ = ["command"]


@click.command("run")
@click.option(
    "--concurrency",
    default=64,
    show_default=True,
    help="Tasks run at once (worker threads: fetching waits on the network, not the CPU).",
)
@click.option("--loglevel", default="INFO", show_default=True)
def command(concurrency: int, loglevel: str) -> None:
    """Run the worker and beat (and an embedded Redis when REDIS_URL is unset)."""
    logging.basicConfig(level=loglevel, format="[%(asctime)s: %(levelname)s/%(name)s] %(message)s")
    raise SystemExit(run(config_dir(), data_dir(), loglevel=loglevel, concurrency=concurrency))
