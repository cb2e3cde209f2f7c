"""An article's headline, from the titles a page declares and the h1s it shows.

og:title, twitter:title and JSON-LD's headline are written for sharing and
are usually the headline as such. <title> adds the site (" - Site", "Site |
"), and h1 can be the site's logo or a section's name ("Allergies Health
Center"), so without a declared title the two are compared: an h1 that is the
<title>'s leading part is the headline, one that is a later part is a section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from worker.parse.text import clean_line

if TYPE_CHECKING:
    from worker.parse.metadata import Heading

__all__ = ["choose_title", "split_title"]

# Between headline and site: bar, hyphen, en or em dash, middle dot, bullet, guillemet, ::, ~, /.
_SEPARATOR = re.compile(r"\s+(?:[|\-\u2013\u2014\u00b7\u2022\u00bb~/:]|::)\s+|\s*\|\s*")
_NON_WORD = re.compile(r"\W+")
_WORD = re.compile(r"\S+")
# A trailing part this short, after a longer leading one, is a site or section name
# even when the page does not name its site anywhere else.
_SITE_WORDS = 3
# An h1 shorter than this is too likely a section's name to read a kicker before it.
_MIN_HEADLINE_WORDS = 2
# Share of the shorter title's words that the other one has when both word one story.
_SAME_STORY = 0.5


def choose_title(
    *,
    meta_titles: Sequence[str],
    document_title: str,
    headings: Sequence[Heading],
    site_names: Sequence[str],
) -> str:
    """The headline: a declared title, else <title> weighed against the h1s."""
    titles = [*meta_titles, document_title]
    headings = [_read_as_one(h, titles) for h in headings]
    sites = [_compact(name) for name in site_names if _compact(name)]
    sites += [_compact(h.text) for h in headings if h.in_chrome and _compact(h.text)]
    declared = next((clean_line(t) for t in meta_titles if t and not _is_site(t, sites)), "")
    document = clean_line(document_title)
    if _is_site(document, sites):
        document = ""
    article_h1s = [clean_line(h.text) for h in headings if not h.in_chrome and h.level == 1]
    base = declared or document
    if not base:
        return article_h1s[0] if article_h1s else ""
    parts = split_title(base)
    matched = _matching_heading(base, parts, headings)
    if matched:
        return matched
    kicked = _after_kicker(base, headings)
    if kicked:
        return kicked
    later_parts = {_key(base[start:end]) for start, end in parts[1:]}
    # A heading that is a later, shorter part of the title is a section's name.
    sections = [_compact(h.text) for h in headings if _key(h.text) in later_parts]
    stripped = _strip_site(base, parts, [*sites, *sections])
    if declared:
        return _shown_headline(stripped, article_h1s[:1], later_parts, sites) or stripped
    # Neither title matches an h1: an h1 that is not a later part of the title
    # (a section's name) and shares the headline's words is the fuller headline.
    for h1 in article_h1s:
        if _key(h1) not in later_parts and _overlap(h1, stripped) >= 0.5:
            return h1
    return stripped


def _matching_heading(
    title: str, parts: list[tuple[int, int]], headings: Sequence[Heading]
) -> str | None:
    """The heading the title is made of: one equal to its leading parts, or to its
    longest part ("Blog Archive » Headline"); a heading equal to a shorter later
    part is a section's name ("Headline - Allergies Health Center - Site")."""
    if not parts:
        return None
    words = [len(title[start:end].split()) for start, end in parts]
    for heading in sorted(headings, key=lambda h: h.level):
        if heading.in_chrome:
            continue
        key = _key(heading.text)
        for first in range(len(parts)):
            for last in range(len(parts) - 1, first - 1, -1):
                if _key(title[parts[first][0] : parts[last][1]]) != key:
                    continue
                if first == 0 or (first == last and words[first] == max(words)):
                    # Read whole from the heading: the title may shorten it.
                    return clean_line(heading.text)
    return None


