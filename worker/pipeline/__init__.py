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

from worker.pipeline.alerts import compiled_rules, match_article, record_matches
from worker.pipeline.article import (
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
    PollOutcome,
    article_id_for,
    poll_source,
    record_poll,
    settle_poll,
)

__all__ = [
    "SOURCE_BACKOFF",
    "BuiltArticle",
    "Fallback",
    "NewEntry",
    "PollOutcome",
    "article_id_for",
    "build_article",
    "compiled_rules",
    "entry_from_json",
    "fallback_article",
    "finish_article",
    "match_article",
    "poll_source",
    "process_article",
    "record_matches",
    "record_poll",
    "settle_poll",
]
