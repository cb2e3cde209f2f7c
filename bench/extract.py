"""Article-extraction benchmark: wirewatch's extractor against a gold corpus.

Scores exactly as the scrapinghub article-extraction-benchmark does, so the
figures compare with its published table: word 4-shingle multisets, per-page
tp/fp/fn normalised to sum 1, precision and recall averaged over pages, and F1
of those two means (not a mean of per-page F1).

    python bench/extract.py [--corpus DIR] [--limit N] [--variant NAME] [--worst K]
"""

from __future__ import annotations

import argparse
import gzip
import importlib
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "article-extraction-benchmark"

_TOKEN = re.compile(r"\w+")

Extractor = Callable[[bytes, str], str]


@dataclass(frozen=True, slots=True)
class PageScore:
    page_id: str
    tp: float
    fp: float
    fn: float


@dataclass(frozen=True, slots=True)
class Summary:
    precision: float
    recall: float
    f1: float
    pages: int
    seconds: float


def shingles(text: str, size: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text)
    if len(tokens) < size:
        # The benchmark counts a short text as one shingle rather than none,
        # so an empty prediction on a short gold text is still penalised.
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + size]) for i in range(len(tokens) - size + 1))


def score_page(page_id: str, truth: str, predicted: str) -> PageScore:
    gold, pred = shingles(truth), shingles(predicted)
    tp = sum((gold & pred).values())
    fp = sum((pred - gold).values())
    fn = sum((gold - pred).values())
    total = tp + fp + fn
    if total == 0:
        return PageScore(page_id, 0.0, 0.0, 0.0)
    return PageScore(page_id, tp / total, fp / total, fn / total)


def _ratio(tp: float, other: float, fp: float, fn: float) -> float:
    if fp == 0 and fn == 0:
        return 1.0
    if tp == 0 and other == 0:
        return 0.0
    return tp / (tp + other)


def summarize(scores: list[PageScore], seconds: float) -> Summary:
    precisions = [_ratio(s.tp, s.fp, s.fp, s.fn) for s in scores if s.tp + s.fp > 0]
    recalls = [_ratio(s.tp, s.fn, s.fp, s.fn) for s in scores if s.tp + s.fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Summary(precision, recall, f1, len(scores), seconds)


def load_corpus(corpus: Path, limit: int | None) -> list[tuple[str, str, bytes, str]]:
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth)[:limit]:
        raw = gzip.decompress((corpus / "html" / f"{page_id}.html.gz").read_bytes())
        # The benchmark decodes every page as UTF-8 with replacement; handing the
        # extractor re-encoded UTF-8 makes its charset detection agree with that.
        html = raw.decode("utf-8", errors="replace").encode("utf-8")
        pages.append((page_id, truth[page_id]["url"], html, truth[page_id]["articleBody"]))
    return pages


def run(
    extractor: Extractor, pages: Iterable[tuple[str, str, bytes, str]]
) -> tuple[list[PageScore], float]:
    scores = []
    elapsed = 0.0
    for page_id, url, html, gold in pages:
        start = time.perf_counter()
        predicted = extractor(html, url)
        elapsed += time.perf_counter() - start
        scores.append(score_page(page_id, gold, predicted))
    return scores, elapsed


def wirewatch_extractor(html: bytes, url: str) -> str:
    from worker.parse import extract_article

    page = extract_article(html, url=url)
    return page.text if page else ""


def unbudgeted_extractor(html: bytes, url: str) -> str:
    """wirewatch's extraction in the caller's process, without the CPU budget."""
    from worker.parse.extract import extract_article

    page = extract_article.__wrapped__(html, url=url)  # type: ignore[attr-defined]
    return page.text if page else ""


def bounded_tree_extractor(html: bytes, url: str) -> str:
    """The budget's alternative: refuse a tree over node and text bounds (bench/budget.py)."""
    # bench/ is no package: load its sibling by name, as running bench/budget.py would.
    extract: Callable[[bytes, str], str] = importlib.import_module("budget").bounded_tree_extractor
    return extract(html, url)


def trafilatura_extractor(**options: object) -> Extractor:
    import trafilatura

    def extract(html: bytes, url: str) -> str:
        text = html.decode("utf-8")
        return trafilatura.extract(text, url=url, **options) or ""  # type: ignore[arg-type]

    return extract


VARIANTS: dict[str, Callable[[], Extractor]] = {
    "wirewatch": lambda: wirewatch_extractor,
    "wirewatch-unbudgeted": lambda: unbudgeted_extractor,
    "wirewatch-bounded-tree": lambda: bounded_tree_extractor,
    "trafilatura": lambda: trafilatura_extractor(),
    "trafilatura-fast": lambda: trafilatura_extractor(fast=True),
    "trafilatura-precision": lambda: trafilatura_extractor(favor_precision=True),
    "trafilatura-recall": lambda: trafilatura_extractor(favor_recall=True),
    "trafilatura-no-tables": lambda: trafilatura_extractor(include_tables=False),
    "trafilatura-no-comments": lambda: trafilatura_extractor(include_comments=False),
    "trafilatura-precision-no-comments": lambda: trafilatura_extractor(
        favor_precision=True, include_comments=False
    ),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--variant", choices=sorted(VARIANTS), action="append", help="repeatable; default wirewatch"
    )
    parser.add_argument("--all", action="store_true", help="run every variant")
    parser.add_argument("--worst", type=int, default=0, help="list the K lowest-F1 pages")
    args = parser.parse_args()
    if not (args.corpus / "ground-truth.json").is_file():
        parser.error(f"no ground-truth.json under {args.corpus}")
    pages = load_corpus(args.corpus, args.limit)
    for name in list(VARIANTS) if args.all else args.variant or ["wirewatch"]:
        extractor = VARIANTS[name]()
        extractor(pages[0][2], pages[0][1])  # warm caches and imports outside the timing
        scores, seconds = run(extractor, pages)
        summary = summarize(scores, seconds)
        print(
            f"{name:34} F1 {summary.f1:.4f}  precision {summary.precision:.4f}  "
            f"recall {summary.recall:.4f}  {summary.pages / seconds:6.1f} pages/s  "
            f"({summary.pages} pages, {seconds:.1f} s)"
        )
        for worst in sorted(scores, key=lambda s: s.tp)[: args.worst]:
            print(
                f"    {worst.page_id[:16]}  tp {worst.tp:.3f} fp {worst.fp:.3f} fn {worst.fn:.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