def _read_as_one(heading: Heading, titles: Sequence[str]) -> Heading:
    """The heading read whole when its "kicker" runs into the rest as one headline:
    no separator between them, and a title that writes them so ("<span
    class=kicker>Harbour council</span> approves terminal")."""
    whole = heading.whole
    if not whole or not whole.endswith(heading.text):
        return heading
    lead = whole[: len(whole) - len(heading.text)].rstrip()
    # A separator ("Kicker: Headline") or none at all (a line break) sets a kicker apart.
    if not lead or not lead[-1].isalnum() or not whole[len(lead)].isspace():
        return heading
    folded = whole.casefold()
    if any(folded in clean_line(title).casefold() for title in titles):
        return replace(heading, text=whole, whole="")
    return heading


def _shown_headline(
    declared: str, h1s: Sequence[str], later_parts: set[str], sites: Sequence[str]
) -> str | None:
    """The article's h1 where it words the declared title differently.

    og:title is often a shorter or reworded headline written for sharing; the
    h1 is what the reader sees. An h1 that adds words before the declared title
    holds a kicker or section ("Local News | Headline") and loses to it.
    """
    for h1 in h1s:
        h1_key, declared_key = _key(h1), _key(declared)
        if h1_key in later_parts or _overlap(h1, declared) < _SAME_STORY:
            continue
        if declared_key in h1_key and not h1_key.startswith(declared_key):
            continue
        parts = split_title(h1)
        kept = list(parts)
        while len(kept) > 1 and _is_site(h1[slice(*kept[-1])], sites):
            kept.pop()
        return h1[kept[0][0] : kept[-1][1]].strip() if kept else h1
    return None


def _after_kicker(title: str, headings: Sequence[Heading]) -> str | None:
    """The h1 a title ends with, or ends with before its site's name, after a kicker:
    "Klimaschutz: Bohren, bis es heiß wird" over the h1 "Bohren, bis es heiß wird".
    A kicker is set off by a colon, or is no longer than the headline; a longer
    leading part is the headline and the h1 a section's name."""
    for heading in headings:
        if heading.in_chrome or heading.level != 1:
            continue
        key = _key(heading.text)
        if len(key.split()) < _MIN_HEADLINE_WORDS:
            continue
        for _, end in split_title(title):
            lead = title[:end]
            found = _key(lead).endswith(" " + key)
            if not found:
                continue
            kicker = _kicker_of(lead, len(key.split()))
            if kicker.rstrip().endswith(":") or len(kicker.split()) <= len(key.split()):
                return clean_line(heading.text)
    return None


def _kicker_of(lead: str, headline_words: int) -> str:
    """What comes before the last `headline_words` words of `lead` (words as _key counts them)."""
    counted, start = 0, len(lead)
    for match in reversed(list(_WORD.finditer(lead))):
        counted += len(_key(match.group()).split())
        start = match.start()
        if counted >= headline_words:
            break
    return lead[:start]


def split_title(title: str) -> list[tuple[int, int]]:
    """The spans of the parts between separators."""
    spans, start = [], 0
    for match in _SEPARATOR.finditer(title):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(title):
        spans.append((start, len(title)))
    return spans


def _strip_site(title: str, parts: list[tuple[int, int]], sites: Sequence[str]) -> str:
    """The title without its leading or trailing parts that name the site."""
    kept = list(parts)
    while len(kept) > 1 and _is_site(title[slice(*kept[-1])], sites):
        kept.pop()
    while len(kept) > 1 and _is_site(title[slice(*kept[0])], sites):
        kept.pop(0)
    if len(kept) == len(parts) == 2:
        head, tail = (title[slice(*span)] for span in kept)
        if len(tail.split()) <= _SITE_WORDS < len(head.split()):
            kept = kept[:1]
    return title[kept[0][0] : kept[-1][1]].strip() if kept else title


def _is_site(part: str, sites: Sequence[str]) -> bool:
    compact = _compact(part)
    if not compact:
        return False
    return any(
        compact == site
        or (len(part.split()) <= 4 and len(site) >= 4 and site in compact)
        or (len(compact) >= 4 and compact in site)
        for site in sites
    )


def _overlap(first: str, second: str) -> float:
    a, b = set(_key(first).split()), set(_key(second).split())
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _key(value: str) -> str:
    return _NON_WORD.sub(" ", value.casefold()).strip()


def _compact(value: str) -> str:
    return _NON_WORD.sub("", value.casefold())
