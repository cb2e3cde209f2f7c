"""The validated shape of the config files: frozen pydantic models.

Every model forbids unknown keys, so a misspelt option is an error rather than
a setting silently left at its default. Messages raised here are shown to the
user as they are, after `file:line: field:`, so they say what is expected.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

from worker import __version__
from worker.config.durations import format_duration, parse_duration
from worker.errors import QuerySyntaxError
from worker.fetch.politeness import origin_of
from worker.fetch.types import Credentials, FetchLimits
from worker.match import parse_query
from worker.secrets import Secrets

if TYPE_CHECKING:
    from worker.notify import Target

__all__ = [
    "BasicAuth",
    "Between",
    "Config",
    "FetchSettings",
    "NearDuplicateSettings",
    "Rule",
    "Selectors",
    "Settings",
    "Source",
    "SourceDefaults",
    "share_alike_parts",
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


@dataclass(frozen=True, slots=True)
class Between:
    """The range of a duration setting: validates it, and tells the docs what it is."""

    low: timedelta
    high: timedelta

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def _check(self, value: timedelta) -> timedelta:
        if not self.low <= value <= self.high:
            raise _error(
                f"{format_duration(value)} is out of range: must be between "
                f"{format_duration(self.low)} and {format_duration(self.high)}"
            )
        return value


_SECOND = timedelta(seconds=1)
_MINUTE = timedelta(minutes=1)
_HOUR = timedelta(hours=1)
_DAY = timedelta(days=1)

# Durations are written "5m" or given in seconds; each use names its bounds.
_DURATION = BeforeValidator(_to_duration)
Interval = Annotated[timedelta, _DURATION, Between(30 * _SECOND, 24 * _HOUR)]
# An entry published longer ago than this is remembered as seen, never fetched
# or matched. Ten years is, in effect, "alert on the whole archive".
MaxAge = Annotated[timedelta, _DURATION, Between(_HOUR, 3650 * _DAY)]
DEFAULT_MAX_AGE = 7 * _DAY


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
    # Attribute docstrings become field descriptions: the configuration
    # reference in docs/ is generated from them (docs/gen_config_reference.py).
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class Selectors(_Model):
    """CSS selectors that turn a listing page into items (``type: html``)."""

    item: NonEmptyStr
    """Selects each entry of the listing page."""
    link: NonEmptyStr
    """Inside an item: the element whose `href` is the article's link."""
    title: NonEmptyStr | None = None
    """Inside an item: the title's element (default: the link's text)."""
    summary: NonEmptyStr | None = None
    """Inside an item: a summary or teaser, matched until the page itself is fetched."""

    @field_validator("item", "link", "title", "summary")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        # A typo in a selector would otherwise surface only at the first
        # poll, as a source that "finds no items".
        if value is not None:
            # Imported here: soupsieve brings BeautifulSoup and lxml, which
            # only a config with listing sources needs (tests/test_imports.py).
            import soupsieve

            try:
                soupsieve.compile(value)
            except soupsieve.SelectorSyntaxError as error:
                first_line = str(error).splitlines()[0]
                raise _error(f"invalid CSS selector {value!r}: {first_line}") from None
        return value


class SourceDefaults(_Model):
    """``defaults:`` of sources.yaml: what a source leaves out."""

    interval: Interval = 5 * _MINUTE
    """How often each source is polled."""
    full_text: bool = True
    """Fetch each new article's page and extract its main text."""
    robots: bool = True
    """Honour each site's robots.txt."""
    max_age: MaxAge | None = None  # None: settings.yaml's max_age
    """Entries published longer ago than this are not fetched or matched; unset:
    settings.yaml's `max_age`."""

    @field_validator("max_age")
    @classmethod
    def _max_age_within_retention(
        cls, value: timedelta | None, info: ValidationInfo
    ) -> timedelta | None:
        return _within_retention(value, (info.context or {}).get("settings"))


