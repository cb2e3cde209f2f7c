"""Front pages and section pages: lists of teasers, not an article.

An extractor handed a front page returns its teasers (headline, one-line
summary, headline, summary...) as if they were an article. What gives them
away is that the headlines are links to other pages: a text where a large
share of the paragraphs are linked headlines is a list of stories.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from worker.parse.text import clean_line

__all__ = ["is_teaser_list"]

_LINKED_HEADLINES = (
    "//*[self::h2 or self::h3 or self::h4 or self::h5][.//a[@href]]"
    " | //a[@href][.//h2 or .//h3 or .//h4 or .//h5]"
)
# At least this many teasers (a linked headline and what stands with it) give
# the text, and they give at least this share of its words.
_MIN_TEASERS = 4
_TEASER_SHARE = 0.5
# A headline has a few words; shorter link texts are menus.
_MIN_HEADLINE_WORDS = 3
# How far above its headline a teaser's box may start.
_BOX_LEVELS = 3
_NON_WORD = re.compile(r"\W+")
_STRING = etree.XPath("string()")
_FIND_LINKED_HEADLINES = etree.XPath(_LINKED_HEADLINES)


def is_teaser_list(text: str, tree: Any) -> bool:
    """Whether `text` (paragraphs separated by a blank line) is mostly the page's teasers.

    An extractor may drop the linked headlines and keep the summaries under
    them, so what counts is where the text's paragraphs stand on the page: in
    the box of a linked headline, or not.
    """
    paragraphs = [_key(p) for p in text.split("\n\n") if p.strip()]
    if len(paragraphs) < _MIN_TEASERS:
        return False
    boxes = _teaser_boxes(tree)
    if len(boxes) < _MIN_TEASERS:
        return False
    used: set[int] = set()
    teaser_words = 0
    for paragraph in paragraphs:
        box = next((i for i, box in enumerate(boxes) if paragraph and paragraph in box), None)
        if box is not None:
            used.add(box)
            teaser_words += len(paragraph.split())
    words = sum(len(p.split()) for p in paragraphs)
    return len(used) >= _MIN_TEASERS and teaser_words >= _TEASER_SHARE * words


def _teaser_boxes(tree: Any) -> list[str]:
    """The text of each linked headline's box: the smallest ancestor holding more than it."""
    boxes: dict[str, None] = {}
    for element in _FIND_LINKED_HEADLINES(tree):
        headline = _key(str(_STRING(element)))
        if len(headline.split()) < _MIN_HEADLINE_WORDS:
            continue
        box = element
        for _ in range(_BOX_LEVELS):
            parent = box.getparent()
            if parent is None:
                break
            box = parent
            if len(_key(str(_STRING(box)))) > len(headline):
                break
        boxes[_key(str(_STRING(box)))] = None
    return list(boxes)


def _key(value: str) -> str:
    return _NON_WORD.sub(" ", clean_line(value).casefold()).strip()
