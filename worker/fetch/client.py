"""HTTP fetching with the limits a worker that reads strangers' URLs needs.

`fetch` does a GET with conditional headers, follows at most `max_redirects`
redirects itself (so every hop is checked), stops reading past `max_bytes` of
*decompressed* body and past a total deadline. Failures raise `FetchError`
with a short kind ("timeout", "too-large", "http-404", "blocked", ...) that
status and metrics can group by.

The client from `make_client` (`worker.fetch.transport`) refuses private
addresses and enforces the deadline on every socket operation; with a
`HostGate`, requests wait for their host's politeness slot
(`worker.fetch.politeness`); with `robots`, robots.txt is honoured and cached
(`worker.fetch.robots`).
"""

from __future__ import annotations

import email.utils
import logging
import math
import time
from dataclasses import dataclass, replace
from urllib.parse import urljoin

import httpx

from worker.errors import FetchError
from worker.fetch.decode import read_limited
from worker.fetch.politeness import HostGate, host_slot, origin_of
from worker.fetch.robots import ROBOTS_MAX_BYTES, ROBOTS_TTL, check_robots, robots_after_error
from worker.fetch.transport import DEADLINE, Refused, ResolveTimedOut
from worker.fetch.types import Credentials, FetchLimits, FetchResult, Validators
from worker.parse.urls import WebUrl, parse_web_url

__all__ = ["Fetcher", "check_url", "fetch"]

log = logging.getLogger(__name__)

# Retry-After beyond this is treated as this: a typo on a server must not
# stop a source for a month.
MAX_RETRY_AFTER = 6 * 3600.0
# A 429/503 without Retry-After still keeps the host waiting this long.
DEFAULT_RETRY_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class Fetcher:
    """What the fetches of one step share: the process's client (one connection
    pool), the limits, and the host gate (None: no politeness, as in tests)."""

    client: httpx.Client
    limits: FetchLimits
    gate: HostGate | None = None

    def get(
        self,
        url: str,
        validators: Validators | None = None,
        *,
        robots: bool = False,
        auth: Credentials | None = None,
    ) -> FetchResult:
        return fetch(
            self.client, url, self.limits, validators, gate=self.gate, robots=robots, auth=auth
        )


def check_url(url: str) -> None:
    """Refuse what is not a usable http(s) URL (a feed may link to anything).

    A scheme other than http(s) is "blocked"; a URL that does not parse, or
    whose host only some resolvers read (`0177.0.0.1`, `☃.net`), is
    "bad-url": an error of that URL, never an exception from httpx.
    """
    checked = parse_web_url(url)
    if isinstance(checked, WebUrl):
        return
    if checked.reason.startswith("not an http or https URL"):
        raise _blocked(url, checked.reason)
    log.info("unusable URL %r: %s", url, checked.reason)
    raise FetchError(url, "bad-url", checked.reason)


def _blocked(url: str, reason: str) -> FetchError:
    log.warning("refused %s: %s", url, reason)
    return FetchError(url, "blocked", reason)


def fetch(
    client: httpx.Client,
    url: str,
    limits: FetchLimits,
    validators: Validators | None = None,
    *,
    gate: HostGate | None = None,
    robots: bool = False,
    auth: Credentials | None = None,
) -> FetchResult:
    """GET `url` within `limits`; a 304 comes back as a result, not an error.

    With a `gate`, every request (each redirect hop, and robots.txt) waits
    for its host's politeness slot; with `robots`, each hop must be allowed
    by its host's robots.txt. `auth`'s headers go to the hops on its origin
    only (robots.txt never gets them).
    """
    deadline = time.monotonic() + limits.timeout
    headers = _conditional_headers(validators)
    current = url
    for _hop in range(limits.max_redirects + 1):
        check_url(current)
        if robots:
            _check_robots(client, current, limits, gate)
        with host_slot(current, limits, gate):
            token = DEADLINE.set(deadline)
            try:
                hop_headers = _with_credentials(headers, current, auth)
                response = _get(client, current, hop_headers, limits, deadline, gate)
            finally:
                DEADLINE.reset(token)
        if isinstance(response, str):
            current = response
            continue
        return response
    raise FetchError(url, "redirects", f"more than {limits.max_redirects} redirects")


