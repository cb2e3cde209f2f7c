"""Layout tables: a page laid out in a table is read as blocks, a data table stays a table."""

from __future__ import annotations

import lxml.html

from worker.parse import extract_article
from worker.parse.layout import unwrap_layout_tables


def _para(number: int) -> str:
    return (
        f"<p>Paragraph {number}: the council met on Tuesday evening and voted to extend the"
        " harbour ferry timetable through the winter months, after residents of the outer"
        " islands complained that the last boat left before the evening shift at the cannery"
        f" ended and the school run was impossible (number {number}).</p>"
    )


def test_article_in_a_layout_cell_is_read_as_paragraphs_without_the_cell_around_it() -> None:
    teasers = "".join(
        f'<div class="teaser"><a href="/s{i}">Another story about the islands {i}</a>'
        " A short summary of another story on this site.</div>"
        for i in range(5)
    )
    body = "".join(_para(i) for i in range(1, 6))
    page = (
        "<html><head><title>Ferries run late</title></head><body><table>"
        '<tr><td colspan="2"><a href="/">Home</a> | <a href="/news">News</a></td></tr>'
        '<tr valign="top"><td class="content"><h1>Ferries run late</h1>'
        f'<div class="article_body">{body}</div><div class="top">Top stories</div>{teasers}</td>'
        '<td class="side"><a href="/x">Weather</a></td></tr></table></body></html>'
    )
    article = extract_article(page.encode(), url="https://example.com/news/ferries")
    assert article is not None
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith("Paragraph 1: the council met")
    assert len(paragraphs) == 5
    assert "|" not in article.text
    assert "Another story" not in article.text


def test_data_table_and_a_data_table_inside_a_layout_cell_keep_their_rows() -> None:
    data = (
        "<table><tr><th>Route</th><th>Last boat</th></tr>"
        "<tr><td>North</td><td>18:10</td></tr></table>"
    )
    tree = lxml.html.fromstring(
        f"<html><body>{data}<table><tr><td>{_para(1)}{data}</td></tr></table></body></html>"
    )
    unwrap_layout_tables(tree)
    tables = tree.xpath("//table")
    assert len(tables) == 2
    for table in tables:
        assert [row.tag for row in table.iter("tr")] == ["tr", "tr"]
        assert len(table.xpath(".//td | .//th")) == 4
