"""An entry becomes an Article: the page's main text when asked, else the feed's own."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from worker.config import Config, Source
from worker.errors import ExtractBudgetError, ExtractError, FetchError
from worker.fetch import Fetcher, HostBusy
from worker.models import Article, FeedEntry, RuleMatch
from worker.notify.sanitize import sanitize
from worker.parse import ExtractedPage, extract_article
from worker.pipeline.alerts import match_article, record_matches
from worker.store import Store

__all__ = [
    "ArticleContext",
    "BuiltArticle",
    "Fallback",
    "build_article",
    "entry_from_json",
    "fallback_article",
    "finish_article",
    "process_article",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ArticleContext:
    """What processing one article works with: the config, the store and the time."""

    config: Config
    store: Store
    now: float


# Page failures that a later try cannot change: a refused address or scheme,
# robots.txt says no, a page too large, a link that is no URL.
_FINAL_KINDS = frozenset({"blocked", "robots", "too-large", "bad-url"})


@dataclass(frozen=True, slots=True)
class Fallback:
    """Why an article holds the feed's own text instead of its page's.

    `kind` is a short stable label for metrics and status ("bad-url",
    "over-budget", "parser-error", "http-404", ...); `detail` says more.
    """

    kind: str
    detail: str


@dataclass(frozen=True, slots=True)
class BuiltArticle:
    article: Article
    fallback: Fallback | None = None


def build_article(
    article_id: str, entry: FeedEntry, source: Source, fetcher: Fetcher, *, retry: bool = False
) -> BuiltArticle:
    """The entry as an Article; with `full_text`, the page's main text is the body.

    One rule (docs/security.md, "The fallback rule"): whatever happens while the page is fetched,
    parsed or extracted, the entry is matched on the feed's own text, and
    the result says why. Only two things are raised: HostBusy (the host's
    slot is taken, wait for it) and, with `retry`, a FetchError that a later
    try may cure (a timeout, a 503); the caller decides when to try again.
    """
    base = fallback_article(article_id, entry, source)
    if not (source.full_text and entry.url):
        return BuiltArticle(base)
    try:
        page = _page(entry.url, source, fetcher)
    except HostBusy:
        raise
    except FetchError as exc:
        if retry and exc.kind not in _FINAL_KINDS:
            raise
        return _fall_back(base, Fallback(exc.kind, str(exc)))
    except ExtractBudgetError as exc:
        return _fall_back(base, Fallback(exc.kind, str(exc)))
    except ExtractError as exc:
        return _fall_back(base, Fallback("unextractable", str(exc)))
    except Exception as exc:
        # A parser bug met a page it cannot read: that page, not the run, is lost.
        log.exception("article=%s source=%s: the page broke its parser", article_id, source.id)
        return _fall_back(base, Fallback("parser-error", f"{type(exc).__name__}: {exc}"))
    if page is None or not page.text.strip():
        log.info(
            "article=%s source=%s: no article text on the page, using the feed's",
            article_id,
            source.id,
        )
        return BuiltArticle(base)
    return BuiltArticle(
        replace(
            base,
            url=page.url or base.url,
            title=base.title or page.title,
            body=page.text,
            published=base.published or page.published,
            author=base.author or page.author,
            language=page.language or base.language,
        )
    )


def _page(url: str, source: Source, fetcher: Fetcher) -> ExtractedPage | None:
    # The link comes from the feed: fetch() refuses bad URLs, other schemes
    # and private addresses.
    response = fetcher.get(url, robots=source.robots, auth=source.credentials)
    return extract_article(
        response.content, url=response.url, strip=source.strip, content_type=response.content_type
    )


def _fall_back(base: Article, fallback: Fallback) -> BuiltArticle:
    log.warning(
        "article=%s source=%s: using the feed's text (%s): %s",
        base.id,
        base.source_id,
        fallback.kind,
        # The detail quotes the feed's link, untrusted text: no escapes reach a terminal.
        sanitize(fallback.detail),
    )
    return BuiltArticle(base, fallback)


def fallback_article(article_id: str, entry: FeedEntry, source: Source) -> Article:
    """The article as the feed alone describes it."""
    return Article(
        id=article_id,
        source_id=source.id,
        url=entry.url or "",
        title=entry.title,
        summary=_strip_text(entry.summary, source.strip),
        body=_strip_text(entry.content, source.strip),
        published=entry.published,
        author=entry.author,
        language=entry.language,
    )


def _strip_text(text: str, strip: Sequence[str]) -> str:
    for fragment in strip:
        text = text.replace(fragment, "")
    return text.strip()


def entry_from_json(data: dict[str, object]) -> FeedEntry:
    published = data.get("published")
    return FeedEntry(
        guid=str(data["guid"]) if data.get("guid") else None,
        url=str(data["url"]) if data.get("url") else None,
        title=str(data.get("title") or ""),
        summary=str(data.get("summary") or ""),
        content=str(data.get("content") or ""),
        published=datetime.fromisoformat(str(published)) if published else None,
        author=str(data["author"]) if data.get("author") else None,
        language=str(data["language"]) if data.get("language") else None,
    )


def process_article(
    ctx: ArticleContext, article: Article, source: Source
) -> tuple[list[RuleMatch], list[str]]:
    """Archive, match and record an article; returns the matches and deliveries to send."""
    config, store, now = ctx.config, ctx.store, ctx.now
    store.archive.put(article, now, config.settings.archive_retention.total_seconds())
    matches = match_article(article, config.rules_for(source), config)
    return matches, record_matches(article, matches, config, store, now)


def finish_article(
    ctx: ArticleContext, article: Article, source: Source, fallback: Fallback | None = None
) -> tuple[list[RuleMatch], list[str]]:
    """What follows building an article, in the worker and in `wirewatch poll`
    alike: archive, match and record it, count it, and drop its waiting entry.

    Returns the matches and the deliveries to send now; those stay in the
    outbox, so a crash after the entry is dropped loses no alert. A
    `fallback` (the feed's text stood in for the page) is counted in the
    metrics and in the source's state, where `wirewatch status` shows it.
    """
    matches, deliveries = process_article(ctx, article, source)
    store = ctx.store
    store.metrics.count("wirewatch_articles")
    if fallback is not None:
        store.metrics.count("wirewatch_page_fallbacks", kind=fallback.kind)
        store.sources.record_fallback(source.id, fallback.kind, fallback.detail, ctx.now)
    for match in matches:
        store.metrics.count("wirewatch_matches", rule=match.rule_id)
    store.archive.drop_entry(article.id)
    return matches, deliveries
