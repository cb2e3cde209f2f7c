"""URL normalisation, so one article reached by several links is seen once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import httpx

__all__ = ["BadUrl", "WebUrl", "absolute_url", "canonical_url", "parse_web_url"]

# Parameters that only say how a reader arrived, never which page they got.
_TRACKING_EXACT = frozenset(
    {
        "fbclid",
        "gclid",
        "gclsrc",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "ttclid",
        "li_fat_id",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_ga",
        "_gl",
        "_hsenc",
        "_hsmi",
        "ocid",
        "cmpid",
        "ncid",
        "smid",
        "soc_src",
        "soc_trk",
        "__twitter_impression",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "wt_mc",
        "at_medium",
        "at_campaign",
    }
)
_TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WEB_SCHEMES = frozenset({"http", "https"})
_SPACE = re.compile(r"\s+")
# A host made only of numbers (decimal, 0-led octal, 0x hex) is an IPv4 address
# to the C resolver, in forms (0177.0.0.1, 0x7f.1, 2130706433) that httpx and
# Python read differently or not at all.
_NUMERIC_LABEL = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)\Z", re.IGNORECASE)
_DOTTED_QUAD = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z"
)

_HOST = re.compile(r"[a-z0-9_.-]+\Z|[0-9a-f:.]+\Z")  # a name (IDNA) or an IPv6 literal


@dataclass(frozen=True, slots=True)
class WebUrl:
    """An http(s) URL that the fetcher can use: `host` is lower case, IDNA-encoded."""

    url: str
    host: str
    port: int | None


@dataclass(frozen=True, slots=True)
class BadUrl:
    """A URL that cannot be used, and why: a data error of the entry or source that gave it."""

    url: str
    reason: str


def parse_web_url(url: str) -> WebUrl | BadUrl:
    """`url` checked as the fetcher will need it, never raising.

    A link such as `http://0177.0.0.1/x` or `http://☃.net/` comes back as a
    BadUrl with a reason, so one malformed link costs its entry a page, not
    the run (docs/security.md, "Links and addresses").
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        return BadUrl(url, f"not a URL: {error}")
    if parts.scheme.lower() not in _WEB_SCHEMES:
        return BadUrl(url, f"not an http or https URL (scheme {parts.scheme or 'missing'!r})")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return BadUrl(url, "no host")
    labels = host.split(".")
    if all(_NUMERIC_LABEL.match(label) for label in labels) and not _DOTTED_QUAD.match(host):
        return BadUrl(url, f"host {host!r} is a number but not a dotted-quad IPv4 address")
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, UnicodeError, ValueError) as error:
        return BadUrl(url, f"not a usable URL: {error}")
    ascii_host = parsed.raw_host.decode("ascii").lower()
    if not _HOST.match(ascii_host):
        return BadUrl(url, f"host {host!r} holds characters no host name has")
    return WebUrl(str(parsed), ascii_host, port)


def absolute_url(href: str | None, base: str) -> str | None:
    """`href` resolved against `base`; None unless it is a web (http/https) address."""
    if not href:
        return None
    # Feeds and pages wrap long links; whitespace is never part of a real URL.
    href = _SPACE.sub("", href)
    try:
        resolved = urljoin(base, href)
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return None
    return resolved if scheme in _WEB_SCHEMES else None


def canonical_url(url: str, html_canonical: str | None = None) -> str:
    """The page's canonical address without tracking parameters or fragment.

    A rel=canonical / og:url value wins when it is a usable web address; it may
    be relative to `url`. A canonical that points an inner page at the site's
    home page is a common template bug and is ignored: believing it would make
    every article of the site look like one already seen.
    """
    chosen = absolute_url(html_canonical, url) if html_canonical else None
    if chosen and _is_home(chosen) and not _is_home(url):
        chosen = None
    return _normalize(chosen or url.strip())


def _is_home(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.path in ("", "/") and not parts.query


def _normalize(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    netloc = _netloc(parts.username, parts.password, host, port, scheme)
    path = parts.path or "/"
    query = _clean_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _netloc(
    user: str | None, password: str | None, host: str, port: int | None, scheme: str
) -> str:
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host
    if port is not None and _DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    if user:
        netloc = f"{user}:{password}@{netloc}" if password else f"{user}@{netloc}"
    return netloc


def _clean_query(query: str) -> str:
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(key, value) for key, value in pairs if not _is_tracking(key)]
    if len(kept) == len(pairs):
        return query  # untouched queries keep their exact original encoding
    return urlencode(kept)


def _is_tracking(key: str) -> bool:
    lowered = key.lower()
    return lowered in _TRACKING_EXACT or lowered.startswith(_TRACKING_PREFIXES)
