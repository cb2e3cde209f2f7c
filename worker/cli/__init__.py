"""The `wirewatch` command line: one module per command, gathered here."""

from __future__ import annotations

import difflib
import importlib
import logging
import os
import sys
from typing import Any

import click
import redis

from worker import __version__
from worker.cli.ui import Failure
from worker.errors import WirewatchError

__all__ = ["main"]

# The exit code of a bug (BSD's EX_SOFTWARE), distinct from every command's own.
_EXIT_INTERNAL = 70


# Command name -> module, in the order a newcomer needs them. A command's
# module is imported only when it runs (or for --help), which keeps the
# start of every command short.
_COMMANDS = {
    "init": "init",
    "check": "check",
    "match": "match",
    "backtest": "backtest",
    "extract": "extract",
    "poll": "poll",
    "run": "run",
    "status": "status",
    "alerts": "alerts",
    "notify-test": "notify_test",
    "import-opml": "import_opml",
    "metrics": "metrics",
    "health": "health",
}


class _Main(click.Group):
    """The group that turns what escapes a command into one line and a hint."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = _COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = importlib.import_module(f"worker.cli.{module}").command
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in _COMMANDS:
            close = difflib.get_close_matches(name, list(_COMMANDS), n=2, cutoff=0.6)
            guess = f" Did you mean {' or '.join(close)}?" if close else ""
            ctx.fail(f"no command {name!r}.{guess} `wirewatch --help` lists them.")
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except WirewatchError as exc:
            raise Failure(str(exc)) from None
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise Failure(
                f"lost the connection to Redis: {exc}",
                hint="is the Redis server (or `wirewatch run`) still up?",
            ) from None
        except BrokenPipeError:
            # The reader (`| head`) has what it wanted; say nothing more.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise SystemExit(0) from None
        except Exception as exc:
            if os.environ.get("WIREWATCH_DEBUG"):
                raise
            raise Failure(
                f"internal error: {type(exc).__name__}: {exc}",
                hint="this is a bug in wirewatch; WIREWATCH_DEBUG=1 shows the traceback",
                code=_EXIT_INTERNAL,
            ) from None


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="wirewatch")
@click.option("-v", "--verbose", is_flag=True, help="Log what happens to stderr.")
def main(verbose: bool) -> None:
    """wirewatch: watch news sources, match rules, send alerts.

    It reads its config from ./config (or $WIREWATCH_CONFIG) and keeps its
    state in Redis: $REDIS_URL, or the embedded Redis that `wirewatch run`
    keeps in ./data (or $WIREWATCH_DATA). `wirewatch COMMAND --help` shows
    each command with examples.

    \b
    Getting started:
      wirewatch init                              a commented starter config
      wirewatch check                             is the config valid?
      wirewatch match 'S-300 AND Iran' page.html  does my rule find this?
      wirewatch poll moscow-times --dry-run       what does a new source give?
      wirewatch run                               watch, match and alert
      wirewatch status                            how is every source doing?
      wirewatch alerts --since 7d                 what was alerted, and sent?

    Exit codes: 0 done, 1 the command's negative answer (no match, fetch
    failed, ...), 2 it could not run (bad arguments, config or Redis).
    """
    if verbose:
        logging.basicConfig(
            level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
        )
    else:
        # Commands say what matters themselves; the library's log lines would
        # repeat it (Python prints warnings to stderr when nothing is set up).
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(logging.NullHandler())
