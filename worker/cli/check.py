"""`wirewatch check`: validate the config folder without starting anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.text import Text

from worker.cli import ui
from worker.cli.common import CONFIG_HINT, json_option
from worker.config import Config, load_config
from worker.errors import ConfigError, ConfigIssue

__all__ = ["command", "config_warnings"]


@click.command("check", short_help="Validate the config files; errors with file:line.")
@click.option(
    "--config",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="WIREWATCH_CONFIG",
    default="config",
    show_default=True,
    show_envvar=True,
    help="Config folder to check.",
)
@json_option
def command(directory: Path, as_json: bool) -> None:
    """Validate all config files; print each error with file:line.

    Exits 0 when the config is valid (warnings included), 1 on errors. With
    --json, one object: ok, errors (file, line, field, message), warnings
    and the number of sources, rules and targets.

    \b
    Examples:
      wirewatch check
      wirewatch check --config /srv/wirewatch/config
      wirewatch check --json | jq '.errors[].message'
    """
    try:
        config = load_config(directory)
    except ConfigError as error:
        _report_errors(directory, error.issues, as_json)
        raise SystemExit(1) from None
    warnings = config_warnings(config)
    counts = {
        "sources": len(config.sources),
        "rules": len(config.rules),
        "targets": len(config.targets),
    }
    if as_json:
        ui.emit_json(
            {"folder": str(directory), "ok": True, "errors": [], "warnings": warnings, **counts}
        )
        return
    out = ui.stdout()
    for warning in warnings:
        out.print(Text.assemble(("warning: ", "yellow"), warning))
    summary = ", ".join(_plural(count, noun[:-1]) for noun, count in counts.items())
    out.print(Text.assemble(f"{directory}: ", ("ok", "green"), f": {summary}"))


def _report_errors(directory: Path, issues: list[ConfigIssue], as_json: bool) -> None:
    missing = not directory.is_dir()
    if as_json:
        record: dict[str, Any] = {
            "folder": str(directory),
            "ok": False,
            "errors": [
                {"file": i.file, "line": i.line, "field": i.field, "message": i.message}
                for i in issues
            ],
            "warnings": [],
        }
        ui.emit_json(record)
        return
    out = ui.stdout()
    for issue in issues:
        out.print(ui.plain(str(issue), style="red"))
    out.print(f"{_plural(len(issues), 'error')} in {directory}")
    if missing:
        ui.stderr().print(Text(f"  hint: {CONFIG_HINT}", style="dim"))


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
