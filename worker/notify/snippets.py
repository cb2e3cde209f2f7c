"""Choosing the stretches of article text an alert shows, and what to highlight.

Pure functions over the article's original field text and the match spans
(offsets into that original text), so the windows can be tested directly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from worker.models import Article, Span

__all__ = [
    "MAX_SNIPPETS",
    "SNIPPET_CHARS",
    "Snippet",
    "matched_terms",
    "snippets",
]

SNIPPET_CHARS = 200
MAX_SNIPPETS = 3
# A window may grow past SNIPPET_CHARS to take in a nearby match, up to this.
_MERGE_LIMIT = SNIPPET_CHARS + SNIPPET_CHARS // 2
# Words shown either side of the matches however far apart they are: a
# snippet that starts or ends on a match reads as torn out of its sentence.
_MIN_CONTEXT = 40
_TEXT_FIELDS = ("summary", "body")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Snippet:
    """A window of text as (piece, highlighted) runs, with whether it was cut at either end."""

    runs: tuple[tuple[str, bool], ...]
    cut_before: bool
    cut_after: bool

    @property
    def plain(self) -> str:
        return "".join(text for text, _ in self.runs)


def _valid(spans: Iterable[Span], text: str) -> list[tuple[int, int]]:
    """Clamp spans to the text and merge overlaps; bad offsets must not break an alert."""
    ranges = sorted(
        (max(0, s.start), min(len(text), s.end)) for s in spans if min(len(text), s.end) > s.start
    )
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def matched_terms(article: Article, spans: Sequence[Span]) -> tuple[str, ...]:
    """The original text of every span, whitespace tidied, first spelling of each kept."""
    seen: dict[str, str] = {}
    for span in spans:
        text = getattr(article, span.field, "")
        for start, end in _valid([span], text):
            term = _SPACE.sub(" ", text[start:end]).strip()
            if term:
                seen.setdefault(term.casefold(), term)
    return tuple(seen.values())


def _snap_start(text: str, start: int, limit: int) -> int:
    """Move a window start forward to a word start (never past `limit`, the first match)."""
    if start <= 0:
        return 0
    if text[start - 1].isspace():
        return start
    space = text.find(" ", start, limit)
    return start if space < 0 else space + 1


def _snap_end(text: str, end: int, limit: int) -> int:
    """Move a window end back to a word end (never before `limit`, the last match's end)."""
    if end >= len(text):
        return len(text)
    if text[end].isspace():
        return end
    space = text.rfind(" ", limit, end)
    return end if space < 0 else space


def _window(text: str, first: tuple[int, int], last_end: int) -> tuple[int, int]:
    """About SNIPPET_CHARS of text centred on the matches from `first` to `last_end`."""
    spare = max(0, SNIPPET_CHARS - (last_end - first[0]))
    start = max(0, first[0] - max(spare // 2, _MIN_CONTEXT))
    end = min(len(text), last_end + max(spare - (first[0] - start), _MIN_CONTEXT))
    start = max(0, min(start, end - SNIPPET_CHARS))
    # Never leave out just a few words at either end of the text.
    if start <= _MIN_CONTEXT // 2:
        start = 0
    if len(text) - end <= _MIN_CONTEXT // 2:
        end = len(text)
    return _snap_start(text, start, first[0]), _snap_end(text, end, last_end)


def _group(ranges: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """Matches close enough to share one window go together."""
    groups: list[list[tuple[int, int]]] = []
    for rng in ranges:
        if groups and rng[1] - groups[-1][0][0] <= _MERGE_LIMIT:
            groups[-1].append(rng)
        else:
            groups.append([rng])
    return groups


def _runs(text: str, start: int, end: int, marks: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    runs: list[tuple[str, bool]] = []
    pos = start
    for m_start, m_end in marks:
        m_start, m_end = max(m_start, start), min(m_end, end)
        if m_start >= m_end:
            continue
        if m_start > pos:
            runs.append((text[pos:m_start], False))
        runs.append((text[m_start:m_end], True))
        pos = m_end
    if pos < end:
        runs.append((text[pos:end], False))
    return [(_SPACE.sub(" ", piece), hit) for piece, hit in runs]


def _strip_runs(runs: list[tuple[str, bool]]) -> tuple[tuple[str, bool], ...]:
    if runs and not runs[0][1]:
        runs[0] = (runs[0][0].lstrip(), False)
    if runs and not runs[-1][1]:
        runs[-1] = (runs[-1][0].rstrip(), False)
    return tuple((piece, hit) for piece, hit in runs if piece)


def _field_snippets(text: str, spans: Sequence[Span]) -> list[Snippet]:
    ranges = _valid(spans, text)
    found = []
    shown = 0  # where the previous window ended
    for group in _group(ranges):
        if group[-1][1] <= shown:
            continue  # the previous window already showed these matches
        start, end = _window(text, group[0], group[-1][1])
        # Windows grow towards each other; a reader should not get the same
        # sentence twice, so a window starts where the one before it ended.
        start = max(start, shown)
        # Every match inside the window is highlighted, not only its group's.
        runs = _strip_runs(_runs(text, start, end, ranges))
        found.append(Snippet(runs, cut_before=start > 0, cut_after=end < len(text)))
        shown = end
    return found


def _opening(article: Article) -> list[Snippet]:
    """A match only in the title: show how the text begins instead."""
    text = article.summary if article.summary.strip() else article.body
    if not text.strip():
        return []
    end = _snap_end(text, min(len(text), SNIPPET_CHARS), 0)
    runs = _strip_runs(_runs(text, 0, end, []))
    return [Snippet(runs, cut_before=False, cut_after=end < len(text))] if runs else []


def snippets(article: Article, spans: Sequence[Span]) -> tuple[Snippet, ...]:
    """Up to MAX_SNIPPETS windows around the matches in summary and body, in text order."""
    found: list[Snippet] = []
    for field in _TEXT_FIELDS:
        in_field = [s for s in spans if s.field == field]
        found.extend(_field_snippets(getattr(article, field), in_field))
    found = [s for s in found if s.runs]
    return tuple(found[:MAX_SNIPPETS]) if found else tuple(_opening(article))
