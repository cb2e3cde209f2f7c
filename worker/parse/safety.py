"""Refuse XML that declares entities able to read files or expand without bound.

Policy: a DTD may declare internal general entities whose values are short
literals or character references (old feeds declare `&nbsp;` that way), and
those are expanded; an external (SYSTEM/PUBLIC), parameter, nested or longer
entity makes the whole document refused with ExtractError. An external DTD
subset is allowed and never fetched.

feedparser hands documents to expat (which no longer loads external entities
and caps amplification) and, when that fails, to a lenient parser of its own;
checking the DTD here first means neither parser's defaults are relied on.
"""

from __future__ import annotations

import re

from worker.errors import ExtractError

__all__ = ["check_xml_safety"]

_DOCTYPE = re.compile(r"<!DOCTYPE\b", re.IGNORECASE)
_FIRST_ELEMENT = re.compile(r"<[A-Za-z_]")
_ENTITY_DECL = re.compile(
    r"""<!ENTITY\s+(?P<pe>%\s+)?(?P<name>[^\s%"'>]+)\s+(?P<body>(?:"[^"]*"|'[^']*'|[^>"'])*)>"""
)
_ENTITY_START = re.compile(r"<!ENTITY\b", re.IGNORECASE)
_CHAR_REF = re.compile(r"&#(?:\d+|x[0-9a-fA-F]+);")
# Long enough for "&#160;" or "Example Wire Ltd"; a 3-byte reference can then
# grow the document at most about fivefold.
_MAX_ENTITY_VALUE = 16


def check_xml_safety(text: str) -> None:
    """Raise ExtractError if the document's DTD declares an unsafe entity."""
    subset = _internal_subset(text)
    if not subset:
        return
    declarations = list(_ENTITY_DECL.finditer(subset))
    if len(declarations) != len(_ENTITY_START.findall(subset)):
        raise ExtractError("unsafe feed: malformed entity declaration in the DTD; not parsed")
    for declaration in declarations:
        reason = _unsafe(declaration)
        if reason:
            name = declaration.group("name")
            raise ExtractError(f"unsafe feed: entity {name!r} {reason}; not parsed")


def _unsafe(declaration: re.Match[str]) -> str | None:
    if declaration.group("pe"):
        return "is a parameter entity"
    body = declaration.group("body").strip()
    if not body or body[0] not in "\"'":
        return "is external (SYSTEM/PUBLIC)"
    value = body[1:-1] if body[-1] == body[0] else body[1:]
    if "&" in _CHAR_REF.sub("", value) or "%" in value:
        return "refers to other entities"
    if len(value) > _MAX_ENTITY_VALUE or body[-1] != body[0] or body.count(body[0]) != 2:
        return "has an oversized or malformed value"
    return None


def _internal_subset(text: str) -> str:
    """The `[...]` part of a leading DOCTYPE, honouring quotes and comments."""
    # Anywhere before the root element, as lenient parsers accept it there too.
    root = _FIRST_ELEMENT.search(text)
    match = _DOCTYPE.search(text, 0, root.start() if root else len(text))
    if not match:
        return ""
    position = match.end()
    quote = ""
    start = -1
    while position < len(text):
        char = text[position]
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ">" and start < 0:
            return ""  # a DOCTYPE with no internal subset declares nothing
        elif char == "[" and start < 0:
            start = position + 1
        elif start >= 0 and text.startswith("<!--", position):
            end = text.find("-->", position)
            position = len(text) if end < 0 else end + 2
        elif char == "]" and start >= 0:
            return text[start:position]
        position += 1
    # An unterminated subset: judge all of it rather than let a parser guess.
    return text[start:] if start >= 0 else ""
