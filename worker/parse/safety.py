"""Refuse XML that declares entities able to read files or expand without bound.

Policy: a DTD may declare internal general entities whose values are short
literals or character references (old feeds declare `&nbsp;` that way), and
those are expanded; an external (SYSTEM/PUBLIC), parameter, nested or longer
entity makes the whole document refused with ExtractError. An external DTD
subset is allowed and never fetched.

The prolog is read with a small tokenizer (XML declaration, processing
instructions, comments, whitespace, the DOCTYPE and its internal subset),
never by looking for the first thing that resembles a tag: a comment such
as `<!-- <a -->` must not end the search early. A DOCTYPE or entity
declaration found later, outside comments and CDATA, is refused as well,
because lenient parsers (feedparser's fallback among them) accept one there.

feedparser hands documents to expat (which no longer loads external entities
and caps amplification) and, when that fails, to a lenient parser of its own;
checking the DTD here first means neither parser's defaults are relied on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from worker.errors import ExtractError

__all__ = ["check_xml_safety"]

_CHAR_REF = re.compile(r"&#(?:\d+|x[0-9a-fA-F]+);")
# Long enough for "&#160;" or "Example Wire Ltd"; a 3-byte reference can then
# grow the document at most about fivefold.
_MAX_ENTITY_VALUE = 16
_NAME = re.compile(r"[^\s%\"'<>\[\]&;]+")
_SPACE = re.compile(r"\s*")
# After the prolog: a declaration where no valid document has one.
_LATE = re.compile(r"<!--|<!\[CDATA\[|<\?|<!(?i:DOCTYPE|ENTITY)\b")


def check_xml_safety(text: str) -> None:
    """Raise ExtractError if the document's DTD declares an unsafe entity."""
    scanner = _Scanner(text)
    scanner.prolog()
    scanner.rest()


@dataclass
class _Scanner:
    text: str
    position: int = 0

    def _refuse(self, reason: str) -> ExtractError:
        return ExtractError(f"unsafe feed: {reason}; not parsed")

    def _skip_space(self) -> None:
        found = _SPACE.match(self.text, self.position)
        self.position = found.end() if found else self.position

    def _skip_past(self, end: str) -> None:
        found = self.text.find(end, self.position)
        # Unterminated: the rest is inside it, so there is nothing more to read.
        self.position = len(self.text) if found < 0 else found + len(end)

    def _at(self, token: str, *, fold: bool = False) -> bool:
        piece = self.text[self.position : self.position + len(token)]
        return piece.upper() == token.upper() if fold else piece == token

    def prolog(self) -> None:
        """Read up to the root element; check a DOCTYPE met on the way."""
        if self._at("\ufeff"):
            self.position += 1
        while self.position < len(self.text):
            self._skip_space()
            if self._at("<?"):
                self._skip_past("?>")
            elif self._at("<!--"):
                self._skip_past("-->")
            elif self._at("<!DOCTYPE", fold=True):
                self.position += len("<!DOCTYPE")
                self._doctype()
            else:
                return  # the root element, or text a lenient parser may skip

    def rest(self) -> None:
        """Refuse a DTD anywhere after the prolog, outside comments and CDATA."""
        while True:
            found = _LATE.search(self.text, self.position)
            if found is None:
                return
            token = found.group()
            self.position = found.end()
            if token == "<!--":
                self._skip_past("-->")
            elif token == "<![CDATA[":
                self._skip_past("]]>")
            elif token == "<?":
                self._skip_past("?>")
            else:
                raise self._refuse("a DTD declaration after the document's start")

    def _doctype(self) -> None:
        """From after `<!DOCTYPE` to after its `>`, checking any internal subset."""
        while self.position < len(self.text):
            char = self.text[self.position]
            if char in "\"'":
                self._literal()
            elif char == "[":
                self.position += 1
                self._internal_subset()
            elif char == ">":
                self.position += 1
                return
            else:
                self.position += 1
        # Unterminated DOCTYPE: nothing after it can be a document anyway.

    def _literal(self) -> str:
        quote = self.text[self.position]
        end = self.text.find(quote, self.position + 1)
        if end < 0:
            raise self._refuse("unterminated literal in the DTD")
        value = self.text[self.position + 1 : end]
        self.position = end + 1
        return value

    def _internal_subset(self) -> None:
        while True:
            self._skip_space()
            if self.position >= len(self.text):
                raise self._refuse("unterminated DTD internal subset")
            if self._at("]"):
                self.position += 1
                return
            if self._at("<!--"):
                self._skip_past("-->")
            elif self._at("<?"):
                self._skip_past("?>")
            elif self._at("<!ENTITY", fold=True):
                if not self._at("<!ENTITY"):
                    # Not XML, yet a lenient parser might still take it.
                    raise self._refuse("malformed entity declaration in the DTD")
                self.position += len("<!ENTITY")
                self._entity()
            elif self._at("<!"):
                self._markup_declaration()
            elif self._at("%"):
                raise self._refuse("a parameter entity reference in the DTD")
            else:
                raise self._refuse("malformed DTD internal subset")

    def _markup_declaration(self) -> None:
        """ELEMENT, ATTLIST, NOTATION: skipped, honouring their literals."""
        while self.position < len(self.text):
            char = self.text[self.position]
            if char in "\"'":
                self._literal()
            elif char == ">":
                self.position += 1
                return
            elif char in "<[]":
                break
            else:
                self.position += 1
        raise self._refuse("malformed declaration in the DTD")

    def _entity(self) -> None:
        self._skip_space()
        if self._at("%"):
            raise self._refuse("an entity in the DTD is a parameter entity")
        found = _NAME.match(self.text, self.position)
        if found is None:
            raise self._refuse("malformed entity declaration in the DTD")
        name = found.group()
        self.position = found.end()
        self._skip_space()
        if self.position >= len(self.text) or self.text[self.position] not in "\"'":
            raise self._refuse(f"entity {name!r} is external (SYSTEM/PUBLIC)")
        value = self._literal()
        self._skip_space()
        if not self._at(">"):
            raise self._refuse(f"entity {name!r} has a malformed declaration")
        self.position += 1
        if "&" in _CHAR_REF.sub("", value) or "%" in value:
            raise self._refuse(f"entity {name!r} refers to other entities")
        if len(value) > _MAX_ENTITY_VALUE:
            raise self._refuse(f"entity {name!r} has an oversized value")
