"""Time stamps as pages write them, read into aware datetimes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

__all__ = ["date_in_url", "earliest", "parse_date"]

# Before this, a "publication date" is a template's placeholder or a typo.
_FIRST_CREDIBLE_YEAR = 1995
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?$")
# A whole day in an address's path: /2019/01/01/, /2017/7/12/, -2022-05-04-.
_PATH_DAY = re.compile(r"(?<!\d)((?:19|20)\d\d)[/_-](\d{1,2})[/_-](\d{1,2})(?!\d)")


def parse_date(value: str | None) -> datetime | None:
    """An aware datetime in the offset the page states (UTC when it states none).

    The offset is kept so that the date a reader of the page sees stays
    recoverable; callers convert to UTC where they compare or store.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    parsed = _iso(text) or _rfc2822(text) or _compact(text)
    if parsed is None or parsed.year < _FIRST_CREDIBLE_YEAR:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def date_in_url(url: str) -> date | None:
    """The day a page's address names in its path, if it names a whole one."""
    match = _PATH_DAY.search(urlsplit(url).path)
    if match is None:
        return None
    try:
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        return None
    return day if day.year >= _FIRST_CREDIBLE_YEAR else None


def earliest(values: Iterable[datetime | None]) -> datetime | None:
    """The earliest of these times: a page that states both its first publication
    and an update under "published" keys means the first one."""
    found = [value for value in values if value is not None]
    return min(found, key=lambda value: value.astimezone(UTC)) if found else None


def _iso(text: str) -> datetime | None:
    try:  # since Python 3.11 this reads "Z", a space for "T" and basic formats
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _rfc2822(text: str) -> datetime | None:
    # Some sites put feed-style dates in their meta tags.
    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _compact(text: str) -> datetime | None:
    # parsely and sailthru sometimes write 20240501 or 20240501T1405.
    match = _COMPACT.match(text)
    if not match:
        return None
    try:
        year, month, day, hour, minute, second = (int(part or 0) for part in match.groups())
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
