"""Near-duplicates: the same story from several sources alerts once per rule.

Wire copies differ in title, URL, a dateline or a closing line, so identity
cannot be exact. Each article that matched a rule gets a MinHash signature
over its word runs (`worker.pipeline.minhash`); the share of equal signature
values estimates the Jaccard similarity of two articles' run sets.
Signatures are cut into LSH bands kept in Redis buckets: an article is
compared only with the few articles that share a bucket with it, so the cost
per article stays flat however many articles the window holds.

Its keys (`ww:dedup:*`) are written by `worker.store.dedup` alone. The index
carries the signature version in its keys; an index of an older version is
re-indexed from the archive once, under the dedup lock (`upgrade_index`).

`NearDuplicates` is the store side and `near_duplicates` the guarded step
`pipeline.record_matches` runs.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from worker.models import Article
from worker.pipeline.minhash import (
    NUM_PERM,
    SIGNATURE_VERSION,
    Signature,
    band_digests,
    decode,
    encode,
    is_empty,
    signature,
    similarity,
)
from worker.store import Store

__all__ = [
    "Duplicates",
    "NearDuplicates",
    "band_keys",
    "document_text",
    "fold_ttl",
    "lsh_params",
    "near_duplicates",
    "upgrade_index",
]

log = logging.getLogger(__name__)

# Only one worker at a time may decide whether an article is a copy and index
# it; otherwise two copies processed at once would both find no original.
_LOCK_TTL = 30.0
_LOCK_WAIT = 60.0
# Re-indexing a window of articles after an upgrade takes longer than a lookup.
_UPGRADE_LOCK_TTL = 600.0
_UPGRADE_BATCH = 500


def document_text(article: Article) -> str:
    """The text two copies of a story share: the title and the body (or the summary)."""
    return f"{article.title}\n{article.body or article.summary}"


def _integral(f: object, low: float, high: float, steps: int = 200) -> float:
    width = (high - low) / steps
    return sum(f(low + (i + 0.5) * width) for i in range(steps)) * width  # type: ignore[operator]


@cache
def lsh_params(threshold: float, num_perm: int = NUM_PERM) -> tuple[int, int]:
    """Bands and rows per band for a similarity threshold.

    A pair with similarity s shares a bucket with probability 1-(1-s^r)^b.
    A missed copy is a repeated alert while a false candidate costs one
    signature read, so copies at the threshold must be found 99% of the
    time; among the settings that do, the one with the fewest false
    candidates wins.
    """
    best: tuple[float, int, int] = (float("inf"), num_perm, 1)
    for rows in range(1, num_perm + 1):
        bands = num_perm // rows

        def hit(s: float, b: int = bands, r: int = rows) -> float:
            return float(1 - (1 - s**r) ** b)

        if hit(threshold) < 0.99:
            continue
        false_pos = _integral(hit, 0.0, threshold)
        if false_pos < best[0]:
            best = (false_pos, bands, rows)
    return best[1], best[2]


def band_keys(sig: Signature, bands: int, rows: int) -> list[str]:
    """The LSH bucket id of each band; the parameters are part of the id, so a
    changed threshold starts new buckets instead of misreading old ones."""
    return [
        f"{bands}x{rows}:{band}:{digest}"
        for band, digest in enumerate(band_digests(sig, bands, rows))
    ]


class NearDuplicates:
    """The LSH index of alerted articles and the "folded into" records (`store.dedup`)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold the dedup lock for the block, waiting for it if another worker has it.

        The TTL frees it from a crashed holder. If it cannot be had in time
        the block runs anyway: a repeated alert is better than a lost one.
        """
        with self.store.locks.hold("dedup", ttl=_LOCK_TTL, wait=_LOCK_WAIT) as taken:
            if not taken:
                log.warning("near-duplicate lock not free after %.0fs; going on", _LOCK_WAIT)
            yield

    def candidates(self, sig: Signature, threshold: float, since: float, exclude: str) -> list[str]:
        """Articles indexed since `since` that share an LSH bucket with `sig`."""
        bands, rows = lsh_params(threshold)
        found = self.store.dedup.in_buckets(SIGNATURE_VERSION, band_keys(sig, bands, rows), since)
        return sorted(found - {exclude})

    def similar(
        self, sig: Signature, threshold: float, since: float, exclude: str
    ) -> list[tuple[str, float]]:
        """Articles indexed since `since` at least `threshold` similar, most similar first."""
        candidates = self.candidates(sig, threshold, since, exclude)
        if not candidates:
            return []
        raws = self.store.dedup.signatures(SIGNATURE_VERSION, candidates)
        scored = [
            (candidate, similarity(sig, decode(bytes.fromhex(raw))))
            for candidate, raw in zip(candidates, raws, strict=True)
            if raw
        ]
        return sorted(
            [(c, s) for c, s in scored if s >= threshold], key=lambda pair: (-pair[1], pair[0])
        )

    def add(
        self, article_id: str, sig: Signature, threshold: float, now: float, window: float
    ) -> None:
        """Index an article (again: harmless) for `window` seconds from `now`."""
        bands, rows = lsh_params(threshold)
        buckets = band_keys(sig, bands, rows)
        self.store.dedup.index(
            SIGNATURE_VERSION, article_id, encode(sig).hex(), buckets, now, window
        )

    def folded_into(self, rule_id: str, article_id: str) -> str | None:
        return self.store.dedup.folded_into(rule_id, article_id)

    def alert_created(self, alert_key: str) -> float | None:
        return self.store.alerts.created(alert_key)


def upgrade_index(store: Store, threshold: float, window: float, now: float) -> int:
    """Re-index, from the archive, the articles an older signature version indexed
    within the window; then mark the index current and drop the old keys.
    Returns how many were re-indexed (0 when the index was current).

    Why a re-index and not "let the old index age out": until the window
    passed, every copy of a story alerted before the upgrade would alert
    again. Runs once, under a lock of its own: the first dedup step after an
    upgrade does it while the others wait for the dedup lock.
    """
    dedup = store.dedup
    if dedup.version() == SIGNATURE_VERSION:
        return 0
    with store.locks.hold("dedup-upgrade", ttl=_UPGRADE_LOCK_TTL, wait=_UPGRADE_LOCK_TTL) as taken:
        if dedup.version() == SIGNATURE_VERSION:
            return 0  # another worker did it meanwhile
        if not taken:
            log.warning("near-duplicate upgrade lock not free; indexing without the old index")
        index = NearDuplicates(store)
        done = 0
        for batch in dedup.legacy_articles(_UPGRADE_BATCH):
            archived = store.archive.times(batch)
            articles = store.archive.get_many(batch)
            for article, at in zip(articles, archived, strict=True):
                if article is None or at is None or at < now - window:
                    continue  # expired from the archive, or outside the window anyway
                sig = signature(document_text(article))
                if not is_empty(sig):
                    index.add(article.id, sig, threshold, at, window - (now - at))
                    done += 1
        dedup.finish_upgrade(SIGNATURE_VERSION)
        log.info("near-duplicate index: %d articles re-indexed as version %d", done,
                 SIGNATURE_VERSION)  # fmt: skip
        return done


# ---------------------------------------------------------------- the step


@dataclass(frozen=True, slots=True)
class Duplicates:
    """What the index says about one article: the similar articles alerted before it."""

    index: NearDuplicates
    article_id: str
    similar: tuple[str, ...]  # article ids, most similar first
    since: float

    def original_alert(self, rule_id: str) -> str | None:
        """The first alert of `rule_id` on the same story, if this article is a later copy.

        None when this article has its own alert for the rule (a repeated
        task) or no similar article was alerted by the rule in the window.
        """
        if self.index.alert_created(f"{rule_id}:{self.article_id}") is not None:
            return None
        folded = self.index.folded_into(rule_id, self.article_id)
        if folded is not None:
            return folded
        found: list[tuple[float, str]] = []
        for other in self.similar:
            # A copy of a copy belongs to the same first alert.
            key = self.index.folded_into(rule_id, other) or f"{rule_id}:{other}"
            created = self.index.alert_created(key)
            if created is not None and created >= self.since:
                found.append((created, key))
        return min(found)[1] if found else None


@contextmanager
def near_duplicates(
    article: Article,
    store: Store,
    *,
    threshold: float,
    window: float,
    now: float,
) -> Iterator[Duplicates]:
    """Find the articles similar to `article`, index it, and hold the lock meanwhile.

    The caller creates or folds its alerts inside the block, so that the next
    copy, waiting for the lock, sees them.
    """
    index = NearDuplicates(store)
    sig = signature(document_text(article))
    upgrade_index(store, threshold, window, now)
    with index.exclusive():
        found = index.similar(sig, threshold, now - window, exclude=article.id)
        if not is_empty(sig):
            index.add(article.id, sig, threshold, now, window)
        yield Duplicates(index, article.id, tuple(a for a, _ in found), now - window)


def fold_ttl(window: float) -> float:
    """How long a "folded into" record lives: as long as the copy could be processed again."""
    return window + 7 * 86400
