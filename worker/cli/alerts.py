"""`wirewatch alerts`: the recent alerts and where each was delivered."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from worker.cli.common import config_option, iso, live_config_or_exit, store_or_exit
from worker.config import parse_duration

__all__ = ["command"]


@click.command("alerts")
@click.option("--since", default="1d", show_default=True, help="How far back (30m, 12h, 7d).")
@click.option("--rule", "rule_id", default=None, help="Only this rule's alerts.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per alert.")
@config_option
def command(since: str, rule_id: str | None, as_json: bool, config_path: Path | None) -> None:
    """Recent alerts, newest last, with each target's delivery state."""
    store = store_or_exit()
    config, _ = live_config_or_exit(config_path, store)
    try:
        window = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    target_ids = [t.id for t in config.targets]
    names = {t.id: t.safe_url for t in config.targets}
    for key in store.recent_alerts(time.time() - window.total_seconds()):
        alert = store.get_alert(key)
        if alert is None or (rule_id and alert.rule_id != rule_id):
            continue
        article = store.get_article(alert.article_id)
        deliveries = {
            names.get(d.target_id, d.target_id): d.state
            for d in store.deliveries_of(key, target_ids)
        }
        record = {
            "at": iso(alert.created),
            "rule": alert.rule_id,
            "source": alert.source_id,
            "title": article.title if article else None,
            "url": article.url if article else None,
            "mode": store.alert_mode(key),
            "deliveries": deliveries,
            "also_reported_by": store.also_reported_by(key),
        }
        if as_json:
            click.echo(json.dumps(record, ensure_ascii=False))
            continue
        click.echo(f"{record['at']}  {alert.rule_id}: {record['title']}")
        click.echo(f"    {record['url']}  [{alert.source_id}, {record['mode']}]")
        for target, state in deliveries.items():
            click.echo(f"    {state:<8} {target}")
        if record["also_reported_by"]:
            click.echo(f"    also reported by: {', '.join(record['also_reported_by'])}")
