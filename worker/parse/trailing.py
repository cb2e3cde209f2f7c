"""Links to other stories at the end of an article, which are not the article.

trafilatura keeps a "related stories" list that stands inside the article
container: a run of lines at the end of the text, each the whole text of a
link on the page. Three or more such lines in a row at the end are that list.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from worker.parse.text import clean_line

__all__ = ["drop_trailing_links"]

_MIN_RUN = 3
# A linked headline is a few words; a longer line is a paragraph.
_MAX_WORDS = 25
_MIN_WORDS = 3
_STRING = etree.XPath("string()")


def drop_trailing_links(text: str, tree: Any) -> str:
    """`text` (paragraphs separated by a blank line) without a closing run of link texts."""
    paragraphs = text.split("\n\n")
    short = 0
    for paragraph in reversed(paragraphs):
        if not _MIN_WORDS <= len(paragraph.split()) <= _MAX_WORDS:
            break
        short += 1
    if short < _MIN_RUN:
        return text
    # Read only when the text ends in short lines: most articles end in a paragraph.
    links = {_lead(clean_line(str(_STRING(a)))) for a in tree.iter("a")}
    run = 0
    for paragraph in reversed(paragraphs[len(paragraphs) - short :]):
        # A list item comes out of trafilatura as "- " and its text.
        if _lead(paragraph.lstrip("-•* ")) not in links:
            break
        run += 1
    if run < _MIN_RUN or run == len(paragraphs):
        return text
    return "\n\n".join(paragraphs[: len(paragraphs) - run])


def _lead(value: str) -> str:
    return value.casefold()
