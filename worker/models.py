"""The plain data that flows between pipeline stages.

Frozen dataclasses only: each stage takes values and returns new ones, so a
stage can be tested without the ones around it, and Celery tasks pass ids of
these (stored in Redis as JSON), never the objects.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "Article",
    "DeliveryKey",
    "DeliveryKind",
    "DeliveryState",
    "FeedEntry",
    "Field",
    "Health",
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
    language: str | None = None  # as the feed declares it ("en-us"), for `word~`


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


class DeliveryKind(StrEnum):
    ALERT = "alert"  # one alert, to one target
    DIGEST = "digest"  # the alerts of a digest window, to one target
    HEALTH = "health"  # a source's health changed, to an `admin` target


class DeliveryState(StrEnum):
    PENDING = "pending"  # in the outbox, sent at its next attempt
    SENT = "sent"
    FAILED = "failed"  # for good: no more attempts


class Health(StrEnum):
    """A source's health, as `wirewatch status` shows it and admins are told of changes."""

    OK = "ok"
    FAILING = "failing"  # many polls in a row failed
    STALE = "stale"  # no new item for days
    SELECTORS = "selectors"  # the listing selectors found nothing (a redesign)


@dataclass(frozen=True, slots=True)
class DeliveryKey:
    """Which delivery an outbox entry is: (what is sent, to which target).

    Its text is the outbox member and the `ww:delivery:` key suffix:

        {rule}:{article}:{target}              an alert (`subject` is the alert key)
        digest:{window}:{target}               a digest (`subject` is the window's time)
        health:{source}:{millis}:{target}      a health notice
    """

    kind: DeliveryKind
    subject: str
    target_id: str

    @classmethod
    def alert(cls, alert_key: str, target_id: str) -> DeliveryKey:
        return cls(DeliveryKind.ALERT, alert_key, target_id)

    @classmethod
    def digest(cls, window: float, target_id: str) -> DeliveryKey:
        return cls(DeliveryKind.DIGEST, str(int(window)), target_id)

    @classmethod
    def health(cls, source_id: str, now: float, target_id: str) -> DeliveryKey:
        return cls(DeliveryKind.HEALTH, f"{source_id}:{int(now * 1000)}", target_id)

    @classmethod
    def parse(cls, text: str) -> DeliveryKey:
        head, _, rest = text.partition(":")
        subject, _, target_id = rest.rpartition(":")
        if head in (DeliveryKind.DIGEST, DeliveryKind.HEALTH):
            return cls(DeliveryKind(head), subject, target_id)
        subject, _, target_id = text.rpartition(":")
        return cls(DeliveryKind.ALERT, subject, target_id)

    @property
    def window(self) -> float | None:
        """The digest window's time, for a digest."""
        return float(self.subject) if self.kind is DeliveryKind.DIGEST else None

    def __str__(self) -> str:
        if self.kind is DeliveryKind.ALERT:
            return f"{self.subject}:{self.target_id}"
        return f"{self.kind}:{self.subject}:{self.target_id}"
