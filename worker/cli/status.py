"""`wirewatch status`: is every source healthy, is anything stuck?"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click

from worker.cli.common import ago, config_option, live_config_or_exit, store_or_exit
from worker.runtime import ARTICLES_QUEUE

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
                "health": state.health,
                "health_detail": state.health_detail,
                "last_error": state.last_error,
                "problem": state.problem,
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
        "articles_queue": store.queue_depth(ARTICLES_QUEUE),
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
        f"{'source':<24} {'health':<9} {'last poll':<10} {'result':<14} {'items':>5} "
        f"{'next due':<10} errors"
    )
    for s in report["sources"]:
        line = (
            f"{s['id']:<24} {s['health'] or '-':<9} {ago(s['last_poll'], now):<10} "
            f"{s['result'] or '-':<14} {s['items']:>5} {ago(s['next_due'], now):<10} {s['errors']}"
        )
        unhealthy = s["health"] not in (None, "ok")
        click.secho(line, fg="red" if s["errors"] or unhealthy else None)
        if s["errors"] and s["last_error"]:
            click.secho(f"  last error: {s['last_error']}", fg="red")
        if unhealthy and s["health_detail"]:
            click.secho(f"  {s['health']}: {s['health_detail']}", fg="red")
        if s["problem"] and s["health"] != "selectors":  # that detail already names it
            click.secho(f"  problem: {s['problem']}", fg="yellow")
    click.echo(
        f"\nqueued tasks: {report['queue']}   articles to process: {report['articles_queue']}"
        f"   outbox: {report['outbox']}"
    )
    if report["undelivered"]:
        click.echo("undelivered alerts:")
        for d in report["undelivered"]:
            click.echo(
                f"  {d['state']:<8} {d['title']} ({d['attempts']} attempts"
                f"{': ' + d['last_error'] if d['last_error'] else ''})"
            )
