"""Every exception wirewatch raises on purpose, in one hierarchy.

Normal outcomes (a feed that did not change, an article that matched no rule)
are return values, never exceptions. These are for input that cannot be used.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ConfigError",
    "ConfigIssue",
    "DeliveryError",
    "ExtractBudgetError",
    "ExtractError",
    "FetchError",
    "QuerySyntaxError",
    "WirewatchError",
]


class WirewatchError(Exception):
    """Base class of every error wirewatch raises deliberately."""


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in one config file, located for a human to fix."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(WirewatchError):
    """The config cannot be used; carries every issue found, not just the first."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(issue) for issue in issues))


class QuerySyntaxError(WirewatchError):
    """A rule query that does not parse, with the 1-based column of the problem."""

    def __init__(self, message: str, query: str, column: int) -> None:
        self.message = message
        self.query = query
        self.column = column
        super().__init__(f"{message} at column {column}")

    def caret(self) -> str:
        """The query with a caret under the offending column."""
        return f"{self.query}\n{' ' * (self.column - 1)}^"


class FetchError(WirewatchError):
    """A URL could not be fetched; `kind` is a short stable label for metrics and status."""

    def __init__(
        self, url: str, kind: str, message: str, *, retry_after: float | None = None
    ) -> None:
        self.url = url
        self.kind = kind
        self.message = message
        # Seconds the server asked us to wait (429/503 Retry-After), if it did.
        self.retry_after = retry_after
        super().__init__(f"{kind}: {message} ({url})")


class ExtractError(WirewatchError):
    """A page was fetched but holds no article text."""


class ExtractBudgetError(ExtractError):
    """Reading a page took more CPU time or memory than one page may cost.

    The page counts as unextractable: its entry is matched on the feed's own
    text, and the reason is counted under `kind`.
    """

    kind = "over-budget"

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"page {reason}")


class DeliveryError(WirewatchError):
    """A notification target could not be reached or refused the message."""
