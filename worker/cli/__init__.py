"""The `wirewatch` command line: one module per command, gathered here."""

from __future__ import annotations

import click

from worker import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wirewatch")
def main() -> None:
    """wirewatch: watch news sources, match rules, send alerts."""


def _register() -> None:
    # Imported here so that each command module can import `main`'s helpers
    # without a cycle, and a newcomer sees every command in one list.
    from worker.cli import (
        alerts,
        backtest,
        check,
        extract,
        health,
        import_opml,
        match,
        metrics,
        notify_test,
        poll,
        run,
        status,
    )

    for module in (
        run,
        check,
        match,
        backtest,
        extract,
        poll,
        status,
        alerts,
        notify_test,
        health,
        metrics,
        import_opml,
    ):
        main.add_command(module.command)


_register()