def _check_retention(value: timedelta, retention: timedelta) -> timedelta:
    # An entry is forgotten `seen_retention` after it was seen; were max_age
    # longer, a story still listed in its feed would come back as new and
    # alert a second time.
    if value > retention:
        raise _error(
            f"{format_duration(value)} is longer than seen_retention "
            f"({format_duration(retention)}): entries forgotten while still in the feed "
            "would alert again"
        )
    return value


def _within_retention(value: timedelta | None, settings: object) -> timedelta | None:
    if value is None or not isinstance(settings, Settings):
        return value
    return _check_retention(value, settings.seen_retention)


_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# RFC 9110 token: what a header name may be made of.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Set by the fetcher itself, per request: a source that set them could
# break conditional GET, decompression limits or the connection.
_RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "accept-encoding", "te"}
)


def _header_name(name: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise _error(f"{name!r} is not an HTTP header name")
    if name.lower() in _RESERVED_HEADERS:
        raise _error(f"{name} is set by wirewatch itself")
    return name


def _fill_placeholders(text: str, environ: Mapping[str, str], filled: set[str]) -> str:
    """`text` with each `${NAME}` taken from `environ`; the values taken go into `filled`."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not _ENV_NAME.fullmatch(name):
            raise _error(f"invalid ${{{name}}}: expected ${{NAME}} of letters, digits and _")
        if name not in environ:
            raise _error(f"environment variable {name} is not set")
        filled.add(environ[name])
        return environ[name]

    return _PLACEHOLDER.sub(replace, text)


def _header_value(value: str) -> str:
    if any(ch in value for ch in "\r\n\x00"):
        raise _error("a header value cannot hold a line break or NUL")
    return value


class BasicAuth(_Model):
    """HTTP Basic credentials for one source; write secrets as `${NAME}`."""

    username: str
    """The user name (`${NAME}` is filled from the environment)."""
    password: str
    """The password (`${NAME}` is filled from the environment)."""


def _iso_639_1(value: str) -> str:
    code = value.strip().lower()
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise _error(f"{value!r} is not an ISO 639-1 language code such as en, ru or de")
    return code


class Source(_Model):
    """One news source to poll."""

    id: SourceId
    """Unique; lowercase letters, digits and `-`. Rules, commands and logs use it."""
    url: HttpUrl
    """The feed, or the page to read (http or https)."""
    type: Literal["feed", "html", "auto"] = "auto"
    """`feed`: RSS 0.9x/1.0/2.0, Atom or JSON Feed. `html`: a listing page read with
    `select`. `auto`: a feed, or an HTML page that links to one with
    `<link rel="alternate">`."""
    interval: Interval = 5 * _MINUTE
    """How often to poll it."""
    full_text: bool = True
    """Fetch each new article's page and extract its main text; `false` matches on
    what the feed itself says (title and summary)."""
    tags: Annotated[tuple[Tag, ...], BeforeValidator(_as_tuple)] = ()
    """Names that rules can use in `sources:` instead of listing ids."""
    strip: Annotated[tuple[NonEmptyStr, ...], BeforeValidator(_as_tuple)] = ()
    """Text to drop from this source's articles (donation appeals, boilerplate),
    so that it never matches a rule."""
    select: Selectors | None = Field(default=None, validate_default=True)
    """CSS selectors that find the entries of a listing page; required with
    `type: html`, refused otherwise."""
    name: NonEmptyStr | None = None  # None: see Config.source_name
    """Shown in alerts, digests, `status` and `alerts`; unset: the feed's or
    page's own title, once a poll has read it, else the id."""
    robots: bool = True
    """Honour the site's robots.txt."""
    max_age: MaxAge | None = None  # None: settings.yaml's max_age; see Config.max_age
    """Entries published longer ago than this are remembered as seen but neither
    fetched nor matched; unset: the `defaults:` value, else settings.yaml's `max_age`."""
    headers: Mapping[
        Annotated[str, AfterValidator(_header_name)],
        Annotated[str, AfterValidator(_header_value)],
    ] = Field(default={})
    """HTTP headers sent with every request to this source's own host (scheme,
    host and port of `url`), never elsewhere; `${NAME}` is filled from the
    environment and shown as `****`."""
    auth: BasicAuth | None = None
    """HTTP Basic credentials, sent like `headers`: to this source's host only."""

    # What `headers` and `auth` become once `${NAME}` is filled in; set by
    # _fill_credentials, never by the file.
    _credentials: Credentials | None = PrivateAttr(default=None)
    _secrets: Secrets = PrivateAttr(default_factory=Secrets)

    @property
    def credentials(self) -> Credentials | None:
        """The headers (and Basic auth) to send to this source's origin, secrets filled in."""
        return self._credentials

    @property
    def secrets(self) -> Secrets:
        """The values this source took from `${NAME}`."""
        return self._secrets

    @model_validator(mode="after")
    def _fill_credentials(self, info: ValidationInfo) -> Source:
        if not self.headers and self.auth is None:
            return self
        environ: Mapping[str, str] = (info.context or {}).get("environ", {})
        filled: set[str] = set()
        headers = [
            (name, _fill_placeholders(value, environ, filled))
            for name, value in self.headers.items()
        ]
        if self.auth is not None:
            user = _fill_placeholders(self.auth.username, environ, filled)
            password = _fill_placeholders(self.auth.password, environ, filled)
            if ":" in user:
                raise _error("auth: a Basic user name cannot hold ':'")
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            if any(name.lower() == "authorization" for name, _ in headers):
                raise _error("give either auth or an Authorization header, not both")
            headers.append(("Authorization", f"Basic {token}"))
            filled.add(token)
        for _, value in headers:
            _header_value(value)
        self._credentials = Credentials(origin_of(self.url), tuple(headers))
        self._secrets = Secrets(frozenset(filled))
        return self

    language: Annotated[str, AfterValidator(_iso_639_1)] | None = None
    """The articles' language (ISO 639-1, such as `en` or `ru`), for `word~` rules,
    when the site declares none or a wrong one; unset: declared by the page or feed,
    else detected."""

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any, info: ValidationInfo) -> Any:
        if not isinstance(data, Mapping):
            return data
        filled = dict(data)
        defaults = (info.context or {}).get("defaults")
        if isinstance(defaults, SourceDefaults):
            for key in ("interval", "full_text", "robots", "max_age"):
                filled.setdefault(key, getattr(defaults, key))
        return filled

    @field_validator("max_age")
    @classmethod
    def _max_age_within_retention(
        cls, value: timedelta | None, info: ValidationInfo
    ) -> timedelta | None:
        return _within_retention(value, (info.context or {}).get("settings"))

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


