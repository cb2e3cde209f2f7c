"""`wirewatch check`: validate the config directory without starting anything."""

from __future__ import annotations

from pathlib import Path

import click

from worker.config import Config, load_config
from worker.errors import ConfigError

__all__ = ["command", "config_warnings"]


@click.command("check")
@click.option(
    "--config",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WIREWATCH_CONFIG",
    default="config",
    show_default=True,
    show_envvar=True,
    help="Config directory to check.",
)
def command(directory: Path) -> None:
    """Validate all config files; print each error with file:line.

    Exits 0 when the config is valid (warnings included), 1 on errors.
    """
    try:
        config = load_config(directory)
    except ConfigError as error:
        for issue in error.issues:
            click.echo(str(issue))
        count = len(error.issues)
        click.echo(f"{_plural(count, 'error')} in {directory}")
        raise SystemExit(1) from None
    for warning in config_warnings(config):
        click.echo(f"warning: {warning}")
    click.echo(
        f"{directory}: ok: {_plural(len(config.sources), 'source')}, "
        f"{_plural(len(config.rules), 'rule')}, {_plural(len(config.targets), 'target')}"
    )


def config_warnings(config: Config) -> list[str]:
    """What is valid but probably not what the user meant."""
    warnings = []
    if not config.sources:
        warnings.append("no sources: nothing will be polled")
    if not config.rules:
        warnings.append("no rules: nothing will be alerted")
    if not config.targets:
        # Not an error: a fresh install should pass `check` before any
        # secrets exist, and `poll --dry-run` is useful without targets.
        warnings.append("no notification targets in apprise.yml: alerts will not be delivered")
        return warnings
    tags = frozenset().union(*(target.tags for target in config.targets))
    for rule in config.rules:
        for tag in rule.notify or ():
            if tag not in tags:
                warnings.append(f"rule {rule.id!r} notifies tag {tag!r}, which no target has")
    if "admin" not in tags:
        warnings.append("no target is tagged 'admin': source health alerts will not be delivered")
    return warnings


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
