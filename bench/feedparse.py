"""Feed-parsing benchmark: wirewatch's lxml reader, feedparser and fastfeedparser.

parse_feed reads well-formed RSS 2.0/1.0 and Atom 1.0 with its own lxml
reader (worker/parse/xmlfeed.py) and hands anything else to feedparser
(without its sanitizer and URI resolution since issue 14); the rows below
show each step against the old parse_feed (feedparser with both on),
measured in the same process.

Two questions: how much faster is the other parser on a 100-item feed, and
does wirewatch get the same entries from it on the feed fixtures of the test
suite (tests/fixtures/parse/*.expected.json)? The second matters more: a
parser that is faster but reads a feed differently would change what alerts.

Each parser is timed raw (its own parse call) and inside wirewatch's
parse_feed (charset repair, XML safety check, markup to text, dedup), where
fastfeedparser's result is adapted to the fields parse_feed reads.

    python bench/feedparse.py [--items 100] [--rounds 30]

fastfeedparser is not a dependency: `pip install fastfeedparser` to run it.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import feedparser  # noqa: E402

from worker.errors import ExtractError  # noqa: E402
from worker.models import ParsedFeed  # noqa: E402
from worker.parse import feeds, parse_feed  # noqa: E402
from worker.parse.xmlfeed import read_feed  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "parse"
FEED_URL = "https://news.example.com/rss"

_PARAGRAPH = (
    "<p>The ministry said on Tuesday that exports of wheat rose by a tenth in the season, "
    "while shipments of barley fell, and that new terminals on the coast &amp; rail links "
    "had eased the <b>bottlenecks</b> of previous years.</p>"
)


def sample_feed(items: int) -> bytes:
    """An RSS 2.0 feed as news sites publish them: summary, full content, dates, authors."""
    start = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    entries = []
    for number in range(items):
        published = format_datetime(start - timedelta(minutes=17 * number))
        entries.append(
            f"""
    <item>
      <title>Story {number}: grain exports rise &amp; ports expand</title>
      <link>https://news.example.com/2026/11/24/story-{number}.html?utm_source=rss</link>
      <guid isPermaLink="false">story-{number}</guid>
      <pubDate>{published}</pubDate>
      <dc:creator>Reporter {number % 7}</dc:creator>
      <category>Economy</category>
      <description><![CDATA[{_PARAGRAPH}]]></description>
      <content:encoded><![CDATA[{_PARAGRAPH * 6}]]></content:encoded>
    </item>"""
        )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>Example Wire</title>
    <link>https://news.example.com/</link>
    <description>World news</description>{"".join(entries)}
  </channel>
</rss>
""".encode()


# -- fastfeedparser, shaped as parse_feed expects feedparser's result ------------------


def _struct_time(value: object) -> time.struct_time | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).timetuple()


def _adapt_entry(raw: dict[str, Any]) -> feedparser.FeedParserDict:
    entry = feedparser.FeedParserDict(raw)
    summary = raw.get("description") or raw.get("summary")
    if summary:
        entry["summary"] = summary
        entry["summary_detail"] = {"type": "text/html"}
    # fastfeedparser repeats the description as content when there is none.
    contents = [c for c in raw.get("content") or [] if c.get("value") != summary]
    entry["content"] = contents
    for key in ("published", "updated", "created"):
        entry[f"{key}_parsed"] = _struct_time(raw.get(key))
    return entry


def fastfeedparser_parse(source: io.BytesIO, **_options: object) -> feedparser.FeedParserDict:
    import fastfeedparser

    try:
        parsed = fastfeedparser.parse(source.read())
    except ValueError as error:  # fastfeedparser raises where feedparser sets `bozo`
        return feedparser.FeedParserDict(
            feed={}, entries=[], version="", bozo=1, bozo_exception=error
        )
    return feedparser.FeedParserDict(
        feed=feedparser.FeedParserDict(parsed["feed"]),
        entries=[_adapt_entry(dict(e)) for e in parsed["entries"]],
        version="fastfeedparser",
        bozo=0,
    )


@contextmanager
def using(parse: Callable[..., Any]) -> Iterator[None]:
    """parse_feed with another XML feed parser in feedparser's place (fast reader off)."""
    real, fast = getattr(feeds, "feedparser"), getattr(feeds, "read_feed")  # noqa: B009
    setattr(feeds, "feedparser", SimpleNamespace(parse=parse))  # noqa: B010
    setattr(feeds, "read_feed", lambda utf8, url: None)  # noqa: B010
    try:
        yield
    finally:
        setattr(feeds, "feedparser", real)  # noqa: B010
        setattr(feeds, "read_feed", fast)  # noqa: B010


def feedparser_as_before(source: io.BytesIO, **options: object) -> Any:
    """feedparser with its sanitizer and relative-URI resolution, as parse_feed ran it before."""
    options.update(sanitize_html=True, resolve_relative_uris=True)
    return feedparser.parse(source, **options)


# -- timing and comparison -------------------------------------------------------------


def best_of(rounds: int, call: Callable[[], object]) -> float:
    """Least CPU time of `rounds` calls: steadier than wall time on a shared machine."""
    call()  # warm caches and imports
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        call()
        best = min(best, time.process_time() - start)
    return best