def share_alike_parts(sources: Sequence[Source]) -> None:
    """Let `sources` share what pydantic gives each a copy of, where their values
    are equal: the set of fields given, the private state of a source with no
    credentials, an empty `headers`.

    Every worker holds every source: at 10,000 sources these copies are 11 MB
    of the 17 the sources take, in each worker. Nothing changes what a source
    says or compares equal to: the shared objects are never written (the
    models are frozen; only validation writes private state, and it is over).
    """
    fields_given: dict[frozenset[str], set[str]] = {}
    plain_private: dict[str, Any] | None = None
    no_headers: Mapping[str, str] | None = None
    for source in sources:
        given = source.__pydantic_fields_set__
        object.__setattr__(
            source, "__pydantic_fields_set__", fields_given.setdefault(frozenset(given), given)
        )
        if source.credentials is None and not source.secrets.values:
            plain_private = plain_private or source.__pydantic_private__
            object.__setattr__(source, "__pydantic_private__", plain_private)
        if not source.headers:
            no_headers = source.headers if no_headers is None else no_headers
            source.__dict__["headers"] = no_headers


class Rule(_Model):
    """One watch rule: a query, and who hears about its matches and how."""

    id: RuleId
    """Unique; lowercase letters, digits, `-` and `_`. Every alert's title starts with it."""
    query: str
    """What to look for, in the [rule language](rules.md). Write it in single quotes,
    so that the double quotes of phrases stay in it."""
    mode: Literal["instant", "digest"] = "instant"
    """`instant`: an alert per article as soon as it is seen. `digest`: collected, and
    sent as one message per target at the digest times."""
    notify: Names | None = None
    """Tags of the targets in apprise.yml to alert (default: every target but those
    tagged only `admin`)."""
    sources: Names | None = None
    """Source ids or tags from sources.yaml to watch (default: every source)."""
    max_per_hour: Annotated[int, Field(ge=1)] | None = None
    """Instant rules only: alerts beyond this many in an hour go to the next digest
    (default: no limit)."""
    digest: DigestTimes | None = None
    """When this rule's digest is sent (default: settings.yaml's `digest`)."""

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

    timeout: Annotated[timedelta, _DURATION, Between(_SECOND, 5 * _MINUTE)] = 20 * _SECOND
    """The longest a whole request may take, connecting included."""
    max_bytes: Annotated[int, Field(ge=1000, le=1_000_000_000)] = 10_000_000
    """The largest response, in bytes, also after decompression."""
    max_redirects: Annotated[int, Field(ge=0, le=10)] = 5
    """Redirects followed per request."""
    per_host_concurrency: Annotated[int, Field(ge=1, le=16)] = 2
    """Requests in flight to one host, across all workers."""
    per_host_delay: Annotated[timedelta, _DURATION, Between(timedelta(0), _MINUTE)] = _SECOND
    """Time between the starts of two requests to one host, across all workers."""


