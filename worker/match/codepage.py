"""Fields written in a one-byte code page: the fast path for Cyrillic and
European news.

Russian or French text in a Unicode string costs a dictionary look-up per
character to fold, and another regex pass over it to read its words as
written for `word~`. Encoded in a code page (Cyrillic, Western or Central
European), the same text is one byte per character, so offsets do not move,
and one byte translation lowers it and blanks its separators: its tokens are
then its space-separated runs, each folded once per process through a memo
(news repeats its words), and the spans of a term are found by searching the
lowered bytes for the words that fold to it.

A field takes this path only when every character is ASCII, a letter that
folds to ASCII letters, or a character that only separates words; anything
else (a soft hyphen, a combining mark, `№`, a letter the page lacks) takes
the general path.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain, compress, pairwise
from operator import add, sub
from typing import Literal

__all__ = ["CodePage", "CodePageField", "WordEntry", "class_changes", "run_offsets", "split_at"]

_SPACE = 0x20
_LETTER = ord("a")
_DIGIT = ord("0")


@dataclass(frozen=True, slots=True)
class WordEntry:
    """One lowered word of the code page: its token, its form as a stemmer
    takes it (`normalize.word_form`), how many chars at either end fold to
    nothing (the soft sign of `кремль`), which its token's offsets leave out,
    and its accented letters as (offset in the token, letter)."""

    token: str
    form: str
    lead: int
    trail: int
    accents: tuple[tuple[int, str], ...]


class CodePage:
    """A code page's byte tables and the memo of the words met in it.

    `is_letter` says whether a letter may take this path (it folds to ASCII
    letters), `is_separator` whether a char only separates words, and `entry`
    folds a whole lowered word (None if it is not one token).
    """

    LIMIT = 1 << 17  # words remembered; started again when full
    # Lowered words kept per token or form. More (a text spelling one word
    # with every accent) would make each search for it longer and each new
    # one dearer to add: such a token is "crowded", and its spans are found
    # from the token positions instead.
    MAX_VARIANTS = 32

    def __init__(
        self,
        encoding: str,
        is_letter: Callable[[str], bool],
        is_separator: Callable[[str], bool],
        entry: Callable[[str], WordEntry | None],
    ) -> None:
        self.encoding = encoding
        self._entry = entry
        lower = bytearray(256)  # letters lowered, digits kept, the rest a space
        classes = bytearray(256)  # letter, digit or space
        allowed = bytearray()  # bytes that may take this path
        foreign = bytearray()  # bytes of letters outside ASCII
        for byte in range(256):
            try:
                char = bytes([byte]).decode(encoding)
            except UnicodeDecodeError:
                continue
            lowered = char.lower()
            if char.isascii():
                allowed.append(byte)
                if char.isalnum():
                    lower[byte] = ord(lowered)
                    classes[byte] = _LETTER if char.isalpha() else _DIGIT
                else:
                    lower[byte] = classes[byte] = _SPACE
            elif is_letter(char) and is_letter(lowered) and _one_byte(lowered, encoding):
                allowed.append(byte)
                foreign.append(byte)
                lower[byte] = lowered.encode(encoding)[0]
                classes[byte] = _LETTER
            elif is_separator(char):
                allowed.append(byte)
                lower[byte] = classes[byte] = _SPACE
        self._lower = bytes(lower)
        self._classes = bytes(classes)
        self._allowed = bytes(allowed)
        self._foreign = bytes(foreign)
        # The words met, and for those that are one token their token, form
        # and trims, in plain dicts read by `map` (in C: an article has hundreds).
        self._seen: set[bytes] = set()
        self._tokens: dict[bytes, str] = {}
        self._forms: dict[bytes, str] = {}
        self._trims: dict[bytes, tuple[int, int]] = {}
        self._accents: dict[bytes, tuple[tuple[int, str], ...]] = {}  # words that have any
        # Per token and per form, the lowered words that fold to it.
        self._by_token: dict[str, tuple[bytes, ...]] = {}
        self._by_form: dict[str, tuple[bytes, ...]] = {}
        self._crowded: set[str] = set()  # tokens and forms past MAX_VARIANTS

    def read(self, text: str) -> CodePageField | Literal["separators"] | None:
        """`text` (not ASCII) as a code-page field; "separators" when its
        non-ASCII chars only separate words (the ASCII path suits it better);
        None when it cannot take this path."""
        try:
            raw = text.encode(self.encoding)
        except UnicodeEncodeError:
            return None
        if raw.translate(None, self._allowed):
            return None
        if len(raw.translate(None, self._foreign)) == len(raw):
            return "separators"
        lowered = raw.translate(self._lower)
        cuts = class_changes(raw.translate(self._classes))
        if cuts:
            lowered = b" ".join(split_at(lowered, cuts))
        words = lowered.split()
        tokens = list(map(self._tokens.get, words))
        if None in tokens:
            new = set(words).difference(self._seen)
            if not new:
                return None  # a word that is not one token (or none)
            self._learn(new)
            tokens = list(map(self._tokens.get, words))
            if None in tokens:
                return None
        return CodePageField(self, raw, lowered, cuts, words, tokens)  # type: ignore[arg-type]

    def _learn(self, words: set[bytes]) -> None:
        if len(self._seen) + len(words) > self.LIMIT:
            # The guard first: a reader never sees a word as seen without its entry.
            self._seen.clear()
            for memo in (self._tokens, self._forms, self._trims, self._accents):
                memo.clear()
            self._by_token.clear()
            self._by_form.clear()
            self._crowded.clear()
        for word in words:
            entry = self._entry(word.decode(self.encoding))
            if entry is not None:
                self._forms[word] = entry.form
                self._trims[word] = (entry.lead, entry.trail)
                if entry.accents:
                    self._accents[word] = entry.accents
                self._tokens[word] = entry.token
                self._add_variant(self._by_token, entry.token, word)
                self._add_variant(self._by_form, "~" + entry.form, word)
        self._seen.update(words)

    def forms(self, words: list[bytes]) -> list[str] | None:
        """The form of each lowered word (None if the memo started again meanwhile)."""
        try:
            return list(map(self._forms.__getitem__, words))
        except KeyError:
            return None

    def trims(self, word: bytes) -> tuple[int, int] | None:
        """How many chars at either end of a lowered word fold to nothing."""
        return self._trims.get(word)

    def accents(self, word: bytes) -> tuple[tuple[int, str], ...]:
        """The accented letters of a lowered word's token."""
        return self._accents.get(word, ())

    def _add_variant(self, index: dict[str, tuple[bytes, ...]], key: str, word: bytes) -> None:
        if key in self._crowded:
            return
        known = index.get(key, ())
        if len(known) < self.MAX_VARIANTS:
            index[key] = (*known, word)
        else:
            self._crowded.add(key)
            del index[key]

    def variants(self, token: str) -> tuple[bytes, ...] | None:
        """The lowered words met so far that fold to `token`."""
        return None if token in self._crowded else self._by_token.get(token, ())

    def form_variants(self, form: str) -> tuple[bytes, ...] | None:
        """The lowered words met so far whose form is `form`."""
        key = "~" + form  # forms and tokens share the crowded set
        return None if key in self._crowded else self._by_form.get(key, ())

    def offsets(self, raw: bytes) -> tuple[list[int], list[int]]:
        """Start and end of every lowered word of `raw`, untrimmed."""
        return run_offsets(raw.translate(self._lower), class_changes(raw.translate(self._classes)))


