"""The plain data that flows between pipeline stages.

Frozen dataclasses only: each stage takes values and returns new ones, so a
stage can be tested without the ones around it, and Celery tasks pass ids of
these (stored in Redis as JSON), never the objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "Article",
    "FeedEntry",
    "Field",
    "ParsedFeed",
    "RuleMatch",
    "Span",
]

Field = Literal["title", "summary", "body"]


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a feed or listing page, as the source describes it."""

    guid: str | None
    url: str | None
    title: str
    summary: str  # plain text, markup removed
    content: str  # plain text of the full content the feed carries, often empty
    published: datetime | None  # timezone-aware
    author: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed as parsed; `problem` describes a malformation that was tolerated."""

    title: str | None
    entries: tuple[FeedEntry, ...]
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Article:
    """A normalized article: what rules are matched against and alerts show."""

    id: str
    source_id: str
    url: str
    title: str
    summary: str
    body: str
    published: datetime | None
    author: str | None = None
    language: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["published"] = self.published.isoformat() if self.published else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Article:
        published = data.get("published")
        return cls(
            id=data["id"],
            source_id=data["source_id"],
            url=data["url"],
            title=data["title"],
            summary=data["summary"],
            body=data["body"],
            published=datetime.fromisoformat(published) if published else None,
            author=data.get("author"),
            language=data.get("language"),
        )


@dataclass(frozen=True, slots=True)
class Span:
    """A matched stretch of one field, as offsets into the original field text."""

    field: Field
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """A rule that matched an article, with where its terms occurred."""

    rule_id: str
    spans: tuple[Span, ...] = field(default=())
