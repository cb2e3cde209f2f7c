"""URL normalisation, so one article reached by several links is seen once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

__all__ = ["absolute_url", "canonical_url"]

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
