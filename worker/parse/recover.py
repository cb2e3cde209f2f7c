"""Article paragraphs the extractor left out, put back from the article's own containers.

trafilatura reads one container: an article whose body the page splits into
several sibling containers of the same kind (an advertisement row between
them) loses everything after the first; within the container, favor_precision
drops a lead or a paragraph it misjudges. The paragraphs it did keep say where
the article stands on the page, so a long paragraph of prose, not a list of
links, in the same container as kept paragraphs, or in a container of the
same tag and class, or a block of prose beside such a container (a lead, a
standfirst), is article text too: readability's sibling rule, seeded with
trafilatura's choice. A kept paragraph that lost a phrase from its middle
(precision mode drops a `<span class="link">` inside a sentence) is read whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from worker.parse.text import clean_line

__all__ = ["recover_paragraphs"]

# A recovered paragraph is prose: this many words at least, and few of them linked.
_MIN_WORDS = 40
_MAX_LINK_SHARE = 0.25
# A kept line matches a page paragraph on its opening characters.
_KEY_CHARS = 60
# A container of the article holds at least this share of the kept text.
_HELD_SHARE = 0.3
_HEADINGS = ("h1", "h2", "h3")
# Captions, quotes of other pages and the like stand in these, even within the article.
_ASIDE = frozenset({"figure", "figcaption", "aside", "blockquote", "nav", "footer", "header"})
_STRING = etree.XPath("string()")
_WORD = re.compile(r"\w+")
_SIBLING_TAGS = frozenset({"p", "div", "section"})
# A block of text holds none of these (scripts: their code is no text).
_BLOCKS = (
    "p", "div", "section", "ul", "ol", "table", "h1", "h2", "h3", "h4", "figure",
    "blockquote", "script", "style", "noscript",
)  # fmt: skip


def recover_paragraphs(raw: str, tree: Any) -> str:
    """`raw` (one paragraph a line, as trafilatura gives it) with the article's
    missing paragraphs inserted where the page has them."""
    lines = raw.splitlines()
    if not lines:
        return raw
    index: dict[str, int] = {}
    for i, kept in enumerate(lines):
        key = clean_line(kept)[:_KEY_CHARS]
        if key:
            index[key] = i
    # Without any spaces: a <br> is a line break to trafilatura and nothing to string().
    flat = "".join(raw.split())
    anchors: list[tuple[Any, int]] = []  # kept paragraph element, its line
    whole: dict[int, str] = {}  # line -> the page's paragraph, where a phrase was lost
    held: dict[Any, int] = {}  # container -> characters (spaces aside) of kept text in it
    # element, text, anchors seen before it, whether a linked headline stands between
    missing: list[tuple[Any, str, int, bool]] = []
    headline = False
    for element in tree.iter("p", *_HEADINGS):
        if element.tag in _HEADINGS:
            headline = headline or _is_linked(element)
            continue
        text = clean_line(str(_STRING(element)))
        found = index.get(text[:_KEY_CHARS])
        if found is not None:
            anchors.append((element, found))
            if _lost_a_phrase(lines[found], text):
                whole[found] = text
            headline = False
            parent = element.getparent()
            held[parent] = held.get(parent, 0) + len(text) - text.count(" ")
        elif len(text.split()) >= _MIN_WORDS and not _kept(text, flat):
            missing.append((element, text, len(anchors), headline))
    if len(anchors) < 2:
        return raw
    # The article's containers hold a fair share of the kept text: a comment
    # or notice box that holds one stray kept line is not one.
    containers = {parent for parent, chars in held.items() if chars >= _HELD_SHARE * len(flat)}
    kinds = {_kind(parent) for parent in containers} - {None}
    inserts: dict[int, list[str]] = {}
    added: set[Any] = set()
    if whole:
        lines = [whole.get(i, line) for i, line in enumerate(lines)]
    for element, text, before, after_headline in missing:
        parent = element.getparent()
        # Another container of the article's kind continues it, unless a linked
        # headline opens it: then it is the next post of a blog's front page.
        if parent not in containers and (after_headline or _kind(parent) not in kinds):
            continue
        if _in_aside(element) or _link_share(element, text) > _MAX_LINK_SHARE:
            continue
        after = anchors[before - 1][1] if before else -1
        inserts.setdefault(after, []).append(text)
        added.add(element)
    _add_siblings(containers, anchors, flat, added, inserts)
    if not inserts and not whole:
        return raw
    return "\n".join(_merged(lines, inserts))


def _add_siblings(
    containers: set[Any],
    anchors: list[tuple[Any, int]],
    flat: str,
    added: set[Any],
    inserts: dict[int, list[str]],
) -> None:
    """A block of prose beside an article container (a lead or standfirst
    above the body, a closing paragraph below it) is the article's too."""
    for container in containers:
        parent = container.getparent()
        if parent is None:
            continue
        lines = [line for element, line in anchors if element.getparent() is container]
        before = True
        for sibling in parent:
            if sibling is container:
                before = False
                continue
            if sibling in containers or sibling in added or sibling.tag not in _SIBLING_TAGS:
                continue
            if next(sibling.iterdescendants(*_BLOCKS), None) is not None:
                continue
            text = clean_line(str(_STRING(sibling)))
            if len(text.split()) < _MIN_WORDS or _kept(text, flat) or _in_aside(sibling):
                continue
            if _link_share(sibling, text) > _MAX_LINK_SHARE:
                continue
            inserts.setdefault(min(lines) - 1 if before else max(lines), []).append(text)
            added.add(sibling)


def _merged(lines: list[str], inserts: dict[int, list[str]]) -> Iterator[str]:
    yield from inserts.get(-1, [])
    for i, line in enumerate(lines):
        yield line
        yield from inserts.get(i, [])


def _lost_a_phrase(line: str, text: str) -> bool:
    """Whether a kept `line` is the page paragraph `text` with a phrase cut from
    its middle: both ends the same, the line shorter."""
    if len(line) >= len(text):  # the cheap test first: most kept lines are whole
        return False
    kept, page = "".join(line.split()), "".join(text.split())
    if len(kept) >= len(page) or kept[-_KEY_CHARS:] != page[-_KEY_CHARS:]:
        return False
    # Every kept word in the page's order: not another paragraph that only
    # starts and ends alike (an FAQ's answers).
    words = iter(_WORD.findall(text))
    return all(word in words for word in _WORD.findall(line))


def _kept(text: str, flat: str) -> bool:
    # trafilatura may drop a phrase inside a paragraph (a span it takes for
    # a link box): either end still found means the paragraph was kept.
    bare = "".join(text.split())
    return bare[:_KEY_CHARS] in flat or bare[-_KEY_CHARS:] in flat


def _kind(element: Any) -> tuple[str, str] | None:
    """A container's tag and class; None for one without a class, which says nothing."""
    if element is None:
        return None
    classes = (element.get("class") or "").strip()
    return (str(element.tag), classes) if classes else None


def _is_linked(heading: Any) -> bool:
    return next(heading.iter("a"), None) is not None or (
        next(heading.iterancestors("a"), None) is not None
    )


def _in_aside(element: Any) -> bool:
    return any(ancestor.tag in _ASIDE for ancestor in element.iterancestors())


def _link_share(element: Any, text: str) -> float:
    linked = sum(len(clean_line(str(_STRING(a)))) for a in element.iter("a"))
    return linked / max(len(text), 1)