def _one_byte(char: str, encoding: str) -> bool:
    try:
        return len(char.encode(encoding)) == 1
    except UnicodeEncodeError:
        return False


class CodePageField:
    """A field on the code-page path: its tokens and forms, and spans on demand."""

    __slots__ = ("_cuts", "_inserted", "_lowered", "_offsets", "_page", "_raw", "_words", "tokens")

    def __init__(
        self,
        page: CodePage,
        raw: bytes,
        lowered: bytes,
        cuts: list[int],
        words: list[bytes],
        tokens: list[str],
    ) -> None:
        self._page = page
        self._raw = raw
        # The lowered text with a space around, where words are searched for.
        self._lowered = b" " + lowered + b" "
        self._cuts = cuts
        self._inserted = [cut + k for k, cut in enumerate(cuts)]
        self._words = words  # lowered, one per token
        self.tokens = tokens
        self._offsets: tuple[list[int], list[int]] | None = None

    def forms(self) -> list[str]:
        forms = self._page.forms(self._words)
        if forms is None:  # the memo started again meanwhile: learn these words again
            self._relearn()
            forms = self._page.forms(self._words)
        assert forms is not None
        return forms

    def _trims(self, word: bytes) -> tuple[int, int]:
        trims = self._page.trims(word)
        if trims is None:
            self._relearn()
            trims = self._page.trims(word)
        assert trims is not None
        return trims

    def accents(self, index: int) -> tuple[tuple[int, str], ...]:
        """Accented letters of token `index` as (offset in token, letter)."""
        return self._page.accents(self._words[index])

    def may_contain(self, letter: str) -> bool:
        """Whether a lower-case letter occurs in the text (False is certain)."""
        try:
            return letter.encode(self._page.encoding) in self._lowered
        except UnicodeEncodeError:
            return False

    def _relearn(self) -> None:
        self._page.read(self._raw.decode(self._page.encoding))

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Original offsets covering tokens first..last (inclusive)."""
        if self._offsets is None:
            self._offsets = self._page.offsets(self._raw)
        starts, ends = self._offsets
        lead = self._trims(self._words[first])[0]
        trail = self._trims(self._words[last])[1]
        return starts[first] + lead, ends[last] - trail

    def word_spans(self, token: str) -> list[tuple[int, int]] | None:
        """Original offsets of the tokens equal to `token`; None for a crowded one."""
        variants = self._page.variants(token)
        return None if variants is None else self._spans(variants)

    def form_spans(self, forms: Iterable[str]) -> list[tuple[int, int]] | None:
        """Original offsets of the tokens whose form is one of `forms`; None
        when one of them is crowded."""
        each = list(map(self._page.form_variants, forms))
        if None in each:
            return None
        variants = chain.from_iterable(each)  # type: ignore[arg-type]
        return self._spans(tuple(dict.fromkeys(variants)))

    def term_spans(self, words: tuple[str, ...]) -> list[tuple[int, int]] | None:
        """Original offsets of the runs of tokens equal to `words` (a phrase or
        compound), overlapping ones included, as the automaton finds them."""
        each = tuple(map(self._page.variants, words))
        if None in each:
            return None  # a crowded word: by the token positions
        variants: tuple[tuple[bytes, ...], ...] = each  # type: ignore[assignment]
        if not all(variants):
            return []  # a word no field has held since the memo started
        pattern = _phrase_pattern(variants)
        lowered = self._lowered
        found: list[tuple[int, int]] = []
        match = pattern.search(lowered)
        while match is not None:
            # The match starts with the space before the first word, one
            # char into the padded text: its start is the word's offset.
            lead = self._trims(match.group(1))[0]
            trail = self._trims(match.group(match.lastindex or 1))[1]
            found.append((match.start() + lead, match.end() - 1 - trail))
            match = pattern.search(lowered, match.start() + 1)
        return self._unshifted(found)

    def _spans(self, variants: tuple[bytes, ...]) -> list[tuple[int, int]]:
        lowered = self._lowered
        found: list[tuple[int, int]] = []
        for word in variants:
            lead, trail = self._trims(word)
            needle = b" " + word + b" "
            size = len(word)
            index = lowered.find(needle)
            while index >= 0:  # the word starts at index + 1 of the padded text
                found.append((index + lead, index + size - trail))
                index = lowered.find(needle, index + size + 1)
        found.sort()
        return self._unshifted(found)

    def _unshifted(self, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Spans in the lowered text as offsets in the original (where a
        letter meets a digit, the lowered text has a space more)."""
        if self._cuts and found:
            inserted = self._inserted
            found = [
                (start - bisect_right(inserted, start), end - bisect_right(inserted, end - 1))
                for start, end in found
            ]
        return found


