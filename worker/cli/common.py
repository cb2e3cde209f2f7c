"""What the commands share: loading the config for a command, and printing times."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from worker.config import Config, load_config
from worker.errors import ConfigError, WirewatchError
from worker.live_config import LiveConfig
from worker.runtime import config_dir, get_store
from worker.store import Store

__all__ = [
    "ago",
    "config_option",
    "iso",
    "live_config_or_exit",
    "load_or_exit",
    "store_or_exit",
]

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Config directory [default: $WIREWATCH_CONFIG or ./config].",
)


def load_or_exit(config_path: Path | None, code: int = 2) -> Config:
    try:
        return load_config(config_path or config_dir())
    except ConfigError as exc:
        click.echo(f"wirewatch: the config has errors:\n{exc}", err=True)
        sys.exit(code)


def live_config_or_exit(config_path: Path | None, store: Store) -> tuple[Config, str | None]:
    """The config in force and the current file error, as the worker sees them.

    For commands that report on a running worker: broken files must not stop
    them, since showing that the files are broken is part of their job.
    """
    live = LiveConfig(config_path or config_dir(), store)
    config = live.current()
    if config is None:
        click.echo(f"wirewatch: no valid config yet:\n{live.error}", err=True)
        sys.exit(2)
    return config, live.error


def store_or_exit() -> Store:
    try:
        store = get_store()
        store.redis.ping()
    except (WirewatchError, OSError) as exc:
        click.echo(f"wirewatch: {exc}", err=True)
        sys.exit(2)
    except Exception as exc:  # redis-py's connection errors share no base with OSError
        click.echo(f"wirewatch: cannot reach Redis: {exc}", err=True)
        sys.exit(2)
    return store


def ago(timestamp: float | None, now: float) -> str:
    if timestamp is None:
        return "never"
    seconds = now - timestamp
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 90:
        text = f"{seconds:.0f}s"
    elif seconds < 5400:
        text = f"{seconds / 60:.0f}m"
    elif seconds < 129600:
        text = f"{seconds / 3600:.1f}h"
    else:
        text = f"{seconds / 86400:.1f}d"
    return f"in {text}" if future else f"{text} ago"


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
