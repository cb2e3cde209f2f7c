"""Near-duplicates: the same story from several sources alerts once per rule.

Wire copies differ in title, URL, a dateline or a closing line, so identity
cannot be exact. Each article that matched a rule gets a MinHash signature
over its word shingles; the share of equal signature values estimates the
Jaccard similarity of two articles' shingle sets. Signatures are cut into
LSH bands kept in Redis buckets: an article is compared only with the few
articles that share a bucket with it, so the cost per article stays flat
however many articles the window holds.

Its keys (`ww:dedup:*`) are written by `worker.store.dedup` alone.

The pure part (`shingles`, `signature`, `similarity`, `lsh_params`,
`band_keys`) knows nothing of Redis; `NearDuplicates` is the store side and
`near_duplicates` the guarded step `pipeline.record_matches` runs.
"""

from __future__ import annotations

import hashlib
import logging
import random
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from worker.models import Article
from worker.store import Store

__all__ = [
    "NUM_PERM",
    "Duplicates",
    "NearDuplicates",
    "band_keys",
    "document_text",
    "fold_ttl",
    "lsh_params",
    "near_duplicates",
    "shingles",
    "signature",
    "similarity",
]

log = logging.getLogger(__name__)

NUM_PERM = 128
SHINGLE_WORDS = 3
# Bounds the work per article; copies of one story agree from their first
# paragraphs on, so the rest of a very long text adds cost, not accuracy.
MAX_WORDS = 1000
_PRIME = (1 << 61) - 1  # Mersenne prime: (a*x + b) mod p is a good universal hash
# Fixed seed: signatures are compared across processes, restarts and versions.
_SEEDS = random.Random(0x77697265)
_PERMUTATIONS = tuple(
    (_SEEDS.randrange(1, _PRIME), _SEEDS.randrange(0, _PRIME)) for _ in range(NUM_PERM)
)
_EMPTY = _PRIME  # the value of every slot of an empty set's signature
_WORD = re.compile(r"\w+")

Signature = tuple[int, ...]

# Only one worker at a time may decide whether an article is a copy and index
# it; otherwise two copies processed at once would both find no original.
_LOCK_TTL = 30.0
_LOCK_WAIT = 60.0

# ---------------------------------------------------------------- pure part


def document_text(article: Article) -> str:
    """The text two copies of a story share: the title and the body (or the summary)."""
    return f"{article.title}\n{article.body or article.summary}"


def shingles(text: str) -> frozenset[int]:
    """64-bit hashes of every run of three consecutive words, case and width folded."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())[:MAX_WORDS]
    if not words:
        return frozenset()
    runs = (
        [" ".join(words)]
        if len(words) < SHINGLE_WORDS
        else [" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - 2)]
    )
    return frozenset(
        int.from_bytes(hashlib.blake2b(run.encode(), digest_size=8).digest(), "big") for run in runs
    )


def signature(hashes: frozenset[int]) -> Signature:
    """The MinHash signature: for each of NUM_PERM hash functions, the least value."""
    if not hashes:
        return (_EMPTY,) * NUM_PERM
    values = list(hashes)
    return tuple(min([(a * x + b) % _PRIME for x in values]) for a, b in _PERMUTATIONS)


def similarity(first: Signature, second: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets (0 for an empty text)."""
    if not first or len(first) != len(second) or first[0] == _EMPTY or second[0] == _EMPTY:
        return 0.0
    return sum(a == b for a, b in zip(first, second, strict=True)) / len(first)


def _integral(f: Callable[[float], float], low: float, high: float, steps: int = 200) -> float:
    width = (high - low) / steps
    return sum(f(low + (i + 0.5) * width) for i in range(steps)) * width


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
    """The LSH bucket id of each band; the parameters are part of the key, so a
    changed threshold starts new buckets instead of misreading old ones."""
    keys = []
    for band in range(bands):
        chunk = sig[band * rows : (band + 1) * rows]
        digest = hashlib.blake2b(
            b"".join(v.to_bytes(8, "big") for v in chunk), digest_size=8
        ).hexdigest()
        keys.append(f"{bands}x{rows}:{band}:{digest}")
    return keys


def _encode(sig: Signature) -> str:
    return b"".join(v.to_bytes(8, "big") for v in sig).hex()


def _decode(raw: str) -> Signature:
    data = bytes.fromhex(raw)
    return tuple(int.from_bytes(data[i : i + 8], "big") for i in range(0, len(data), 8))


# ---------------------------------------------------------------- store side


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
        return sorted(
            set(self.store.dedup.in_buckets(band_keys(sig, bands, rows), since)) - {exclude}
        )

    def similar(
        self, sig: Signature, threshold: float, since: float, exclude: str
    ) -> list[tuple[str, float]]:
        """Articles indexed since `since` at least `threshold` similar, most similar first."""
        candidates = self.candidates(sig, threshold, since, exclude)
        if not candidates:
            return []
        raws = self.store.dedup.signatures(candidates)
        scored = [
            (candidate, similarity(sig, _decode(raw)))
            for candidate, raw in zip(candidates, raws, strict=True)
            if raw
        ]
        return sorted(
            [(c, s) for c, s in scored if s >= threshold], key=lambda pair: (-pair[1], pair[0])
        )

    def add(
        self, article_id: str, sig: Signature, threshold: float, now: float, window: float
    ) -> None:
        """Index an article (again: harmless) for `window` seconds."""
        bands, rows = lsh_params(threshold)
        self.store.dedup.index(article_id, _encode(sig), band_keys(sig, bands, rows), now, window)

    def folded_into(self, rule_id: str, article_id: str) -> str | None:
        return self.store.dedup.folded_into(rule_id, article_id)

    def fold(
        self,
        rule_id: str,
        article_id: str,
        alert_key: str,
        source_id: str,
        source_name: str,
        ttl: float,
    ) -> bool:
        """Record the article as a copy of `alert_key`'s story, once (see `Dedup.fold`)."""
        return self.store.dedup.fold(rule_id, article_id, alert_key, source_id, source_name, ttl)

    def alert_created(self, alert_key: str) -> float | None:
        return self.store.alerts.created(alert_key)


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
    sig = signature(shingles(document_text(article)))
    with index.exclusive():
        found = index.similar(sig, threshold, now - window, exclude=article.id)
        if sig[0] != _EMPTY:
            index.add(article.id, sig, threshold, now, window)
        yield Duplicates(index, article.id, tuple(a for a, _ in found), now - window)


def fold_ttl(window: float) -> float:
    """How long a "folded into" record lives: as long as the copy could be processed again."""
    return window + 7 * 86400
