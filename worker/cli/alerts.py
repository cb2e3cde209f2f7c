"""`wirewatch alerts`: the recent alerts and where each was delivered."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from worker.cli import ui
from worker.cli.common import (
    config_folder,
    config_option,
    iso,
    json_option,
    live_config_or_fail,
    suggest,
)
from worker.cli.state import open_store
from worker.config import Config, parse_duration
from worker.pipeline.delivery import deliveries_of
from worker.store import Store

__all__ = ["command"]

_STATE_STYLES = {"sent": "green", "pending": "yellow", "failed": "red"}


@click.command("alerts", short_help="Recent alerts and their delivery to each target.")
@click.option("--since", default="1d", show_default=True, help="How far back (30m, 12h, 7d).")
@click.option("--rule", "rule_id", default=None, help="Only this rule's alerts.")
@json_option
@config_option
def command(since: str, rule_id: str | None, as_json: bool, config_path: Path | None) -> None:
    """Recent alerts, newest last, with each target's delivery state.

    Reads the state of the worker, as `wirewatch status` does. With --json,
    one line per alert: at, rule, source (its id), source_name, title, url,
    mode (instant or digest), deliveries (target -> pending, sent or failed)
    and also_reported_by (sources of near-duplicates of the article).

    \b
    Examples:
      wirewatch alerts
      wirewatch alerts --since 7d --rule s300-iran
      wirewatch alerts --json | jq -r 'select(.deliveries[] == "failed") | .title'
    """
    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    config_folder(config_path)  # a wrong folder says so before any Redis is started
    with open_store() as store:
        config, _ = live_config_or_fail(config_path, store)
        rule_ids = [r.id for r in config.rules]
        if rule_id is not None and rule_id not in rule_ids:
            # Not an error: the rule may have been removed since it alerted.
            ui.stderr().print(
                f"note: no rule {rule_id!r} in rules.yaml now; "
                + suggest(rule_id, rule_ids, "rule")
            )
        records = _records(store, config, time.time() - window.total_seconds(), rule_id)
    if as_json:
        for record in records:
            ui.emit_json(record)
        return
    out = ui.stdout()
    if not records:
        out.print(f"no alerts in the last {since}" + (f" for rule {rule_id}" if rule_id else ""))
        return
    for record in records:
        _show(out, record)
    out.print()
    out.print(f"{len(records)} alert{'' if len(records) == 1 else 's'} in the last {since}")


def _records(
    store: Store, config: Config, since: float, rule_id: str | None
) -> list[dict[str, Any]]:
    target_ids = [t.id for t in config.targets]
    names = {t.id: t.safe_url for t in config.targets}
    records = []
    for key in store.alerts.recent(since):
        alert = store.alerts.get(key)
        if alert is None or (rule_id and alert.rule_id != rule_id):
            continue
        article = store.archive.get(alert.article_id)
        deliveries = {
            names.get(d.target_id, d.target_id): d.state
            for d in deliveries_of(store, key, target_ids)
        }
        records.append(
            {
                "at": iso(alert.created),
                "rule": alert.rule_id,
                "source": alert.source_id,
                "source_name": config.source_name(
                    alert.source_id, store.sources.state(alert.source_id).title
                ),
                "title": article.title if article else None,
                "url": article.url if article else None,
                "mode": store.alerts.mode(key),
                "deliveries": deliveries,
                "also_reported_by": store.alerts.also_reported_by(key),
            }
        )
    return records


def _show(out: Console, record: dict[str, Any]) -> None:
    # Titles and URLs come from the web: sanitized before rich holds them.
    heading = Text(f"{record['at']}  ")
    heading.append_text(ui.plain(f"{record['rule']}: ", style="bold cyan"))
    heading.append_text(ui.plain(record["title"] or "-", style="bold"))
    out.print(heading)
    where = f"[{record['source_name']}, {record['mode']}]"
    out.print(ui.plain(f"    {record['url']}  {where}", style="dim"))
    for target, state in record["deliveries"].items():
        line = Text("    ")
        line.append(f"{state:<8}", style=_STATE_STYLES.get(state, ""))
        line.append_text(ui.plain(f" {target}"))
        out.print(line)
    if record["also_reported_by"]:
        out.print(f"    also reported by: {', '.join(record['also_reported_by'])}")
