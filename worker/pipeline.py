"""The pipeline's steps as plain functions: what the Celery tasks (and the CLI) call.

    poll_source      fetch a source, parse it, find the entries not seen before
    build_article    turn a new entry into an Article (full text when asked)
    record_matches   match an Article and turn each hit into alerts in the outbox
    deliver          send one outbox delivery to its target, once
    close_digests    turn the digest windows that have passed into deliveries

None of them knows about Celery; each takes the config, the store and the
time, so tests can drive them directly.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import redis

from worker import metrics
from worker.config import Config, Rule, Settings, Source
from worker.dedup import fold_ttl, near_duplicates
from worker.errors import ExtractError, FetchError
from worker.fetch import (
    FetchLimits,
    FetchResult,
    HostGate,
    Validators,
    fetch,
    webhook_refusal,
)
from worker.match import Document, RuleSet, compile_rules
from worker.models import Article, FeedEntry, ParsedFeed, RuleMatch
from worker.notify import (
    AlertContent,
    DigestItem,
    Message,
    Target,
    render_alert,
    render_digest,
    send,
)
from worker.notify.escape import escape
from worker.parse import (
    canonical_url,
    extract_article,
    find_feed_links,
    looks_like_feed,
    parse_feed,
    parse_listing,
)
from worker.store import DeliveryRecord, SourceState, Store

__all__ = [
    "NewEntry",
    "PollOutcome",
    "build_article",
    "close_digests",
    "compiled_rules",
    "deliver",
    "delivery_lease",
    "fetch_limits",
    "match_article",
    "poll_source",
    "process_article",
    "record_matches",
    "record_poll",
    "targets_for",
    "watch_health",
]

log = logging.getLogger(__name__)

SOURCE_BACKOFF = 60.0
# Source health (SPEC 5): a source is "failing" after this many polls in a row
# failed (with the backoff, about a quarter of an hour), "stale" when no poll
# found a new item for this long (or for ten intervals, if longer).
HEALTH_FAILING_ERRORS = 5
HEALTH_STALE_AFTER = 3 * 86400.0


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


def watch_health(
    source: Source, outcome: PollOutcome, config: Config, store: Store, now: float
) -> list[str]:
    """Alert the `admin` targets when a source's health changes; returns deliveries to send.

    Call after the poll was recorded (record_poll or store.record_source_error).
    One alert per change: "failing", "stale", "selectors", and one on recovery.
    """
    state = store.source_state(source.id)
    health, detail = _health_of(source, state, outcome, now)
    if health == state.health:
        return []
    store.save_source_state(source.id, health=health, health_detail=detail)
    if health == "ok" and state.health is None:
        return []  # a new source that works: nothing to tell
    if health == "ok":
        title = f"wirewatch: source {source.id} recovered"
        message = f"Source {source.name} ({source.url}) works again: {outcome.result}."
    else:
        title = f"wirewatch: source {source.id} is {health}"
        message = f"Source {source.name} ({source.url}): {detail}"
    log.warning("source=%s health %s -> %s: %s", source.id, state.health, health, detail)
    keys = []
    for target in config.targets:
        if "admin" not in target.tags:
            continue  # never content targets
        key = f"health:{source.id}:{int(now * 1000)}:{target.id}"
        store.create_delivery(
            key,
            kind="health",
            target_id=target.id,
            alert_keys=[],
            title=title,
            now=now,
            lease=delivery_lease(config.settings),
            message=message,
        )
        keys.append(key)
    return keys


def _health_of(
    source: Source, state: SourceState, outcome: PollOutcome, now: float
) -> tuple[str | None, str]:
    if outcome.error:
        if state.errors >= HEALTH_FAILING_ERRORS:
            since = datetime.fromtimestamp(state.failing_since or now, UTC)
            return "failing", (
                f"{state.errors} polls in a row failed since {since:%Y-%m-%d %H:%M} UTC; "
                f"last: {outcome.error}"
            )
        return state.health, state.health_detail or ""  # a few errors are weather
    if source.type == "html":
        if outcome.feed is not None and outcome.feed.problem:
            return "selectors", f"the listing selectors found nothing: {outcome.feed.problem}"
        if outcome.feed is None and state.health == "selectors":
            return state.health, state.health_detail or ""  # page unchanged: still broken
    stale_after = max(HEALTH_STALE_AFTER, 10 * source.interval.total_seconds())
    if state.last_new is not None and now - state.last_new > stale_after:
        return "stale", f"no new item for {(now - state.last_new) / 86400:.1f} days"
    return "ok", ""


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
    return [m for m in ruleset.match(document) if m.rule_id in wanted]


def targets_for(rule: Rule | None, targets: Sequence[Target]) -> list[Target]:
    """Tag routing: a rule's `notify` tags pick targets; without them, every
    target except those reserved for source-health alerts (`admin` only)."""
    if rule is not None and rule.notify is not None:
        wanted = set(rule.notify)
        return [t for t in targets if t.tags & wanted]
    return [t for t in targets if t.tags != frozenset({"admin"})]


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
    with near_duplicates(
        article, store.redis, threshold=near.threshold, window=window, now=now
    ) as dupes:
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


def retry_delay(attempts: int) -> float:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min ... capped at an hour."""
    base: float = min(30.0 * 2 ** max(attempts - 1, 0), 3600.0)
    return base * random.uniform(0.75, 1.25)


