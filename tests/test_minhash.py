"""MinHash signatures (worker.pipeline.minhash): pinned values, estimates, copies and encoding."""

from __future__ import annotations

import pytest

from worker.pipeline import minhash
from worker.pipeline.minhash import (
    NUM_PERM,
    SIGNATURE_VERSION,
    band_digests,
    decode,
    encode,
    is_empty,
    shingles,
    signature,
    similarity,
)

STORY = (
    "Russia has begun delivering S-300 air defence systems to Iran, the defence ministry in "
    "Moscow said on Tuesday, ending years of delays over a contract signed in 2007. The first "
    "batteries left by sea and are expected to reach the port of Bandar Abbas within two "
    "weeks, officials said. Israel and the United States have long opposed the sale, saying "
    "the missiles would make strikes on Iranian nuclear sites harder. Tehran paid for the "
    "systems in full, a spokesman said, and its crews have trained in Russia since spring. "
    "Analysts said the delivery marks a shift in relations after the lifting of some "
    "sanctions, and that more contracts could follow this year."
)
SAME_TOPIC = (
    "Iran said on Tuesday it would test a domestically built air defence system next month, "
    "which officials called an answer to the S-300 delays. The Bavar-373 has been in "
    "development since 2010 and uses missiles made in Iran, the ministry said. Experts doubt "
    "that it can match Russian systems. Parliament approved more money for the program, and "
    "the army plans a public exercise near Isfahan with foreign observers invited to attend."
)


def sim(first: str, second: str) -> float:
    return similarity(signature(first), signature(second))


def test_signatures_are_pinned_across_processes_and_releases() -> None:
    # Stored signatures are compared with new ones for days: a rensa release
    # that hashes differently must bump SIGNATURE_VERSION, not go unnoticed.
    assert SIGNATURE_VERSION == 2
    assert signature("Russia delivers S-300 air defence systems to Iran, the ministry said.")[
        :6
    ] == (3404150952, 3303761483, 3249473177, 3223294069, 3257992819, 3399908398)


@pytest.mark.parametrize(
    ("copy", "why"),
    [
        (f"Russia starts S-300 deliveries\nMOSCOW (Reuters) - {STORY} (Editing by J. Roe)", "wire"),
        (STORY.replace("on Tuesday", "Tuesday").replace("officials said", "officials told"), "ap"),
    ],
)
def test_wire_copies_are_similar(copy: str, why: str) -> None:
    assert sim(copy, STORY) >= 0.8, why


def test_a_story_on_the_same_topic_is_not() -> None:
    assert sim(SAME_TOPIC, STORY) < 0.1


def test_estimate_follows_jaccard() -> None:
    words = [f"w{i}" for i in range(400)]
    first = " ".join(words)
    second = " ".join(words[:300] + [f"x{i}" for i in range(100)])
    a, b = set(shingles(first)), set(shingles(second))
    exact = len(a & b) / len(a | b)
    # 256 permutations: the standard error is about 0.03.
    assert abs(sim(first, second) - exact) < 0.15


def test_case_width_and_punctuation_do_not_matter() -> None:
    assert sim("Russia delivers S-300 to Iran!", "RUSSIA delivers \uff33-300, to Iran") == 1.0


def test_text_without_words_is_never_similar() -> None:
    assert is_empty(signature(""))
    assert is_empty(signature(" -- , ! "))
    assert sim("", "") == 0.0
    assert not is_empty(signature("Iran"))
    assert sim("Iran", "iran") == 1.0  # shorter than a run: the whole text is one


def test_work_is_bounded_by_the_first_words() -> None:
    long = " ".join(f"w{i}" for i in range(5000))
    assert len(shingles(long)) == minhash.MAX_WORDS - 2
    assert sim(long, " ".join(f"w{i}" for i in range(minhash.MAX_WORDS))) == 1.0


def test_encoding_round_trips_and_refuses_other_versions() -> None:
    sig = signature(STORY)
    assert len(sig) == NUM_PERM
    assert decode(encode(sig)) == sig
    # A version 1 signature held 8-byte values: not comparable, read as nothing.
    assert decode(b"\x00" * 8 * NUM_PERM) == ()
    assert similarity(sig, decode(b"\x00" * 8 * NUM_PERM)) == 0.0


def test_copies_share_a_band_and_unrelated_stories_do_not() -> None:
    copy = f"MOSCOW (Reuters) - {STORY}"
    bands, rows = 16, 8
    mine, theirs, other = (
        band_digests(signature(text), bands, rows) for text in (STORY, copy, SAME_TOPIC)
    )
    assert len(mine) == bands
    assert set(mine) & set(theirs)
    assert not set(mine) & set(other)
