"""HTTP fetching with the limits a worker that reads strangers' URLs needs.

One function, `fetch`, does a GET with conditional headers, follows at most
`max_redirects` redirects itself (so every hop is checked), refuses private
addresses unless allowed, stops reading past `max_bytes` of *decompressed*
body and past a total deadline. Failures raise `FetchError` with a short kind
("timeout", "too-large", "http-404", "blocked", ...) that status and metrics
can group by.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from worker import __version__
from worker.errors import FetchError

__all__ = [
    "FetchLimits",
    "FetchResult",
    "Validators",
    "check_address",
    "fetch",
    "make_client",
]

DEFAULT_USER_AGENT = f"wirewatch/{__version__} (+https://github.com/wirewatch/wirewatch)"


@dataclass(frozen=True, slots=True)
class FetchLimits:
    timeout: float = 20.0  # connect, read and the total deadline of one request
    max_bytes: int = 10_000_000
    max_redirects: int = 5
    user_agent: str = DEFAULT_USER_AGENT
    allow_private_networks: bool = False


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


def make_client(limits: FetchLimits) -> httpx.Client:
    """A client whose connection pool is reused for every fetch of a process."""
    return httpx.Client(
        timeout=httpx.Timeout(limits.timeout),
        follow_redirects=False,  # redirects are followed by `fetch`, which checks each hop
        headers={"User-Agent": limits.user_agent},
        # Proxies from the environment would bypass the address check below.
        trust_env=False,
    )


def check_address(url: str, *, allow_private_networks: bool) -> None:
    """Refuse non-http(s) URLs and, unless allowed, hosts that resolve to private addresses."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(url, "blocked", f"scheme {parts.scheme!r} is not http or https")
    if not parts.hostname:
        raise FetchError(url, "blocked", "URL has no host")
    if allow_private_networks:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(url, "dns", f"cannot resolve {parts.hostname}: {exc}") from exc
    for info in infos:
        _refuse_private(url, str(info[4][0]))


def _refuse_private(url: str, address: str) -> None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if not ip.is_global:
        raise FetchError(
            url,
            "blocked",
            f"{address} is a private, loopback or reserved address "
            "(set allow_private_networks: true to allow)",
        )


def fetch(
    client: httpx.Client,
    url: str,
    limits: FetchLimits,
    validators: Validators | None = None,
) -> FetchResult:
    """GET `url` within `limits`; a 304 comes back as a result, not an error."""
    deadline = time.monotonic() + limits.timeout
    headers = _conditional_headers(validators)
    current = url
    for _hop in range(limits.max_redirects + 1):
        check_address(current, allow_private_networks=limits.allow_private_networks)
        try:
            with client.stream("GET", current, headers=headers) as response:
                _check_peer(current, response, limits)
                if response.status_code == 304:
                    return _result(current, response, b"")
                if response.is_redirect:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(current, "http", "redirect without a Location header")
                    current = urljoin(current, location)
                    continue
                if response.status_code >= 400:
                    raise FetchError(
                        current,
                        f"http-{response.status_code}",
                        f"server answered {response.status_code} {response.reason_phrase}",
                    )
                body = _read_limited(current, response, limits.max_bytes, deadline)
                return _result(current, response, body)
        except httpx.TimeoutException as exc:
            raise FetchError(current, "timeout", f"no answer within {limits.timeout:g}s") from exc
        except httpx.TransportError as exc:
            raise FetchError(current, "connect", str(exc) or type(exc).__name__) from exc
        except httpx.DecodingError as exc:
            raise FetchError(current, "decode", f"body cannot be decompressed: {exc}") from exc
    raise FetchError(url, "redirects", f"more than {limits.max_redirects} redirects")


def _conditional_headers(validators: Validators | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if validators is not None:
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
    return headers


def _check_peer(url: str, response: httpx.Response, limits: FetchLimits) -> None:
    """Check the address actually connected to, so DNS rebinding cannot slip past."""
    if limits.allow_private_networks:
        return
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if peer:
        _refuse_private(url, str(peer[0]))


def _read_limited(url: str, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(url, "too-large", f"declared {declared} bytes, limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    # iter_bytes yields decompressed data, so a gzip bomb hits the limit too.
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, "too-large", f"body exceeds {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(url, "timeout", "body not complete within the deadline")
        chunks.append(chunk)
    return b"".join(chunks)


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
