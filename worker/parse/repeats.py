"""Paragraphs a page repeats on purpose, put back where the extractor collapsed them.

trafilatura drops an element that repeats the one before it (an artefact of
its overlapping candidates), which also removes a song's chorus, a repeated
call in a speech or a refrain in a poem. The page's own markup says which
repeats are real: identical sibling blocks, one after the other.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from worker.parse.text import clean_line

__all__ = ["restore_repeats"]

# trafilatura collapses only elements longer than this (its MIN_DUPLICATE_LENGTH).
_COLLAPSED_LENGTH = 50
_BLOCK_TAGS = ("p", "blockquote", "li", "pre")
# Compiled once: element.xpath("string()") compiles the expression on every call.
_STRING = etree.XPath("string()")


def restore_repeats(text: str, tree: Any) -> str:
    """`text` (paragraphs separated by a blank line) with each group of identical
    paragraphs as long as the page's run of that paragraph at the same place.

    The k-th group of a repeated paragraph in the text is the page's k-th run
    of it: a chorus sung three times, then once, stays three and one.
    """
    runs = _runs(tree)
    if not runs:
        return text
    groups: list[list[str]] = []
    for paragraph in text.split("\n\n"):
        if groups and groups[-1][0] == paragraph:
            groups[-1].append(paragraph)
        else:
            groups.append([paragraph])
    seen: dict[str, int] = {}
    out: list[str] = []
    for group in groups:
        paragraph = group[0]
        index = seen.get(paragraph, 0)
        seen[paragraph] = index + 1
        page_runs = runs.get(paragraph, [])
        out.extend([paragraph] * (page_runs[index] if index < len(page_runs) else len(group)))
    return "\n\n".join(out)


def _runs(tree: Any) -> dict[str, list[int]]:
    """Paragraph text -> its runs of identical sibling blocks, in page order, for
    the paragraphs that the page repeats back to back at least once."""
    repeated = set()
    for element in tree.iter(_BLOCK_TAGS):
        before = element.getprevious()
        # The raw first text node rules out almost every pair before the full text is read.
        if before is None or before.tag != element.tag or before.text != element.text:
            continue
        paragraph = _text_of(element)
        if len(paragraph) > _COLLAPSED_LENGTH and _text_of(before) == paragraph:
            repeated.add(paragraph)
    if not repeated:
        return {}
    runs: dict[str, list[int]] = {}
    previous: Any = None
    for element in tree.iter(_BLOCK_TAGS):
        paragraph = _text_of(element)
        if paragraph not in repeated:
            continue
        following = previous is not None and element.getprevious() is previous
        if following and runs[paragraph] and _text_of(previous) == paragraph:
            runs[paragraph][-1] += 1
        else:
            runs.setdefault(paragraph, []).append(1)
        previous = element
    return runs


def _text_of(element: Any) -> str:
    return clean_line(str(_STRING(element)))
