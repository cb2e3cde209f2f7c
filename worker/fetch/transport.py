"""The checked transport every fetch goes through.

`SafeTransport` is an httpx transport over an httpcore connection pool whose
network backend (`_SafeBackend`) resolves a host once (within the connect
timeout), refuses the connection if any address is private, loopback,
link-local, CGNAT, unique-local, multicast or an IPv4-mapped form of those
(`worker.fetch.netguard`), and then connects to the checked address itself.
Host header and TLS SNI still carry the name, but no second DNS lookup
happens between check and connect, so DNS rebinding has nothing to race. The
same backend enforces the total deadline of a request on every socket read
and write, so a server dripping headers one byte at a time cannot hold a
worker past it.
"""

from __future__ import annotations

import contextvars
import ssl
import time
import typing
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

from worker.fetch.netguard import (
    ResolveError,
    Resolver,
    ResolveTimeout,
    refusal,
    resolve,
    system_resolver,
)
from worker.fetch.types import FetchLimits

__all__ = ["DEADLINE", "Refused", "ResolveTimedOut", "SafeTransport", "make_client"]

# The deadline of the request this thread is running, read by every socket
# operation of `_SafeStream` (pooled connections outlive one request, so the
# deadline cannot be fixed when the connection is made).
DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "wirewatch_fetchDEADLINE", default=None
)


def _remaining(timeout: float | None) -> float | None:
    deadline = DEADLINE.get()
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


class Refused(httpcore.ConnectError):
    """Raised inside the transport; `fetch` turns it into FetchError("blocked")."""


class ResolveTimedOut(httpcore.ConnectTimeout):
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
            raise ResolveTimedOut(str(exc)) from exc
        except ResolveError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        if not self._allow_private:
            checked = [a for a in addresses if (a, port) not in self._exempt]
            why = refusal(host, checked)
            if why is not None:
                raise Refused(why)
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
        raise Refused("unix sockets are never fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


# httpcore's exceptions and the httpx ones a caller of `httpx.Client` expects,
# most specific first (the first match wins).
_EXCEPTIONS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProxyError, httpx.ProxyError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)


@contextmanager
def _httpx_errors() -> Iterator[None]:
    """Raise httpcore's errors as httpx's, the original kept as the cause."""
    try:
        yield
    except Exception as exc:
        for source, target in _EXCEPTIONS:
            if isinstance(exc, source):
                raise target(str(exc)) from exc
        raise


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, inner: Iterable[bytes]) -> None:
        self._inner = inner

    def __iter__(self) -> Iterator[bytes]:
        with _httpx_errors():
            yield from self._inner

    def close(self) -> None:
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


class SafeTransport(httpx.BaseTransport):
    """An httpx transport over an httpcore pool that connects through `_SafeBackend`."""

    def __init__(
        self,
        *,
        allow_private_networks: bool,
        resolver: Resolver = system_resolver,
        exempt: Iterable[tuple[str, int]] = (),
    ) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=200,
            max_keepalive_connections=50,
            keepalive_expiry=30.0,
            network_backend=_SafeBackend(
                allow_private_networks=allow_private_networks,
                resolver=resolver,
                exempt=frozenset(exempt),
            ),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _httpx_errors():
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()


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
    transport = SafeTransport(
        allow_private_networks=limits.allow_private_networks,
        resolver=resolver or system_resolver,
        exempt=exempt,
    )
    return httpx.Client(
        transport=transport,
        timeout=httpx.Timeout(limits.timeout, connect=min(limits.connect_timeout, limits.timeout)),
        follow_redirects=False,  # redirects are followed by `fetch`, which checks each hop
        # Only the encodings `read_limited` can bound; httpx would offer br/zstd
        # when installed, and decompress a whole network chunk at once.
        headers={"User-Agent": limits.user_agent, "Accept-Encoding": "gzip, deflate"},
        # Proxies from the environment would connect for us, past the address check.
        trust_env=False,
    )
