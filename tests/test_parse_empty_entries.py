"""An entry with no link, no guid and no title is no entry (docs/how-it-works.md)."""

from __future__ import annotations

from pathlib import Path

from worker.parse import parse_feed

FEED = Path(__file__).parent / "fixtures" / "parse" / "empty_items.xml"


def test_items_with_nothing_to_identify_them_are_dropped() -> None:
    feed = parse_feed(FEED.read_bytes(), url="https://wire.example.org/rss")
    assert [(e.title, e.guid, e.url) for e in feed.entries] == [
        ("Only a title", None, None),
        ("", "only-a-guid", None),
        ("", None, "https://wire.example.org/only-a-link"),
        ("Only a description, which gives the entry its title.", None, None),
    ]
