"""`wirewatch poll SOURCE_ID`: poll a source now and show what it holds.

With --dry-run nothing is read from or written to Redis: every entry of the
feed is shown with the rules it would match, and nobody is alerted. That is
what a user runs after adding a source. Without it, the poll is the worker's
own: new entries are archived, matched and marked seen, and their alerts
wait in the outbox for the worker to send.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.text import Text

from worker.cli import ui
from worker.cli.common import config_option, json_option, load_or_fail, suggest
from worker.cli.state import open_store
from worker.config import Config, Source
from worker.fetch import Fetcher, HostBusy, HostGate, make_client
from worker.match import Document, matched_terms
from worker.models import Article, RuleMatch
from worker.pipeline import (
    ArticleContext,
    BuiltArticle,
    Fallback,
    NewEntry,
    PollContext,
    PollOutcome,
    begin_poll,
    build_article,
    end_poll,
    fallback_article,
    finish_article,
    match_article,
    poll_source,
    settle_poll,
)
from worker.store import Store

__all__ = ["LocalGate", "command"]

_EXIT_OK, _EXIT_FETCH_FAILED = 0, 1
# Held while this command polls a source, so the worker's poll of it waits;
# bounded so that a killed command does not keep the worker off for long.
_POLL_LOCK_TTL = 600.0
_HOST_BUSY_TRIES = 5
_PARALLEL_SOURCES = 8


@dataclass(slots=True)
class _Entry:
    article: Article
    matches: list[RuleMatch]
    note: str | None = None


@dataclass(slots=True)
class _Polled:
    source: Source
    outcome: PollOutcome
    entries: list[_Entry] = field(default_factory=list)
    deliveries: int = 0


class LocalGate:
    """Per-host politeness within this process, for a dry run that has no Redis.

    The same contract as the store's gate (fetch.HostGate): a delay between
    request starts per origin, Retry-After honoured, robots.txt cached.
    """

    def __init__(self) -> None:
        self._next: dict[str, float] = {}
        self._busy: dict[str, set[str]] = {}
        self._robots: dict[str, str] = {}
        self._lock = threading.Lock()  # sources are polled from several threads

    def acquire_host_slot(
        self, origin: str, token: str, concurrency: int, delay: float, lease: float, now: float
    ) -> float:
        with self._lock:
            busy = self._busy.setdefault(origin, set())
            wait = self._next.get(origin, 0.0) - now
            if wait > 0 or len(busy) >= concurrency:
                return max(wait, 0.05)
            busy.add(token)
            self._next[origin] = now + delay
            return 0.0

    def release_host_slot(self, origin: str, token: str) -> None:
        with self._lock:
            self._busy.get(origin, set()).discard(token)

    def defer_host(self, origin: str, until: float) -> None:
        with self._lock:
            self._next[origin] = max(self._next.get(origin, 0.0), until)

    def cached_robots(self, origin: str) -> str | None:
        return self._robots.get(origin)

    def cache_robots(self, origin: str, text: str, ttl: float) -> None:
        self._robots[origin] = text


@click.command("poll", short_help="Poll sources now (--dry-run: record nothing, alert nobody).")
@click.argument("source_ids", nargs=-1, metavar="SOURCE_ID...")
@click.option("--all", "all_sources", is_flag=True, help="Poll every source in sources.yaml.")
@click.option(
    "--dry-run", is_flag=True, help="Record nothing, alert nobody; show every entry of the feed."
)
@json_option
@config_option
def command(
    source_ids: tuple[str, ...],
    all_sources: bool,
    dry_run: bool,
    as_json: bool,
    config_path: Path | None,
) -> None:
    """Poll sources now; show their entries and the rules each matches.

    With --dry-run, every entry of the feed is shown, and nothing is read or
    recorded, nobody alerted: try a source before the worker polls it.
    Without it, only new entries are shown, and they are recorded as the
    worker records them (seen, archived, alerts queued for the worker to
    send), in REDIS_URL's Redis or in WIREWATCH_DATA.

    With --json, one line per entry: source, url, title, published (ISO
    8601), text (its length), rules (the ids matched). Exits 0, or 1 when a
    source could not be fetched.

    \b
    Examples:
      wirewatch poll moscow-times --dry-run
      wirewatch poll moscow-times --dry-run --json | jq -r 'select(.rules != []) | .title'
      wirewatch poll --all --dry-run
      wirewatch poll ministry-news
    """
    config = load_or_fail(config_path, sends=not dry_run)
    sources = _pick(config, source_ids, all_sources)
    live = False
    if dry_run:
        polled = _poll_all(sources, config, None, LocalGate())
    else:
        with open_store(create=True) as store:
            polled = _poll_all(sources, config, store, store.hosts)
            live = _worker_live(store)
    failed = [p for p in polled if p.outcome.error]
    if as_json:
        for result in polled:
            for entry in result.entries:
                ui.emit_json(_record(result.source, entry))
    else:
        out = ui.stdout()
        for result in polled:
            _show(out, result, dry_run)
    err = ui.stderr()
    for result in failed:
        err.print(
            Text.assemble(
                ("wirewatch: error: ", "bold red"), f"{result.source.id}: {result.outcome.error}"
            )
        )
    if failed:
        err.print(
            Text(
                "  hint: check the source's url in sources.yaml; `wirewatch extract URL` "
                "shows what wirewatch makes of a page",
                style="dim",
            )
        )
    queued = sum(p.deliveries for p in polled)
    if dry_run and not as_json:
        err.print(Text("dry run: nothing was recorded and nobody was alerted", style="dim"))
    elif queued:
        them = "them" if queued > 1 else "it"
        when = f"the worker sends {them} within a tick" if live else f"`wirewatch run` sends {them}"
        err.print(f"{queued} {'deliveries' if queued > 1 else 'delivery'} queued: {when}")
    raise SystemExit(_EXIT_FETCH_FAILED if failed else _EXIT_OK)


def _pick(config: Config, source_ids: tuple[str, ...], all_sources: bool) -> list[Source]:
    known = [s.id for s in config.sources]
    if all_sources == bool(source_ids):
        raise click.UsageError("give one or more SOURCE_IDs, or --all")
    if all_sources:
        if not config.sources:
            raise ui.Failure("there are no sources in sources.yaml", hint="add one first")
        return list(config.sources)
    sources = []
    for source_id in dict.fromkeys(source_ids):
        source = config.source(source_id)
        if source is None:
            raise ui.Failure(
                f"no source {source_id!r} in sources.yaml", hint=suggest(source_id, known, "source")
            )
        sources.append(source)
    return sources


def _poll_all(
    sources: list[Source], config: Config, store: Store | None, gate: HostGate
) -> list[_Polled]:
    """Each source polled, in order; several at once (the gate keeps each host's pace)."""
    limits = config.settings.fetch_limits
    with make_client(limits) as client, ui.Progress(len(sources), "polling") as progress:
        fetcher = Fetcher(client, limits, gate)

        def one(source: Source) -> _Polled:
            progress.advance(0, label=f"{source.id}: fetching")
            if store is None:
                ctx = PollContext(config, None, fetcher, time.time())
                outcome = _poll_when_host_free(ctx, source)
                result = _Polled(source, outcome)
                _articles(result, config, None, fetcher, progress)
            else:
                result = _record_poll(source, config, store, fetcher, progress)
            progress.advance()
            return result

        with ThreadPoolExecutor(max_workers=min(_PARALLEL_SOURCES, len(sources))) as pool:
            return list(pool.map(one, sources))


_HOST_BUSY_PATIENCE = 120.0


def _poll_when_host_free(ctx: PollContext, source: Source) -> PollOutcome:
    """poll_source, waiting while the host is busy (other sources of it, or the
    worker): a busy host is politeness at work, not a failure of the source.
    A host that asked for a long pause (Retry-After) is given up after two
    minutes, and then still not counted against the source."""
    deadline = time.monotonic() + _HOST_BUSY_PATIENCE
    while True:
        outcome = poll_source(ctx, source)
        if outcome.result != "host-busy" or time.monotonic() > deadline:
            return outcome
        time.sleep(min(outcome.retry_after or 1.0, 10.0))


def _record_poll(
    source: Source,
    config: Config,
    store: Store,
    fetcher: Fetcher,
    progress: ui.Progress,
) -> _Polled:
    """The worker's poll (tasks.poll and tasks.process), done in this process."""
    ctx = begin_poll(PollContext(config, store, fetcher, time.time()), source, _POLL_LOCK_TTL)
    if ctx.start is None or ctx.start.lock is None:
        busy = PollOutcome(
            source.id,
            "busy",
            0,
            (),
            error="the worker is polling it right now; try again",
            error_kind="busy",
        )
        return _Polled(source, busy)
    try:
        outcome = _poll_when_host_free(ctx, source)
        if outcome.result == "host-busy":
            end_poll(store, ctx.start)
            return _Polled(source, outcome)  # not the source's fault: nothing to record
        store.sources.record_claim(source.id, ctx.now)
        result = _Polled(source, outcome)
        if not outcome.error:
            _articles(result, config, store, fetcher, progress)
        for key in settle_poll(ctx, source, outcome):  # releases the lock
            _due_now(store, key)
            result.deliveries += 1
    except BaseException:
        end_poll(store, ctx.start)
        raise
    return result


def _articles(
    result: _Polled,
    config: Config,
    store: Store | None,
    fetcher: Fetcher,
    progress: ui.Progress,
) -> None:
    source, new = result.source, result.outcome.new
    progress.grow(len(new))
    for number, entry in enumerate(new, 1):
        progress.advance(0, label=f"{source.id}: article {number}/{len(new)}")
        built = _article(entry, source, fetcher)
        article, fallback = built.article, built.fallback
        note = None if fallback is None else f"the feed's text is used: {fallback.detail}"
        if store is None:
            matches = match_article(article, config.rules_for(source), config)
        else:
            ctx = ArticleContext(config, store, time.time())
            matches, deliveries = finish_article(ctx, article, source, fallback)
            for key in deliveries:
                _due_now(store, key)
            result.deliveries += len(deliveries)
        result.entries.append(_Entry(article, matches, note))
        progress.advance()


def _article(new: NewEntry, source: Source, fetcher: Fetcher) -> BuiltArticle:
    """The article with its page's text; the feed's text (and why) when the page
    cannot be had, by the same rule as the worker's (`build_article`)."""
    for _ in range(_HOST_BUSY_TRIES):
        try:
            return build_article(new.article_id, new.entry, source, fetcher)
        except HostBusy as exc:
            # The worker is fetching from that host too: wait for a slot.
            time.sleep(min(exc.retry_after or 1.0, 30.0))
    busy = Fallback("host-busy", "the host stayed busy")
    return BuiltArticle(fallback_article(new.article_id, new.entry, source), busy)


def _due_now(store: Store, key: str) -> None:
    # The outbox would hold a new delivery until its lease ran out, as if a
    # worker task had been lost; no task was sent here, so it is due now and
    # the worker's next tick sends it.
    store.outbox.schedule_retry(key, time.time())


def _worker_live(store: Store) -> bool:
    last = store.sources.last_heartbeat()
    return last is not None and time.time() - last < 60


def _terms(article: Article, matches: list[RuleMatch]) -> dict[str, list[str]]:
    """Each rule's matched terms, once each however they were written (Grain, grain)."""
    doc = Document.from_article(article)
    terms = {}
    for match in matches:
        distinct: dict[str, str] = {}
        for term in matched_terms(doc, match):
            distinct.setdefault(term.casefold(), term)
        terms[match.rule_id] = list(distinct.values())
    return terms


def _record(source: Source, entry: _Entry) -> dict[str, Any]:
    article = entry.article
    return {
        "source": source.id,
        "url": article.url,
        "title": article.title,
        "published": article.published.isoformat() if article.published else None,
        "text": len(article.body or article.summary),
        "rules": [m.rule_id for m in entry.matches],
    }


def _show(out: Console, result: _Polled, dry_run: bool) -> None:
    outcome = result.outcome
    if outcome.error:
        out.print(Text.assemble((result.source.id, "bold"), ": ", (outcome.label, "red")))
        return
    shown = "entries" if dry_run else "new"
    out.print(
        Text.assemble(
            (result.source.id, "bold"),
            f": {outcome.result}, {outcome.items} items, {len(result.entries)} {shown}"
            + (f", {len(outcome.old)} older than max_age (skipped)" if outcome.old else ""),
        )
    )
    if not result.entries:
        return
    terminal = out.is_terminal
    columns = ["published", "chars", "rules", "title"] + ([] if terminal else ["url"])
    table = ui.new_table(out, *columns, right=("chars",))
    for entry in result.entries:
        article = entry.article
        published = article.published.isoformat(timespec="minutes") if article.published else "-"
        rules = Text()
        for rule_id, terms in _terms(article, entry.matches).items():
            if rules:
                rules.append("\n" if terminal else "; ")
            rules.append(rule_id, style="bold green")
            if terms:
                rules.append(f" ({', '.join(terms)})")
        title = ui.plain(article.title or "-")
        if terminal:
            title.append_text(ui.plain(f"\n{article.url}", style="dim"))
        if entry.note:
            note = f"\n{entry.note}" if terminal else f" [{entry.note}]"
            title.append_text(ui.plain(note, style="yellow"))
        row: list[Any] = [
            published,
            str(len(article.body or article.summary)),
            rules or Text("-", style="dim"),
            title,
        ]
        table.add_row(*row, *([] if terminal else [ui.plain(article.url)]))
    ui.print_table(out, table)
