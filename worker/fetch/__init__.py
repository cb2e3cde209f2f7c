"""HTTP fetching with the limits a worker that reads strangers' URLs needs.

client      `fetch`: GET with conditional headers, redirects checked hop by hop
transport   the checked httpx transport: no private addresses, one deadline per request
netguard    which addresses are refused; the same check for Apprise's webhooks
politeness  per-origin slots, delays and Retry-After shared by all workers
robots      robots.txt, honoured and cached
decode      bodies read within a byte limit, decompressed in bounded steps
types       the frozen limits and results of a fetch
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from worker.lazy import lazy_attribute

if TYPE_CHECKING:
    from worker.fetch.client import Fetcher, check_url, fetch
    from worker.fetch.netguard import Resolver, is_refused_address, webhook_refusal
    from worker.fetch.politeness import HostGate, origin_of
    from worker.fetch.transport import SafeTransport, make_client
    from worker.fetch.types import (
        DEFAULT_USER_AGENT,
        Credentials,
        FetchLimits,
        FetchResult,
        HostBusy,
        Validators,
    )

# Each name's submodule, imported on first use (worker.lazy says why).
_EXPORTS = {
    "Credentials": "types",
    "DEFAULT_USER_AGENT": "types",
    "FetchLimits": "types",
    "FetchResult": "types",
    "Fetcher": "client",
    "HostBusy": "types",
    "HostGate": "politeness",
    "Resolver": "netguard",
    "SafeTransport": "transport",
    "Validators": "types",
    "check_url": "client",
    "fetch": "client",
    "is_refused_address": "netguard",
    "make_client": "transport",
    "origin_of": "politeness",
    "webhook_refusal": "netguard",
}

__all__ = [
    "DEFAULT_USER_AGENT",
    "Credentials",
    "FetchLimits",
    "FetchResult",
    "Fetcher",
    "HostBusy",
    "HostGate",
    "Resolver",
    "SafeTransport",
    "Validators",
    "check_url",
    "fetch",
    "is_refused_address",
    "make_client",
    "origin_of",
    "webhook_refusal",
]


def __getattr__(name: str) -> object:
    return lazy_attribute(__name__, _EXPORTS, name)