def deliver(key: str, config: Config, store: Store, now: float) -> str:
    """Send one delivery if it is still pending; returns what happened, for the log."""
    record = store.get_delivery(key)
    if record is None:
        return "unknown delivery"
    if record.state != "pending":
        store.drop_from_outbox(key)
        return f"already {record.state}"
    target = next((t for t in config.targets if t.id == record.target_id), None)
    if target is None:
        store.record_attempt(key, False, "target no longer in apprise.yml", now)
        store.mark_failed(key)
        return "failed: target removed"
    refusal = webhook_refusal(
        target.url, allow_private_networks=config.settings.allow_private_networks
    )
    if refusal is not None:
        # Retrying will not change where the URL points: a config matter.
        log.warning("delivery=%s refused %s: %s", key, target.safe_url, refusal)
        store.record_attempt(key, False, refusal, now)
        store.mark_failed(key)
        return f"failed: {refusal}"
    if record.kind == "health":
        message: Message | None = _health_message(record.title, record.message, target)
    else:
        message = _message_for(
            record.kind, record.alert_keys, target, config, store, _digest_window(key)
        )
    if message is None:
        store.mark_failed(key)
        return "failed: alert data expired"
    result = send(target, message, allow_private_networks=config.settings.allow_private_networks)
    if result.ok:
        # The message is out: from here, failing to record it would send it
        # again when its lease runs out, so Redis gets every chance to answer.
        _record_side_effect(
            lambda: store.mark_sent(key, now), within=delivery_lease(config.settings) / 2
        )
        store.record_attempt(key, True, result.detail, now)
        _count_sent(store, record, now)
        return f"sent to {target.safe_url}"
    attempts = store.record_attempt(key, False, result.detail, now)
    metrics.count(store, "wirewatch_alerts_failed", kind=record.kind)
    if now - record.created > config.settings.delivery_retry_for.total_seconds():
        store.mark_failed(key)
        return f"failed for good after {attempts} attempts: {result.detail}"
    store.schedule_retry(key, now + retry_delay(attempts))
    return f"attempt {attempts} failed, will retry: {result.detail}"


def _count_sent(store: Store, record: DeliveryRecord, now: float) -> None:
    metrics.count(store, "wirewatch_alerts_sent", kind=record.kind)
    if record.kind != "alert":
        return
    alert = store.get_alert(record.alert_keys[0])
    article = store.get_article(alert.article_id) if alert else None
    if article is not None and article.published is not None:
        metrics.observe_delay(store, now - article.published.timestamp())


def delivery_lease(settings: Settings) -> float:
    """How long a delivery handed to a task waits before it is taken again.

    Half the task lease: a deliver task that vanished with its worker is
    retried before Celery would even re-deliver the task itself. Longer than
    any send takes (Apprise's own timeouts are seconds).
    """
    return settings.task_lease.total_seconds() / 2


def _record_side_effect(write: Callable[[], None], within: float) -> None:
    """Retry a Redis write that records something already done, through a short outage.

    Bounded well below the delivery lease, so no second sender starts meanwhile.
    """
    deadline = time.monotonic() + within
    pause = 0.5
    while True:
        try:
            write()
            return
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if time.monotonic() + pause > deadline:
                raise
            log.warning("Redis unavailable while recording a sent alert, retrying: %s", exc)
            time.sleep(pause)
            pause = min(pause * 2, 10.0)


