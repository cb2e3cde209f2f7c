"""The pipeline's steps as plain functions: what the Celery tasks (and the CLI) call.

    poll_source      fetch a source, parse it, find the entries not seen before
    build_article    turn a new entry into an Article (full text when asked)
    record_matches   match an Article and turn each hit into alerts in the outbox

Then `worker.delivery.deliver` sends each outbox entry once,
`worker.digest.close_digests` turns the digest windows that have passed into
deliveries, and `worker.health.watch_health` tells admins about sources.

None of them knows about Celery; each takes the config, the store and the
time, so tests can drive them directly.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import httpx

from worker.config import Config, Rule, Settings, Source
from worker.dedup import fold_ttl, near_duplicates
from worker.delivery import delivery_lease, targets_for
from worker.errors import ExtractError, FetchError
from worker.fetch import (
    FetchLimits,
    FetchResult,
    HostGate,
    Validators,
    fetch,
)
from worker.match import Document, RuleSet, compile_rules
from worker.models import Article, FeedEntry, ParsedFeed, RuleMatch
from worker.parse import (
    canonical_url,
    extract_article,
    find_feed_links,
    looks_like_feed,
    parse_feed,
    parse_listing,
)
from worker.store import Store

__all__ = [
    "NewEntry",
    "PollOutcome",
    "build_article",
    "compiled_rules",
    "fetch_limits",
    "match_article",
    "poll_source",
    "process_article",
    "record_matches",
    "record_poll",
]

log = logging.getLogger(__name__)

SOURCE_BACKOFF = 60.0


@dataclass(frozen=True, slots=True)
class NewEntry:
    article_id: str
    url: str  # canonical
    entry: FeedEntry
    seen_keys: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PollOutcome:
    source_id: str
    result: str  # "ok", "not-modified", "unchanged" or a FetchError kind
    items: int
    new: tuple[NewEntry, ...]
    feed: ParsedFeed | None = None
    error: str | None = None
    retry_after: float | None = None  # the server's or the host gate's "not before" hint


def fetch_limits(config: Config | Settings) -> FetchLimits:
    """The fetch limits of a config, or of settings.yaml alone (for `wirewatch extract`)."""
    settings = config.settings if isinstance(config, Config) else config
    return FetchLimits(
        timeout=settings.fetch.timeout.total_seconds(),
        max_bytes=settings.fetch.max_bytes,
        max_redirects=settings.fetch.max_redirects,
        user_agent=settings.http_user_agent,
        allow_private_networks=settings.allow_private_networks,
        per_host_concurrency=settings.fetch.per_host_concurrency,
        per_host_delay=settings.fetch.per_host_delay.total_seconds(),
    )


def article_id_for(source_id: str, entry: FeedEntry, url: str | None) -> str:
    # The canonical URL is the identity across sources; an entry without a
    # link is known only by its guid within its source.
    basis = url if url else f"{source_id}\x00{entry.guid or entry.title}"
    return hashlib.sha256(basis.encode()).hexdigest()[:20]


# -- polling ---------------------------------------------------------------


def poll_source(
    source: Source,
    config: Config,
    store: Store | None,
    client: httpx.Client,
    gate: HostGate | None = None,
) -> PollOutcome:
    """Fetch and parse a source; list entries not seen before (all of them without a store).

    With a `gate`, requests wait for their host's politeness slot (shared by all workers).
    """
    state = store.source_state(source.id) if store else None
    validators = Validators(state.etag, state.last_modified) if state else None
    limits = fetch_limits(config)
    try:
        response = fetch(client, source.url, limits, validators, gate=gate, robots=source.robots)
        if response.not_modified:
            return PollOutcome(source.id, "not-modified", state.items if state else 0, ())
        body_hash = hashlib.sha256(response.content).hexdigest()
        if state and state.body_hash == body_hash:
            # Many servers ignore conditional GET; an identical body needs no parse.
            return PollOutcome(source.id, "unchanged", state.items, ())
        feed = _parse_source(source, response, client, limits, gate)
    except FetchError as exc:
        return PollOutcome(source.id, exc.kind, 0, (), error=str(exc), retry_after=exc.retry_after)
    except ExtractError as exc:  # unsafe XML, an invalid selector: the source is unusable
        return PollOutcome(source.id, "unparsable", 0, (), error=str(exc))
    if store:
        store.save_source_state(
            source.id,
            etag=response.validators.etag or (state.etag if state else None),
            last_modified=response.validators.last_modified
            or (state.last_modified if state else None),
            body_hash=body_hash,
            # Saved with the body it describes: an unchanged body keeps its problem.
            problem=feed.problem,
        )
    new = _new_entries(source, feed.entries, store)
    return PollOutcome(source.id, "ok", len(feed.entries), tuple(new), feed=feed)


def _parse_source(
    source: Source,
    response: FetchResult,
    client: httpx.Client,
    limits: FetchLimits,
    gate: HostGate | None,
) -> ParsedFeed:
    if source.type == "html":
        assert source.select is not None  # config validation requires it for html
        return parse_listing(
            response.content,
            url=response.url,
            item=source.select.item,
            link=source.select.link,
            title=source.select.title,
            summary=source.select.summary,
            content_type=response.content_type,
        )
    if source.type == "feed" or looks_like_feed(response.content, response.content_type):
        return parse_feed(response.content, url=response.url, content_type=response.content_type)
    links = find_feed_links(response.content, url=response.url)
    if not links:
        raise FetchError(source.url, "no-feed", "page is not a feed and links to none")
    feed_response = fetch(client, links[0], limits, gate=gate, robots=source.robots)
    return parse_feed(
        feed_response.content, url=feed_response.url, content_type=feed_response.content_type
    )


def _new_entries(
    source: Source, entries: Sequence[FeedEntry], store: Store | None
) -> list[NewEntry]:
    urls = [canonical_url(entry.url) if entry.url else None for entry in entries]
    keys = [store.seen_keys(e, u) if store else [] for e, u in zip(entries, urls, strict=True)]
    # One round trip per feed, not per entry: a cold poll of a big feed is
    # otherwise mostly waiting on Redis.
    unseen = store.unseen(source.id, keys) if store else [True] * len(entries)
    new = [
        NewEntry(article_id_for(source.id, entry, url), url or "", entry, tuple(k))
        for entry, url, k, fresh in zip(entries, urls, keys, unseen, strict=True)
        if fresh
    ]
    if store and new:
        store.put_entries([(n.article_id, source.id, n.entry, n.url) for n in new])
    return new


def record_poll(store: Store, outcome: PollOutcome, now: float) -> None:
    """Remember a successful poll for the schedule and for `wirewatch status`."""
    fields: dict[str, str | int | float | None] = {}
    if outcome.new or store.source_state(outcome.source_id).last_new is None:
        # The staleness clock starts at the first good poll.
        fields["last_new"] = now
    store.save_source_state(
        outcome.source_id,
        last_poll=now,
        last_result=outcome.result,
        items=outcome.items,
        new_items=len(outcome.new),
        errors=0,
        not_before=0,
        **fields,
    )
    store.clear_source_error(outcome.source_id)


# -- articles --------------------------------------------------------------


def build_article(
    article_id: str,
    entry: FeedEntry,
    source: Source,
    client: httpx.Client,
    limits: FetchLimits,
    gate: HostGate | None = None,
) -> Article:
    """The entry as an Article; with `full_text`, the page's main text is the body.

    Raises FetchError when the page cannot be fetched: the caller decides
    whether to retry or to settle for `fallback_article`.
    """
    base = fallback_article(article_id, entry, source)
    if not (source.full_text and entry.url):
        return base
    # The link comes from the feed: fetch() refuses other schemes and private addresses.
    response = fetch(client, entry.url, limits, gate=gate, robots=source.robots)
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


# -- matching and alerts ---------------------------------------------------

_compiled: dict[str, RuleSet] = {}


def compiled_rules(rules: Sequence[Rule], fingerprint: str) -> RuleSet:
    """Rules compiled once per config version, not once per article."""
    ruleset = _compiled.get(fingerprint)
    if ruleset is None:
        _compiled.clear()
        ruleset = compile_rules((rule.id, rule.query) for rule in rules)
        _compiled[fingerprint] = ruleset
    return ruleset


def process_article(
    article: Article, source: Source, config: Config, store: Store, now: float
) -> tuple[list[RuleMatch], list[str]]:
    """Archive, match and record an article; returns the matches and deliveries to send."""
    store.archive_article(article, now, config.settings.archive_retention.total_seconds())
    matches = match_article(article, config.rules_for(source), config)
    return matches, record_matches(article, matches, config, store, now)


def match_article(article: Article, rules: Sequence[Rule], config: Config) -> list[RuleMatch]:
    """The rules (of those given) that match the article."""
    wanted = {rule.id for rule in rules}
    ruleset = compiled_rules(config.rules, config.fingerprint)
    document = Document(title=article.title, summary=article.summary, body=article.body)
    return ruleset.match(document, only=wanted)


def record_matches(
    article: Article,
    matches: Sequence[RuleMatch],
    config: Config,
    store: Store,
    now: float,
) -> list[str]:
    """Turn matches into alerts and outbox deliveries; returns the delivery keys to send now.

    Safe to repeat: an alert or delivery that exists is left as it is.
    """
    rules = {rule.id: rule for rule in config.rules}
    to_send: list[str] = []
    if not matches:
        return to_send
    near = config.settings.near_duplicate
    window = near.window.total_seconds()
    source = config.source(article.source_id)
    with near_duplicates(article, store, threshold=near.threshold, window=window, now=now) as dupes:
        for match in matches:
            rule = rules[match.rule_id]
            original = dupes.original_alert(rule.id)
            if original is not None:
                # A later copy of a story this rule already alerted on: noted
                # on the first alert ("also reported by"), not alerted again.
                name = source.name if source else article.source_id
                dupes.index.fold(
                    rule.id, article.id, original, article.source_id, name, fold_ttl(window)
                )
                continue
            alert_key, is_new = store.create_alert(rule.id, article, match.spans, now)
            mode = None if is_new else store.alert_mode(alert_key)
            if mode is None:
                mode = _routing_mode(rule, store, now)
                store.set_alert_mode(alert_key, mode)
            if mode == "digest":
                store.add_to_digest(rule.id, alert_key, now)
                continue
            for target in targets_for(rule, config.targets):
                key = f"{alert_key}:{target.id}"
                store.create_delivery(
                    key,
                    kind="alert",
                    target_id=target.id,
                    alert_keys=[alert_key],
                    title=f"{rule.id}: {article.title}",
                    now=now,
                    lease=delivery_lease(config.settings),
                )
                to_send.append(key)
    return to_send


# -- delivery --------------------------------------------------------------


def _routing_mode(rule: Rule, store: Store, now: float) -> str:
    """Digest rules wait for their digest; instant ones beyond `max_per_hour` join it."""
    if rule.mode == "digest":
        return "digest"
    if rule.max_per_hour is not None and store.count_instant(rule.id, now) > rule.max_per_hour:
        return "digest"
    return "instant"


# -- digests ---------------------------------------------------------------