@lru_cache(maxsize=1 << 12)
def _phrase_pattern(variants: tuple[tuple[bytes, ...], ...]) -> re.Pattern[bytes]:
    """Words, each one of its lowered variants, with separators between; the
    first and last word captured, for their trims."""
    alternatives = [b"|".join(map(re.escape, sorted(each))) for each in variants]
    parts = [b"(?:" + one + b")" for one in alternatives]
    parts[0] = b"(" + alternatives[0] + b")"
    if len(parts) > 1:
        parts[-1] = b"(" + alternatives[-1] + b")"
    return re.compile(b" " + b" +".join(parts) + b"(?= )")


def run_offsets(blanked: bytes, cuts: list[int]) -> tuple[list[int], list[int]]:
    """Start and end of every run of `blanked` (text with each separator a
    space), split where `cuts` say a letter meets a digit, without a Python loop."""
    parts = blanked.split(b" ")
    lengths = list(map(len, parts))
    # Part i ends after the lengths of parts 0..i and the i spaces between them.
    ends = list(map(add, accumulate(lengths), range(len(lengths))))
    starts = list(map(sub, ends, lengths))
    starts, ends = list(compress(starts, lengths)), list(compress(ends, lengths))
    if cuts:  # where a letter meets a digit, one token becomes two
        starts, ends = sorted(starts + cuts), sorted(ends + cuts)
    return starts, ends


def class_changes(classes: bytes) -> list[int]:
    """Offsets where a letter meets a digit (or the other way round), in text
    translated to classes: `a` for a letter, `0` for a digit, a space otherwise."""
    # Digits are rare in prose: hopping from one to the next with find() beats
    # searching "a0" in text that is mostly "a", or a regex scan.
    """Offsets where a letter meets a digit (or the other way round)."""
    cuts: list[int] = []
    size = len(classes)
    index = classes.find(b"0")
    while index >= 0:
        if index > 0 and classes[index - 1] == _LETTER:
            cuts.append(index)
        end = index + 1
        while end < size and classes[end] == _DIGIT:
            end += 1
        if end < size and classes[end] == _LETTER:
            cuts.append(end)
        index = classes.find(b"0", end)
    return cuts


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in pairwise(bounds)]
