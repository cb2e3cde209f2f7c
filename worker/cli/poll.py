"""`wirewatch poll SOURCE_ID`: poll one source now and show what it holds."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from worker.cli.common import config_option, load_or_exit, store_or_exit
from worker.errors import FetchError
from worker.fetch import make_client
from worker.models import Article
from worker.pipeline import (
    build_article,
    fallback_article,
    fetch_limits,
    match_article,
    poll_source,
    process_article,
    record_poll,
)

__all__ = ["command"]


@click.command("poll")
@click.argument("source_id")
@click.option("--dry-run", is_flag=True, help="Record nothing, alert nobody; show every entry.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per entry.")
@config_option
def command(source_id: str, dry_run: bool, as_json: bool, config_path: Path | None) -> None:
    """Poll one source now; show its new entries and the rules they match.

    Without --dry-run the entries are recorded as the worker would record
    them (seen, archived, alerts queued for the worker to deliver).
    """
    config = load_or_exit(config_path)
    source = config.source(source_id)
    if source is None:
        known = ", ".join(s.id for s in config.sources)
        raise click.UsageError(f"no source {source_id!r} (known: {known})")
    store = None if dry_run else store_or_exit()
    limits = fetch_limits(config)
    client = make_client(limits)
    outcome = poll_source(source, config, store, client)
    if outcome.error:
        click.echo(f"{source_id}: {outcome.error}", err=True)
        sys.exit(1)
    if not as_json:
        click.echo(f"{source_id}: {outcome.result}, {outcome.items} items, {len(outcome.new)} new")
    for number, new in enumerate(outcome.new, 1):
        if sys.stderr.isatty() and not as_json:
            click.echo(f"  [{number}/{len(outcome.new)}] {new.url}", err=True)
        try:
            article = build_article(new.article_id, new.entry, source, client, limits)
        except FetchError as exc:
            click.echo(f"  page unreachable, using the feed's text: {exc}", err=True)
            article = fallback_article(new.article_id, new.entry, source)
        if store is None:
            matches = match_article(article, config.rules_for(source), config)
        else:
            now = time.time()
            matches, _ = process_article(article, source, config, store, now)
            store.mark_seen(
                source.id, list(new.seen_keys), now, config.settings.seen_retention.total_seconds()
            )
            store.drop_entry(new.article_id)
        _show(article, [m.rule_id for m in matches], as_json)
    if store is not None:
        record_poll(store, outcome, time.time())


def _show(article: Article, rule_ids: list[str], as_json: bool) -> None:
    published = article.published.isoformat() if article.published else None
    if as_json:
        record = {
            "url": article.url,
            "title": article.title,
            "published": published,
            "text": len(article.body or article.summary),
            "rules": rule_ids,
        }
        click.echo(json.dumps(record, ensure_ascii=False))
        return
    matched = ", ".join(rule_ids) if rule_ids else "no rule"
    click.echo(
        f"- {article.title}\n  {article.url}\n  {published or 'no date'}"
        f" · {len(article.body or article.summary)} chars · {matched}"
    )
