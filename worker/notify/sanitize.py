"""The one sanitizer for text shown to a human: alerts, and every command's output.

Text from the open web (titles, article text, feed names, URLs) may carry
what a terminal, mail client or chat client acts on instead of showing:
- escape sequences: colour, cursor moves, OSC 52 (writes the clipboard),
  OSC 8 (a link whose target differs from its text), window titles;
- C0 and C1 control characters: a carriage return overwrites the line, and
  U+009B starts a sequence on terminals that read 8-bit controls;
- bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069),
  which make `exe.txt` display as `txt.exe` ("Trojan Source").

Whole sequences are removed, payload included, so an OSC 52 leaves no base64
behind. Line breaks and tabs survive; right-to-left marks (U+200E, U+200F,
U+061C) survive too, because Arabic and Hebrew text needs them and they
cannot reorder anything beyond a neutral character.
"""

from __future__ import annotations

import re

__all__ = ["json_inert", "sanitize"]

_SEQUENCE = re.compile(
    r"""
    (?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]        # CSI: colours, cursor
    |(?:\x1b[\]PX^_]|[\x90\x98\x9d-\x9f])                       # OSC, DCS, SOS, PM, APC
     [^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)                       # ...up to BEL or ST
    |\x1b[\x20-\x2f]*[\x30-\x7e]                                # any other ESC sequence
    """,
    re.VERBOSE,
)
# Terminals and mail clients break lines at these; one newline is what they mean.
_BREAKS = re.compile(r"\r\n?|[\v\f\x1c-\x1e\x85\u2028\u2029]")
_UNSAFE = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 except tab and newline, DEL, C1
    "\u202a-\u202e\u2066-\u2069"  # bidi embeddings, overrides and isolates
    "\ud800-\udfff"  # lone surrogates: no terminal or encoder takes them
    "]"
)
# Kept in --json output, but written as \u escapes so raw bytes stay inert.
_JSON_UNSAFE = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def sanitize(text: str) -> str:
    """`text` with escape sequences, control characters and bidi controls removed.

    Newlines (every kind of line break becomes one) and tabs are kept; callers
    that need one line collapse whitespace afterwards. Idempotent.
    """
    if text.isprintable():
        return text  # the common case, and a quick one
    text = _SEQUENCE.sub("", text)
    text = _BREAKS.sub("\n", text)
    return _UNSAFE.sub("", text)


def json_inert(document: str) -> str:
    """A JSON document (from json.dumps with ensure_ascii=False) whose bytes
    hold no C1 or bidi control: those are written as \\u escapes instead.

    The values read back unchanged; only a terminal showing the raw line is
    spared. json.dumps already escapes C0 controls, ESC included.
    """
    return _JSON_UNSAFE.sub(lambda found: f"\\u{ord(found.group()):04x}", document)
