"""The first near-duplicate signatures (version 1), kept as the benchmark's baseline.

128 universal hashes (a*x+b mod 2^61-1) over blake2b-64 hashes of word
3-shingles, in pure Python: about 20 ms per 900-word article. wirewatch now
uses `worker.pipeline.minhash` (version 2, rensa); stored v1 signatures are
re-indexed from the archive (`worker.pipeline.dedup.upgrade_index`).
"""

from __future__ import annotations

import hashlib
import random
import re
import unicodedata

__all__ = ["shingles", "signature", "similarity"]

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
