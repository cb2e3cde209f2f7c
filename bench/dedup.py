"""Near-duplicate benchmark: MinHash implementations on wire-style copies of real articles.

Articles are the gold texts of the article-extraction benchmark
(../shared/corpus, or $WIREWATCH_CORPUS). From each, copies are made the way
wire copies differ (a new title and dateline, the lead or the closing
sentence rewritten, paragraphs cut from the end); the negatives are, for
each article, the corpus articles closest to it in vocabulary: other stories
on the same topic. Every implementation decides each pair (estimated
similarity >= threshold); the figures are CPU ms per article and decisions
against version 1 (bench/minhash_v1.py) and against exact Jaccard.

    python bench/dedup.py [--threshold 0.8] [--articles 181] [--repeat 3]

datasketch is not a dependency: `pip install datasketch` to include it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import minhash_v1  # noqa: E402
from worker.pipeline import minhash  # noqa: E402

CITIES = ("LONDON", "MOSCOW", "WASHINGTON", "BRUSSELS", "TOKYO", "NAIROBI", "ANKARA")
AGENCIES = ("Reuters", "AP", "AFP", "dpa", "Xinhua")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Pair:
    kind: str  # "copy: ..." or "negative"
    first: str
    second: str


def corpus_dir() -> Path:
    env = os.environ.get("WIREWATCH_CORPUS")
    path = Path(env) if env else ROOT.parent / "shared" / "corpus"
    return path / "article-extraction-benchmark"


def load_articles(limit: int) -> list[str]:
    """Title (from the URL's slug) and body of each article with >= 150 words."""
    truth = json.loads((corpus_dir() / "ground-truth.json").read_text(encoding="utf-8"))
    articles = []
    for key in sorted(truth):
        body = truth[key]["articleBody"]
        if len(body.split()) < 150:
            continue
        slug = urlsplit(truth[key].get("url") or "").path.rstrip("/").rsplit("/", 1)[-1]
        title = " ".join(re.findall(r"[A-Za-z]{2,}", slug)).capitalize() or "Untitled"
        articles.append(f"{title}\n{body}")
    return articles[:limit]


def _rewrite(sentence: str, rng: random.Random) -> str:
    """A sub-editor's rewrite: some words dropped, the clause order changed, attribution added."""
    words = sentence.split()
    kept = [w for w in words if rng.random() > 0.3]
    cut = len(kept) // 2
    return " ".join([*kept[cut:], "-", *kept[:cut]]) + f", {rng.choice(AGENCIES)} reported."


def wire_copies(article: str, rng: random.Random) -> list[tuple[str, str]]:
    """Copies of `article` as other outlets carry it, each with a name for the change."""
    title, body = article.split("\n", 1)
    paragraphs = [p for p in body.split("\n") if p.strip()]
    dateline = f"{rng.choice(CITIES)}, Nov {rng.randint(1, 28)} ({rng.choice(AGENCIES)}) - "
    new_title = f"UPDATE 1-{title} - sources"

    def with_lead(text: str) -> str:
        sentences = _SENTENCE.split(text, maxsplit=1)
        return " ".join([_rewrite(sentences[0], rng), *sentences[1:]])

    def with_close(text: str) -> str:
        sentences = _SENTENCE.split(text)
        return " ".join([*sentences[:-1], _rewrite(sentences[-1], rng)])

    def cut(share: float) -> list[str]:
        keep = max(1, round(len(paragraphs) * (1 - share)))
        return paragraphs[:keep]

    return [
        ("title+dateline", f"{new_title}\n{dateline}" + "\n".join(paragraphs)),
        ("lead rewritten", f"{new_title}\n{dateline}{with_lead(chr(10).join(paragraphs))}"),
        ("close rewritten", f"{new_title}\n" + with_close("\n".join(paragraphs))),
        ("last 10% cut", f"{new_title}\n{dateline}" + "\n".join(cut(0.1))),
        ("lead rewritten+20% cut", f"{new_title}\n{dateline}{with_lead(chr(10).join(cut(0.2)))}"),
    ]


def exact_jaccard(first: str, second: str) -> float:
    a, b = set(minhash.shingles(first)), set(minhash.shingles(second))
    return len(a & b) / len(a | b) if a | b else 0.0


def build_pairs(articles: Sequence[str], negatives_per_article: int) -> list[Pair]:
    rng = random.Random(14)
    pairs = []
    for article in articles:
        pairs += [Pair(f"copy: {name}", article, c) for name, c in wire_copies(article, rng)]
    vocab = [set(re.findall(r"\w+", a.lower())) for a in articles]
    for i, words in enumerate(vocab):
        closest = sorted(
            (j for j in range(len(articles)) if j != i),
            key=lambda j: -len(words & vocab[j]) / len(words | vocab[j]),
        )
        pairs += [
            Pair("negative", articles[i], articles[j]) for j in closest[:negatives_per_article]
        ]
    return pairs


Implementation = tuple[Callable[[str], object], Callable[[object, object], float]]


def implementations() -> dict[str, Implementation]:
    found: dict[str, Implementation] = {
        "v1 (bench/minhash_v1.py)": (
            lambda text: minhash_v1.signature(minhash_v1.shingles(text)),
            lambda a, b: minhash_v1.similarity(a, b),  # type: ignore[arg-type]
        ),
        "v2 rensa (worker.pipeline.minhash)": (
            minhash.signature,
            lambda a, b: minhash.similarity(a, b),  # type: ignore[arg-type]
        ),
    }
    try:
        import datasketch
    except ImportError:
        print("(datasketch not installed: pip install datasketch to compare it)")
        return found

    def datasketch_signature(text: str) -> object:
        sketch = datasketch.MinHash(num_perm=minhash.NUM_PERM, seed=1)
        sketch.update_batch([run.encode() for run in minhash.shingles(text)])
        return sketch

    found["datasketch MinHash"] = (
        datasketch_signature,
        lambda a, b: float(a.jaccard(b)),  # type: ignore[attr-defined]
    )
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--articles", type=int, default=181)
    parser.add_argument("--negatives", type=int, default=3, help="closest other stories each")
    parser.add_argument("--repeat", type=int, default=3, help="timing rounds; the best counts")
    args = parser.parse_args()
    if not (corpus_dir() / "ground-truth.json").exists():
        print(f"corpus not found at {corpus_dir()}: set WIREWATCH_CORPUS", file=sys.stderr)
        return 2

    articles = load_articles(args.articles)
    pairs = build_pairs(articles, args.negatives)
    texts = sorted({text for pair in pairs for text in (pair.first, pair.second)})
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(
        f"{len(articles)} articles, {len(texts)} texts (mean {words:.0f} words), "
        f"{len(pairs)} pairs, threshold {args.threshold}"
    )
    exact = [exact_jaccard(p.first, p.second) for p in pairs]
    truth = [j >= args.threshold for j in exact]

    decisions: dict[str, list[bool]] = {}
    for name, (sign, compare) in implementations().items():
        best = float("inf")
        for _ in range(args.repeat):
            start = time.process_time()
            signatures = {text: sign(text) for text in texts}
            best = min(best, (time.process_time() - start) / len(texts))
        estimates = [compare(signatures[p.first], signatures[p.second]) for p in pairs]
        decisions[name] = [e >= args.threshold for e in estimates]
        error = sum(abs(e - j) for e, j in zip(estimates, exact, strict=True)) / len(pairs)
        agree = sum(d == t for d, t in zip(decisions[name], truth, strict=True))
        print(
            f"  {name:<27} {best * 1000:7.3f} ms/article (CPU)  "
            f"mean |estimate - Jaccard| {error:.3f}  agrees with exact on {agree}/{len(pairs)}"
        )

    baseline = decisions.pop("v1 (bench/minhash_v1.py)")
    print("\ndecisions per kind of pair (similar / pairs), and pairs decided unlike v1:")
    kinds = sorted({p.kind for p in pairs})
    for kind in kinds:
        index = [i for i, p in enumerate(pairs) if p.kind == kind]
        cells = [f"exact {sum(truth[i] for i in index)}", f"v1 {sum(baseline[i] for i in index)}"]
        for name, chosen in decisions.items():
            differing = sum(chosen[i] != baseline[i] for i in index)
            cells.append(
                f"{name.split()[1]} {sum(chosen[i] for i in index)} ({differing} unlike v1)"
            )
        print(f"  {kind:<30} /{len(index):<4} " + "  ".join(cells))
    for name, chosen in decisions.items():
        unlike = [i for i in range(len(pairs)) if chosen[i] != baseline[i]]
        near = [abs(exact[i] - args.threshold) for i in unlike]
        worst = f", all within {max(near):.3f} of the threshold" if near else ""
        print(f"{name}: {len(unlike)} of {len(pairs)} decisions unlike v1{worst}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
