"""What the commands share: finding and loading the config, and printing times."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path

import click

from worker.cli.ui import Failure
from worker.config import Config, load_config
from worker.errors import ConfigError
from worker.service.live_config import LiveConfig
from worker.service.runtime import config_dir
from worker.store import Store

__all__ = [
    "CONFIG_HINT",
    "ago",
    "config_folder",
    "config_option",
    "iso",
    "json_option",
    "live_config_or_fail",
    "load_or_fail",
    "suggest",
]

CONFIG_HINT = (
    "run wirewatch in the folder that holds config/, point --config or "
    "WIREWATCH_CONFIG at your config folder, or create one with `wirewatch init`"
)

config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Config folder [default: $WIREWATCH_CONFIG or ./config].",
)

json_option = click.option(
    "--json", "as_json", is_flag=True, help="JSON output: one object per line, nothing else."
)


def config_folder(config_path: Path | None) -> Path:
    """The config folder to use; a missing one is an error with a hint, not a file list."""
    directory = config_path or config_dir()
    if not directory.is_dir():
        raise Failure(f"no config folder at {directory}", hint=CONFIG_HINT)
    return directory


class _AnySecret(Mapping[str, str]):
    """The environment, with a placeholder for every unset variable."""

    def __getitem__(self, name: str) -> str:
        return os.environ.get(name, "unset")

    def __contains__(self, name: object) -> bool:
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(os.environ)

    def __len__(self) -> int:
        return len(os.environ)


def load_or_fail(config_path: Path | None, *, sends: bool = True) -> Config:
    """The config, or a one-line error; `sends=False` for commands that notify nobody.

    Those need no secrets: apprise.yml's ${NAME}s are often set only where
    the worker runs (compose's .env), not in the shell trying a new source.
    """
    directory = config_folder(config_path)
    try:
        return load_config(directory, None if sends else _AnySecret())
    except ConfigError as exc:
        raise Failure(
            f"the config in {directory} has errors:\n{exc}",
            hint="fix them (`wirewatch check` lists them all) and try again",
        ) from None


def live_config_or_fail(config_path: Path | None, store: Store) -> tuple[Config, str | None]:
    """The config in force and the current file error, as the worker sees them.

    For commands that report on a running worker: broken files must not stop
    them, since showing that the files are broken is part of their job.
    """
    live = LiveConfig(config_folder(config_path), store)
    config = live.current()
    if config is None:
        raise Failure(
            f"no valid config yet:\n{live.error}",
            hint="fix the errors (`wirewatch check` lists them all) and try again",
        )
    return config, live.error


def suggest(name: str, known: list[str], what: str) -> str:
    """A hint for a mistyped id: the closest known ones, or where to find them."""
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(close) + "?"
    if not known:
        return f"there are no {what}s in the config yet"
    shown = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    return f"known {what}s: {shown}"


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
