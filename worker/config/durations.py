"""Durations as people write them in config files: ``30s``, ``5m``, ``1h30m``, ``90d``."""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+)\s*([wdhms])")
# The whole text must be parts in falling unit order ("1h30m", not "30m1h"),
# so a typo such as "1h1h" is an error instead of a silent sum.
_WHOLE = re.compile(r"(?:\d+\s*w)?\s*(?:\d+\s*d)?\s*(?:\d+\s*h)?\s*(?:\d+\s*m)?\s*(?:\d+\s*s)?")

_HINT = "use a number with a unit, e.g. 30s, 5m, 2h, 1d or 1h30m"


def parse_duration(text: str | int) -> timedelta:
    """Parse ``"1h30m"``-style text (units w, d, h, m, s) or a number of seconds.

    Raises ValueError with a message fit to show the user as is.
    """
    # bool is an int subclass; `full_text: yes` pasted into `interval` is a typo.
    if isinstance(text, bool):
        raise ValueError(f"invalid duration {text!r}: {_HINT}")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"invalid duration {text}: must not be negative")
        return timedelta(seconds=text)
    if not isinstance(text, str):
        raise ValueError(f"invalid duration {text!r}: {_HINT}")
    cleaned = text.strip().lower()
    if cleaned.isdigit():
        return timedelta(seconds=int(cleaned))
    if not cleaned or not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"invalid duration {text!r}: {_HINT}")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in _PART.findall(cleaned))
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest text `parse_duration` reads back as `value` (whole seconds)."""
    seconds = int(value.total_seconds())
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    parts = []
    # Weeks are left out: "14d" reads better than "2w" in limits and messages.
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)
