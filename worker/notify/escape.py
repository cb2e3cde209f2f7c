"""Making untrusted article text inert in each message format.

Article text comes from the open web: whatever a feed says ends up in front
of the user, so it must never turn into markup, links or chat mentions.
"""

from __future__ import annotations

import html
import re
from typing import Literal
from urllib.parse import quote, urlsplit

from worker.notify.sanitize import sanitize

__all__ = [
    "Format",
    "escape",
    "is_web_url",
    "link_target",
    "single_line",
]

Format = Literal["html", "markdown", "text"]

_ZWSP = "\u200b"

# Chat services ping whole channels on these; a zero-width space after the
# sigil keeps the text readable but breaks the mention.
_MENTION = re.compile(r"(@)(?=(?:everyone|here|channel|all|room)\b)", re.IGNORECASE)
# Slack (<!here>, <@U123>, <#C1>) and Discord (<@123>, <@&role>) mention syntax.
_BRACKET_MENTION = re.compile(r"<(?=[@!#])")
# Linkifiers in mail and chat clients turn bare addresses into links, which
# would let article text place a link the user did not ask for.
_BARE_LINK = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}:)(//)|\b(www)(\.)")

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#<>!|~&])")
# These only have meaning at the start of a line (lists, quotes, headings).
_MARKDOWN_LINE_START = re.compile(r"(?m)^(\s*)([-+=]|\d+(?=[.)]))")

_SPACES = re.compile(r"\s+")


def _defuse(text: str) -> str:
    text = _MENTION.sub(rf"\1{_ZWSP}", text)
    text = _BRACKET_MENTION.sub(f"<{_ZWSP}", text)
    return _BARE_LINK.sub(lambda m: _ZWSP.join(g for g in m.groups() if g), text)


def escape(text: str, fmt: Format, *, defuse: bool = True) -> str:
    """Return untrusted `text` so that it shows as itself in `fmt`, and nothing more.

    `defuse=False` keeps bare links: only for the article URL we link to ourselves.
    Control characters, escape sequences and bidi overrides go in every case.
    """
    text = sanitize(text)
    if defuse:
        text = _defuse(text)
    if fmt == "html":
        return html.escape(text, quote=True)
    if fmt == "markdown":
        text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
        return _MARKDOWN_LINE_START.sub(r"\1\\\2", text)
    return text


def single_line(text: str) -> str:
    """Collapse all whitespace, line breaks included, so a subject cannot spill over."""
    return _SPACES.sub(" ", sanitize(text)).strip()


def is_web_url(url: str) -> bool:
    """Only http(s) URLs with a host become links; javascript:, data: etc. never do."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def link_target(url: str, fmt: Format) -> str:
    """The article URL as it goes inside a link we build (href or Markdown destination)."""
    # Percent-encoding quotes, brackets, spaces and backslashes keeps the URL
    # from ending the attribute or Markdown destination early; '%' stays so
    # an already encoded URL is not encoded twice.
    safe = quote(url.strip(), safe=":/?#@!$&*+,;=%~-._[]")
    if fmt == "markdown":
        return safe.replace("[", "%5B").replace("]", "%5D")
    return html.escape(safe, quote=True) if fmt == "html" else safe
