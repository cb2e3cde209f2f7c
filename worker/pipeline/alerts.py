"""Matching an article and turning each hit into alerts, digest entries and outbox deliveries."""

from __future__ import annotations

from collections.abc import Sequence

from worker.config import Config, Rule
from worker.match import RuleSet, article_document, compile_rules
from worker.models import Article, DeliveryKey, DeliveryKind, RuleMatch
from worker.pipeline.dedup import fold_ttl, near_duplicates
from worker.pipeline.delivery import targets_for
from worker.store import Store

__all__ = ["compiled_rules", "match_article", "record_matches"]

_compiled: dict[str, RuleSet] = {}


def compiled_rules(rules: Sequence[Rule], fingerprint: str) -> RuleSet:
    """Rules compiled once per config version, not once per article."""
    ruleset = _compiled.get(fingerprint)
    if ruleset is None:
        _compiled.clear()
        ruleset = compile_rules((rule.id, rule.query) for rule in rules)
        _compiled[fingerprint] = ruleset
    return ruleset


def match_article(article: Article, rules: Sequence[Rule], config: Config) -> list[RuleMatch]:
    """The rules (of those given) that match the article.

    `word~` reads the article in its language: the source's `language:`,
    else the one its page or feed declares, else the one detected.
    """
    wanted = {rule.id for rule in rules}
    if not wanted:
        return []
    ruleset = compiled_rules(config.rules, config.fingerprint)
    source = config.source(article.source_id)
    document = article_document(article, source.language if source is not None else None)
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
    with near_duplicates(article, store, threshold=near.threshold, window=window, now=now) as dupes:
        for match in matches:
            rule = rules[match.rule_id]
            original = dupes.original_alert(rule.id)
            if original is not None:
                # A later copy of a story this rule already alerted on: noted
                # on the first alert ("also reported by"), not alerted again.
                title = store.sources.state(article.source_id).title
                name = config.source_name(article.source_id, title)
                store.dedup.fold(
                    rule.id, article.id, original, article.source_id, name, fold_ttl(window)
                )
                continue
            alert_key, is_new = store.alerts.create(rule.id, article, match.spans, now)
            mode = None if is_new else store.alerts.mode(alert_key)
            if mode is None:
                mode = _routing_mode(rule, store, now)
                store.alerts.set_mode(alert_key, mode)
            if mode == "digest":
                store.digests.add(rule.id, alert_key, now)
                continue
            for target in targets_for(rule, config.targets):
                key = str(DeliveryKey.alert(alert_key, target.id))
                store.outbox.create(
                    key,
                    kind=DeliveryKind.ALERT,
                    target_id=target.id,
                    alert_keys=[alert_key],
                    title=f"{rule.id}: {article.title}",
                    now=now,
                    lease=config.settings.delivery_lease,
                )
                to_send.append(key)
    return to_send


def _routing_mode(rule: Rule, store: Store, now: float) -> str:
    """Digest rules wait for their digest; instant ones beyond `max_per_hour` join it."""
    if rule.mode == "digest":
        return "digest"
    if (
        rule.max_per_hour is not None
        and store.alerts.count_instant(rule.id, now) > rule.max_per_hour
    ):
        return "digest"
    return "instant"
