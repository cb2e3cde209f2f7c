"""Rendering alerts and digests: snippets, highlights, escaping, length limits."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from worker.models import Article, Span
from worker.notify import (
    AlertContent,
    DigestItem,
    Message,
    fit_message,
    render_alert,
    render_digest,
)
from worker.notify.escape import Format, escape
from worker.notify.snippets import SNIPPET_CHARS, matched_terms, snippets

HOSTILE = "<script>x</script> [click](http://evil) @everyone"
BERLIN = ZoneInfo("Europe/Berlin")
FORMATS: tuple[Format, ...] = ("html", "markdown", "text")


def article(
    *, title: str = "Title", summary: str = "", body: str = "", url: str = "https://example.org/a"
) -> Article:
    published = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    return Article("a1", "src", url, title, summary, body, published)


def span_of(art: Article, field: str, word: str, nth: int = 0) -> Span:
    text = getattr(art, field)
    starts = [m.start() for m in re.finditer(re.escape(word), text)]
    return Span(field, starts[nth], starts[nth] + len(word))  # type: ignore[arg-type]


def filler(n: int, word: str = "filler") -> str:
    return " ".join(f"{word}{i}" for i in range(n))


# ---------------------------------------------------------------- snippets


def test_snippet_is_a_window_of_about_200_chars_around_the_match() -> None:
    body = f"{filler(100)} Iran {filler(100, 'after')}"
    art = article(body=body)
    (snip,) = snippets(art, [span_of(art, "body", "Iran")])
    assert SNIPPET_CHARS - 20 <= len(snip.plain) <= SNIPPET_CHARS + 5
    assert snip.cut_before and snip.cut_after
    # Cut at word boundaries, the match roughly in the middle.
    assert snip.plain.split()[0] in body.split() and snip.plain.split()[-1] in body.split()
    left, _, right = snip.plain.partition("Iran")
    assert abs(len(left) - len(right)) < 30


def test_matches_further_apart_than_a_window_still_get_context_either_side() -> None:
    # The group of matches is longer than SNIPPET_CHARS, so there is no spare
    # room to centre it in: the window used to start on the first match
    # ("S-300PMU-2 air defence...") and end on the last.
    body = (
        "MOSCOW, March 14 - Russia has completed the delivery of two S-300PMU-2 air "
        f"defence batteries to Iran, {filler(20, 'middle')} deployed around Tehran, "
        "according to a statement that did not give a date for when they would be "
        f"operational. {filler(60, 'later')}"
    )
    art = article(body=body)
    spans = [span_of(art, "body", word) for word in ("S-300", "Iran", "Tehran")]
    (snip,) = snippets(art, spans)
    before, after = snip.runs[0][0], snip.runs[-1][0]
    assert before == "MOSCOW, March 14 - Russia has completed the delivery of two "
    assert after.startswith(", according to a statement") and len(after) >= 30
    assert not snip.cut_before and snip.cut_after
    assert [t for t, hit in snip.runs if hit] == ["S-300", "Iran", "Tehran"]


def test_a_window_never_leaves_out_only_a_few_words_at_either_end() -> None:
    body = f"The EU agreed new sanctions on Iran, {filler(24, 'word')} by ministers."
    assert SNIPPET_CHARS < len(body) < SNIPPET_CHARS + 20
    art = article(body=body)
    (snip,) = snippets(art, [span_of(art, "body", "sanctions")])
    assert snip.plain == body
    assert not snip.cut_before and not snip.cut_after


def test_highlight_offsets_are_offsets_into_the_original_text() -> None:
    body = "Tehran  said\n\nthat the S-300  deal is off."
    art = article(body=body)
    spans = [Span("body", 0, 6), span_of(art, "body", "S-300")]
    (snip,) = snippets(art, spans)
    assert [text for text, hit in snip.runs if hit] == ["Tehran", "S-300"]
    # Whitespace (newlines too) is tidied in the snippet, not in the match.
    assert snip.plain == "Tehran said that the S-300 deal is off."
    assert not snip.cut_before and not snip.cut_after


def test_near_matches_share_a_window_far_ones_get_their_own_at_most_three() -> None:
    body = " ".join(f"{filler(60, f'p{i}x')} hit{i} hit{i}b" for i in range(5))
    art = article(body=body)
    spans = [span_of(art, "body", f"hit{i}") for i in range(5)]
    spans += [span_of(art, "body", f"hit{i}b") for i in range(5)]
    found = snippets(art, spans)
    assert len(found) == 3
    for i, snip in enumerate(found):
        assert [t for t, hit in snip.runs if hit] == [f"hit{i}", f"hit{i}b"]


def test_neighbouring_windows_never_repeat_text_and_highlight_every_match() -> None:
    # A last match near the end of the text: its window is pushed back into
    # the one before, which used to show that text twice, unhighlighted.
    sentence = (
        "Russia has begun delivering S-300 air defence systems to Iran, the defence ministry "
        "in Moscow said on Tuesday, ending years of delays over a contract signed in 2007. "
    )
    body = sentence * 2 + "Analysts in Tehran said the S-300 would make strikes harder."
    art = article(body=body)
    spans = [span_of(art, "body", "S-300", n) for n in range(3)]
    spans += [span_of(art, "body", "Iran", n) for n in range(2)]
    found = snippets(art, spans)
    shown = " ".join(s.plain for s in found)
    assert shown.count("air defence systems") <= 2
    for snip in found:
        highlighted = [piece for piece, hit in snip.runs if hit]
        assert len(highlighted) == snip.plain.count("S-300") + snip.plain.count("Iran")


def test_summary_matches_come_before_body_matches() -> None:
    art = article(summary="Iran in the summary.", body="Later Iran in the body.")
    spans = [span_of(art, "body", "Iran"), span_of(art, "summary", "Iran")]
    assert [s.plain for s in snippets(art, spans)] == [art.summary, art.body]


def test_match_only_in_title_shows_the_opening_of_the_text() -> None:
    art = article(title="Iran news", summary="", body=filler(100, "opening"))
    (snip,) = snippets(art, [span_of(art, "title", "Iran")])
    assert snip.plain.startswith("opening0 opening1")
    assert not snip.cut_before and snip.cut_after
    assert not any(hit for _, hit in snip.runs)
    assert len(snip.plain) <= SNIPPET_CHARS


def test_bad_offsets_do_not_break_rendering() -> None:
    art = article(body="short body")
    spans = [Span("body", 6, 500), Span("body", 8, 3), Span("summary", 0, 4)]
    (snip,) = snippets(art, spans)
    assert [t for t, hit in snip.runs if hit] == ["body"]


def test_matched_terms_are_the_original_text_deduplicated() -> None:
    art = article(title="IRAN and S-300", body="Iran bought the S\u2013300. iran again.")
    spans = [
        span_of(art, "title", "IRAN"),
        span_of(art, "title", "S-300"),
        span_of(art, "body", "Iran"),
        span_of(art, "body", "S\u2013300"),
        span_of(art, "body", "iran"),
    ]
    assert matched_terms(art, spans) == ("IRAN", "S-300", "S\u2013300")


# ---------------------------------------------------------------- alerts


def alert(art: Article, *words: tuple[str, str]) -> AlertContent:
    spans = tuple(span_of(art, field, word) for field, word in words)
    return AlertContent("s300-iran", art, spans, "Moscow Times", ("Reuters", "AP"))


def test_alert_content_in_every_format() -> None:
    art = article(title="Deal off", body=f"{filler(80)} Iran cancels the S-300 order. {filler(80)}")
    for fmt in FORMATS:
        msg = render_alert(alert(art, ("body", "Iran"), ("body", "S-300")), fmt, BERLIN)
        assert msg.title == "s300-iran: Deal off"
        assert msg.format == fmt
        assert msg.link == art.url
        assert "Moscow Times" in msg.body
        assert "2026-11-25 13:00 CET" in msg.body
        assert "Reuters, AP" in msg.body
        assert "https://example.org/a" in msg.body
        assert "cancels the" in msg.body
    html = render_alert(alert(art, ("body", "Iran")), "html", BERLIN).body
    assert re.search(r"<mark[^>]*><b>Iran</b></mark>", html)
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert 'name="viewport"' in html
    assert "**Iran**" in render_alert(alert(art, ("body", "Iran")), "markdown", BERLIN).body
    text = render_alert(alert(art, ("body", "Iran")), "text", BERLIN).body
    assert "Iran" in text and not re.search(r"[*<>«»]", text)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_article_text_is_inert(fmt: Format) -> None:
    art = article(
        title=HOSTILE + "\nSecond line",
        summary=f"{HOSTILE} then Iran",
        body="<@123456> and <!channel> and @here **bold** _it_ www.evil.example",
        url="https://example.org/a?x=1&y=<2>",
    )
    matches = (("summary", "Iran"), ("title", "click"), ("body", "and"))
    msg = render_alert(alert(art, *matches), fmt, BERLIN)
    assert "\n" not in msg.title and "Second line" in msg.title
    for text in (msg.title, msg.body):
        assert "@everyone" not in text and "@here" not in text
        assert "<@" not in text and "<!c" not in text
        assert "http://evil" not in text
    body = msg.body
    if fmt == "html":
        assert "<script" not in body
        assert "&lt;script&gt;" in body
        assert re.findall(r"<a [^>]*href=\"([^\"]*)\"", body) == [
            "https://example.org/a?x=1&amp;y=%3C2%3E"
        ]
    elif fmt == "markdown":
        assert "\\<script\\>" in body and "\\[click\\]\\(http" in body
        assert "\\*\\*bold\\*\\*" in body and "\\_it\\_" in body
        assert re.findall(r"\]\(([^)]*)\)", body) == ["https://example.org/a?x=1&y=%3C2%3E"]
    else:
        assert "<script>x</script>" in body  # plain text shows it as it is: inert


def test_a_highlight_cannot_complete_a_mention_or_link_in_plain_text() -> None:
    art = article(body="ping @everyone at http://evil.example now")
    spans = (span_of(art, "body", "everyone"), span_of(art, "body", "http"))
    text = render_alert(AlertContent("r", art, spans, "S"), "text", BERLIN).body
    assert "@everyone" not in text and "http://evil" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_only_http_links_become_links(fmt: Format) -> None:
    art = article(body="Iran", url="javascript:alert(1)")
    body = render_alert(alert(art, ("body", "Iran")), fmt, BERLIN).body
    assert "href" not in body and "](" not in body
    assert "javascript" in body


def test_escape_markdown_metacharacters() -> None:
    raw = "[a](b) *c* _d_ `e` # f < g > h ! i | j ~ k \\ l"
    escaped = escape(raw, "markdown")
    assert escaped == (
        "\\[a\\]\\(b\\) \\*c\\* \\_d\\_ \\`e\\` \\# f \\< g \\> h \\! i \\| j \\~ k \\\\ l"
    )
    assert escape("- item\n1. item", "markdown") == "\\- item\n\\1. item"


def test_unpublished_article_and_naive_time() -> None:
    base = article(body="Iran")
    art = Article(base.id, base.source_id, base.url, base.title, "", "Iran", None)
    assert "Published: unknown" in render_alert(alert(art, ("body", "Iran")), "text", BERLIN).body


# ---------------------------------------------------------------- digests


def digest_items() -> list[DigestItem]:
    at = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    items = []
    for n, rule in enumerate(["sanctions", "s300-iran", "sanctions"]):
        art = Article(f"a{n}", "src", f"https://example.org/{n}", f"Story {n}", "", "Iran", at)
        spans = (Span("body", 0, 4),)
        content = AlertContent(rule, art, spans, f"Source {n}", ("Wire",) if n == 2 else ())
        items.append(DigestItem(content, at + timedelta(hours=3 - n)))
    return items


@pytest.mark.parametrize("fmt", FORMATS)
def test_digest_groups_by_rule_in_time_order(fmt: Format) -> None:
    msg = render_digest(digest_items(), fmt, BERLIN, window_label="08:00")
    assert msg.title == "wirewatch digest 08:00: 3 alerts"
    body = msg.body
    positions = [body.index(s) for s in ("s300-iran", "sanctions", "Story 2", "Story 0")]
    assert positions == sorted(positions)
    assert "Also reported by: Wire" in body
    assert body.count("https://example.org/") >= 3


def test_empty_digest() -> None:
    msg = render_digest([], "text", BERLIN, window_label="18:00")
    assert "0 alerts" in msg.title and "No alerts" in msg.body


# ---------------------------------------------------------------- length limits


@pytest.mark.parametrize("fmt", FORMATS)
def test_fit_message_cuts_at_a_block_and_points_to_the_full_text(fmt: Format) -> None:
    body = " ".join(f"{filler(40, f'p{i}x')} Iran" for i in range(3))
    art = article(body=body)
    msg = render_alert(alert(art, *(("body", "Iran"),)), fmt, BERLIN)
    long = render_alert(
        AlertContent(
            "r",
            art,
            tuple(Span("body", m.start(), m.end()) for m in re.finditer("Iran", body)),
            "S",
        ),
        fmt,
        BERLIN,
    )
    limit = len(long.body) - 50
    fitted = fit_message(long, limit)
    assert len(fitted.body) <= limit
    assert "full text" in fitted.body and art.url in fitted.body
    assert fitted.body.count("Iran") < long.body.count("Iran")
    if fmt == "html":
        assert fitted.body.rstrip().endswith("</html>")
    assert fit_message(msg, len(msg.body)) == msg


def test_fit_message_hard_cut_when_no_block_fits() -> None:
    msg = Message("t", "word " * 100, "text", link="https://example.org/a")
    fitted = fit_message(msg, 100)
    assert len(fitted.body) <= 100
    assert fitted.body.startswith("word word") and "full text: https://example.org/a" in fitted.body
