"""Markup to plain text for feed summaries and content."""

from __future__ import annotations

import pytest

from worker.parse.text import fallback_title, html_to_text


@pytest.mark.parametrize(
    ("fragment", "text"),
    [
        ("Hello &amp; <b>bold</b> world", "Hello & bold world"),
        ("<p>One</p><p>Two<br>lines</p>", "One\n\nTwo\nlines"),
        ("a<script>alert(1)<b>x</b></script>b<style>p{}</style>c<!-- note -->d", "abcd"),
        ("<ul><li>one</li><li>two <i>it</i></li></ul>after", "one\n\ntwo it\n\nafter"),
        ("AT&amp;T, no markup at all", "AT&T, no markup at all"),
        ("caf\u00e9\u00ad au\u200b lait &nbsp; ", "café au lait"),
        ("", ""),
    ],
)
def test_html_to_text(fragment: str, text: str) -> None:
    assert html_to_text(fragment) == text


def test_hostile_nesting_does_not_crash() -> None:
    # libxml2 gives up below a nesting limit; what matters is no RecursionError.
    assert isinstance(html_to_text("<div>" * 100_000 + "deep" + "</div>" * 100_000), str)


def test_fallback_title_is_the_opening_words() -> None:
    assert fallback_title("Short summary.") == "Short summary."
    assert fallback_title(" ".join(str(n) for n in range(20))) == "0 1 2 3 4 5 6 7 8 9 10 11…"
