"""Which addresses wirewatch refuses to connect to, and name resolution with a deadline.

Two HTTP clients leave a worker: wirewatch's own for feeds and pages
(`worker.fetch`, httpx with a checking network backend), and Apprise's for
notifications, which uses `requests` (urllib3). Both resolve a name once
through `resolve`, check every address with `refusal`, and connect to a
checked address, so a name that resolves differently a moment later (DNS
rebinding) changes nothing.

For Apprise there is no client to hand a backend to: each webhook plugin
calls `requests.request`, which builds a fresh session every time. So
`install_urllib3_guard` replaces urllib3's `create_connection`, once per
process, with one that reads the policy of the current context, which
`checked_connections` sets for one send. Apprise runs a plugin on its own
worker threads with a copy of the caller's context, so the policy reaches
them. A connection made with no policy at all (a thread that lost the context)
is checked as strictly as possible rather than let through: the guard fails
closed. Nothing else in a worker speaks HTTP through urllib3.

`resolve` gives every lookup a deadline: `getaddrinfo` has none of its own,
and a resolver that never answers would otherwise hold a poll thread or a
delivery for as long as it likes.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from urllib3.util.timeout import _DEFAULT_TIMEOUT

from worker.errors import WirewatchError

__all__ = [
    "DNS_TIMEOUT",
    "WEBHOOK_SCHEMES",
    "AddressRefused",
    "ConnectionReport",
    "GuardUnavailable",
    "NetworkPolicy",
    "ResolveError",
    "ResolveTimeout",
    "Resolver",
    "checked_connections",
    "install_urllib3_guard",
    "is_refused_address",
    "is_webhook",
    "proxy_refusal",
    "refusal",
    "resolve",
    "system_resolver",
    "webhook_refusal",
]

log = logging.getLogger(__name__)

# A lookup that takes longer is treated as failed. Callers with a tighter
# connect timeout or request deadline pass that instead.
DNS_TIMEOUT = 10.0
# Lookups run on helper threads so that they can be abandoned at their
# deadline; an abandoned one still holds its thread until the system resolver
# gives up. This many may be pending at once, so a zone that never answers
# cannot pile up threads without bound: past it, lookups wait (within their
# own deadline) for a free slot.
MAX_PENDING_LOOKUPS = 64

# Apprise targets whose URL names the host they post to: the same SSRF risk
# as fetching, and one that can be answered before sending. Every other
# target that speaks HTTP (Apprise's plugins all use `requests`) is checked
# when it connects (`checked_connections`); email and MQTT do not go through
# urllib3, so a local mail relay stays reachable.
WEBHOOK_SCHEMES = frozenset(
    {
        *("json", "jsons", "xml", "xmls", "form", "forms"),
        *("apprise", "apprises", "gotify", "gotifys", "ntfy", "ntfys"),
        *("mmost", "mmosts", "rocket", "rockets", "ncloud", "nclouds", "nctalk", "nctalks"),
        *("hassio", "hassios", "matrix", "matrixs", "mastodon", "mastodons", "toot", "toots"),
        *("misskey", "misskeys", "signal", "signals"),
        *("synology", "synologys", "workflows", "workflow", "lametric", "lametrics"),
        *("opsgenie", "kodi", "kodis", "xbmc", "xbmcs", "emby", "embys", "jellyfin", "jellyfins"),
        *("bark", "barks", "notica", "noticas"),
    }
)

# getaddrinfo's shape; tests pass their own to make a name resolve anywhere.
Resolver = Callable[[str, int], list[str]]


class AddressRefused(WirewatchError, OSError):
    """A connection was refused before any packet was sent: its address is not allowed.

    An OSError so that HTTP clients report it as a failed connection.
    """


class ResolveError(WirewatchError, OSError):
    """A name could not be resolved; the message names the host."""


class ResolveTimeout(ResolveError, TimeoutError):
    """A name was not resolved within its deadline."""


class GuardUnavailable(WirewatchError):
    """urllib3 no longer connects the way the guard expects; nothing is sent unchecked."""


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Ranges Python's `is_global` still counts as global: site-local IPv6
# (deprecated by RFC 3879 but routed inside many networks) and the local-use
# NAT64 prefix of RFC 8215, which translates to whatever IPv4 the operator's
# gateway chooses, private addresses included.
_LOCAL_V6 = (
    (ipaddress.ip_network("fec0::/10"), "a site-local address"),
    (ipaddress.ip_network("64:ff9b:1::/48"), "a local-use NAT64 address"),
)
# IPv6 prefixes whose last 32 bits are an IPv4 host that the packet reaches:
# NAT64 (64:ff9b::/96, e.g. on IPv6-only cloud networks), IPv4-translated
# and the deprecated IPv4-compatible form.
_EMBEDDING_IPV4 = tuple(
    ipaddress.ip_network(prefix) for prefix in ("64:ff9b::/96", "::ffff:0:0:0/96", "::/96")
)


def _refused_kind(address: str) -> str | None:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        for network, kind in _LOCAL_V6:
            if ip in network:
                return kind
        # ::ffff:127.0.0.1 and 2002::/16 (6to4) embeddings reach IPv4 hosts.
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif any(ip in net for net in _EMBEDDING_IPV4) and int(ip) > 1:  # not :: or ::1
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_multicast or ip.is_unspecified or not ip.is_global:
        return "a private or reserved address"
    return None


def is_refused_address(address: str) -> str | None:
    """Why `address` must not be connected to without allow_private_networks, or None."""
    kind = _refused_kind(address)
    return None if kind is None else f"{address} is {kind}"


def refusal(host: str, addresses: Sequence[str]) -> str | None:
    """Why a connection to `host`, resolved to `addresses`, is refused, or None.

    One refused address refuses the name: which address a client picks from
    a mixed answer would be up to whoever controls the DNS.
    """
    for address in addresses:
        kind = _refused_kind(address)
        if kind is not None:
            if _literal(host) is not None:
                return f"{address} is {kind}"
            return f"{host} resolves to {address}, {kind}"
    return None


def _literal(host: str) -> str | None:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return host


_pending_lookups = threading.BoundedSemaphore(MAX_PENDING_LOOKUPS)


def resolve(
    host: str, port: int, *, timeout: float | None, resolver: Resolver | None = None
) -> list[str]:
    """The addresses of `host`, looked up within `timeout` seconds (`DNS_TIMEOUT` if None).

    Raises ResolveTimeout past the deadline, ResolveError if the name has no
    address; both name the host. An IP address is returned as it is.
    """
    host = host.strip("[]")
    if _literal(host) is not None:
        return [host]
    limit = DNS_TIMEOUT if timeout is None else max(timeout, 0.0)
    deadline = time.monotonic() + limit
    lookup = resolver or system_resolver
    if not _pending_lookups.acquire(timeout=limit):
        raise ResolveTimeout(
            f"DNS lookup of {host} did not start within {limit:.3g}s (too many lookups hanging)"
        )
    answer: list[list[str] | BaseException] = []
    done = threading.Event()

    def run() -> None:
        try:
            answer.append(lookup(host, port))
        except BaseException as exc:  # handed to the waiting thread below
            answer.append(exc)
        finally:
            _pending_lookups.release()
            done.set()

    threading.Thread(target=run, name=f"resolve {host}", daemon=True).start()
    if not done.wait(max(deadline - time.monotonic(), 0.0)):
        raise ResolveTimeout(f"DNS lookup of {host} did not finish within {limit:.3g}s")
    outcome = answer[0]
    if isinstance(outcome, (OSError, UnicodeError)):
        raise ResolveError(f"cannot resolve {host}: {outcome}") from outcome
    if isinstance(outcome, BaseException):
        raise outcome
    if not outcome:
        raise ResolveError(f"{host} has no address")
    return outcome


# -- webhooks -----------------------------------------------------------------


def is_webhook(url: str) -> bool:
    """Whether an Apprise URL names the host it posts to (json://, gotify://, ...)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in ("ntfy", "ntfys"):
        # ntfy://topic goes to ntfy.sh; ntfy://host/topic to a server of one's own.
        return bool(parts.path.strip("/"))
    return scheme in WEBHOOK_SCHEMES


def webhook_refusal(
    url: str, *, allow_private_networks: bool, resolver: Resolver | None = None
) -> str | None:
    """Why a webhook-style notification URL must not be sent to, or None.

    An early, permanent answer for a target that points at a private address;
    the send itself is checked again on the address it connects to
    (`checked_connections`). A name that cannot be resolved now is no reason
    to give up on the delivery: its send fails and is retried. The reason
    names the host only, never the URL (it may hold secrets).
    """
    if allow_private_networks or not is_webhook(url):
        return None
    host = urlsplit(url).hostname or ""
    try:
        addresses = resolve(host, urlsplit(url).port or 443, timeout=None, resolver=resolver)
    except ResolveError:
        return None
    why = refusal(host, addresses)
    if why is None:
        return None
    return f"webhook host {why} (set allow_private_networks: true to allow)"


def proxy_refusal(url: str) -> str | None:
    """Why a webhook must not be sent through a proxy from the environment, or None.

    requests honours HTTP(S)_PROXY; the proxy then connects wherever the
    webhook's name points, where no check can see it.
    """
    parts = urlsplit(url)
    scheme = "https" if parts.scheme.lower().endswith("s") else "http"
    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    host = parts.hostname or ""
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return (
        f"webhook host {host} would be reached through the {scheme} proxy from the "
        "environment, where its address cannot be checked "
        "(set allow_private_networks: true to allow, or no_proxy for the host)"
    )


# -- the urllib3 guard --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    """How the connections opened in one context are checked."""

    # False for named services: they go where the operator pointed them.
    check_addresses: bool = True
    allow_private_networks: bool = False
    resolver: Resolver | None = None
    dns_timeout: float = DNS_TIMEOUT


@dataclass(slots=True)
class ConnectionReport:
    """What the guard refused or could not resolve during one send, to say why it failed."""

    errors: list[str] = field(default_factory=list)


# Applied when a connection carries no policy at all: a context lost on the
# way to a thread must not mean "unchecked".
_STRICT = NetworkPolicy()

_active: contextvars.ContextVar[tuple[NetworkPolicy, ConnectionReport] | None] = (
    contextvars.ContextVar("wirewatch_network_policy", default=None)
)

_install_lock = threading.Lock()
# urllib3's own create_connection, once the guard is installed in its place.
_unguarded: Callable[..., socket.socket] | None = None


def install_urllib3_guard() -> None:
    """Route every urllib3 connection of this process through the address check (idempotent)."""
    global _unguarded
    with _install_lock:
        if _unguarded is not None:
            return
        import urllib3.connection
        import urllib3.util.connection as util_connection

        # The guard sits where urllib3 opens its sockets; if a later urllib3
        # opens them elsewhere, refuse to send rather than send unchecked.
        names = urllib3.connection.HTTPConnection._new_conn.__code__.co_names
        seam = getattr(urllib3.connection, "connection", None)
        if "create_connection" not in names or seam is not util_connection:
            raise GuardUnavailable(
                "this urllib3 does not connect through util.connection.create_connection; "
                "webhook addresses cannot be checked, so nothing is sent"
            )
        _unguarded = util_connection.create_connection
        util_connection.create_connection = _guarded_create_connection


@contextmanager
def checked_connections(policy: NetworkPolicy) -> Iterator[ConnectionReport]:
    """Apply `policy` to every urllib3 connection opened in this context (and its copies).

    The guard is installed only for a policy that checks: should a future
    urllib3 not take it, email and chat targets still go out.
    """
    if policy.check_addresses:
        install_urllib3_guard()
    report = ConnectionReport()
    token = _active.set((policy, report))
    try:
        yield report
    finally:
        _active.reset(token)


def _guarded_create_connection(
    address: tuple[str, int],
    timeout: object = _DEFAULT_TIMEOUT,
    source_address: tuple[str, int] | None = None,
    socket_options: Sequence[tuple[int, int, int | bytes]] | None = None,
) -> socket.socket:
    connect = _unguarded
    assert connect is not None, "installed before use"
    active = _active.get()
    policy, report = active if active is not None else (_STRICT, None)
    if not policy.check_addresses:
        return connect(address, timeout, source_address, socket_options)
    host, port = address
    limit = policy.dns_timeout
    if isinstance(timeout, (int, float)):
        limit = min(limit, float(timeout))
    try:
        addresses = resolve(host, port, timeout=limit, resolver=policy.resolver)
        why = None if policy.allow_private_networks else refusal(host.strip("[]"), addresses)
        if why is not None:
            raise AddressRefused(f"blocked: {why} (set allow_private_networks: true to allow)")
    except (AddressRefused, ResolveError) as exc:
        log.warning("no connection%s: %s", "" if active is not None else " (no policy set)", exc)
        if report is not None:
            report.errors.append(str(exc))
        raise
    last: OSError | None = None
    for checked in addresses:
        try:
            # A numeric host: urllib3's own getaddrinfo does no DNS for it.
            return connect((checked, port), timeout, source_address, socket_options)
        except OSError as exc:
            last = exc
    assert last is not None, "resolve() returns at least one address"
    raise last
