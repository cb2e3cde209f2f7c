"""The validated shape of the config files: frozen pydantic models.

Every model forbids unknown keys, so a misspelt option is an error rather than
a setting silently left at its default. Messages raised here are shown to the
user as they are, after `file:line: field:`, so they say what is expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import soupsieve
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from worker import __version__
from worker.config.durations import format_duration, parse_duration
from worker.errors import QuerySyntaxError
from worker.match import parse_query

if TYPE_CHECKING:
    from worker.notify import Target

__all__ = [
    "Config",
    "FetchSettings",
    "NearDuplicateSettings",
    "Rule",
    "Selectors",
    "Settings",
    "Source",
    "SourceDefaults",
]


def _error(message: str) -> PydanticCustomError:
    # The message goes in as context, not as the template, so braces in
    # user text (a regex such as /a{2}/) cannot break the formatting.
    return PydanticCustomError("wirewatch", "{message}", {"message": message})


def _to_duration(value: object) -> object:
    if isinstance(value, timedelta):
        return value
    try:
        # Anything else (1.5, a list) goes in as text to get the same message.
        return parse_duration(value if isinstance(value, str | int) else str(value))
    except ValueError as error:
        raise _error(str(error)) from None


def _between(low: timedelta, high: timedelta) -> AfterValidator:
    def check(value: timedelta) -> timedelta:
        if not low <= value <= high:
            raise _error(
                f"{format_duration(value)} is out of range: must be between "
                f"{format_duration(low)} and {format_duration(high)}"
            )
        return value

    return AfterValidator(check)


_SECOND = timedelta(seconds=1)
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)

# Durations are written "5m" or given in seconds; each use names its bounds.
_DURATION = BeforeValidator(_to_duration)
Interval = Annotated[timedelta, _DURATION, _between(30 * _SECOND, 24 * _HOUR)]


def _as_tuple(value: object) -> object:
    # `tags: russia` is as natural to write as `tags: [russia]`.
    return (value,) if isinstance(value, str) else value


def _non_empty(value: tuple[Any, ...]) -> tuple[Any, ...]:
    if not value:
        raise _error("must not be empty; leave the key out instead")
    return value


def _pattern(regex: str, what: str, rule: str) -> AfterValidator:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise _error(f"{value!r} is not a valid {what}: {rule}")
        return value

    return AfterValidator(check)


_NAME_RULE = "use a-z, 0-9, '-' and '_', starting with a-z or 0-9"
SourceId = Annotated[str, _pattern(r"[a-z0-9-]+", "source id", "use a-z, 0-9 and '-'")]
RuleId = Annotated[str, _pattern(r"[a-z0-9][a-z0-9_-]*", "rule id", _NAME_RULE)]
# Tags share a namespace with source ids in a rule's `sources:`, and are
# compared exactly; lowercase-only keeps `Russia` from silently missing `russia`.
Tag = Annotated[str, _pattern(r"[a-z0-9][a-z0-9_-]*", "tag", _NAME_RULE)]
NonEmptyStr = Annotated[str, Field(min_length=1)]


def _http_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _error(f"{value!r} is not an http:// or https:// URL")
    return value.strip()


HttpUrl = Annotated[str, AfterValidator(_http_url)]

_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])")


def _to_time(value: object) -> object:
    if isinstance(value, time):
        return value
    match = _HHMM.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise _error(f'invalid time {value!r}: use 24-hour HH:MM in quotes, e.g. "08:00"')
    return time(int(match[1]), int(match[2]))


def _sorted_times(value: tuple[time, ...]) -> tuple[time, ...]:
    return tuple(sorted(set(_non_empty(value))))


DigestTimes = Annotated[
    tuple[Annotated[time, BeforeValidator(_to_time)], ...],
    BeforeValidator(_as_tuple),
    AfterValidator(_sorted_times),
]


# A rule's `notify:` and `sources:`: left out means "all", so an empty list
# (which would mean "none") is more likely a mistake than a wish.
Names = Annotated[tuple[NonEmptyStr, ...], BeforeValidator(_as_tuple), AfterValidator(_non_empty)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Selectors(_Model):
    """CSS selectors that turn a listing page into items (``type: html``)."""

    item: NonEmptyStr
    link: NonEmptyStr
    title: NonEmptyStr | None = None
    summary: NonEmptyStr | None = None

    @field_validator("item", "link", "title", "summary")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        # A typo in a selector would otherwise surface only at the first
        # poll, as a source that "finds no items".
        if value is not None:
            try:
                soupsieve.compile(value)
            except soupsieve.SelectorSyntaxError as error:
                first_line = str(error).splitlines()[0]
                raise _error(f"invalid CSS selector {value!r}: {first_line}") from None
        return value


class SourceDefaults(_Model):
    """``defaults:`` of sources.yaml: what a source leaves out."""

    interval: Interval = 5 * _MINUTE
    full_text: bool = True
    robots: bool = True


def _iso_639_1(value: str) -> str:
    code = value.strip().lower()
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise _error(f"{value!r} is not an ISO 639-1 language code such as en, ru or de")
    return code


class Source(_Model):
    """One news source to poll."""

    id: SourceId
    url: HttpUrl
    type: Literal["feed", "html", "auto"] = "auto"
    interval: Interval = 5 * _MINUTE
    full_text: bool = True
    tags: Annotated[tuple[Tag, ...], BeforeValidator(_as_tuple)] = ()
    strip: Annotated[tuple[NonEmptyStr, ...], BeforeValidator(_as_tuple)] = ()
    select: Selectors | None = Field(default=None, validate_default=True)
    name: NonEmptyStr = ""  # replaced by the id when not given; see _fill_defaults
    robots: bool = True
    # The articles' language (ISO 639-1) when the site declares none or a wrong one.
    language: Annotated[str, AfterValidator(_iso_639_1)] | None = None

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        filled = dict(data)
        defaults = (info.context or {}).get("defaults")
        if isinstance(defaults, SourceDefaults):
            for key in ("interval", "full_text", "robots"):
                filled.setdefault(key, getattr(defaults, key))
        if "name" not in filled and isinstance(filled.get("id"), str):
            filled["name"] = filled["id"]
        return filled

    @field_validator("select")
    @classmethod
    def _select_matches_type(
        cls, value: Selectors | None, info: ValidationInfo
    ) -> Selectors | None:
        kind = info.data.get("type")
        if kind == "html" and value is None:
            raise _error('required for type: html, e.g. {item: "article", link: "a"}')
        if kind in ("feed", "auto") and value is not None:
            # `auto` only follows feeds a page links to; selectors would be
            # ignored, which is worse than saying so.
            raise _error("only used with type: html")
        return value


class Rule(_Model):
    """One watch rule: a query, and who hears about its matches and how."""

    id: RuleId
    query: str
    mode: Literal["instant", "digest"] = "instant"
    notify: Names | None = None
    sources: Names | None = None
    max_per_hour: Annotated[int, Field(ge=1)] | None = None
    digest: DigestTimes | None = None

    @field_validator("query")
    @classmethod
    def _parses(cls, value: str) -> str:
        try:
            parse_query(value)
        except QuerySyntaxError as error:
            caret = "\n".join("    " + line for line in error.caret().splitlines())
            raise _error(f"{error.message} at column {error.column}\n{caret}") from None
        return value

    @field_validator("max_per_hour")
    @classmethod
    def _instant_only(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is not None and info.data.get("mode") == "digest":
            raise _error("only applies to mode: instant (digest rules send no instant alerts)")
        return value


class SourcesFile(_Model):
    """The top level of sources.yaml."""

    # Both are validated piece by piece afterwards: a bad default or one
    # broken source must not hide the issues of the other sources.
    defaults: dict[str, Any] | None = None
    sources: list[Any] | None


class RulesFile(_Model):
    """The top level of rules.yaml."""

    rules: list[Any] | None


class FetchSettings(_Model):
    """Limits on every HTTP request wirewatch makes."""

    timeout: Annotated[timedelta, _DURATION, _between(_SECOND, 5 * _MINUTE)] = 20 * _SECOND
    max_bytes: Annotated[int, Field(ge=1000, le=1_000_000_000)] = 10_000_000
    max_redirects: Annotated[int, Field(ge=0, le=10)] = 5
    per_host_concurrency: Annotated[int, Field(ge=1, le=16)] = 2
    per_host_delay: Annotated[timedelta, _DURATION, _between(timedelta(0), _MINUTE)] = _SECOND


class NearDuplicateSettings(_Model):
    """When a second article is the same story as one already alerted."""

    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    window: Annotated[timedelta, _DURATION, _between(_HOUR, 30 * _DAY)] = 3 * _DAY


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _error(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin"
        ) from None
    return value


class Settings(_Model):
    """settings.yaml: everything has a default, so the file may be absent."""

    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    digest: DigestTimes = (time(8, 0),)
    user_agent: NonEmptyStr = f"wirewatch/{__version__}"
    contact: NonEmptyStr | None = None
    fetch: FetchSettings = FetchSettings()
    allow_private_networks: bool = False
    seen_retention: Annotated[timedelta, _DURATION, _between(_DAY, 3650 * _DAY)] = 90 * _DAY
    archive_retention: Annotated[timedelta, _DURATION, _between(_DAY, 365 * _DAY)] = 30 * _DAY
    near_duplicate: NearDuplicateSettings = NearDuplicateSettings()
    tick: Annotated[timedelta, _DURATION, _between(_SECOND, _MINUTE)] = 10 * _SECOND
    delivery_retry_for: Annotated[timedelta, _DURATION, _between(_MINUTE, 7 * _DAY)] = 24 * _HOUR
    # How long work taken by a worker that then vanished (kill -9, power loss)
    # stays reserved before another worker takes it over. Read at start.
    task_lease: Annotated[timedelta, _DURATION, _between(30 * _SECOND, _HOUR)] = 10 * _MINUTE

    @field_validator("task_lease")
    @classmethod
    def _lease_outlasts_a_task(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        # A poll makes up to three requests (robots.txt, the source, a feed
        # it links to); a lease shorter than that would hand a task that is
        # merely slow to a second worker.
        fetch = info.data.get("fetch")
        if isinstance(fetch, FetchSettings) and value < 3 * fetch.timeout:
            raise _error(
                f"{format_duration(value)} is too short: must be at least three times "
                f"fetch.timeout ({format_duration(3 * fetch.timeout)})"
            )
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def http_user_agent(self) -> str:
        """The User-Agent header: site owners see whom to ask about the crawler."""
        return f"{self.user_agent} (+{self.contact})" if self.contact else self.user_agent


@dataclass(frozen=True, slots=True)
class Config:
    """A whole validated config directory.

    A dataclass rather than a pydantic model: it is assembled from parts
    already validated, and notification targets are not ours to re-validate.
    """

    settings: Settings
    sources: tuple[Source, ...]
    rules: tuple[Rule, ...]
    targets: tuple[Target, ...]
    directory: Path
    # sha256 of the four files' bytes: the tick compares it to reload only
    # on change. Empty for a Config built in code.
    fingerprint: str = ""
    _by_id: Mapping[str, Source] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {source.id: source for source in self.sources})

    def source(self, source_id: str) -> Source | None:
        return self._by_id.get(source_id)

    def rules_for(self, source: Source) -> tuple[Rule, ...]:
        """The rules that watch `source`: named by id or by one of its tags, or all sources."""
        names = {source.id, *source.tags}
        return tuple(
            rule
            for rule in self.rules
            if rule.sources is None or not names.isdisjoint(rule.sources)
        )