def _fixture_paths() -> list[Path]:
    return sorted([*FIXTURES.glob("*.xml"), *FIXTURES.glob("*.rdf")])


def _fast(path: Path) -> bool:
    """Whether parse_feed reads the fixture with the lxml reader."""
    answers: list[bool] = []

    def recording(utf8: bytes, url: str) -> Any:
        found = read_feed(utf8, url=url)
        answers.append(found is not None)
        return found

    real = getattr(feeds, "read_feed")  # noqa: B009
    setattr(feeds, "read_feed", recording)  # noqa: B010
    try:
        _parse_or_refusal(path.read_bytes(), FEED_URL, None)
    finally:
        setattr(feeds, "read_feed", real)  # noqa: B010
    return any(answers)


def as_json(feed: ParsedFeed) -> list[dict[str, Any]]:
    return [
        {
            "guid": e.guid,
            "url": e.url,
            "title": e.title,
            "summary": e.summary,
            "content": e.content,
            "published": e.published.isoformat() if e.published else None,
            "author": e.author,
        }
        for e in feed.entries
    ]


def _parse_or_refusal(data: bytes, url: str, content_type: str | None) -> object:
    try:
        feed = parse_feed(data, url=url, content_type=content_type)
    except ExtractError as error:  # unsafe XML: refused before any parser sees it
        return f"refused: {error}"
    return {"problem": feed.problem, "entries": as_json(feed)}


def compare_fixtures() -> list[tuple[str, list[str]]]:
    """Per XML feed fixture, where wirewatch's result with fastfeedparser differs from
    its result with feedparser (which the fixtures' expected results describe)."""
    results = []
    for source in _fixture_paths():
        expected = source.with_name(source.stem + ".expected.json")
        spec = json.loads(expected.read_text(encoding="utf-8")) if expected.exists() else {}
        args = (source.read_bytes(), spec.get("url", FEED_URL), spec.get("content_type"))
        reference = _parse_or_refusal(*args)
        with using(fastfeedparser_parse):
            other = _parse_or_refusal(*args)
        results.append((source.stem, _differences(reference, other)))
    return results


def _differences(want: object, got: object) -> list[str]:
    if not isinstance(want, dict) or not isinstance(got, dict):
        return [] if want == got else [f"{got!r} != {want!r}"]
    differences = []
    if want["problem"] != got["problem"]:
        differences.append(f"problem: {got['problem']!r} != {want['problem']!r}")
    if len(got["entries"]) != len(want["entries"]):
        differences.append(f"{len(got['entries'])} entries instead of {len(want['entries'])}")
    for number, (a, b) in enumerate(zip(want["entries"], got["entries"], strict=False)):
        differences += [
            f"entry {number} {key}: {b[key]!r} != {a[key]!r}" for key in a if a[key] != b[key]
        ]
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    try:
        import fastfeedparser
    except ImportError:
        print("fastfeedparser is not installed: pip install fastfeedparser", file=sys.stderr)
        return 2

    data = sample_feed(args.items)
    url = FEED_URL
    print(f"{args.items}-item RSS feed, {len(data) / 1024:.0f} KiB, best of {args.rounds} rounds")
    rows: list[tuple[str, Callable[[], object], Callable[..., Any] | None]] = [
        ("feedparser raw, sanitize+resolve", lambda: feedparser_as_before(io.BytesIO(data)), None),
        (
            "feedparser raw, neither",
            lambda: feedparser.parse(io.BytesIO(data), sanitize_html=False),
            None,
        ),
        ("fastfeedparser raw", lambda: fastfeedparser.parse(data), None),
        ("lxml reader raw (read_feed)", lambda: read_feed(data, url=url), None),
        (
            "parse_feed before (feedparser s+r)",
            lambda: parse_feed(data, url=url),
            feedparser_as_before,
        ),
        ("parse_feed, feedparser fallback", lambda: parse_feed(data, url=url), feedparser.parse),
        ("parse_feed, fastfeedparser", lambda: parse_feed(data, url=url), fastfeedparser_parse),
        ("parse_feed (lxml reader, used)", lambda: parse_feed(data, url=url), None),
    ]
    baseline = None
    for label, call, replacement in rows:
        with using(replacement) if replacement else nullcontext():
            seconds = best_of(args.rounds, call)
        if label.startswith("parse_feed before"):
            baseline = seconds
        ratio = f"  x{baseline / seconds:5.1f} vs before" if baseline else ""
        print(f"  {label:<36} {seconds * 1000:7.1f} ms CPU{ratio}")
    taken = [p.name for p in _fixture_paths() if _fast(p)]
    print(
        f"\nlxml reader takes {len(taken)} of {len(_fixture_paths())} fixtures: {', '.join(taken)}"
    )
    print("(the rest go to feedparser; tests/test_parse_xmlfeed.py checks both agree)")

    print("\nparse_feed with fastfeedparser vs with feedparser, tests/fixtures/parse/*.xml|rdf:")
    for name, differences in compare_fixtures():
        print(f"  {name:<28} {'same' if not differences else f'{len(differences)} differences'}")
        for difference in differences[:6]:
            print(f"      {difference[:150]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
