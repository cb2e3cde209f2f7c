"""An entry becomes an Article: the page's main text when asked, else the feed's own."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from worker.config import Config, Source
from worker.fetch import Fetcher
from worker.models import Article, FeedEntry, RuleMatch
from worker.parse import extract_article
from worker.pipeline.alerts import match_article, record_matches
from worker.store import Store

__all__ = [
    "ArticleContext",
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


def build_article(article_id: str, entry: FeedEntry, source: Source, fetcher: Fetcher) -> Article:
    """The entry as an Article; with `full_text`, the page's main text is the body.

    Raises FetchError when the page cannot be fetched: the caller decides
    whether to retry or to settle for `fallback_article`.
    """
    base = fallback_article(article_id, entry, source)
    if not (source.full_text and entry.url):
        return base
    # The link comes from the feed: fetch() refuses other schemes and private addresses.
    response = fetcher.get(entry.url, robots=source.robots)
    page = extract_article(
        response.content, url=response.url, strip=source.strip, content_type=response.content_type
    )
    if page is None or not page.text.strip():
        log.info(
            "article=%s source=%s: no article text on the page, using the feed's",
            article_id,
            source.id,
        )
        return base
    return replace(
        base,
        url=page.url or base.url,
        title=base.title or page.title,
        body=page.text,
        published=base.published or page.published,
        author=base.author or page.author,
        language=page.language,
    )


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
    ctx: ArticleContext, article: Article, source: Source
) -> tuple[list[RuleMatch], list[str]]:
    """What follows building an article, in the worker and in `wirewatch poll`
    alike: archive, match and record it, count it, and drop its waiting entry.

    Returns the matches and the deliveries to send now; those stay in the
    outbox, so a crash after the entry is dropped loses no alert.
    """
    matches, deliveries = process_article(ctx, article, source)
    store = ctx.store
    store.metrics.count("wirewatch_articles")
    for match in matches:
        store.metrics.count("wirewatch_matches", rule=match.rule_id)
    store.archive.drop_entry(article.id)
    return matches, deliveries
