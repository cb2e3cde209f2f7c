"""Bytes to text when the declared charset may be missing or wrong.

Order of trust: a byte-order mark, then valid UTF-8 (non-ASCII text in any
other charset is almost never valid UTF-8, while servers and templates often
declare Latin-1 over UTF-8), then the HTTP header, then the document's own
declaration, then charset_normalizer's guess. A declared charset is only
believed if it decodes cleanly and the result does not read as mojibake.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes
from charset_normalizer.md import mess_ratio

__all__ = ["Decoded", "charset_from_content_type", "decode"]

# Labels that browsers (WHATWG Encoding Standard) read as a superset: pages
# declared with the narrow label routinely contain the wider set's characters.
_SUPERSETS = {
    "ascii": "cp1252",
    "latin_1": "cp1252",
    "iso8859-1": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "euc_kr": "cp949",
    "big5": "big5hkscs",
}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([\w.:-]+)["']""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w.:-]+)""", re.IGNORECASE)

# Charsets in rough order of use on the web, by codecs' canonical names.
_COMMON = (
    "utf-8",
    "cp1252",
    "cp1251",
    "gb18030",
    "cp932",
    "euc_jp",
    "cp949",
    "big5hkscs",
    "cp1250",
    "iso8859-2",
    "cp1256",
    "cp1253",
    "cp1254",
    "cp1255",
    "cp874",
    "koi8-r",
    "koi8-u",
    "iso8859-15",
    "iso8859-5",
    "iso8859-7",
    "iso8859-8",
    "cp1257",
    "cp1258",
    "iso2022_jp",
)
_CHAOS_TIE = 0.05
# Above this share of suspicious characters a decoding is taken for mojibake.
_MAX_MESS = 0.2
# Enough of a document to judge its charset; the mess detector is not cheap.
_SAMPLE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Decoded:
    """Text with the charset it was read as and, if any, the declaration that lied."""

    text: str
    encoding: str
    problem: str | None = None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return match.group(1) if match else None


def decode(data: bytes, content_type: str | None = None) -> Decoded:
    """Decode a document, naming a wrong declaration in `problem`."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return Decoded(data[len(bom) :].decode(encoding, errors="replace"), encoding)
    if _is_utf16_without_bom(data):
        encoding = "utf-16-le" if data[1] == 0 else "utf-16-be"
        return Decoded(data.decode(encoding, errors="replace"), encoding)
    declared = [
        label for label in (charset_from_content_type(content_type), _declared_in(data)) if label
    ]
    try:
        return Decoded(data.decode("utf-8"), "utf-8", _lie(declared, "utf-8"))
    except UnicodeDecodeError:
        pass
    for label in declared:
        codec = _codec(label)
        if codec and (text := _clean_decode(data, codec)) is not None:
            return Decoded(text, codec, _lie(declared, codec))
    guess = _guess(data)
    return Decoded(data.decode(guess, errors="replace"), guess, _lie(declared, guess))


def _declared_in(data: bytes) -> str | None:
    head = data[:4096]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
    return match.group(1).decode("ascii") if match else None


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _clean_decode(data: bytes, encoding: str) -> str | None:
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None
    if mess_ratio(text[:_SAMPLE], maximum_threshold=_MAX_MESS) >= _MAX_MESS:
        return None
    return text


def _guess(data: bytes) -> str:
    matches = list(from_bytes(data[:_SAMPLE]))
    if not matches:
        return "utf-8"
    # The detector ranks by chaos alone, and on a few hundred bytes of Polish
    # ISO-8859-3 ties with ISO-8859-2; among near-ties, the charset that
    # web pages actually use wins.
    least = min(match.chaos for match in matches)
    near = [match.encoding for match in matches if match.chaos <= least + _CHAOS_TIE]
    return _codec(min(near, key=_rank)) or "utf-8"


def _rank(encoding: str) -> int:
    codec = _codec(encoding) or encoding
    return _COMMON.index(codec) if codec in _COMMON else len(_COMMON)


def _is_utf16_without_bom(data: bytes) -> bool:
    # "<?" or "<r" etc. as UTF-16: every other byte of an ASCII prefix is zero.
    head = data[:8]
    return len(head) == 8 and (head[1::2] == b"\0" * 4 or head[0::2] == b"\0" * 4)


def _lie(declared: list[str], used: str) -> str | None:
    wrong = [label for label in declared if _codec(label) != used]
    if not wrong:
        return None
    return f"declared charset {wrong[0]!r} is wrong; decoded as {used}"
