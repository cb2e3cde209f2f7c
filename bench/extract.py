"""Extraction benchmark: wirewatch's extractor and trafilatura's on two public corpora.

article-extraction-benchmark (181 news pages, gold article text): scored exactly as
the scrapinghub benchmark does, so the figures compare with its published table:
word 4-shingle multisets, per-page tp/fp/fn normalised to sum 1, precision and
recall averaged over pages, and F1 of those two means (not a mean of per-page F1).

trafilatura-eval (990 pages in many languages): scored as trafilatura scores
it. A "with" snippet found in the whitespace-normalised text is a true
positive, one missing a false negative; a "without" snippet found is a false
positive. Sums over pages, then precision, recall and F1. Metadata: the share
of pages with a gold value whose extracted value equals it once whitespace is
normalised (title and author as written, an author list joined with "; ",
the date as YYYY-MM-DD in the page's own time zone).

Every variant runs on the same pages in the same process, so the ratios hold
on a shared machine where the absolute speeds do not.

    python bench/extract.py [--corpus both|aeb|eval] [--variant NAME ...] [--limit N] [--worst K]
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SHARED = ROOT.parent / "shared" / "corpus"
AEB = SHARED / "article-extraction-benchmark"
EVAL = SHARED / "trafilatura-eval"

_TOKEN = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Reading:
    """What one extractor makes of one page."""

    text: str
    title: str | None = None
    author: str | None = None
    date: str | None = None  # YYYY-MM-DD


Reader = Callable[[bytes, str], Reading]


@dataclass(frozen=True, slots=True)
class Page:
    page_id: str
    url: str
    html: bytes
    gold: dict[str, Any]


# --- article-extraction-benchmark scoring -----------------------------------------------


@dataclass(frozen=True, slots=True)
class PageScore:
    page_id: str
    tp: float
    fp: float
    fn: float


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


def shingle_f1(scores: Sequence[PageScore]) -> tuple[float, float, float]:
    """(precision, recall, F1) as the article-extraction benchmark computes them."""
    precisions = [_ratio(s.tp, s.fp, s.fp, s.fn) for s in scores if s.tp + s.fp > 0]
    recalls = [_ratio(s.tp, s.fn, s.fp, s.fn) for s in scores if s.tp + s.fn > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# --- trafilatura-eval scoring ------------------------------------------------------------


def _norm(value: str) -> str:
    return _SPACE.sub(" ", value).strip()


@dataclass(frozen=True, slots=True)
class SnippetScore:
    tp: int
    fn: int
    fp: int
    tn: int


def score_snippets(gold: dict[str, Any], text: str) -> SnippetScore:
    flat = _norm(text)
    wanted = [_norm(s) in flat for s in gold.get("with") or ()]
    unwanted = [_norm(s) in flat for s in gold.get("without") or ()]
    return SnippetScore(
        sum(wanted), len(wanted) - sum(wanted), sum(unwanted), len(unwanted) - sum(unwanted)
    )


def snippet_f1(scores: Sequence[SnippetScore]) -> tuple[float, float, float]:
    tp, fn, fp = (sum(getattr(s, k) for s in scores) for k in ("tp", "fn", "fp"))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def gold_field(gold: dict[str, Any], name: str) -> str | None:
    value = gold.get(name)
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    return _norm(value) if isinstance(value, str) and value.strip() else None


def field_right(gold: dict[str, Any], name: str, got: str | None) -> bool | None:
    """None where the page has no gold value for `name`."""
    want = gold_field(gold, name)
    if want is None:
        return None
    return got is not None and _norm(got) == want


# --- corpora -----------------------------------------------------------------------------


def load_aeb(limit: int | None) -> list[Page]:
    truth = json.loads((AEB / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in sorted(truth)[:limit]:
        raw = gzip.decompress((AEB / "html" / f"{page_id}.html.gz").read_bytes())
        # The benchmark decodes every page as UTF-8 with replacement; handing the
        # extractor re-encoded UTF-8 makes its charset detection agree with that.
        html = raw.decode("utf-8", errors="replace").encode("utf-8")
        pages.append(Page(page_id, truth[page_id]["url"], html, truth[page_id]))
    return pages


def load_eval(limit: int | None) -> list[Page]:
    data = json.loads((EVAL / "evaldata.json").read_text(encoding="utf-8"))
    pages = []
    for url in sorted(data)[:limit]:
        html = gzip.decompress((EVAL / "pages" / f"{data[url]['file']}.gz").read_bytes())
        pages.append(Page(data[url]["file"], url, html, data[url]))
    return pages


# --- extractors --------------------------------------------------------------------------


def wirewatch_reader() -> Reader:
    from worker.parse import extract_article
    from worker.parse.metadata import read_metadata

    def read(html: bytes, url: str) -> Reading:
        page = extract_article(html, url=url)
        return Reading(page.text if page else "")

    def read_with_metadata(html: bytes, url: str) -> Reading:
        # The metadata is scored on every page, articles or not: it is read the
        # same way inside extract_article, which drops it with a non-article.
        meta = read_metadata(html, url=url)
        return Reading(
            read(html, url).text,
            meta.title or None,
            meta.author,
            meta.published.date().isoformat() if meta.published else None,
        )

    read_with_metadata.text_only = read  # type: ignore[attr-defined]
    return read_with_metadata


def unbudgeted_reader() -> Reader:
    """wirewatch's extraction in the caller's process, without the CPU budget's child."""
    from worker.parse.extract import extract_article

    def read(html: bytes, url: str) -> Reading:
        page = extract_article.__wrapped__(html, url=url)  # type: ignore[attr-defined]
        return Reading(page.text if page else "")

    return read


