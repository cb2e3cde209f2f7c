"""Extraction budget benchmark: CPU seconds and peak memory on hostile pages.

Three ways of reading each page, each measured in a fresh process (its CPU
time and peak RSS include every process it started):

- `before`: extraction in the caller's process, unbounded (the code before
  the budget);
- `bounded-tree`: the page parsed, refused when the tree holds more than
  MAX_NODES elements or MAX_TEXT characters, else extracted in-process (the
  "bound the work before trafilatura sees the tree" way);
- `budget`: worker.parse.budget, extraction in a child stopped by the kernel
  at 2 s of CPU (the way wirewatch uses).

The `.gz` case reads a 500 MB-when-inflated file as `wirewatch extract` did
(gzip.decompress) and as it does now (bounded at max_bytes).

    python bench/budget.py [--case NAME] [--way NAME] [--cap SECONDS]
"""

from __future__ import annotations

import argparse
import gzip
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The bounded-tree way's limits: 20,000 short paragraphs already cost 1.4 s.
MAX_NODES = 20_000
MAX_TEXT = 2_000_000
MAX_BYTES = 10_000_000  # settings.yaml's default fetch.max_bytes


def _paragraphs(count: int) -> bytes:
    para = b"<p>A short paragraph of some words, like a comment.</p>\n"
    return b"<html><body>" + para * count + b"</body></html>"


def _deep(levels: int) -> bytes:
    return b"<html><body>" + b"<div>" * levels + b"text" + b"</div>" * levels + b"</body></html>"


def _big_text(size: int) -> bytes:
    return b"<html><body><p>" + b"word " * (size // 5) + b"</p></body></html>"


def _attributes(count: int) -> bytes:
    attrs = b" ".join(b'a%d="v"' % i for i in range(count))
    return b"<html><body><p " + attrs + b">Some text.</p></body></html>"


CASES: dict[str, Callable[[], bytes]] = {
    "150k-p": lambda: _paragraphs(150_000),  # 8.6 MB, under max_bytes
    "deep-100k": lambda: _deep(100_000),
    "text-9MB": lambda: _big_text(9_000_000),
    "attrs-100k": lambda: _attributes(100_000),
}
GZ_CASE = "gz-bomb"


def _bounded_tree(html: bytes, url: str) -> object:
    from trafilatura.utils import load_html

    from worker.errors import ExtractBudgetError
    from worker.parse.encoding import decode
    from worker.parse.extract import extract_article

    tree = load_html(decode(html, None).text)
    if tree is not None:
        nodes = sum(1 for _ in tree.iter())
        text = sum(len(t) for t in tree.itertext())
        if nodes > MAX_NODES or text > MAX_TEXT:
            raise ExtractBudgetError(f"too large ({nodes} nodes, {text} characters)")
    return extract_article.__wrapped__(html, url=url)  # type: ignore[attr-defined]


def bounded_tree_extractor(html: bytes, url: str) -> str:
    """bench/extract.py's `bounded-tree` variant."""
    from worker.errors import ExtractBudgetError

    try:
        page = _bounded_tree(html, url)
    except ExtractBudgetError:
        return ""
    return str(getattr(page, "text", ""))


def _read_gz(path: Path, way: str) -> int:
    if way == "before":
        return len(gzip.decompress(path.read_bytes()))
    from worker.cli.inputs import read_limited
    from worker.errors import FetchError

    try:
        return len(read_limited(path, MAX_BYTES))
    except FetchError:
        return -1


def _one(case: str, way: str, gz_file: Path | None) -> str:
    """Run one measurement in this process; the caller reads its resource usage."""
    from worker.errors import ExtractBudgetError
    from worker.parse import budget, extract_article

    if case == GZ_CASE:
        assert gz_file is not None
        size = _read_gz(gz_file, way)
        return "refused" if size < 0 else f"read {size >> 20} MB"
    html = CASES[case]()
    try:
        if way == "before":
            page = extract_article.__wrapped__(html, url="https://example.org/a")  # type: ignore[attr-defined]
        elif way == "bounded-tree":
            page = _bounded_tree(html, "https://example.org/a")
        else:
            page = extract_article(html, url="https://example.org/a")
    except ExtractBudgetError as error:
        return f"unextractable: {error.reason}"
    finally:
        budget.stop_server()  # so that its children's usage is counted here
    return "article" if page else "no article"


def _measure(case: str, way: str, gz_file: Path, cap: int) -> tuple[float, float, str]:
    """CPU seconds (process and descendants), peak RSS in MB, outcome."""
    command = [sys.executable, __file__, "--one", case, way, str(gz_file)]

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (cap, cap))

    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, preexec_fn=limit, env=os.environ
    )
    assert process.stdout is not None
    outcome = process.stdout.read().strip()
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        outcome = f"stopped at the {cap} s cap" if process.returncode < 0 else "failed"
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, outcome


def _gz_bomb(directory: Path) -> Path:
    path = directory / "bomb.html.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"<html><body><p>")
        chunk = b"\0" * (1 << 20)
        for _ in range(500):
            out.write(chunk)
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", choices=[*CASES, GZ_CASE], action="append")
    parser.add_argument("--way", choices=["before", "bounded-tree", "budget"], action="append")
    parser.add_argument("--cap", type=int, default=120, help="CPU seconds per measurement")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        case, way, gz_file = args.one
        print(_one(case, way, Path(gz_file)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        gz_file = _gz_bomb(Path(tmp))
        print(f"gz bomb: {gz_file.stat().st_size >> 10} KB on disk, 500 MB inflated")
        print(f"{'case':12} {'way':13} {'CPU s':>7} {'peak MB':>8}  outcome")
        for case in args.case or [*CASES, GZ_CASE]:
            ways = args.way or ["before", "bounded-tree", "budget"]
            if case == GZ_CASE:
                ways = [w for w in ways if w != "bounded-tree"]
            for way in ways:
                start = time.perf_counter()
                cpu, rss, outcome = _measure(case, way, gz_file, args.cap)
                wall = time.perf_counter() - start
                print(f"{case:12} {way:13} {cpu:7.2f} {rss:8.0f}  {outcome} ({wall:.1f} s wall)")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