def _health_message(title: str, text: str, target: Target) -> Message:
    body = escape(text, target.format)
    return Message(title, f"<p>{body}</p>" if target.format == "html" else body, target.format)


def _message_for(
    kind: str,
    alert_keys: Sequence[str],
    target: Target,
    config: Config,
    store: Store,
    window: float | None = None,
) -> Message | None:
    tz = config.settings.zone
    contents = [_alert_content(key, config, store) for key in alert_keys]
    present = [c for c in contents if c is not None]
    if not present:
        return None
    if kind == "alert":
        return render_alert(present[0][1], target.format, tz)
    items = [DigestItem(alert=content, at=at) for at, content in present]
    return render_digest(items, target.format, tz, window_label=_window_label(items, tz, window))


def _alert_content(
    alert_key: str, config: Config, store: Store
) -> tuple[datetime, AlertContent] | None:
    alert = store.get_alert(alert_key)
    if alert is None:
        return None
    article = store.get_article(alert.article_id)
    if article is None:
        return None
    source = config.source(alert.source_id)
    content = AlertContent(
        rule_id=alert.rule_id,
        article=article,
        spans=alert.spans,
        source_name=source.name if source else alert.source_id,
        also_reported_by=tuple(store.also_reported_by(alert_key)),
    )
    return datetime.fromtimestamp(alert.created, UTC), content


def _digest_window(key: str) -> float | None:
    """The window time in a digest delivery key (`digest:{window}:{target}`)."""
    parts = key.split(":")
    return float(parts[1]) if parts[0] == "digest" and len(parts) == 3 else None


def _window_label(items: Sequence[DigestItem], tz: ZoneInfo, window: float | None) -> str:
    # The scheduled time the reader expects ("the 08:00 digest"), in their zone.
    moment = (
        datetime.fromtimestamp(window, tz)
        if window is not None
        else max(item.at for item in items).astimezone(tz)
    )
    return f"{moment:%Y-%m-%d %H:%M %Z}"


# -- digests ---------------------------------------------------------------


def last_window(times: Sequence[object], now: float, tz: ZoneInfo) -> float:
    """The most recent scheduled digest time at or before `now`, as a timestamp."""
    local_now = datetime.fromtimestamp(now, tz)
    best: datetime | None = None
    for day_offset in (0, -1):
        day = (local_now + timedelta(days=day_offset)).date()
        for at in times:
            candidate = datetime.combine(day, at, tz)  # type: ignore[arg-type]
            if candidate <= local_now and (best is None or candidate > best):
                best = candidate
    assert best is not None  # yesterday's times are always in the past
    return best.timestamp()


def close_digests(config: Config, store: Store, now: float) -> list[str]:
    """Deliveries for every digest window that has passed; one per target per window."""
    tz = config.settings.zone
    by_window: dict[float, list[tuple[Rule, list[str]]]] = {}
    for rule in config.rules:
        window = last_window(rule.digest or config.settings.digest, now, tz)
        last_sent = store.digest_last_sent(rule.id)
        if last_sent is None:
            # A new rule starts collecting now; it does not flush yesterday's window.
            store.close_digest(rule.id, [], window)
            continue
        if window <= last_sent:
            continue
        pending = store.digest_pending(rule.id)
        by_window.setdefault(window, []).append((rule, pending))
    to_send: list[str] = []
    for window, rule_items in by_window.items():
        to_send += _digest_deliveries(window, rule_items, config, store, now)
        for rule, pending in rule_items:
            store.close_digest(rule.id, pending, window)
    return to_send


def _digest_deliveries(
    window: float,
    rule_items: Sequence[tuple[Rule, list[str]]],
    config: Config,
    store: Store,
    now: float,
) -> list[str]:
    per_target: dict[str, tuple[Target, list[str]]] = {}
    for rule, alert_keys in rule_items:
        for target in targets_for(rule, config.targets):
            per_target.setdefault(target.id, (target, []))[1].extend(alert_keys)
    keys = []
    for target, alert_keys in per_target.values():
        if not alert_keys:
            continue
        key = f"digest:{int(window)}:{target.id}"
        store.create_delivery(
            key,
            kind="digest",
            target_id=target.id,
            alert_keys=alert_keys,
            title=f"digest: {len(alert_keys)} alerts",
            now=now,
            lease=delivery_lease(config.settings),
        )
        keys.append(key)
    return keys
