"""robots.txt: what a fetch may read, and what an unreadable robots.txt means (RFC 9309)."""

from __future__ import annotations

import logging
import urllib.robotparser

from worker.errors import FetchError

__all__ = [
    "DISALLOW_ALL",
    "ROBOTS_ERROR_TTL",
    "ROBOTS_MAX_BYTES",
    "ROBOTS_TTL",
    "check_robots",
    "robots_after_error",
]

log = logging.getLogger(__name__)

# A robots.txt is re-read after a day (RFC 9309 asks for no more than 24 h);
# a server error on it means "disallow everything" (RFC 9309 2.3.1.4), which
# is re-checked much sooner so a brief outage does not silence a source long.
ROBOTS_TTL = 86_400.0
ROBOTS_ERROR_TTL = 600.0
ROBOTS_MAX_BYTES = 512_000
# Cached in place of the text when robots.txt could not be read.
DISALLOW_ALL = "\x00disallow-all"


def check_robots(text: str, url: str, origin: str, user_agent: str) -> None:
    """Raise FetchError("robots") unless the origin's robots.txt `text` allows `url`."""
    if text == DISALLOW_ALL:
        raise FetchError(url, "robots", "robots.txt could not be read (server error): not fetched")
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(text.splitlines())
    agent = user_agent.split("/", 1)[0].split()[0] if user_agent else "*"
    if not parser.can_fetch(agent, url):
        log.info("robots.txt of %s disallows %s for %s", origin, url, agent)
        raise FetchError(url, "robots", f"disallowed by {origin}/robots.txt")


def robots_after_error(exc: FetchError) -> tuple[str, float] | None:
    """The robots.txt text (and how long to keep it) that a failed fetch of it stands for;
    None when the failure says nothing about the site (a timeout: try again)."""
    if exc.kind.startswith("http-4") and exc.kind != "http-429":
        return "", ROBOTS_TTL  # no robots.txt: everything is allowed
    if exc.kind.startswith("http-") or exc.kind == "too-large":
        # RFC 9309: an unreachable robots.txt means "assume complete disallow".
        return DISALLOW_ALL, ROBOTS_ERROR_TTL
    return None