def bounded_tree_reader() -> Reader:
    """The budget's alternative: refuse a tree over node and text bounds (bench/budget.py)."""
    # bench/ is no package: load its sibling by name, as running bench/budget.py would.
    extract: Callable[[bytes, str], str] = importlib.import_module("budget").bounded_tree_extractor

    def read(html: bytes, url: str) -> Reading:
        return Reading(extract(html, url))

    return read


def trafilatura_reader(**options: Any) -> Reader:
    import trafilatura

    def read(html: bytes, url: str) -> Reading:
        return Reading(trafilatura.extract(html, url=url, **options) or "")

    return read


def trafilatura_bare_reader(**options: Any) -> Reader:
    import trafilatura

    def read(html: bytes, url: str) -> Reading:
        doc: Any = trafilatura.bare_extraction(html, url=url, with_metadata=True, **options)
        if doc is None:
            return Reading("")
        return Reading(doc.text or "", doc.title, doc.author, doc.date)

    return read


VARIANTS: dict[str, Callable[[], Reader]] = {
    "wirewatch": wirewatch_reader,
    "wirewatch-unbudgeted": unbudgeted_reader,
    "wirewatch-bounded-tree": bounded_tree_reader,
    "trafilatura": lambda: trafilatura_reader(),
    "trafilatura-bare": lambda: trafilatura_bare_reader(),
    "trafilatura-fast": lambda: trafilatura_reader(fast=True),
    "trafilatura-precision": lambda: trafilatura_reader(favor_precision=True),
    "trafilatura-recall": lambda: trafilatura_reader(favor_recall=True),
}
DEFAULT_VARIANTS = ("wirewatch", "trafilatura", "trafilatura-bare")


def _timed(reader: Reader, pages: Sequence[Page]) -> tuple[list[Reading], float]:
    readings, elapsed = [], 0.0
    for page in pages:
        start = time.perf_counter()
        readings.append(reader(page.html, page.url))
        elapsed += time.perf_counter() - start
    return readings, elapsed


def _text_only(reader: Reader) -> Reader:
    # wirewatch's speed is measured on extract_article alone, as a worker calls it.
    return getattr(reader, "text_only", reader)


def bench_aeb(names: Sequence[str], pages: Sequence[Page], worst: int) -> None:
    print(f"article-extraction-benchmark: {len(pages)} pages")
    for name in names:
        reader = _text_only(VARIANTS[name]())
        reader(pages[0].html, pages[0].url)  # imports and caches outside the timing
        readings, seconds = _timed(reader, pages)
        scores = [
            score_page(p.page_id, p.gold["articleBody"], r.text)
            for p, r in zip(pages, readings, strict=True)
        ]
        precision, recall, f1 = shingle_f1(scores)
        print(
            f"  {name:24} F1 {f1:.4f}  precision {precision:.4f}  recall {recall:.4f}"
            f"  {len(pages) / seconds:6.1f} pages/s"
        )
        for score in sorted(scores, key=lambda s: s.tp)[:worst]:
            print(
                f"      {score.page_id[:16]}  tp {score.tp:.3f} fp {score.fp:.3f} fn {score.fn:.3f}"
            )


def bench_eval(names: Sequence[str], pages: Sequence[Page], worst: int) -> None:
    print(f"trafilatura-eval: {len(pages)} pages")
    for name in names:
        reader = VARIANTS[name]()
        reader(pages[0].html, pages[0].url)
        readings, seconds = _timed(reader, pages)
        scores = [score_snippets(p.gold, r.text) for p, r in zip(pages, readings, strict=True)]
        precision, recall, f1 = snippet_f1(scores)
        fields = []
        for field in ("title", "author", "date"):
            right = [
                field_right(p.gold, field, getattr(r, field))
                for p, r in zip(pages, readings, strict=True)
            ]
            judged = [ok for ok in right if ok is not None]
            has_any = any(getattr(r, field) for r in readings)
            fields.append(
                f"{field} {sum(judged) / len(judged):.3f}" if has_any else f"{field}   -  "
            )
        print(
            f"  {name:24} F1 {f1:.4f}  precision {precision:.4f}  recall {recall:.4f}"
            f"  {'  '.join(fields)}  {len(pages) / seconds:6.1f} pages/s"
        )
        if worst:
            _show_misses(pages, readings, worst)


def _show_misses(pages: Sequence[Page], readings: Sequence[Reading], worst: int) -> None:
    for field in ("title", "author", "date"):
        shown = 0
        for page, reading in zip(pages, readings, strict=True):
            if field_right(page.gold, field, getattr(reading, field)) is False and shown < worst:
                print(
                    f"      {field} {page.page_id[:40]}: got {getattr(reading, field)!r}"
                    f" want {gold_field(page.gold, field)!r}"
                )
                shown += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--corpus", choices=("both", "aeb", "eval"), default="both")
    parser.add_argument("--variant", choices=sorted(VARIANTS), action="append")
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each corpus")
    parser.add_argument("--worst", type=int, default=0, help="list K worst pages / misses")
    args = parser.parse_args()
    names = args.variant or list(DEFAULT_VARIANTS)
    if args.corpus in ("both", "aeb"):
        if not (AEB / "ground-truth.json").is_file():
            parser.error(f"no ground-truth.json under {AEB}")
        bench_aeb(names, load_aeb(args.limit), args.worst)
    if args.corpus in ("both", "eval"):
        if not (EVAL / "evaldata.json").is_file():
            parser.error(f"no evaldata.json under {EVAL}")
        bench_eval(names, load_eval(args.limit), args.worst)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
