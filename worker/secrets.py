"""Values that came from `${NAME}` in the config, and hiding them in text.

Every value filled in from the environment is a secret (docs/security.md, "Secrets"),
wherever it stands in a URL or header: user, password, host, path, query.
Text that may quote such a URL (a target's shown URL, a send error, a log
line, a stored delivery record) passes `Secrets.mask` before anyone sees it.
A secret is also found in the forms a URL writes it in (percent-encoded,
`+` for spaces), since Apprise and HTTP clients re-encode what they quote.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

__all__ = ["MASK", "Secrets", "mask_url_password"]

MASK = "****"


@dataclass(frozen=True, slots=True)
class Secrets:
    """The secret values of one config; `mask` replaces each wherever it appears."""

    values: frozenset[str] = frozenset()
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        forms = {
            form
            for value in self.values
            for form in (value, quote(value, safe=""), quote(value, safe="/:"), quote_plus(value))
            if form
        }
        # Longest first, so that a secret holding another is masked whole.
        ordered = sorted(forms, key=len, reverse=True)
        pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None
        object.__setattr__(self, "_pattern", pattern)

    def __repr__(self) -> str:
        return f"Secrets({len(self.values)} values)"

    @classmethod
    def of(cls, *groups: Iterable[str]) -> Secrets:
        return cls(frozenset(value for group in groups for value in group if value))

    def __or__(self, other: Secrets) -> Secrets:
        return Secrets(self.values | other.values)

    def mask(self, text: str) -> str:
        """`text` with every secret (and its URL-encoded forms) shown as `****`."""
        if self._pattern is None or not text:
            return text
        return self._pattern.sub(MASK, text)


_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@\s:]*:)(?P<password>[^/@\s]+)@")


def mask_url_password(text: str) -> str:
    """`text` with the password of every `scheme://user:password@` in it shown as `****`
    (for URLs from the environment such as REDIS_URL, whose parts are not placeholders)."""
    return _USERINFO.sub(lambda m: f"{m.group('head')}{MASK}@", text)
