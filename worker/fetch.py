"""HTTP fetching with the limits a worker that reads strangers' URLs needs.

`fetch` does a GET with conditional headers, follows at most `max_redirects`
redirects itself (so every hop is checked), stops reading past `max_bytes` of
*decompressed* body and past a total deadline. Failures raise `FetchError`
with a short kind ("timeout", "too-large", "http-404", "blocked", ...) that
status and metrics can group by.

Safety. The client from `make_client` connects through `_SafeBackend`, which
resolves a host once (within the connect timeout: a resolver that hangs
ends in a "timeout" naming the host), refuses the request if any address is
private, loopback, link-local, CGNAT, unique-local, multicast or an
IPv4-mapped form of those (`worker.netguard`), and then connects to the
checked address itself. Host header and TLS SNI still carry the name, but no
second DNS lookup happens between check and connect, so DNS rebinding has
nothing to race. The same backend enforces the total deadline on every socket
read and write, so a server dripping headers one byte at a time cannot hold a
worker past it.

Politeness (optional, given a `HostGate`, which the Redis store implements so
every worker process shares it): at most `per_host_concurrency` requests in
flight per origin, `per_host_delay` between their starts, a host that sent
429/503 with Retry-After left alone until then, and robots.txt honoured and
cached. A worker waits for a host slot only briefly; beyond `max_host_wait`
it raises `HostBusy`, and the task re-schedules itself instead of sleeping.
"""

from __future__ import annotations

import contextvars
import email.utils
import logging
import math
import secrets
import ssl
import time
import typing
import urllib.robotparser
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from worker import __version__
from worker.errors import FetchError
from worker.netguard import (
    ResolveError,
    Resolver,
    ResolveTimeout,
    is_refused_address,
    refusal,
    resolve,
    system_resolver,
    webhook_refusal,
)

__all__ = [
    "FetchLimits",
    "FetchResult",
    "HostBusy",
    "HostGate",
    "Resolver",
    "Validators",
    "check_url",
    "fetch",
    "is_refused_address",
    "make_client",
    "origin_of",
    "webhook_refusal",
]

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"wirewatch/{__version__} (+https://github.com/wirewatch/wirewatch)"

# A robots.txt is re-read after a day (RFC 9309 asks for no more than 24 h);
# a server error on it means "disallow everything" (RFC 9309 2.3.1.4), which
# is re-checked much sooner so a brief outage does not silence a source long.
ROBOTS_TTL = 86_400.0
ROBOTS_ERROR_TTL = 600.0
ROBOTS_MAX_BYTES = 512_000
# Retry-After beyond this is treated as this: a typo on a server must not
# stop a source for a month.
MAX_RETRY_AFTER = 6 * 3600.0
# A 429/503 without Retry-After still keeps the host waiting this long.
DEFAULT_RETRY_AFTER = 60.0


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


class HostGate(Protocol):
    """Shared per-origin state; `Store` implements it on Redis for all workers."""

    def acquire_host_slot(
        self, origin: str, token: str, concurrency: int, delay: float, lease: float, now: float
    ) -> float:
        """Take a slot (returns 0) or say how many seconds until one may be free."""

    def release_host_slot(self, origin: str, token: str) -> None: ...

    def defer_host(self, origin: str, until: float) -> None:
        """No request to `origin` starts before `until` (Retry-After)."""

    def cached_robots(self, origin: str) -> str | None: ...

    def cache_robots(self, origin: str, text: str, ttl: float) -> None: ...


# The deadline of the request this thread is running, read by every socket
# operation of `_SafeStream` (pooled connections outlive one request, so the
# deadline cannot be fixed when the connection is made).
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "wirewatch_fetch_deadline", default=None
)


def _remaining(timeout: float | None) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("total deadline of the request passed")
    return left if timeout is None else min(timeout, left)


