"""`wirewatch status`: is every source healthy, is anything stuck?"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from worker.cli import ui
from worker.cli.common import ago, config_folder, config_option, json_option, live_config_or_fail
from worker.cli.state import open_store
from worker.service.runtime import ARTICLES_QUEUE
from worker.store import Store

__all__ = ["command"]


@click.command("status", short_help="Sources, queues and undelivered alerts of the worker.")
@json_option
@config_option
def command(as_json: bool, config_path: Path | None) -> None:
    """Per source: last poll, result, items, next due, errors; queues; undelivered alerts.

    Reads the state of the worker: REDIS_URL's, a live `wirewatch run`'s,
    or the one a stopped `wirewatch run` left in WIREWATCH_DATA. With
    --json, one object: config_error, sources (id, name, last_poll, result, items,
    new, old (entries skipped so far as older than max_age), next_due, errors,
    health, health_detail, last_error, problem, fallbacks, last_fallback: entries
    matched on the feed's text and why; times in Unix seconds), queue,
    articles_queue, outbox, undelivered, set_aside
    (tasks that kept coming back and were put aside: task, id, args, at).

    \b
    Examples:
      wirewatch status
      wirewatch status --json | jq '.sources[] | select(.errors > 0) | .id'
      REDIS_URL=redis://redis.internal:6379/0 wirewatch status
    """
    config_folder(config_path)  # a wrong folder says so before any Redis is started
    with open_store() as store:
        report = _report(store, config_path)
    if as_json:
        ui.emit_json(report)
        return
    _print(report, time.time())


def _report(store: Store, config_path: Path | None) -> dict[str, Any]:
    config, config_error = live_config_or_fail(config_path, store)
    now = time.time()
    sources = []
    for source in config.sources:
        state = store.sources.state(source.id)
        claimed = store.sources.last_claim(source.id)
        next_due = max(
            (claimed or now) + source.interval.total_seconds() if claimed else now,
            state.not_before,
        )
        sources.append(
            {
                "id": source.id,
                "name": config.source_name(source.id, state.title),
                "last_poll": state.last_poll,
                "result": state.last_result,
                "items": state.items,
                "new": state.new_items,
                "old": state.old,
                "next_due": next_due,
                "errors": state.errors,
                "health": state.health,
                "health_detail": state.health_detail,
                "last_error": config.secrets.mask(state.last_error or "") or None,
                "problem": state.problem,
                # Entries matched on the feed's text: their page could not be had.
                "fallbacks": state.fallbacks,
                "last_fallback": config.secrets.mask(state.last_fallback or "") or None,
            }
        )
    undelivered = [
        {
            "key": d.key,
            "title": d.title,
            "state": d.state,
            "attempts": d.attempts,
            "last_error": config.secrets.mask(d.last_error or "") or None,
        }
        for d in store.outbox.undelivered()
    ]
    report: dict[str, Any] = {
        "config_error": config_error,
        "sources": sources,
        "queue": store.guard.queue_depth(),
        "articles_queue": store.guard.queue_depth(ARTICLES_QUEUE),
        "outbox": store.outbox.size(),
        "undelivered": undelivered,
        "set_aside": store.guard.set_aside_tasks(),
    }
    return report


def _print(report: dict[str, Any], now: float) -> None:
    out = ui.stdout()
    if report["config_error"]:
        out.print(Text("config rejected (the last good config is in force):", style="bold red"))
        out.print(ui.plain(report["config_error"], style="red"))
        out.print()
    table = ui.new_table(
        out,
        "source", "name", "health", "last poll", "result", "items", "new", "old", "next due",
        "errors", right=("items", "new", "old", "errors"),
    )  # fmt: skip
    notes: list[Text] = []
    for s in report["sources"]:
        unhealthy = s["health"] not in (None, "ok")
        style = "red" if s["errors"] or unhealthy else ""
        next_due = "due" if s["next_due"] <= now else ago(s["next_due"], now)
        table.add_row(
            s["id"], ui.plain(s["name"]), s["health"] or "-", ago(s["last_poll"], now),
            s["result"] or "-", str(s["items"]), str(s["new"]), str(s["old"]), next_due,
            str(s["errors"]),
            style=style,
        )  # fmt: skip
        if s["errors"] and s["last_error"]:
            # Error texts quote what servers and feeds sent: sanitized.
            notes.append(ui.plain(f"{s['id']}: last error: {s['last_error']}", style="red"))
        if unhealthy and s["health_detail"]:
            notes.append(ui.plain(f"{s['id']}: {s['health']}: {s['health_detail']}", style="red"))
        if s["fallbacks"]:
            notes.append(
                ui.plain(
                    f"{s['id']}: {s['fallbacks']} entries matched on the feed's text;"
                    f" last: {s['last_fallback']}",
                    style="yellow",
                )
            )
        if s["problem"] and s["health"] != "selectors":  # that detail already names it
            notes.append(ui.plain(f"{s['id']}: problem: {s['problem']}", style="yellow"))
    if report["sources"]:
        ui.print_table(out, table)
    else:
        out.print("no sources in the config")
    for note in notes:
        out.print(note)
    out.print()
    out.print(
        f"queued tasks: {report['queue']}   articles to process: {report['articles_queue']}"
        f"   outbox: {report['outbox']}"
    )
    _print_set_aside(out, report["set_aside"], now)
    if not report["undelivered"]:
        return
    out.print()
    out.print(Text("undelivered alerts:", style="bold"))
    undelivered = ui.new_table(out, "state", "attempts", "alert", "last error", right=("attempts",))
    for d in report["undelivered"]:
        undelivered.add_row(
            Text(d["state"], style="red" if d["state"] == "failed" else "yellow"),
            str(d["attempts"]),
            ui.plain(d["title"] or ""),
            ui.plain(d["last_error"] or ""),
        )
    ui.print_table(out, undelivered)


def _print_set_aside(out: Console, tasks: list[dict[str, Any]], now: float) -> None:
    if not tasks:
        return
    out.print()
    out.print(Text("tasks set aside after five starts (see the worker log):", style="bold red"))
    table = ui.new_table(out, "task", "id", "arguments", "when")
    for task in tasks:
        table.add_row(task["task"], task["id"], json.dumps(task["args"]), ago(task["at"], now))
    ui.print_table(out, table)
