"""The extraction budget: one page costs at most about 2 s of CPU, whatever it holds.

Nothing here measures time: a page over the budget must come back as
unextractable (ExtractBudgetError), and a CLI fed a decompression bomb must
stay under a memory cap that the kernel enforces (RLIMIT_AS).
"""

from __future__ import annotations

import gzip
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import budget_targets
from worker.errors import ExtractBudgetError, ExtractError, FetchError
from worker.parse import extract_article
from worker.parse.budget import stop_server

ROOT = Path(__file__).resolve().parent.parent
GRAIN = Path(__file__).parent / "fixtures" / "parse" / "article_grain.html"


def test_an_article_is_extracted_through_the_budget() -> None:
    page = extract_article(GRAIN.read_bytes(), url="https://example.org/a")
    assert page is not None
    assert "60 million tons of wheat" in page.text


@pytest.mark.slow
def test_a_date_only_dateparser_reads_is_within_the_budget() -> None:
    """A date htmldate hands to dateparser ("Momento 12 de marzo"): its first
    call that no single language reads loads every locale, 2 s of CPU, a
    page's whole budget. The server loads them at its first quiet moment and
    forks its children after; without that, every child that meets such a
    page would go over budget, and this would never succeed."""
    stop_server()  # a fresh server, as a worker has after a start
    paragraph = "<p>" + "Una frase normal de un artículo sobre el tiempo en la ciudad. " * 6
    page = (
        "<html><head><title>Nota</title></head><body><div class='post'><h1>Nota del día</h1>"
        f"<span class='fecha'>Momento 12 de marzo de 2019</span>{(paragraph + '</p>') * 6}"
        "</div></body></html>"
    ).encode()
    deadline = time.monotonic() + 30
    while True:
        try:
            extracted = extract_article(page, url="https://ejemplo.cr/nota")
            break
        except ExtractBudgetError:  # the locales not loaded yet: asked again
            assert time.monotonic() < deadline, "dateparser's locales never loaded"
    assert extracted is not None
    assert extracted.published is not None and extracted.published.year == 2019


def test_a_one_shot_extraction_does_not_wait_for_the_dates() -> None:
    """A command that extracts one page (`wirewatch extract`) starts a server,
    gets its page and stops it: dateparser's 2 s load, which comes at the
    server's first quiet moment, never happens."""
    stop_server()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert extract_article(GRAIN.read_bytes(), url="https://example.org/a") is not None
    stop_server()  # the server, reaped, adds its CPU and its children's to ours
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    # Imports and one warm-up page cost under a second; the locales 2 more.
    assert used < 2.0, f"{used:.1f} s of CPU for one page"


def test_arguments_results_and_errors_cross_the_process_boundary() -> None:
    assert budget_targets.add(2, b=3) == 5
    with pytest.raises(ValueError, match="no such thing"):
        budget_targets.refuse("no such thing")


def test_cpu_past_the_budget_is_over_budget() -> None:
    with pytest.raises(ExtractBudgetError, match="CPU budget") as caught:
        budget_targets.spin(10**12)
    assert caught.value.kind == "over-budget"
    assert isinstance(caught.value, ExtractError)


def test_memory_past_the_budget_is_over_budget() -> None:
    with pytest.raises(ExtractBudgetError, match="memory budget"):
        budget_targets.hoard(4096)


@pytest.mark.slow
def test_the_server_is_restarted_after_it_stopped() -> None:
    assert budget_targets.add(1) == 1
    stop_server()
    assert budget_targets.add(2) == 2


def test_150k_paragraphs_are_unextractable_not_a_minute_of_cpu() -> None:
    # The page: 150,000 short paragraphs, under max_bytes; before the
    # budget its extraction took 50-58 s of CPU and 405 MB.
    para = b"<p>A short paragraph of some words, like a comment.</p>\n"
    page = b"<html><body>" + para * 150_000 + b"</body></html>"
    assert len(page) < 10_000_000
    with pytest.raises(ExtractBudgetError):
        extract_article(page, url="https://example.org/a")