class _SafeStream(httpcore.NetworkStream):
    """A socket stream whose every operation also respects the request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        # server_hostname is the name from the URL: SNI and certificate checks
        # use it even though the socket was opened to a checked IP address.
        return _SafeStream(self._inner.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _Refused(httpcore.ConnectError):
    """Raised inside the transport; `fetch` turns it into FetchError("blocked")."""


class _ResolveTimedOut(httpcore.ConnectTimeout):
    """Raised inside the transport; `fetch` turns it into FetchError("timeout") naming the host."""


class _SafeBackend(httpcore.NetworkBackend):
    """Resolve once, check every address, connect to a checked one."""

    def __init__(
        self,
        *,
        allow_private_networks: bool,
        resolver: Resolver,
        exempt: frozenset[tuple[str, int]],
    ) -> None:
        self._inner = httpcore.SyncBackend()
        self._allow_private = allow_private_networks
        self._resolver = resolver
        self._exempt = exempt

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = resolve(host, port, timeout=_remaining(timeout), resolver=self._resolver)
        except ResolveTimeout as exc:
            raise _ResolveTimedOut(str(exc)) from exc
        except ResolveError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        if not self._allow_private:
            checked = [a for a in addresses if (a, port) not in self._exempt]
            why = refusal(host, checked)
            if why is not None:
                raise _Refused(why)
        last: Exception | None = None
        for address in addresses:
            try:
                stream = self._inner.connect_tcp(
                    address, port, _remaining(timeout), local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
                continue
            return _SafeStream(stream)
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise _Refused("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def make_client(
    limits: FetchLimits,
    *,
    resolver: Resolver | None = None,
    exempt: Iterable[tuple[str, int]] = (),
) -> httpx.Client:
    """The client every fetch of a process shares (one connection pool, thread-safe).

    `resolver` replaces DNS and `exempt` lets exact (address, port) pairs
    through the private-address check; both exist so tests can exercise the
    real check on loopback servers.
    """
    transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=200))
    # httpx has no public hook for the network backend; the pool is rebuilt with
    # the same settings plus the checking backend.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=httpx.create_ssl_context(),
        max_connections=200,
        max_keepalive_connections=50,
        keepalive_expiry=30.0,
        network_backend=_SafeBackend(
            allow_private_networks=limits.allow_private_networks,
            resolver=resolver or system_resolver,
            exempt=frozenset(exempt),
        ),
    )
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(limits.timeout, connect=min(limits.connect_timeout, limits.timeout)),
        follow_redirects=False,  # redirects are followed by `fetch`, which checks each hop
        # Only the encodings `_decoded` can bound; httpx would offer br/zstd
        # when installed, and decompress a whole network chunk at once.
        headers={"User-Agent": limits.user_agent, "Accept-Encoding": "gzip, deflate"},
        # Proxies from the environment would connect for us, past the address check.
        trust_env=False,
    )


def origin_of(url: str) -> str:
    """scheme://host:port, the unit of politeness (and of robots.txt, RFC 9309)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def check_url(url: str) -> None:
    """Refuse what is not an http(s) URL with a host (a feed may link to anything)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _blocked(url, f"scheme {parts.scheme!r} is not http or https")
    if not parts.hostname:
        raise _blocked(url, "URL has no host")


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
) -> FetchResult:
    """GET `url` within `limits`; a 304 comes back as a result, not an error.

    With a `gate`, every request (each redirect hop, and robots.txt) waits
    for its host's politeness slot; with `robots`, each hop must be allowed
    by its host's robots.txt.
    """
    deadline = time.monotonic() + limits.timeout
    headers = _conditional_headers(validators)
    current = url
    for _hop in range(limits.max_redirects + 1):
        check_url(current)
        if robots:
            _check_robots(client, current, limits, gate)
        with _host_slot(current, limits, gate):
            token = _deadline.set(deadline)
            try:
                response = _get(client, current, headers, limits, deadline, gate)
            finally:
                _deadline.reset(token)
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
                return str(urljoin(url, str(location)))
            if response.status_code >= 400:
                raise _http_error(url, response, gate)
            body = _read_limited(url, response, limits.max_bytes, deadline)
            return _result(url, response, body)
    except _Refused as exc:
        raise _blocked(url, f"{exc} (set allow_private_networks: true to allow)") from exc
    except httpx.TimeoutException as exc:
        if isinstance(exc.__cause__, _ResolveTimedOut):
            raise FetchError(url, "timeout", str(exc.__cause__)) from exc
        raise FetchError(url, "timeout", f"no complete answer within {limits.timeout:g}s") from exc
    except httpx.TransportError as exc:
        cause = exc.__cause__ or exc.__context__
        if isinstance(cause, _Refused):
            raise _blocked(url, f"{cause} (set allow_private_networks: true to allow)") from exc
        raise FetchError(url, "connect", str(exc) or type(exc).__name__) from exc
    except httpx.DecodingError as exc:
        raise FetchError(url, "decode", f"body cannot be decompressed: {exc}") from exc


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


@contextmanager
def _host_slot(url: str, limits: FetchLimits, gate: HostGate | None) -> Iterator[None]:
    if gate is None:
        yield
        return
    origin = origin_of(url)
    token = secrets.token_hex(8)
    give_up = time.monotonic() + limits.max_host_wait
    # The lease frees the slot if this process dies mid-request.
    lease = limits.timeout + 30.0
    while True:
        wait = gate.acquire_host_slot(
            origin,
            token,
            limits.per_host_concurrency,
            limits.per_host_delay,
            lease,
            time.time(),
        )
        if wait <= 0:
            break
        if time.monotonic() + wait > give_up:
            raise HostBusy(url, wait)
        time.sleep(wait)
    try:
        yield
    finally:
        gate.release_host_slot(origin, token)


_ROBOTS_DISALLOW_ALL = "\x00disallow-all"


def _check_robots(
    client: httpx.Client, url: str, limits: FetchLimits, gate: HostGate | None
) -> None:
    origin = origin_of(url)
    text = gate.cached_robots(origin) if gate is not None else None
    if text is None:
        text, ttl = _fetch_robots(client, origin, limits, gate)
        if gate is not None:
            gate.cache_robots(origin, text, ttl)
    if text == _ROBOTS_DISALLOW_ALL:
        raise FetchError(url, "robots", "robots.txt could not be read (server error): not fetched")
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    agent = limits.user_agent.split("/", 1)[0].split()[0] if limits.user_agent else "*"
    if not parser.can_fetch(agent, url):
        log.info("robots.txt of %s disallows %s for %s", origin, url, agent)
        raise FetchError(url, "robots", f"disallowed by {origin}/robots.txt")


def _fetch_robots(
    client: httpx.Client, origin: str, limits: FetchLimits, gate: HostGate | None
) -> tuple[str, float]:
    robots_limits = replace(limits, max_bytes=min(limits.max_bytes, ROBOTS_MAX_BYTES))
    try:
        result = fetch(client, origin + "/robots.txt", robots_limits, gate=gate)
    except FetchError as exc:
        if exc.kind.startswith("http-4") and exc.kind != "http-429":
            return "", ROBOTS_TTL  # no robots.txt: everything is allowed
        if exc.kind.startswith("http-") or exc.kind == "too-large":
            # RFC 9309: an unreachable robots.txt means "assume complete disallow".
            return _ROBOTS_DISALLOW_ALL, ROBOTS_ERROR_TTL
        raise
    return result.content.decode("utf-8", errors="replace"), ROBOTS_TTL


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    return headers


def _read_limited(url: str, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(url, "too-large", f"declared {declared} bytes, limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    # Decompressed data is counted, so a gzip bomb hits the limit too.
    for chunk in _decoded(url, response):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, "too-large", f"body exceeds {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(url, "timeout", "body not complete within the deadline")
        chunks.append(chunk)
    return b"".join(chunks)


# Decompressed output per step: a 64 KiB chunk of a gzip bomb could otherwise
# expand to 64 MB in one call, per worker thread, before any limit is checked.
_DECODE_STEP = 256 * 1024


def _decoded(url: str, response: httpx.Response) -> Iterator[bytes]:
    """The body, decompressed at most `_DECODE_STEP` bytes at a time."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()
        return
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()  # zlib-wrapped; raw deflate is retried below
    else:
        raise FetchError(url, "decode", f"unsupported Content-Encoding {encoding!r}")
    first = True
    try:
        for raw in response.iter_raw():
            if first and encoding == "deflate" and raw and (raw[0] & 0x0F) != 8:
                decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # servers that send raw deflate
            first = False
            data = decoder.decompress(raw, _DECODE_STEP)
            while True:
                yield data
                if not decoder.unconsumed_tail:
                    break
                data = decoder.decompress(decoder.unconsumed_tail, _DECODE_STEP)
        yield decoder.flush()
    except zlib.error as exc:
        raise FetchError(url, "decode", f"body cannot be decompressed: {exc}") from exc


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
