"""HTTP fetching with the limits a worker that reads strangers' URLs needs.

client      `fetch`: GET with conditional headers, redirects checked hop by hop
transport   the checked httpx transport: no private addresses, one deadline per request
netguard    which addresses are refused; the same check for Apprise's webhooks
politeness  per-origin slots, delays and Retry-After shared by all workers
robots      robots.txt, honoured and cached
decode      bodies read within a byte limit, decompressed in bounded steps
types       the frozen limits and results of a fetch
"""

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
