"""`wirewatch backtest`: a query or a rule over the archived articles of the recent past."""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from worker.cli import ui
from worker.cli.common import config_option, iso, json_option
from worker.cli.match import bad_query, explain_lines, snippet_lines
from worker.cli.state import open_store
from worker.config import Config, Rule, load_config, parse_duration
from worker.errors import ConfigError, QuerySyntaxError
from worker.match import (
    Document,
    Query,
    RuleSet,
    article_document,
    compile_rules,
    inflections,
    matched_terms,
    parse_query,
    span_text,
)
from worker.models import Article, RuleMatch
from worker.service.runtime import config_dir
from worker.store import Store

__all__ = ["command"]

_BATCH = 200  # articles fetched from Redis per round trip
# What looks like a mistyped rule id rather than a one-word query.
_RULE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)+")


@click.command("backtest", short_help="Run a query or rule over recently archived articles.")
@click.argument("query_or_rule", metavar="QUERY|RULE_ID")
@click.option("--since", default="7d", show_default=True, help="How far back (12h, 7d, 30d).")
@json_option
@config_option
def command(query_or_rule: str, since: str, as_json: bool, config_path: Path | None) -> None:
    """Run QUERY, or the query of rule RULE_ID in rules.yaml, over the articles
    archived in the last --since (kept for settings.yaml's archive_retention),
    and show each matching article with the terms that matched, where.

    A rule is only run on articles of the sources it watches. With --json,
    one line per matching article: rule, id, source, archived, published,
    title, url, language, terms, spans, snippets, inflections (why a
    `word~` found each inflected form); the count goes to stderr. Exits 0
    (2 on a bad query, or when there is no state to read).

    \b
    Examples:
      wirewatch backtest s300-iran
      wirewatch backtest '"S-400" AND Turkey' --since 30d
      wirewatch backtest sanctions --json | jq -r .url
    """
    try:
        window = parse_duration(since).total_seconds()
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from exc
    config, rule = _resolve(query_or_rule, config_path)
    query = rule.query if rule is not None else query_or_rule
    rules = _compile(query)
    start = time.time() - window
    with open_store() as store:
        archived = store.archive.since(start)
        found = list(_search(store, archived, rules, rule, config))
    out = ui.stdout()
    name = f"rule {rule.id}" if rule is not None else "query"
    if not as_json:
        out.print(Text.assemble((f"{name}: ", "bold"), query))
        out.print(f"{len(archived)} articles archived since {iso(start)}")
    mark = ui.highlighter(ui.styled(out) and not as_json)
    searched = sum(1 for item in found if not isinstance(item, int))
    hits = [item for item in found if isinstance(item, tuple)]
    parsed = rules.query("query")
    for archived_at, article, doc, match in hits:
        if as_json:
            ui.emit_json(_record(parsed, article, archived_at, doc, match, rule))
        else:
            _show(out, parsed, article, archived_at, doc, match, mark)
    summary = f"{len(hits)} of {searched} articles match"
    if rule is not None and searched < len(archived):
        summary += f" ({len(archived) - searched} from sources the rule does not watch skipped)"
    (ui.stderr() if as_json else out).print(summary)


_Hit = tuple[float, Article, Document, RuleMatch]


def _search(
    store: Store,
    archived: Sequence[tuple[str, float]],
    rules: RuleSet,
    rule: Rule | None,
    config: Config | None,
) -> Iterator[_Hit | int | None]:
    """Each match; None for an article searched without one; 1 for one skipped."""
    with ui.Progress(len(archived), "matching") as progress:
        for archived_at, article in _articles(store, archived, progress):
            if rule is not None and config is not None and not _watches(rule, article, config):
                yield 1
                continue
            source = config.source(article.source_id) if config is not None else None
            doc = article_document(article, source.language if source is not None else None)
            found = rules.match(doc)
            yield (archived_at, article, doc, found[0]) if found else None


def _resolve(argument: str, config_path: Path | None) -> tuple[Config | None, Rule | None]:
    """The config if it loads, and the rule named by `argument` if there is one."""
    directory = config_path or config_dir()
    try:
        config = load_config(directory)
    except ConfigError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "errors"
        ui.stderr().print(f"note: config not usable ({first}); {argument!r} taken as a query")
        return None, None
    rule = next((r for r in config.rules if r.id == argument), None)
    if rule is None and _RULE_ID.fullmatch(argument):
        ids = [r.id for r in config.rules]
        close = difflib.get_close_matches(argument, ids, n=3, cutoff=0.6)
        if close:
            ui.stderr().print(
                f"note: no rule {argument!r}, so it is taken as a query"
                f" (did you mean {' or '.join(close)}?)"
            )
    return config, rule


def _compile(query: str) -> RuleSet:
    try:
        parse_query(query)
    except QuerySyntaxError as error:
        raise bad_query(error) from None
    return compile_rules([("query", query)])


def _watches(rule: Rule, article: Article, config: Config) -> bool:
    """Whether the rule watches the article's source (by id or tag, as the worker does)."""
    if rule.sources is None:
        return True
    source = config.source(article.source_id)
    names = {article.source_id, *(source.tags if source is not None else ())}
    return not names.isdisjoint(rule.sources)


def _articles(
    store: Store, archived: Sequence[tuple[str, float]], progress: ui.Progress
) -> Iterator[tuple[float, Article]]:
    """The archived articles still in Redis, oldest first, fetched in batches."""
    for offset in range(0, len(archived), _BATCH):
        batch = archived[offset : offset + _BATCH]
        articles = store.archive.get_many([article_id for article_id, _ in batch])
        for (_, archived_at), article in zip(batch, articles, strict=True):
            if article is not None:  # expired between the two reads
                yield archived_at, article
        progress.advance(len(batch))


def _why(doc: Document, match: RuleMatch) -> list[dict[str, Any]]:
    return [
        {"field": s.field, "start": s.start, "end": s.end, "text": span_text(doc, s)}
        for s in match.spans
    ]


def _record(
    query: Query,
    article: Article,
    archived_at: float,
    doc: Document,
    match: RuleMatch,
    rule: Rule | None,
) -> dict[str, Any]:
    return {
        "rule": rule.id if rule is not None else None,
        "id": article.id,
        "source": article.source_id,
        "archived": iso(archived_at),
        "published": article.published.isoformat() if article.published else None,
        "title": article.title,
        "url": article.url,
        "language": doc.language,
        "terms": list(matched_terms(doc, match)),
        "spans": _why(doc, match),
        "snippets": [
            {"field": field, "text": text}
            for field, text in snippet_lines(doc, match.spans, ui.highlighter(False))
        ],
        "inflections": [
            {"text": i.text, "word": i.word, "language": i.language, "reason": i.reason}
            for i in inflections(query, doc, match)
        ],
    }


def _show(
    out: Console,
    query: Query,
    article: Article,
    archived_at: float,
    doc: Document,
    match: RuleMatch,
    mark: Callable[[str], str],
) -> None:
    when = article.published.isoformat(timespec="seconds") if article.published else None
    out.print()
    out.print(
        Text.assemble(
            f"{when or iso(archived_at)}  ",
            (f"[{article.source_id}]", "cyan"),
            "  ",
            (article.title, "bold"),
        )
    )
    out.print(f"    {article.url}")
    if not match.spans:
        out.print("    matched by absence: nothing to highlight")
        return
    out.print(f"    terms: {', '.join(matched_terms(doc, match))}")
    for field, snippet in snippet_lines(doc, match.spans, mark):
        out.print(ui.marked(f"    {field}: {snippet}"))
    for line in explain_lines(query, doc, match):
        out.print(f"    inflected: {line}")
