"""Article paragraphs trafilatura left out, put back from the article's own containers."""

from __future__ import annotations

import lxml.html

from worker.parse.recover import recover_paragraphs


def _para(topic: str, number: int) -> str:
    # Long enough (over 40 words) to count as a paragraph of prose.
    return (
        f"Paragraph {number} about {topic}: the council met on Tuesday evening and voted to"
        " extend the harbour ferry timetable through the winter months, after residents of the"
        " outer islands complained that the last boat left before the evening shift at the"
        f" cannery ended and that the school run was impossible ({topic}, {number})."
    )


def _html(paragraphs: list[str]) -> str:
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def _recover(page: str, kept: list[str]) -> list[str]:
    return recover_paragraphs("\n".join(kept), lxml.html.fromstring(page)).split("\n")


def test_body_split_into_containers_of_one_kind_is_read_whole() -> None:
    first = [_para("ferries", i) for i in range(1, 4)]
    second = [_para("the timetable", i) for i in range(4, 7)]
    page = (
        f'<html><body><article><div class="grid"><div class="body__container">{_html(first)}'
        '</div></div><div class="ad-row">Advertisement</div>'
        f'<div class="grid"><div class="body__container">{_html(second)}</div></div>'
        "</article></body></html>"
    )
    assert _recover(page, first) == first + second


def test_lead_dropped_inside_the_container_goes_back_in_its_place() -> None:
    body = [_para("ferries", i) for i in range(1, 5)]
    page = f'<html><body><div class="story">{_html(body)}</div></body></html>'
    assert _recover(page, body[1:]) == body
    assert _recover(page, [body[0], body[1], body[3]]) == body


def test_text_already_whole_is_left_as_it_is() -> None:
    body = [_para("ferries", i) for i in range(1, 4)]
    page = f'<html><body><div class="story">{_html(body)}</div></body></html>'
    raw = "\n".join(["Ferries run late", *body])
    assert recover_paragraphs(raw, lxml.html.fromstring(page)) == raw


def test_paragraph_that_lost_a_phrase_is_read_whole_not_added_twice() -> None:
    body = [_para("ferries", i) for i in range(1, 4)]
    phrase = '<span class="link"><a href="/w">the winter months</a></span>'
    linked = body[1].replace("the winter months", phrase)
    page = f'<html><body><div class="story">{_html([body[0], linked, body[2]])}</div></body></html>'
    kept = [body[0], body[1].replace("the winter months", ""), body[2]]
    assert _recover(page, kept) == body


def test_another_paragraph_that_starts_and_ends_alike_replaces_nothing() -> None:
    answer = (
        "Are the buses accessible? During planned engineering work, all replacement buses run"
        " on behalf of {} are fully accessible, and staff will help you board them. When"
        " facilities are not accessible, we will make every effort to provide alternatives."
    )
    other, kept = answer.format("London Overground"), answer.format("TfL Rail")
    body = [_para("ferries", i) for i in range(1, 3)]
    page = f'<html><body><div class="faq">{_html([*body, kept, other])}</div></body></html>'
    assert _recover(page, [*body, kept]) == [*body, kept]


def test_lead_beside_the_body_container_goes_above_it() -> None:
    lead = _para("the lead", 0)
    body = [_para("ferries", i) for i in range(1, 4)]
    page = (
        '<html><body><div class="article"><div class="teaser-text">'
        f'{lead}</div><div class="news-text">{_html(body)}</div>'
        '<div class="share"><a href="/fb">Share on Facebook</a></div></div></body></html>'
    )
    assert _recover(page, ["Ferries run late", *body]) == ["Ferries run late", lead, *body]


def test_script_beside_the_body_container_stays_out() -> None:
    body = [_para("ferries", i) for i in range(1, 4)]
    code = " ".join(f"googletag.cmd.push(slot{i});" for i in range(60))
    page = (
        f'<html><body><div class="article"><div class="ad"><script>{code}</script></div>'
        f'<div class="news-text">{_html(body)}</div></div></body></html>'
    )
    assert _recover(page, body) == body


def test_comments_captions_and_link_lists_stay_out() -> None:
    body = [_para("ferries", i) for i in range(1, 4)]
    comment = _para("my own opinion", 9)
    caption = _para("the photo", 10)
    links = " ".join(
        f'<a href="/s{i}">Another story about the islands number {i}</a>' for i in range(8)
    )
    page = (
        f'<html><body><div class="story">{_html(body)}'
        f"<figure><img src='a.jpg'><figcaption><p>{caption}</p></figcaption></figure>"
        f"<p>{links} and more.</p></div>"
        f'<div class="comments"><div class="comment-body"><p>{comment}</p></div></div>'
        "</body></html>"
    )
    assert _recover(page, body) == body


def test_next_post_of_a_blog_front_page_stays_out() -> None:
    first = [_para("ferries", i) for i in range(1, 4)]
    second = [_para("the bridge", i) for i in range(4, 7)]
    page = (
        '<html><body><div class="post"><h2><a href="/ferries">Ferries run late</a></h2>'
        f'<div class="entry">{_html(first)}</div></div>'
        '<div class="post"><h2><a href="/bridge">The bridge reopens</a></h2>'
        f'<div class="entry">{_html(second)}</div></div></body></html>'
    )
    assert _recover(page, first) == first
