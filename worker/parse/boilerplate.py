"""Paragraphs that sit inside article containers but are not the article.

Appeals for money or sign-ups, cookie notices, "read more" links, share
prompts and the page headline repeated above the body: trafilatura keeps them
because they are inside the article element, and they would otherwise trigger
rules and fill alert snippets. Photo galleries and video players are removed
from the page before extraction: their captions, counters and menus
("captions settings", "descriptions off, selected") read like short paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from worker.parse.text import clean_line

__all__ = ["clean_text", "drop_media"]

# By class or id: the players of video.js, JW Player, Plyr and MediaElement
# (their menus read "captions settings", "descriptions off, selected"), and
# photo galleries, slideshows, carousels and lightboxes.
_PLAYER = re.compile(r"vjs-|video-js|video-?player|\bjw-|jwplayer|plyr|mejs", re.IGNORECASE)
_GALLERY = re.compile(r"gallery|slideshow|carousel|lightbox", re.IGNORECASE)
_MEDIA_TAGS = ("div", "ul", "ol", "section", "figure", "aside")
# A gallery is pictures with captions: at least two, with this much text each at
# most. A "gallery" or "slideshow" with more text is an article told in pictures.
_GALLERY_TEXT_PER_IMAGE = 160
_GALLERY_MAX_TEXT = 800

# Written in lower case and matched against the paragraph lower-cased once:
# IGNORECASE made this the costliest pattern of the whole cleanup.
_APPEAL = re.compile(
    r"""
    ^support\ (?:the\ |our\ )?\S+(?:\ \S+){0,3}!?$             # "Support The Moscow Times!"
    | \b(?:donate|donation|make\ a\ contribution|contribute\ (?:now|today))\b
    | \bbecome\ a\ (?:member|patron|supporter|subscriber)\b
    | \bsupport\ (?:independent|our|quality)\ (?:journalism|reporting|work)\b
    | \b(?:we|this\ (?:site|website))\ uses?\ cookies\b
    | \b(?:accept|allow|manage)\ (?:all\ )?cookies\b
    | \bcookie\ (?:policy|settings|preferences|consent)\b
    | \bsubscribe\ to\ (?:continue|keep)\ reading\b
    | \balready\ a\ subscriber\b
    | \bthis\ (?:article|content)\ is\ (?:only\ )?(?:available|reserved)
      \ (?:to|for)\ (?:subscribers|members)\b
    | \b(?:sign\ up|subscribe|signing\ up)\b.*\bnewsletters?\b
    | \bnewsletters?\b.*\b(?:sign\ up|subscribe)\b
    | \bdelivered\ (?:to|through)\ your\ (?:inbox|letterbox|door)\b
    | \blike\ this\ story\b | \bshare\ it\ with\ a\ friend\b | \btell\ us\ what\ you\ think\b
    | \bhave\ a\ tip\?
    | \bfollow\ (?:us|\w+(?:\ \w+)?)\ on\ (?:twitter|facebook|instagram)\b
    """,
    re.VERBOSE,
)
# Every alternative of _APPEAL contains one of these: most paragraphs contain
# none, and a substring test is far cheaper than trying the pattern at every position.
_APPEAL_WORDS = (
    "support", "donat", "contribut", "become a", "cookie", "subscri", "members",
    "newsletter", "delivered", "like this story", "share it with", "tell us what",
    "have a tip", "twitter", "facebook", "instagram",
)  # fmt: skip
# Whole short lines that label or link rather than say something.
_LABEL = re.compile(
    r"""
    ^(?:read\ (?:more|also|next)|also\ read|more\ on\ this(?:\ story|\ topic)?
       |most\ (?:read|popular)|trending(?:\ now)?|top\ stories|editor'?s\ picks|further\ reading
       |related(?:\ (?:post|posts|articles?|stories|coverage))?|see\ (?:more|also)
       |more|also|you\ may\ also\ like|don'?t\ miss|recommended|advertisement|tags?|comments?
       |share(?:\ this(?:\ article|\ story)?)?)\s*(?:[:.…|]|$)
    | ^also\ on\ \S+\.\w+\b
    | ^(?:copyright\b|©|ⓒ) | \ball\ rights\ reserved\b
    | ^\(?(?:reporting|writing|editing)\ by\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Appeals are a few sentences; an article paragraph that mentions donations is longer.
_MAX_WORDS = 60
# The headline appears within the first few paragraphs when it appears at all.
_HEADLINE_ZONE = 3
_NON_WORD = re.compile(r"\W+")


def clean_text(raw: str, strip: Sequence[str] = (), titles: Iterable[str] = ()) -> str:
    """Article text with appeals, labels, repeated headline and `strip` strings removed."""
    needles = [_fold(needle) for needle in strip if needle.strip()]
    headlines = {key for key in map(_key, titles) if key}
    kept = []
    for index, paragraph in enumerate(_strip_all(_paragraphs(raw), needles)):
        if index < _HEADLINE_ZONE and _is_headline(paragraph, headlines):
            continue
        if not _is_boilerplate(paragraph):
            kept.append(paragraph)
    return "\n\n".join(kept)


def drop_media(tree: Any) -> None:
    """Remove video players and photo galleries from a parsed page, in place.

    A Python pass with one regular expression: an XPath with case folding over
    every element cost more than trafilatura's whole extraction.
    """
    found = []
    for element in tree.iter(_MEDIA_TAGS):
        marks = f"{element.get('class') or ''} {element.get('id') or ''}"
        if len(marks) < 4:
            continue
        if _PLAYER.search(marks) or (_GALLERY.search(marks) and _is_gallery(element)):
            found.append(element)
    for element in found:
        if element.getparent() is not None:
            element.drop_tree()  # keeps the tail text, which belongs to the parent


def _is_gallery(element: Any) -> bool:
    images = len(element.xpath(".//img"))
    text = len(" ".join(element.text_content().split()))
    return images >= 2 and text <= min(_GALLERY_MAX_TEXT, images * _GALLERY_TEXT_PER_IMAGE)


def _paragraphs(raw: str) -> Iterator[str]:
    for line in raw.splitlines():
        paragraph = clean_line(line)
        if paragraph:
            yield paragraph


def _strip_all(paragraphs: Iterable[str], needles: list[str]) -> Iterator[str]:
    for paragraph in paragraphs:
        folded = _fold(paragraph)
        if any(folded.startswith(needle) for needle in needles):
            continue
        for needle in needles:
            paragraph = _remove(paragraph, needle)
        if paragraph:
            yield paragraph


def _remove(paragraph: str, needle: str) -> str:
    pattern = r"\s*".join(re.escape(word) for word in needle.split())
    return clean_line(re.sub(pattern, " ", paragraph, flags=re.IGNORECASE))


def _fold(value: str) -> str:
    return " ".join(value.casefold().split())


def _key(value: str) -> str:
    return _NON_WORD.sub(" ", value.casefold()).strip()


def _is_headline(paragraph: str, headlines: set[str]) -> bool:
    key = _key(paragraph)
    # <title> often appends " | Site name": a long enough prefix counts too.
    return bool(key) and any(key == h or (len(key) > 20 and key in h) for h in headlines)


def _is_boilerplate(paragraph: str) -> bool:
    if len(paragraph.split()) > _MAX_WORDS:
        return False
    return _is_appeal(paragraph.lower()) or bool(_LABEL.search(paragraph))


def _is_appeal(lowered: str) -> bool:
    return any(word in lowered for word in _APPEAL_WORDS) and bool(_APPEAL.search(lowered))
