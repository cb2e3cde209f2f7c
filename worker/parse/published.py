"""When an article was first published, from the times its page states.

Publication keys (article:published_time, JSON-LD datePublished, microdata)
usually agree. When they do not, a template has put the modification time
under one of them: the page's visible date (htmldate's reading of the page)
settles which, and without it the earliest stated time that is not a stated
modification time wins. A time stamp in UTC does not say on which day the
page's readers saw it published: when the page also writes the same instant
in local time, that offset is kept. (Asking htmldate for the shown day of
every UTC stamp got one more page of trafilatura-eval right and cost a fifth
of the extraction time.)

A date in the page's address (/2019/01/01/slug) is written by the CMS when
the article is first published and is never moved by an update, so it is
evidence too: a UTC stamp a day off the address's day is the same
publication seen from the page's time zone, and without any publication key
the address's day beats a generic date or a modification time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from worker.parse.dates import earliest

__all__ = ["DateEvidence", "choose_published"]

# A stated publication this close to a stated modification is that modification.
_SAME_EDIT = timedelta(hours=1)
# UTC offsets in use on Earth, in whole hours.
_OFFSETS = range(-12, 15)
# UTC hours that are a local midnight in the offsets +1 to +3 (Europe, Africa, the
# Middle East); further east, a stamp on the hour is as often a scheduled time.
_EAST_MIDNIGHTS = frozenset({21, 22, 23})


@dataclass(frozen=True, slots=True)
class DateEvidence:
    """The times a page states, each in the offset the page wrote."""

    specific: Sequence[datetime]  # under publication keys
    generic: Sequence[datetime]  # under keys that usually mean publication ("date", <time>)
    modified: Sequence[datetime]
    in_url: date | None = None  # the day the page's address names (/2024/05/01/)


def choose_published(
    evidence: DateEvidence,
    visible: Callable[[], datetime | None],
    beside_headline: Callable[[], datetime | None] = lambda: None,
) -> datetime | None:
    """The publication time; `visible` reads the page's shown date (costly, called lazily),
    `beside_headline` the day written next to the headline (cheap, asked for UTC stamps)."""
    seen: list[datetime | None] = []

    def shown() -> datetime | None:
        if not seen:
            seen.append(visible())
        return seen[0]

    specific = _not_modified(list(evidence.specific), evidence.modified)
    days = {value.date() for value in specific}
    if len(days) == 1:
        chosen = specific[0]
    elif days:
        shown_at = shown()
        if shown_at is not None and shown_at.date() in days:
            chosen = min(v for v in specific if v.date() == shown_at.date())
        else:
            chosen = earliest(specific) or specific[0]
    else:
        # No publication key: a generic one, else the date the page shows.
        chosen_generic = earliest(evidence.generic)
        if chosen_generic is None:
            return _url_day(shown() or earliest(evidence.modified), evidence.in_url, weak=True)
        chosen = chosen_generic
    local = _local_twin(chosen, [*evidence.specific, *evidence.generic, *evidence.modified])
    local = _midnight_east(local)
    if evidence.in_url is None and local.utcoffset() == timedelta(0):
        # A UTC stamp does not say which day the page's readers saw; the day the
        # page writes by its headline does.
        written = beside_headline()
        if written is not None:
            return _url_day(local, written.date(), weak=False)
    return _url_day(local, evidence.in_url, weak=not specific)


def _is_modification(value: datetime, modified: Sequence[datetime]) -> bool:
    return any(abs(value - stamp) < _SAME_EDIT for stamp in modified)


def _not_modified(specific: list[datetime], modified: Sequence[datetime]) -> list[datetime]:
    """The publication times that are not a stated modification, when any are left:
    a later time under a publication key that equals the modification time is it."""
    kept = [v for v in specific if not _is_modification(v, modified)]
    return kept if kept and min(kept) < max(specific) else specific


def _local_twin(chosen: datetime, stamps: Sequence[datetime]) -> datetime:
    """The same instant as the page also writes it in local time, when it does.

    "2023-11-09T05:30:59Z" and "2023-11-08 23:30:59" on one page are one
    instant: the second, off by whole hours to the second, tells the page's
    offset (-6 h). A time written without an offset reads as UTC here, so
    the wall clocks are compared, not the offsets.
    """
    # On the hour, any two stamps look alike: only minutes and seconds identify.
    if chosen.utcoffset() != timedelta(0) or (chosen.minute, chosen.second) == (0, 0):
        return chosen
    for stamp in stamps:
        if (stamp.minute, stamp.second) != (chosen.minute, chosen.second):
            continue
        hours = (stamp.replace(tzinfo=None) - chosen.replace(tzinfo=None)) / timedelta(hours=1)
        if hours and hours == int(hours) and int(hours) in _OFFSETS:
            return chosen.astimezone(timezone(timedelta(hours=int(hours))))
    return chosen


def _midnight_east(chosen: datetime) -> datetime:
    """A day's midnight east of Greenwich, when a UTC stamp on the hour just before
    midnight is one: a CMS that stores a publication day as local midnight and
    writes it in UTC gives "2021-11-04T23:00:00Z" for 5 November in Berlin."""
    if chosen.utcoffset() != timedelta(0) or (chosen.minute, chosen.second, chosen.microsecond) != (
        0,
        0,
        0,
    ):
        return chosen
    if chosen.hour not in _EAST_MIDNIGHTS:
        return chosen
    return chosen.astimezone(timezone(timedelta(hours=24 - chosen.hour)))


def _url_day(chosen: datetime | None, in_url: date | None, *, weak: bool) -> datetime | None:
    """`chosen` seen on the day the page's address names, when the two can be reconciled.

    A stamp in UTC one day off the address's day is re-expressed in the
    smallest offset that puts it on that day (the instant is kept; the page's
    readers saw that day). `weak` evidence (no publication key) further than
    that yields to the address's day.
    """
    if in_url is None or chosen is None or chosen.date() == in_url:
        return chosen if chosen is not None or in_url is None else _midnight(in_url)
    if chosen.utcoffset() == timedelta(0) and abs((chosen.date() - in_url).days) == 1:
        for hours in sorted(_OFFSETS, key=abs):
            local = chosen.astimezone(timezone(timedelta(hours=hours)))
            if local.date() == in_url:
                return local
    return _midnight(in_url) if weak else chosen


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)
