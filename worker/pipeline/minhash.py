"""MinHash signatures of article text, computed by rensa (Rust), versioned.

Two copies of a story share most runs of three consecutive words; the share
of equal values in two MinHash signatures estimates the Jaccard similarity
of those run sets. This module is pure: text in, signature out, signatures
compared, encoded for storage and cut into LSH bands. The store decides
where they live.

Signatures from different versions are not comparable (other hash
functions), so `SIGNATURE_VERSION` goes into every stored key: a changed
version starts an empty index beside the old one instead of misreading it.

Version history:
  1. 128 universal hashes (a*x+b mod 2^61-1) over blake2b-64 hashes of the
     runs, in pure Python (about 20 ms per 900-word article).
  2. rensa's RMinHash, 256 permutations, fixed seed, 32-bit values (about
     0.3-0.5 ms per article, most of it finding the words). 256 rather than
     128: on the benchmark's wire copies (bench/dedup.py) it misses 6 copies
     that exact Jaccard keeps instead of 13, for no measurable cost.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from rensa import RMinHash

__all__ = [
    "NUM_PERM",
    "SIGNATURE_VERSION",
    "Signature",
    "band_digests",
    "decode",
    "encode",
    "is_empty",
    "shingles",
    "signature",
    "similarity",
]

SIGNATURE_VERSION = 2
NUM_PERM = 256
SHINGLE_WORDS = 3
# Bounds the work per article; copies of one story agree from their first
# paragraphs on, so the rest of a very long text adds cost, not accuracy.
MAX_WORDS = 1000
# Fixed: signatures are compared across processes, restarts and releases.
# tests/test_minhash.py pins a signature, so a rensa release that hashes
# differently fails there instead of silently missing every stored copy.
_SEED = 0x77697265
_EMPTY = 0xFFFFFFFF  # rensa's value in every slot of an empty set's signature
_VALUE_BYTES = 4
_WORD = re.compile(r"\w+")

Signature = tuple[int, ...]


def shingles(text: str) -> list[str]:
    """Every run of three consecutive words, case and width folded (the whole
    text as one run when it is shorter)."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())[:MAX_WORDS]
    if len(words) < SHINGLE_WORDS:
        return [" ".join(words)] if words else []
    return [" ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - 2)]


def signature(text: str) -> Signature:
    """The MinHash signature of `text`'s word runs; all slots `_EMPTY` for no words."""
    minhash = RMinHash(num_perm=NUM_PERM, seed=_SEED)
    runs = shingles(text)
    if runs:
        minhash.update(runs)
    return tuple(minhash.digest())


def is_empty(sig: Signature) -> bool:
    """Whether `sig` is the signature of a text without words (never similar to anything)."""
    return all(value == _EMPTY for value in sig)


def similarity(first: Signature, second: Signature) -> float:
    """Estimated Jaccard similarity of the two run sets (0 for an empty text)."""
    if not first or len(first) != len(second) or is_empty(first) or is_empty(second):
        return 0.0
    return sum(a == b for a, b in zip(first, second, strict=True)) / len(first)


def band_digests(sig: Signature, bands: int, rows: int) -> list[str]:
    """One short digest per LSH band: two signatures that agree on a whole band
    share that band's digest, and so a bucket."""
    return [
        hashlib.blake2b(encode(sig[band * rows : (band + 1) * rows]), digest_size=8).hexdigest()
        for band in range(bands)
    ]


def encode(sig: Signature) -> bytes:
    return b"".join(value.to_bytes(_VALUE_BYTES, "big") for value in sig)


def decode(raw: bytes) -> Signature:
    """A signature from `encode`; a value of another length (an older version's) is empty."""
    if len(raw) != NUM_PERM * _VALUE_BYTES:
        return ()
    return tuple(
        int.from_bytes(raw[i : i + _VALUE_BYTES], "big") for i in range(0, len(raw), _VALUE_BYTES)
    )