def test_a_hundred_thousand_attributes_are_bounded() -> None:
    # libxml2 compares a tag's attributes pairwise: 100,000 of them (1 MB) took
    # half a minute to parse. Whatever the outcome, it is reached in the budget.
    attrs = b" ".join(b'a%d="v"' % i for i in range(100_000))
    page = b"<html><body><p " + attrs + b">Too short to be an article.</p></body></html>"
    with pytest.raises(ExtractBudgetError):
        extract_article(page, url="https://example.org/a")


# -- decompression bombs in the CLI ----------------------------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """486 KB-ish on disk, 1 GiB inflated: an HTML page of NUL bytes."""
    path = tmp_path_factory.mktemp("bomb") / "page.html.gz"
    with gzip.open(path, "wb", compresslevel=9) as out:
        out.write(b"<html><body><p>")
        zeros = b"\0" * (1 << 20)
        for _ in range(1024):
            out.write(zeros)
    return path


def _capped(args: list[str], cap_bytes: int) -> subprocess.CompletedProcess[str]:
    """The wirewatch CLI in a child whose address space the kernel caps."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (cap_bytes, cap_bytes))

    return subprocess.run(
        [sys.executable, "-m", "worker", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "WIREWATCH_CONFIG": str(ROOT / "nowhere")},
        preexec_fn=cap,
        timeout=120,
        check=False,
    )


_CAP = 800 << 20  # well under the 1 GiB the bomb inflates to


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "code"), [(["extract"], 1), (["match", "anything"], 2)], ids=["extract", "match"]
)
def test_a_gz_bomb_is_refused_under_a_memory_cap(bomb: Path, command: list[str], code: int) -> None:
    result = _capped([*command, str(bomb)], _CAP)
    assert result.returncode == code, result.stderr
    assert "after decompression" in result.stderr
    assert "Traceback" not in result.stderr


def test_read_limited_stops_one_byte_past_the_limit(tmp_path: Path) -> None:
    from worker.cli.inputs import read_limited

    packed = tmp_path / "page.html.gz"
    packed.write_bytes(gzip.compress(b"x" * 1000))
    assert read_limited(packed, 1000) == b"x" * 1000
    with pytest.raises(FetchError) as caught:
        read_limited(packed, 999)
    assert caught.value.kind == "too-large"
    plain = tmp_path / "page.html"
    plain.write_bytes(b"y" * 10)
    assert read_limited(plain, 10) == b"y" * 10
    with pytest.raises(FetchError, match="too-large"):
        read_limited(plain, 9)
    packed.write_bytes(gzip.compress(b"x" * 1000)[:-12])
    with pytest.raises(FetchError) as broken:
        read_limited(packed, 5000)
    assert broken.value.kind == "unreadable"


def test_pages_from_many_threads_each_get_their_own_answer() -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(budget_targets.add, range(64), range(64))) == [
            2 * n for n in range(64)
        ]


@pytest.mark.slow
def test_pages_at_once_are_capped_at_the_cores_so_children_stay_few() -> None:
    # A worker's thread pool may ask for dozens of pages at once; each page in
    # flight holds a forked child, so more than one per core would only add memory.
    from concurrent.futures import ThreadPoolExecutor

    import psutil

    from worker.parse import budget

    stop_server()
    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(budget_targets.spin, [200_000] * 48)) == [200_000] * 48
    server = budget._server()._process
    assert server is not None
    children = psutil.Process(server.pid).children()
    assert 1 <= len(children) <= max(2, os.cpu_count() or 2)


def test_a_child_killed_over_budget_does_not_take_the_next_page_with_it() -> None:
    with pytest.raises(ExtractBudgetError):
        budget_targets.spin(10**12)
    assert budget_targets.add(40, b=2) == 42
    page = extract_article(GRAIN.read_bytes(), url="https://example.org/a")
    assert page is not None