class NearDuplicateSettings(_Model):
    """When a second article is the same story as one already alerted."""

    threshold: Annotated[float, Field(gt=0.0, le=1.0)] = 0.8
    """How similar (the share of three-word sequences in common) an article must be
    to one already alerted to count as the same story."""
    window: Annotated[timedelta, _DURATION, Between(_HOUR, 30 * _DAY)] = 3 * _DAY
    """How far back alerted articles are compared."""


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _error(
            f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin"
        ) from None
    return value


# The shortest delivery lease (`Settings.delivery_lease`).
MIN_DELIVERY_LEASE = 120.0


class Settings(_Model):
    """settings.yaml: everything has a default, so the file may be absent."""

    timezone: Annotated[str, AfterValidator(_zone)] = "UTC"
    """The IANA time zone of digest times and of the times shown in alerts, such as
    `Europe/Berlin`."""
    digest: DigestTimes = (time(8, 0),)
    """When digests are sent, unless a rule has `digest:` times of its own."""
    user_agent: NonEmptyStr = f"wirewatch/{__version__}"
    """The User-Agent header of every request."""
    contact: NonEmptyStr | None = None
    """An email address or URL added to the User-Agent, so that a site owner can
    reach you instead of blocking you."""
    fetch: FetchSettings = FetchSettings()
    """Limits on every request."""
    allow_private_networks: bool = False
    """Let sources, article links and notification targets use private, loopback and
    link-local addresses (an intranet site, a webhook on this machine). Refused
    otherwise, also after redirects, so that a feed cannot make wirewatch probe
    your network."""
    seen_retention: Annotated[timedelta, _DURATION, Between(_DAY, 3650 * _DAY)] = 90 * _DAY
    """How long an article is remembered as seen, so that it never alerts twice."""
    max_age: MaxAge = DEFAULT_MAX_AGE
    """A new entry published longer ago than this (unknown or future dates count as
    now) is remembered as seen and counted in `status`, but neither fetched nor
    matched: a new source, or a feed that republishes its archive, alerts on news,
    not on last year's stories. No longer than `seen_retention`."""
    archive_retention: Annotated[timedelta, _DURATION, Between(_DAY, 365 * _DAY)] = 30 * _DAY
    """How long article text is kept for `wirewatch backtest`."""
    near_duplicate: NearDuplicateSettings = NearDuplicateSettings()
    """The same story from several sources alerts once per rule: the later copies are
    listed as "also reported by" on the first alert."""
    tick: Annotated[timedelta, _DURATION, Between(_SECOND, _MINUTE)] = 10 * _SECOND
    """How often the scheduler looks for sources that are due. A change needs a restart."""
    delivery_retry_for: Annotated[timedelta, _DURATION, Between(_MINUTE, 7 * _DAY)] = 24 * _HOUR
    """How long a notification that fails is retried, with backoff, before it is
    given up and shown as failed by `wirewatch status` and `wirewatch alerts`."""
    # Read at start: the Celery app's visibility timeout is set from it.
    task_lease: Annotated[timedelta, _DURATION, Between(30 * _SECOND, _HOUR)] = 10 * _MINUTE
    """How long a task held by a worker that died (kill -9, out of memory, power loss)
    waits before another worker takes it over; at least three times `fetch.timeout`.
    Shorter recovers sooner, but a task still running when it ends runs twice. A
    change needs a restart."""

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

    @field_validator("max_age")
    @classmethod
    def _max_age_within_retention(cls, value: timedelta, info: ValidationInfo) -> timedelta:
        retention = info.data.get("seen_retention")
        return _check_retention(value, retention) if retention else value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def http_user_agent(self) -> str:
        """The User-Agent header: site owners see whom to ask about the crawler."""
        return f"{self.user_agent} (+{self.contact})" if self.contact else self.user_agent

    @property
    def fetch_limits(self) -> FetchLimits:
        """What every fetch of sources and pages may take."""
        return FetchLimits(
            timeout=self.fetch.timeout.total_seconds(),
            max_bytes=self.fetch.max_bytes,
            max_redirects=self.fetch.max_redirects,
            user_agent=self.http_user_agent,
            allow_private_networks=self.allow_private_networks,
            per_host_concurrency=self.fetch.per_host_concurrency,
            per_host_delay=self.fetch.per_host_delay.total_seconds(),
        )

    @property
    def delivery_lease(self) -> float:
        """How long a delivery handed to a task waits before it is taken again.

        Half the task lease, so a deliver task that vanished with its worker is
        retried before Celery would even re-deliver the task itself; but never
        under two minutes, well over the longest send (a name lookup of 10 s at
        most, Apprise's connect and read timeouts) plus recording it, so a slow
        send is never taken again while it is still going.
        """
        return max(self.task_lease.total_seconds() / 2, MIN_DELIVERY_LEASE)


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
    _secrets: Secrets = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {source.id: source for source in self.sources})
        # Once: every log line of a worker asks for them (service.log_masking),
        # and gathering them costs a walk over every source (60 ms at 10,000).
        secrets = Secrets.of(
            *(source.secrets.values for source in self.sources),
            *(target.secrets.values for target in self.targets),
        )
        object.__setattr__(self, "_secrets", secrets)

    def source(self, source_id: str) -> Source | None:
        return self._by_id.get(source_id)

    def source_name(self, source_id: str, title: str | None) -> str:
        """How alerts, digests and commands name a source: its `name:`, else
        `title` (the feed's or page's own, from the source's last poll), else its id."""
        source = self._by_id.get(source_id)
        if source is not None and source.name:
            return source.name
        return title or source_id

    @property
    def secrets(self) -> Secrets:
        """Every value the config took from `${NAME}`: to be shown as `****` anywhere."""
        return self._secrets

    def max_age(self, source: Source) -> timedelta:
        """How old an entry of `source` may be and still be fetched and matched."""
        return source.max_age if source.max_age is not None else self.settings.max_age

    def rules_for(self, source: Source) -> tuple[Rule, ...]:
        """The rules that watch `source`: named by id or by one of its tags, or all sources."""
        names = {source.id, *source.tags}
        return tuple(
            rule
            for rule in self.rules
            if rule.sources is None or not names.isdisjoint(rule.sources)
        )
