"""The frozen data a fetch takes and gives back, and the error of a busy host."""

from __future__ import annotations

from dataclasses import dataclass

from worker import __version__
from worker.errors import FetchError

__all__ = [
    "DEFAULT_USER_AGENT",
    "Credentials",
    "FetchLimits",
    "FetchResult",
    "HostBusy",
    "Validators",
]

DEFAULT_USER_AGENT = f"wirewatch/{__version__} (+https://github.com/wirewatch/wirewatch)"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    timeout: float = 20.0  # the total deadline of one request, redirects included
    connect_timeout: float = 10.0
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    allow_private_networks: bool = False
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    # How long a worker thread may wait for a host slot before the task is
    # re-scheduled instead (a thread blocked on one host polls nothing else).
    max_host_wait: float = 3.0


@dataclass(frozen=True, slots=True)
class Credentials:
    """Headers (an Authorization among them) that only `origin` may see.

    `fetch` adds them to a request only when its URL has exactly this
    scheme, host and port: never after a redirect elsewhere, never for an
    article page on another host, never to plain http when the source is https.
    """

    origin: str
    headers: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        # The values are secrets; tracebacks and logs get the names only.
        return f"Credentials(origin={self.origin!r}, headers={[n for n, _ in self.headers]!r})"


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server gave us to ask "changed since?" next time."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str | None
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class HostBusy(FetchError):
    """The host's politeness slot is not free soon; try again after `retry_after` seconds."""

    def __init__(self, url: str, retry_after: float) -> None:
        super().__init__(
            url, "host-busy", f"host busy, next slot in {retry_after:.1f}s", retry_after=retry_after
        )
