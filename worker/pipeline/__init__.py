"""The pipeline's steps as plain functions: what the Celery tasks (and the CLI) call.

    poll       poll_source: fetch a source, parse it, find the entries not seen before
    article    build_article: turn a new entry into an Article (full text when asked)
    alerts     record_matches: match an Article and turn each hit into alerts in the outbox
    dedup      near-duplicate stories, folded into the first alert
    digest     close_digests: digest windows that passed become deliveries
    delivery   deliver: send one outbox entry once
    health     watch_health: tell admins about failing or stale sources

None of them knows about Celery; each takes the config, the store and the
time, so tests can drive them directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from worker.lazy import lazy_attribute

if TYPE_CHECKING:
    from worker.pipeline.alerts import compiled_rules, match_article, record_matches
    from worker.pipeline.article import (
        ArticleContext,
        BuiltArticle,
        Fallback,
        build_article,
        entry_from_json,
        fallback_article,
        finish_article,
        process_article,
    )
    from worker.pipeline.poll import (
        SOURCE_BACKOFF,
        NewEntry,
        PollContext,
        PollOutcome,
        PollResult,
        article_id_for,
        begin_poll,
        end_poll,
        poll_source,
        settle_poll,
        split_by_age,
    )

# Each name's submodule, imported on first use (worker.lazy): the poll worker
# never loads the article path (trafilatura, py3langid, rensa), about 10 MB.
_EXPORTS = {
    "ArticleContext": "article",
    "BuiltArticle": "article",
    "Fallback": "article",
    "NewEntry": "poll",
    "PollContext": "poll",
    "PollOutcome": "poll",
    "PollResult": "poll",
    "SOURCE_BACKOFF": "poll",
    "article_id_for": "poll",
    "begin_poll": "poll",
    "build_article": "article",
    "compiled_rules": "alerts",
    "end_poll": "poll",
    "entry_from_json": "article",
    "fallback_article": "article",
    "finish_article": "article",
    "match_article": "alerts",
    "poll_source": "poll",
    "process_article": "article",
    "record_matches": "alerts",
    "settle_poll": "poll",
    "split_by_age": "poll",
}

__all__ = [
    "SOURCE_BACKOFF",
    "ArticleContext",
    "BuiltArticle",
    "Fallback",
    "NewEntry",
    "PollContext",
    "PollOutcome",
    "PollResult",
    "article_id_for",
    "begin_poll",
    "build_article",
    "compiled_rules",
    "end_poll",
    "entry_from_json",
    "fallback_article",
    "finish_article",
    "match_article",
    "poll_source",
    "process_article",
    "record_matches",
    "settle_poll",
    "split_by_age",
]


def __getattr__(name: str) -> object:
    return lazy_attribute(__name__, _EXPORTS, name)
