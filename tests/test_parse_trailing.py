"""A closing list of links to other stories is not the article."""

from __future__ import annotations

import lxml.html

from worker.parse.trailing import drop_trailing_links

_BODY = [
    "The council voted on Tuesday to extend the harbour ferry timetable through the winter.",
    "Residents of the outer islands had complained that the last boat left too early.",
]
_RELATED = [
    "Bridge to the mainland reopens after repairs",
    "Ferry operator names a new chief executive",
    "Island school gets a new roof before winter",
    "Harbour festival returns for its tenth year",
]


def _page(links: list[str]) -> lxml.html.HtmlElement:
    items = "".join(f'<li><a href="/s{i}">{text}</a></li>' for i, text in enumerate(links))
    body = "".join(f"<p>{p}</p>" for p in _BODY)
    return lxml.html.fromstring(
        f"<html><body><article>{body}<ul>{items}</ul></article></body></html>"
    )


def test_closing_run_of_linked_headlines_is_dropped() -> None:
    text = "\n\n".join([*_BODY, *(f"- {line}" for line in _RELATED)])
    assert drop_trailing_links(text, _page(_RELATED)) == "\n\n".join(_BODY)


def test_two_closing_links_or_closing_lines_that_link_nowhere_stay() -> None:
    two = "\n\n".join([*_BODY, *_RELATED[:2]])
    assert drop_trailing_links(two, _page(_RELATED[:2])) == two
    unlinked = "\n\n".join([*_BODY, *_RELATED])
    assert drop_trailing_links(unlinked, _page([])) == unlinked


def test_text_that_is_only_links_is_left_to_the_teaser_check() -> None:
    text = "\n\n".join(_RELATED)
    assert drop_trailing_links(text, _page(_RELATED)) == text