def _get(
    client: httpx.Client,
    url: str,
    headers: dict[str, str],
    limits: FetchLimits,
    deadline: float,
    gate: HostGate | None,
) -> FetchResult | str:
    """One request: the result, or the next URL of a redirect."""
    try:
        with client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return _result(url, response, b"")
            if response.is_redirect:
                location = response.headers.get("location")
                if not location:
                    raise FetchError(url, "http", "redirect without a Location header")
                try:
                    return str(urljoin(url, str(location)))
                except ValueError as exc:
                    raise FetchError(url, "bad-url", f"redirect to an unusable URL: {exc}") from exc
            if response.status_code >= 400:
                raise _http_error(url, response, gate)
            body = read_limited(url, response, limits.max_bytes, deadline)
            return _result(url, response, body)
    except Refused as exc:
        raise _blocked(url, f"{exc} (set allow_private_networks: true to allow)") from exc
    except httpx.TimeoutException as exc:
        if isinstance(exc.__cause__, ResolveTimedOut):
            raise FetchError(url, "timeout", str(exc.__cause__)) from exc
        raise FetchError(url, "timeout", f"no complete answer within {limits.timeout:g}s") from exc
    except httpx.TransportError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, Refused):
            raise _blocked(url, f"{cause} (set allow_private_networks: true to allow)") from exc
        raise FetchError(url, "connect", str(exc) or type(exc).__name__) from exc
    except httpx.DecodingError as exc:
        raise FetchError(url, "decode", f"body cannot be decompressed: {exc}") from exc
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError, ValueError) as exc:
        # check_url passed it, yet httpx could not use it: still the URL's fault.
        raise FetchError(url, "bad-url", f"not a usable URL: {exc}") from exc


def _http_error(url: str, response: httpx.Response, gate: HostGate | None) -> FetchError:
    status = response.status_code
    message = f"server answered {status} {response.reason_phrase}"
    if status not in (429, 503):
        return FetchError(url, f"http-{status}", message)
    wait = _retry_after(response.headers.get("retry-after"))
    if gate is not None:
        # Every worker leaves the whole host alone, not just this source.
        gate.defer_host(origin_of(url), time.time() + wait)
    return FetchError(
        url, f"http-{status}", f"{message}, retry after {wait:.0f}s", retry_after=wait
    )


def _retry_after(value: str | None) -> float:
    """Retry-After in seconds (delta or HTTP date), bounded."""
    if not value:
        return DEFAULT_RETRY_AFTER
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return DEFAULT_RETRY_AFTER
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


def _check_robots(
    client: httpx.Client, url: str, limits: FetchLimits, gate: HostGate | None
) -> None:
    origin = origin_of(url)
    text = gate.cached_robots(origin) if gate is not None else None
    if text is None:
        text, ttl = _fetch_robots(client, origin, limits, gate)
        if gate is not None:
            gate.cache_robots(origin, text, ttl)
    check_robots(text, url, origin, limits.user_agent)


def _fetch_robots(
    client: httpx.Client, origin: str, limits: FetchLimits, gate: HostGate | None
) -> tuple[str, float]:
    robots_limits = replace(limits, max_bytes=min(limits.max_bytes, ROBOTS_MAX_BYTES))
    try:
        result = fetch(client, origin + "/robots.txt", robots_limits, gate=gate)
    except FetchError as exc:
        answer = robots_after_error(exc)
        if answer is None:
            raise
        return answer
    return result.content.decode("utf-8", errors="replace"), ROBOTS_TTL


def _with_credentials(
    headers: dict[str, str], url: str, auth: Credentials | None
) -> dict[str, str]:
    if auth is None or origin_of(url) != auth.origin:
        return headers
    return {**headers, **dict(auth.headers)}


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    return headers


def _result(url: str, response: httpx.Response, body: bytes) -> FetchResult:
    return FetchResult(
        url=url,
        status=response.status_code,
        content=body,
        content_type=response.headers.get("content-type"),
        validators=Validators(
            etag=response.headers.get("etag"),
            last_modified=response.headers.get("last-modified"),
        ),
    )
