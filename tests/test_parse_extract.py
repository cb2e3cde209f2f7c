"""Article extraction on fixture pages and on a handful of real pages from the corpus."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from worker.parse import canonical_url, extract_article
from worker.parse.boilerplate import clean_text

FIXTURES = Path(__file__).parent / "fixtures" / "parse"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "article-extraction-benchmark"


def _article_cases() -> list[str]:
    # Every fixture page whose expected file describes an article (or its absence).
    names = []
    for page in sorted(FIXTURES.glob("*.html")):
        expected = FIXTURES / f"{page.stem}.expected.json"
        if expected.exists() and "article" in json.loads(expected.read_text(encoding="utf-8")):
            names.append(page.stem)
    return names


@pytest.mark.parametrize("name", _article_cases())
def test_article_fixture(name: str) -> None:
    expected: dict[str, Any] = json.loads(
        (FIXTURES / f"{name}.expected.json").read_text(encoding="utf-8")
    )
    page = extract_article(
        (FIXTURES / f"{name}.html").read_bytes(),
        url=expected["url"],
        strip=expected["strip"],
        content_type=expected.get("content_type"),
    )
    want = expected["article"]
    if want is None:
        assert page is None
        return
    assert page is not None
    assert page.title == want["title"]
    assert page.url == want["url"]
    assert (page.published.isoformat() if page.published else None) == want["published"]
    assert page.author == want["author"]
    assert page.language == want["language"]
    for passage in want["contains"]:
        assert passage in page.text
    for unwanted in want["absent"]:
        assert unwanted.casefold() not in page.text.casefold(), unwanted
    for passage, count in want.get("counts", {}).items():
        assert page.text.count(passage) == count, passage
    for field in ("site_name", "description"):
        if field in want:
            assert getattr(page, field) == want[field]


def test_related_sidebar_mention_never_reaches_the_text() -> None:
    page = extract_article(
        (FIXTURES / "article_grain.html").read_bytes(), url="https://www.themoscowtimes.com/x"
    )
    assert page is not None
    assert not re.search(r"S.?300", page.text)
    assert "wheat" in page.text


def test_strip_drops_paragraphs_that_start_with_it_and_cuts_it_elsewhere() -> None:
    raw = (
        "First paragraph about grain exports.\n"
        "support  the MOSCOW Times! Dear readers, please give.\n"
        "Ports were busy. Support The Moscow Times! The end.\n"
        "Support The Moscow Times!"
    )
    assert clean_text(raw, ["Support The Moscow Times!"]) == (
        "First paragraph about grain exports.\n\nPorts were busy. The end."
    )


def test_headline_repeated_above_the_body_is_dropped_once() -> None:
    raw = "Grain exports hit record\nGrain exports hit record, the ministry says in a statement."
    assert clean_text(raw, titles=["Grain exports hit record | The Daily"]) == (
        "Grain exports hit record, the ministry says in a statement."
    )


def test_xhtml_page_with_xml_declaration() -> None:
    html = (FIXTURES / "article_grain.html").read_bytes().replace(b"<!DOCTYPE html>", b"")
    page = extract_article(
        b'<?xml version="1.0" encoding="utf-8"?>\n' + html, url="https://a.example/"
    )
    assert page is not None
    assert "60 million tons of wheat" in page.text


@pytest.mark.parametrize(
    ("meta", "published"),
    [
        ("Wed, 01 May 2024 14:05:00 +0300", "2024-05-01T11:05:00+00:00"),
        ("2024-05-01", "2024-05-01T00:00:00+00:00"),
        # Unreadable meta and <time>: htmldate's fallback finds the date in the canonical URL.
        ("sometime in May", "2024-05-01T00:00:00+00:00"),
    ],
)
def test_published_formats(meta: str, published: str | None) -> None:
    html = (FIXTURES / "article_grain.html").read_bytes()
    html = html.replace(b"2024-05-01T14:05:00+03:00", meta.encode())
    page = extract_article(html, url="https://www.themoscowtimes.com/x")
    assert page is not None
    assert (page.published.isoformat() if page.published else None) == published


@pytest.mark.parametrize("junk", [b"", b"\x00\x01\x02", b"<html></html>", b"plain text only"])
def test_junk_is_not_an_article(junk: bytes) -> None:
    assert extract_article(junk, url="https://example.com/") is None


def test_long_paragraph_mentioning_donations_is_article_text() -> None:
    paragraph = (
        "The charity said donations from abroad had fallen sharply since the law on foreign "
        "agents was passed, and that it would have to close two of its shelters in the "
        "Moscow region unless new sources of funding were found before the winter, when "
        "demand for beds usually doubles and volunteers struggle to keep up with requests "
        "from families who have nowhere else to go."
    )
    assert clean_text(paragraph) == paragraph


@pytest.mark.parametrize(
    ("url", "html_canonical", "expected"),
    [
        (
            "HTTPS://WWW.Example.COM:443/News/Story?utm_source=rss&id=7&fbclid=x#comments",
            None,
            "https://www.example.com/News/Story?id=7",
        ),
        ("https://example.com/a?gclid=1&utm_medium=feed", None, "https://example.com/a"),
        ("https://example.com/amp/story", "/story?utm_campaign=x", "https://example.com/story"),
        ("https://example.com/x", "https://m.example.com/y#top", "https://m.example.com/y"),
        ("https://example.com/x", "javascript:alert(1)", "https://example.com/x"),
        ("http://example.com:8080", None, "http://example.com:8080/"),
        # A template bug: every article declaring the home page as canonical.
        ("https://example.com/news/1", "https://example.com/", "https://example.com/news/1"),
        ("https://example.com/?utm_source=x", "/", "https://example.com/"),
        (
            "https://example.com/search?q=a+b&page=2",
            None,
            "https://example.com/search?q=a+b&page=2",
        ),
    ],
)
def test_canonical_url(url: str, html_canonical: str | None, expected: str) -> None:
    assert canonical_url(url, html_canonical) == expected


# --- real pages -----------------------------------------------------------------------

CORPUS_PAGES = 12


def _shingles(text: str) -> Counter[tuple[str, ...]]:
    tokens = re.findall(r"\w+", text)
    if len(tokens) < 4:
        return Counter([tuple(tokens)])
    return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))


@pytest.mark.skipif(
    not (CORPUS / "ground-truth.json").is_file(),
    reason="the article-extraction corpus is not at ../shared/corpus next to the project",
)
def test_corpus_pages_match_their_gold_text() -> None:
    truth = json.loads((CORPUS / "ground-truth.json").read_text(encoding="utf-8"))
    precisions, recalls = [], []
    for page_id in sorted(truth)[:CORPUS_PAGES]:
        raw = gzip.decompress((CORPUS / "html" / f"{page_id}.html.gz").read_bytes())
        page = extract_article(raw, url=truth[page_id]["url"])
        assert page is not None, page_id
        gold, got = _shingles(truth[page_id]["articleBody"]), _shingles(page.text)
        overlap = sum((gold & got).values())
        precisions.append(overlap / sum(got.values()))
        recalls.append(overlap / sum(gold.values()))
    assert sum(precisions) / len(precisions) > 0.95
    assert sum(recalls) / len(recalls) > 0.95
    assert min(recalls) > 0.8


# --- teasers and repeats, on small trees ------------------------------------------------


def _teaser_page(article_paragraphs: int, teasers: int) -> tuple[str, object]:
    import lxml.html

    body = [
        f"<p>Paragraph {n} of the story, on the harbour council and its long budget debate.</p>"
        for n in range(article_paragraphs)
    ]
    boxes = [
        f'<div><h3><a href="/s/{n}">Other story number {n} about the island</a></h3>'
        f"<p>Summary {n} of another story that a reader could follow.</p></div>"
        for n in range(teasers)
    ]
    tree = lxml.html.fromstring(f"<html><body>{''.join(body)}{''.join(boxes)}</body></html>")
    paragraphs = [p.text_content() for p in tree.iter("p")]
    return "\n\n".join(paragraphs), tree


def test_article_with_related_stories_is_still_an_article() -> None:
    from worker.parse.teasers import is_teaser_list

    text, tree = _teaser_page(article_paragraphs=12, teasers=4)
    assert not is_teaser_list(text, tree)


def test_summaries_of_linked_headlines_are_a_teaser_list() -> None:
    from worker.parse.teasers import is_teaser_list

    text, tree = _teaser_page(article_paragraphs=1, teasers=6)
    assert is_teaser_list(text, tree)


def test_repeats_follow_the_page_runs_in_order() -> None:
    import lxml.html

    from worker.parse.repeats import restore_repeats

    chorus = "We will rise again, we will rise again, together in the morning light."
    verse = "A verse about the quiet harbour at night and the lights of the ferries."
    tree = lxml.html.fromstring(
        f"<div><p>{chorus}</p><p>{chorus}</p><p>{chorus}</p><p>{verse}</p><p>{chorus}</p></div>"
    )
    collapsed = "\n\n".join([chorus, verse, chorus])
    assert restore_repeats(collapsed, tree).split("\n\n") == [chorus] * 3 + [verse, chorus]
    # Text that already keeps the runs is left as it is.
    whole = "\n\n".join([chorus] * 3 + [verse, chorus])
    assert restore_repeats(whole, tree) == whole
