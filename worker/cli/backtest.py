"""`wirewatch backtest`: a query or a rule over the archived articles of the recent past."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import click

from worker.cli.common import config_option, iso, store_or_exit
from worker.cli.match import highlighter, snippet_lines
from worker.config import Config, Rule, load_config, parse_duration
from worker.errors import ConfigError, QuerySyntaxError
from worker.match import Document, RuleSet, compile_rules, matched_terms, parse_query, span_text
from worker.models import Article, RuleMatch
from worker.runtime import config_dir
from worker.store import Store

__all__ = ["command"]

_EXIT_BAD = 2
_BATCH = 200  # articles fetched from Redis per round trip


@click.command("backtest")
@click.argument("query_or_rule", metavar="QUERY|RULE_ID")
@click.option("--since", default="7d", show_default=True, help="How far back (12h, 7d, 30d).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per matching article.")
@config_option
def command(query_or_rule: str, since: str, as_json: bool, config_path: Path | None) -> None:
    """Run QUERY, or the query of rule RULE_ID in rules.yaml, over the articles
    archived in the last --since (kept for settings.yaml's archive_retention),
    and show each matching article with the terms that matched, where.

    A rule is only run on articles of the sources it watches. Exits 0 (2 on a
    bad query or when Redis cannot be reached).
    """
    try:
        window = parse_duration(since).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    config, rule = _resolve(query_or_rule, config_path)
    query = rule.query if rule is not None else query_or_rule
    rules = _compile(query)
    store = store_or_exit()
    start = time.time() - window
    archived = store.archived_since(start)
    name = f"rule {rule.id}" if rule is not None else "query"
    if not as_json:
        click.echo(f"{name}: {query}")
        click.echo(f"{len(archived)} articles archived since {iso(start)}")
    mark = highlighter(sys.stdout.isatty() and not as_json)
    searched = matched = 0
    for archived_at, article in _articles(store, archived):
        if rule is not None and config is not None and not _watches(rule, article, config):
            continue
        searched += 1
        doc = Document.from_article(article)
        found = rules.match(doc)
        if not found:
            continue
        matched += 1
        if as_json:
            record = _record(article, archived_at, doc, found[0], rule)
            click.echo(json.dumps(record, ensure_ascii=False))
        else:
            _show(article, archived_at, doc, found[0], mark)
    summary = f"{matched} of {searched} articles match"
    if rule is not None and searched < len(archived):
        summary += f" ({len(archived) - searched} from sources the rule does not watch skipped)"
    click.echo(summary, err=as_json)


def _resolve(argument: str, config_path: Path | None) -> tuple[Config | None, Rule | None]:
    """The config if it loads, and the rule named by `argument` if there is one."""
    try:
        config = load_config(config_path or config_dir())
    except ConfigError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "errors"
        click.echo(f"wirewatch: config not usable ({first}); taken as a query", err=True)
        return None, None
    rule = next((r for r in config.rules if r.id == argument), None)
    return config, rule


def _compile(query: str) -> RuleSet:
    try:
        parse_query(query)
    except QuerySyntaxError as error:
        _bad_query(error)
    return compile_rules([("query", query)])


def _bad_query(error: QuerySyntaxError) -> NoReturn:
    click.echo(f"error: {error.message} (column {error.column})", err=True)
    click.echo(error.caret(), err=True)
    raise SystemExit(_EXIT_BAD)


def _watches(rule: Rule, article: Article, config: Config) -> bool:
    """Whether the rule watches the article's source (by id or tag, as the worker does)."""
    if rule.sources is None:
        return True
    source = config.source(article.source_id)
    names = {article.source_id, *(source.tags if source is not None else ())}
    return not names.isdisjoint(rule.sources)


def _articles(
    store: Store, archived: Sequence[tuple[str, float]]
) -> Iterator[tuple[float, Article]]:
    """The archived articles still in Redis, oldest first, fetched in batches."""
    with _progress(len(archived)) as advance:
        for offset in range(0, len(archived), _BATCH):
            batch = archived[offset : offset + _BATCH]
            articles = store.get_articles([article_id for article_id, _ in batch])
            for (_, archived_at), article in zip(batch, articles, strict=True):
                if article is not None:  # expired between the two reads
                    yield archived_at, article
            advance(len(batch))


@contextmanager
def _progress(total: int) -> Iterator[Any]:
    """A progress bar on stderr for long runs on a terminal; silent otherwise."""
    if total < 2 * _BATCH or not sys.stderr.isatty():
        yield lambda _count: None
        return
    with click.progressbar(length=total, label="matching", file=sys.stderr) as bar:
        yield bar.update


def _why(doc: Document, match: RuleMatch) -> list[dict[str, Any]]:
    return [
        {"field": s.field, "start": s.start, "end": s.end, "text": span_text(doc, s)}
        for s in match.spans
    ]


def _record(
    article: Article, archived_at: float, doc: Document, match: RuleMatch, rule: Rule | None
) -> dict[str, Any]:
    return {
        "rule": rule.id if rule is not None else None,
        "id": article.id,
        "source": article.source_id,
        "archived": iso(archived_at),
        "published": article.published.isoformat() if article.published else None,
        "title": article.title,
        "url": article.url,
        "terms": list(matched_terms(doc, match)),
        "spans": _why(doc, match),
        "snippets": [
            {"field": field, "text": text}
            for field, text in snippet_lines(doc, match.spans, highlighter(False))
        ],
    }


def _show(article: Article, archived_at: float, doc: Document, match: RuleMatch, mark: Any) -> None:
    when = article.published.isoformat(timespec="seconds") if article.published else None
    click.echo("")
    click.echo(f"{when or iso(archived_at)}  [{article.source_id}]  {article.title}")
    click.echo(f"    {article.url}")
    if not match.spans:
        click.echo("    matched by absence: nothing to highlight")
        return
    click.echo(f"    terms: {', '.join(matched_terms(doc, match))}")
    for field, snippet in snippet_lines(doc, match.spans, mark):
        click.echo(f"    {field}: {snippet}")
