"""`wirewatch status`: is every source healthy, is anything stuck?"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from worker.cli.common import ago, config_option, live_config_or_exit, store_or_exit

__all__ = ["command"]


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@config_option
def command(as_json: bool, config_path: Path | None) -> None:
    """Per source: last poll, result, items, next due, errors; queues; undelivered alerts."""
    store = store_or_exit()
    config, config_error = live_config_or_exit(config_path, store)
    now = time.time()
    sources = []
    for source in config.sources:
        state = store.source_state(source.id)
        claimed = store.last_claim(source.id)
        next_due = max(
            (claimed or now) + source.interval.total_seconds() if claimed else now,
            state.not_before,
        )
        sources.append(
            {
                "id": source.id,
                "last_poll": state.last_poll,
                "result": state.last_result,
                "items": state.items,
                "new": state.new_items,
                "next_due": next_due,
                "errors": state.errors,
            }
        )
    undelivered = [
        {
            "key": d.key,
            "title": d.title,
            "state": d.state,
            "attempts": d.attempts,
            "last_error": d.last_error,
        }
        for d in store.undelivered()
    ]
    report: dict[str, Any] = {
        "config_error": config_error,
        "sources": sources,
        "queue": store.queue_depth(),
        "outbox": store.outbox_size(),
        "undelivered": undelivered,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    _print(report, now)


def _print(report: dict[str, Any], now: float) -> None:
    if report["config_error"]:
        click.secho("config rejected (the last good config is in force):", fg="red")
        click.echo(report["config_error"])
    click.echo(
        f"{'source':<24} {'last poll':<10} {'result':<14} {'items':>5} {'next due':<10} errors"
    )
    for s in report["sources"]:
        line = (
            f"{s['id']:<24} {ago(s['last_poll'], now):<10} {s['result'] or '-':<14} "
            f"{s['items']:>5} {ago(s['next_due'], now):<10} {s['errors']}"
        )
        click.secho(line, fg="red" if s["errors"] else None)
    click.echo(f"\nqueued tasks: {report['queue']}   outbox: {report['outbox']}")
    if report["undelivered"]:
        click.echo("undelivered alerts:")
        for d in report["undelivered"]:
            click.echo(
                f"  {d['state']:<8} {d['title']} ({d['attempts']} attempts"
                f"{': ' + d['last_error'] if d['last_error'] else ''})"
            )
