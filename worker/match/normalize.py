"""Normalization shared by rule terms and article text (docs/rules.md).

Both sides go through the same code, so a rule finds its words whatever the
script, case, accents or dash style of the article. Three views of a field:

- `NormText`: the whole field folded (NFKC, casefold, dashes to `-`, soft
  hyphens gone, Cyrillic and Greek transliterated, accents stripped), with a
  map back to the original offsets. Regular expressions run on this.
- tokens: the words of that text (runs of letters, or of digits; one token per
  character of the scripts written without spaces), used by every other term.
- accents: for each folded position whose original letter carried an accent,
  that letter, so a rule written with an accent can insist on it.

Most news text is ASCII apart from typographic punctuation, so `FieldText`
takes a byte-level fast path for it that yields the same tokens as the general
path (the property tests compare the two through the reference evaluator).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import accumulate, repeat
from operator import sub
from typing import Literal

from unidecode import unidecode

from worker.match.codepage import (
    CodePage,
    CodePageField,
    WordEntry,
    class_changes,
    run_offsets,
    split_at,
)

__all__ = [
    "FieldText",
    "NormText",
    "TermWords",
    "fold_text",
    "fold_unit",
    "normalize_text",
    "token_indexes",
    "tokenize",
    "word_form",
]

# Scripts written without spaces between words: matched by substring, which we
# get by making each of their characters a token of its own.
_SUBSTRING_RANGES: tuple[tuple[int, int], ...] = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x19E0, 0x19FF),  # Khmer symbols
    (0x2E80, 0x2FDF),  # CJK radicals
    (0x3005, 0x3007),  # ideographic iteration and number marks
    (0x3021, 0x3029),  # Hangzhou numerals
    (0x3031, 0x3035),  # kana repeat marks
    (0x3038, 0x303C),
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x31A0, 0x31BF),
    (0x31F0, 0x31FF),  # Katakana extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA9E0, 0xA9FF),  # Myanmar extended B
    (0xAA60, 0xAA7F),  # Myanmar extended A
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0x20000, 0x3134F),  # CJK extensions B to G
)

# Compared through unidecode's Latin transliteration (docs/rules.md: Cyrillic, Greek).
_TRANSLIT_RANGES: tuple[tuple[int, int], ...] = (
    (0x0370, 0x03FF),
    (0x0400, 0x052F),
    (0x1C80, 0x1C8F),
    (0x1F00, 0x1FFF),
    (0x2DE0, 0x2DFF),
    (0xA640, 0xA69F),
)

# Dash-like characters outside Unicode's Pd category that users still type as
# a hyphen (minus signs).
_EXTRA_DASHES = frozenset("\u2212\u2796\u02d7\ufe63\uff0d")


def _in_ranges(code: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(low <= code <= high for low, high in ranges)


def _char_class(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in ranges)


_SUB = _char_class(_SUBSTRING_RANGES)
# Folded text holds only ASCII and non-ASCII word characters (separators are
# folded to ASCII), so this is all a tokenizer needs.
_TOKEN_RE = re.compile(f"[a-z]+|[0-9]+|[{_SUB}]|[^\\x00-\\x7f{_SUB}]+")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")

Accents = tuple[tuple[int, str], ...]
# A term's words as its spans are searched for: each word's text, whether it
# is a prefix (`word*`), and the accents it insists on (see `query.Word`).
TermWords = tuple[tuple[str, bool, Accents], ...]


def _fold_separator(char: str) -> str:
    if unicodedata.category(char) == "Pd" or char in _EXTRA_DASHES:
        return "-"
    if char.isspace() or unicodedata.category(char) == "Cs":
        return " "  # lone surrogates (from undecodable bytes) are noise, not text
    # Keep typographic punctuation recognisable for regexes: a curly
    # apostrophe becomes ', an ellipsis ...
    ascii_form = unidecode(char).strip()
    if ascii_form and all(c.isascii() and not c.isalnum() for c in ascii_form):
        return ascii_form
    return " "


def _latinize(char: str) -> str:
    if char.isascii() or not unicodedata.name(char, "").startswith("LATIN"):
        return char
    # Letters with no decomposition (ø, ł, æ) still have a plain Latin base.
    plain = "".join(c for c in unidecode(char).lower() if c.isascii() and c.isalnum())
    return plain or char


def _fold_cluster(cluster: str) -> tuple[str, str | None]:
    """A letter or digit with its marks -> (folded form, accented original or None)."""
    first = cluster[0]
    code = ord(first)
    if unicodedata.category(first)[0] not in "LN":
        return " ", None
    if _in_ranges(code, _SUBSTRING_RANGES):
        return cluster, None
    if _in_ranges(code, _TRANSLIT_RANGES):
        latin = unidecode(cluster).lower()
        return "".join(c for c in latin if c.isascii() and c.isalnum()), None
    if unicodedata.category(first) == "Nd":
        return str(unicodedata.decimal(first)), None
    stripped = "".join(
        c
        for c in unicodedata.normalize("NFD", cluster)
        if unicodedata.category(c) not in ("Mn", "Me")
    )
    base = "".join(_latinize(c) for c in stripped)
    return base, (cluster if base != cluster else None)


@lru_cache(maxsize=1 << 16)
def fold_unit(unit: str) -> tuple[str, Accents]:
    """Fold one original character with its combining marks.

    Returns the folded text and, for each accented letter in it, its offset in
    the folded text and the accented letter (NFC, casefolded).
    """
    category = unicodedata.category(unit[0])
    if category == "Cf":  # soft hyphen, zero-width joiners: invisible, never split words
        return "", ()
    if category[0] not in "LNM":
        return _fold_separator(unit[0]), ()
    text = unicodedata.normalize("NFC", unicodedata.normalize("NFKC", unit).casefold())
    out: list[str] = []
    accents: list[tuple[int, str]] = []
    offset = 0
    for cluster in _clusters(text):
        folded, accented = _fold_cluster(cluster)
        if accented is not None and folded:
            accents.append((offset, accented))
        out.append(folded)
        offset += len(folded)
    return "".join(out), tuple(accents)


def _is_mark(char: str) -> bool:
    return unicodedata.category(char)[0] == "M"


def _clusters(text: str) -> list[str]:
    clusters: list[str] = []
    for char in text:
        if clusters and _is_mark(char):
            clusters[-1] += char
        else:
            clusters.append(char)
    return clusters


def _simple_letters() -> dict[str, str]:
    """Cyrillic and Greek letters that fold on their own, with no accent to keep:
    a run made only of them folds letter by letter through this table, as the
    general path would fold it (Russian news is made of such runs)."""
    table: dict[str, str] = {}
    for low, high in ((0x0391, 0x03C9), (0x0400, 0x045F)):
        for code in range(low, high + 1):
            char = chr(code)
            if unicodedata.category(char)[0] != "L":
                continue
            folded, accents = fold_unit(char)
            if not accents:
                table[char] = folded
    return table


_SIMPLE = _simple_letters()
# Folds a word of ASCII and _SIMPLE letters as fold_text does (others stay as they are).
_SIMPLE_TABLE: dict[int, str] = {
    **{ord(c): c.lower() for c in map(chr, range(65, 91))},
    **{ord(c): f for c, f in _SIMPLE.items()},
}


def _fold_simple(run: str) -> tuple[str, tuple[int, ...] | None, tuple[int, ...] | None, Accents]:
    parts = list(map(_SIMPLE.__getitem__, run))
    folded = "".join(parts)
    if len(folded) == len(run) and all(parts):
        return folded, None, None, ()
    starts = tuple(i for i, part in enumerate(parts) for _ in part)
    ends = tuple(i + 1 for i, part in enumerate(parts) for _ in part)
    return folded, starts, ends, ()


@lru_cache(maxsize=1 << 14)
def _fold_run(run: str) -> tuple[str, tuple[int, ...] | None, tuple[int, ...] | None, Accents]:
    """Fold a run of text; per folded char, the original start and end offsets.

    The offsets are None when each folded char stands for the original at
    the same offset, which is most runs and lets the caller skip a loop.
    """
    if all(map(_SIMPLE.__contains__, run)):
        return _fold_simple(run)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    accents: list[tuple[int, str]] = []
    position = 0
    folded_len = 0
    for unit in _clusters(run):  # each char with the combining marks after it
        folded, unit_accents = fold_unit(unit)
        end = position + len(unit)
        out.append(folded)
        starts.extend([position] * len(folded))
        ends.extend([end] * len(folded))
        accents.extend((folded_len + off, letter) for off, letter in unit_accents)
        folded_len += len(folded)
        position = end
    if starts == list(range(len(run))) and ends == list(range(1, len(run) + 1)):
        return "".join(out), None, None, tuple(accents)  # one char for one, like most runs
    return "".join(out), tuple(starts), tuple(ends), tuple(accents)


@lru_cache(maxsize=1 << 16)
def word_form(text: str) -> str:
    """A word as written, as a stemmer takes it: NFKC, case-folded, NFC, no
    invisible characters (a soft hyphen inside `sanc\u00adtions`)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    if not folded.isascii():
        folded = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return unicodedata.normalize("NFC", folded)


# Words as written: runs of letters, or of digits (what folds to one token each, mostly).
_WORD_RE = re.compile(r"[^\W\d_]+|\d+")


def _word_entry(word: str) -> tuple[str, str] | None:
    """A word as written -> (its token, its `word_form`), if it folds to one token.

    The form is what a token's offsets cover: without letters at either end
    that fold to nothing (the soft sign of `Кремль`).
    """
    folded = word.translate(_SIMPLE_TABLE)  # Cyrillic, Greek, ASCII: one translation
    if not folded.isascii():
        folded = fold_text(word)
    if len(_TOKEN_RE.findall(folded)) != 1 or not folded.isalnum():
        return None
    start, end = 0, len(word)
    while start < end and not fold_unit(word[start])[0]:
        start += 1
    while end > start and not fold_unit(word[end - 1])[0]:
        end -= 1
    return folded, word_form(word[start:end])


class _WordEntries:
    """`_word_entry` of many words, remembered in two plain dicts (word ->
    token, word -> form) read by `map`: a fifth of an lru_cache's bookkeeping
    per word, and an article has hundreds. A word that is not one token has
    no entry in either, so its token reads as None and can never equal a
    field's token. Shared by threads (dict operations are atomic); started
    again when full."""

    LIMIT = 1 << 17

    def __init__(self) -> None:
        self._tokens: dict[str, str] = {}
        self._forms: dict[str, str] = {}
        self._seen: set[str] = set()  # every word looked at, one token or not

    def forms(self, words: list[str], tokens: list[str]) -> list[str] | None:
        """The `word_form` of each word, if the words fold one for one to `tokens`."""
        known = self._tokens
        if list(map(known.get, words)) != tokens:
            new = set(words).difference(self._seen)
            if not new:
                return None  # the words do not line up with the tokens
            self._learn(new)
            if list(map(known.get, words)) != tokens:
                return None
        try:
            return list(map(self._forms.__getitem__, words))
        except KeyError:  # another thread started the memo again meanwhile
            return None

    def _learn(self, words: set[str]) -> None:
        if len(self._seen) + len(words) > self.LIMIT:
            # Clear the guard first: a reader never sees a word as seen
            # without its entry.
            self._seen.clear()
            self._tokens.clear()
            self._forms.clear()
        for word in words:
            entry = _word_entry(word)
            if entry is not None:
                self._forms[word] = entry[1]
                self._tokens[word] = entry[0]
        self._seen.update(words)


_WORD_ENTRIES = _WordEntries()


def _codepage_entry(word: str) -> WordEntry | None:
    """A lowered word of a code page as the general path reads it, if it is one token."""
    found = tokenize(word)
    if len(found) != 1:
        return None
    token, start, end, accents = found[0]
    return WordEntry(token, word_form(word[start:end]), start, len(word) - end, accents)


class NormText:
    """A field's folded text with a map back to original offsets."""

    __slots__ = ("accents", "ends", "starts", "text")

    def __init__(
        self,
        text: str,
        starts: list[int] | None,
        ends: list[int] | None,
        accents: dict[int, str],
    ) -> None:
        self.text = text
        # Per folded char, its original start and end; None when the folded
        # text has the original's offsets (ASCII input).
        self.starts = starts
        self.ends = ends
        self.accents = accents

    def original(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the folded slice [start, end), end > start."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def normalize_text(text: str) -> NormText:
    """Fold a whole field (the general path, any script)."""
    if text.isascii():
        return NormText(text.lower(), None, None, {})
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    accents: dict[int, str] = {}
    done = 0
    for match in _NON_ASCII_RUN.finditer(text):
        start = match.start()
        # A combining mark after an ASCII letter (e + U+0301) belongs to it.
        if start > done and _is_mark(text[start]):
            start -= 1
        if start > done:
            pieces.append(text[done:start].lower())
            starts.extend(range(done, start))
            ends.extend(range(done + 1, start + 1))
        folded, run_starts, run_ends, run_accents = _fold_run(text[start : match.end()])
        base = len(starts)
        accents.update((base + off, letter) for off, letter in run_accents)
        pieces.append(folded)
        if run_starts is None or run_ends is None:
            starts.extend(range(start, match.end()))
            ends.extend(range(start + 1, match.end() + 1))
        else:
            starts.extend(start + s for s in run_starts)
            ends.extend(start + e for e in run_ends)
        done = match.end()
    if done < len(text):
        pieces.append(text[done:].lower())
        starts.extend(range(done, len(text)))
        ends.extend(range(done + 1, len(text) + 1))
    return NormText("".join(pieces), starts, ends, accents)


def fold_text(text: str) -> str:
    """`normalize_text(text).text` without the offset maps: what scanning needs."""
    return _fold(text)[0]


# A run of text that folding does not map one char for one (`ß` -> `ss`,
# Cyrillic): where it starts and ends in the folded text, where in the
# original, and per folded char its offsets in the run (see `_fold_run`).
_Uneven = tuple[int, int, int, int, tuple[int, ...], tuple[int, ...]]


def _fold(text: str) -> tuple[str, dict[int, str], list[_Uneven]]:
    """`normalize_text`'s text and accents, and instead of its maps back to
    the original, the few runs that are not one char for one."""
    if text.isascii():
        return text.lower(), {}, []
    pieces: list[str] = []
    accents: dict[int, str] = {}
    uneven: list[_Uneven] = []
    done = size = 0
    for match in _NON_ASCII_RUN.finditer(text):
        start = match.start()
        if start > done and _is_mark(text[start]):
            start -= 1  # as in normalize_text: the mark belongs to the ASCII letter before it
        if start > done:
            pieces.append(text[done:start].lower())
            size += start - done
        folded, starts, ends, run_accents = _fold_run(text[start : match.end()])
        if run_accents:
            accents.update((size + offset, letter) for offset, letter in run_accents)
        if starts is not None and ends is not None:
            uneven.append((size, size + len(folded), start, match.end(), starts, ends))
        pieces.append(folded)
        size += len(folded)
        done = match.end()
    pieces.append(text[done:].lower())
    return "".join(pieces), accents, uneven


@lru_cache(maxsize=4096)
def _plain_unit(char: str) -> str | None:
    """How a non-ASCII char folds when that needs no context: not a mark, no accent."""
    if _is_mark(char):
        return None
    folded, accents = fold_unit(char)
    return None if accents else folded


_ASCII_LOWER: dict[int, str] = {ord(c): c.lower() for c in map(chr, range(65, 91))}
_ASCII_ONES: dict[int, str] = dict.fromkeys(range(128), "\x01")


def _fold_plain(text: str, chars: set[str]) -> tuple[str, dict[int, str]] | None:
    """`_fold(text)[0]` by one translation, for text whose non-ASCII chars fold
    alone and carry no accent (Cyrillic, Greek, punctuation), with the folded
    length of each char that folding makes longer or shorter; None for other text."""
    table = dict(_ASCII_LOWER)
    lengths: dict[int, str] = {}  # as a char whose code is the length, see _LengthMap
    shifted = False
    for char in chars:  # the text's non-ASCII chars
        folded = _plain_unit(char)
        if folded is None:
            return None
        table[ord(char)] = folded
        lengths[ord(char)] = chr(len(folded))
        shifted = shifted or len(folded) != 1
    return text.translate(table), (lengths if shifted else {})


def _cp1251_lengths() -> tuple[bytes, frozenset[str]]:
    """Per byte of the Cyrillic code page, the folded length of the char it
    stands for (1 where that char does not fold alone), and those chars."""
    sizes = bytearray(256)
    chars: set[str] = set()
    for byte in range(256):
        try:
            char = bytes([byte]).decode("cp1251")
        except UnicodeDecodeError:
            sizes[byte] = 1
            continue
        folded = char.lower() if char.isascii() else _plain_unit(char)
        sizes[byte] = 1 if folded is None else len(folded)
        if folded is not None and not char.isascii():
            chars.add(char)
    return bytes(sizes), frozenset(chars)


_CP1251_SIZES, _CP1251_CHARS = _cp1251_lengths()


class _LengthMap:
    """`_FoldMap` for `_fold_plain`'s text: each char's folded length, summed up
    by blocks, and within a block only when a span falls in it (a running sum
    of every char of a body costs more than the few spans wanted of it)."""

    __slots__ = ("_blocks", "_sizes")

    BLOCK = 256

    def __init__(self, text: str, lengths: dict[int, str]) -> None:
        # Each char's folded length as a byte: Russian text by the Cyrillic
        # code page and one byte translation (a char the page lacks becomes
        # '?', right when it folds to one char); other text by one str
        # translation of every char to its length.
        if all(size == "\x01" or chr(code) in _CP1251_CHARS for code, size in lengths.items()):
            self._sizes = text.encode("cp1251", "replace").translate(_CP1251_SIZES)
        else:
            self._sizes = text.translate({**_ASCII_ONES, **lengths}).encode("latin-1")
        step = self.BLOCK
        sizes = self._sizes
        # Where each block of chars ends in the folded text.
        self._blocks = list(
            accumulate(sum(sizes[at : at + step]) for at in range(0, len(sizes), step))
        )

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the folded slice [start, end), end > start."""
        return self._char(start), self._char(end - 1) + 1

    def _char(self, position: int) -> int:
        """The original char the folded char at `position` comes from: the
        first whose folded end is past it."""
        block = bisect_right(self._blocks, position)
        first = block * self.BLOCK
        if first >= len(self._sizes):
            return len(self._sizes)
        before = self._blocks[block - 1] if block else 0
        ends = list(accumulate(self._sizes[first : first + self.BLOCK]))
        return first + bisect_right(ends, position - before)


def _accents_by_token(
    accents: dict[int, str], starts: list[int], ends: list[int]
) -> dict[int, Accents]:
    """Accented letters (by folded position) grouped by the token they are in."""
    found: dict[int, list[tuple[int, str]]] = {}
    for position, letter in sorted(accents.items()):
        index = bisect_right(starts, position) - 1
        if index >= 0 and position < ends[index]:
            found.setdefault(index, []).append((position - starts[index], letter))
    return {index: tuple(letters) for index, letters in found.items()}


def _token_table(norm: NormText) -> tuple[list[str], list[tuple[int, int]], dict[int, Accents]]:
    """Tokens of folded text, their original offsets, and accents by token index."""
    tokens: list[str] = []
    folded: list[tuple[int, int]] = []
    for match in _TOKEN_RE.finditer(norm.text):
        tokens.append(match.group())
        folded.append(match.span())
    spans = [norm.original(start, end) for start, end in folded]
    starts = [start for start, _ in folded]
    ends = [end for _, end in folded]
    return tokens, spans, _accents_by_token(norm.accents, starts, ends)


def tokenize(text: str) -> list[tuple[str, int, int, Accents]]:
    """Every token of `text` with its original offsets and accents, the general way.

    Used for rule terms and by the reference evaluator; `FieldText` gets the
    same tokens faster for articles.
    """
    tokens, spans, accents = _token_table(normalize_text(text))
    return [
        (token, start, end, accents.get(index, ()))
        for index, (token, (start, end)) in enumerate(zip(tokens, spans, strict=True))
    ]


# ASCII fast path: one byte translation lowercases and turns every
# non-alphanumeric byte (and the '?' that stands for a non-ASCII separator)
# into a space; a second marks letters and digits to find where they meet.
_LOWER_OR_SPACE = bytes(
    ord(chr(b).lower()) if chr(b).isalnum() else 0x20 for b in range(128)
) + bytes(128)
_ASCII_BYTES = bytes(range(128))
_CLASS = bytes(
    (ord("a") if chr(b).isalpha() else ord("0") if chr(b).isdigit() else 0x20) for b in range(128)
) + bytes(128)


def _ascii_tokens(raw: bytes) -> tuple[list[str], bytes, list[int]]:
    """The tokens; the lowered text with every separator a space and a space
    inserted where a letter meets a digit, so that tokens are exactly its
    space-separated runs; and where those spaces were inserted (offsets in `raw`)."""
    lowered = raw.translate(_LOWER_OR_SPACE)
    cuts = _class_changes(raw)
    if cuts:
        lowered = b" ".join(split_at(lowered, cuts))
    return lowered.decode("ascii").split(), lowered, cuts


def _ascii_offsets(raw: bytes) -> tuple[list[int], list[int]]:
    """Start and end of every token of `_ascii_tokens(raw)`, without a Python loop."""
    return run_offsets(raw.translate(_LOWER_OR_SPACE), _class_changes(raw))


def _class_changes(raw: bytes) -> list[int]:
    """Offsets where a letter meets a digit (or the other way round)."""
    return class_changes(raw.translate(_CLASS))


def _non_ascii(text: str) -> set[str]:
    # Dropping the ASCII bytes of the UTF-8 form is far cheaper than set(text).
    multibyte = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES)
    return set(multibyte.decode("utf-8", "surrogatepass"))


@lru_cache(maxsize=4096)
def _is_plain_separator(char: str) -> bool:
    """A non-ASCII char that only separates words (curly quotes, dashes, NBSP)."""
    category = unicodedata.category(char)
    return category[0] in "PSZ" or category in ("Cc", "Co", "Cn")


@lru_cache(maxsize=1 << 14)
def _term_pattern(
    words: TermWords,
) -> tuple[re.Pattern[bytes], tuple[tuple[int, Accents], ...], bool]:
    """Where a term matches in a field's `_plain` bytes: its words with any
    separators between, each whole or, for `word*`, begun. With the accents
    to check afterwards, by the regex group of their word, and whether two
    matches can overlap (`"a b a"` in `a b a b a`)."""
    parts: list[bytes] = []
    checks: list[tuple[int, Accents]] = []
    for text, prefix, accents in words:
        part = re.escape(text.encode("utf-8")) + (b"[a-z0-9]*" if prefix else b"")
        if accents:
            part = b"(" + part + b")"
            checks.append((len(checks) + 1, accents))
        parts.append(part)
    overlapping = any(
        all(_may_share(words[shift + k], words[k]) for k in range(len(words) - shift))
        for shift in range(1, len(words))
    )
    # A literal start (the space) lets the search skip ahead fast.
    return re.compile(b" " + b" +".join(parts) + b"(?= )"), tuple(checks), overlapping


def _may_share(one: tuple[str, bool, Accents], other: tuple[str, bool, Accents]) -> bool:
    """Whether two words of a term can both match one token."""
    (text, prefix, _), (other_text, other_prefix, _) = one, other
    return (
        text == other_text
        or (prefix and other_text.startswith(text))
        or (other_prefix and text.startswith(other_text))
    )


def _overlapping(pattern: re.Pattern[bytes], data: bytes) -> Iterator[re.Match[bytes]]:
    """Every match, also those that begin inside another (as the automaton finds them)."""
    match = pattern.search(data)
    while match is not None:
        yield match
        match = pattern.search(data, match.start() + 1)


class _FoldMap:
    """Offsets in a field's folded text -> offsets in its original text.

    Folding is one char for one except in a few runs (`_fold` lists them):
    cheaper to keep than `normalize_text`'s map of every char when only the
    spans of a few terms are wanted.
    """

    __slots__ = ("_marks", "_runs")

    def __init__(self, uneven: list[_Uneven]) -> None:
        self._marks = [run[0] for run in uneven]
        self._runs = uneven

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of the folded slice [start, end), end > start."""
        return self._char(start)[0], self._char(end - 1)[1]

    def _char(self, position: int) -> tuple[int, int]:
        # The last uneven run starting at or before the position (an empty
        # run, of a soft hyphen, may start where the next one does).
        index = bisect_right(self._marks, position) - 1
        if index < 0:
            return position, position + 1
        folded_start, folded_end, start, end, starts, ends = self._runs[index]
        if position >= folded_end:  # one for one after the run
            original = position - folded_end + end
            return original, original + 1
        offset = position - folded_start
        return start + starts[offset], start + ends[offset]


def _is_simple_letter(char: str) -> bool:
    """A Cyrillic letter that folds to ASCII letters with no accent to keep."""
    folded = _SIMPLE.get(char)
    return folded is not None and folded.isascii() and (folded == "" or folded.isalpha())


def _is_latin_letter(char: str) -> bool:
    """A letter that folds to ASCII letters, accented or not (Greek letters
    are transliterated)."""
    folded = fold_unit(char)[0]
    return char.isalpha() and folded.isascii() and folded.isalpha()


# Tried in turn on text that is not ASCII: Russian, Ukrainian, Bulgarian and
# Serbian news; Western European; Central European; Greek; Turkish. One byte
# per char.
_CODE_PAGES = (
    CodePage("cp1251", _is_simple_letter, _is_plain_separator, _codepage_entry),
    CodePage("cp1252", _is_latin_letter, _is_plain_separator, _codepage_entry),
    CodePage("cp1250", _is_latin_letter, _is_plain_separator, _codepage_entry),
    CodePage("cp1253", _is_latin_letter, _is_plain_separator, _codepage_entry),
    CodePage("cp1254", _is_latin_letter, _is_plain_separator, _codepage_entry),
)


def _read_code_page(text: str) -> CodePageField | Literal["separators"] | None:
    for page in _CODE_PAGES:
        field = page.read(text)
        if field is not None:
            return field
    return None


class FieldText:
    """One field of an article, tokenized for matching; offsets computed on demand.

    Offsets and accents are only needed for the spans of rules that matched,
    so they are worked out the first time they are asked for. Where the text
    is ASCII or folds to it (Latin, Cyrillic, Greek), the spans of a term are
    found by searching its words in the text itself, which costs far less
    than locating every token of the field.
    """

    __slots__ = (
        "_accents",
        "_cased",
        "_cuts",
        "_ends",
        "_fold_map",
        "_folded",
        "_folded_accents",
        "_forms",
        "_lengths",
        "_marks",
        "_norm",
        "_page",
        "_plain",
        "_raw",
        "_shifted",
        "_starts",
        "_token_accents",
        "joined",
        "text",
        "tokens",
    )

    def __init__(self, text: str) -> None:
        self.text = text
        self._norm: NormText | None = None
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._accents: dict[int, Accents] | None = None
        self._cased: str | None = None
        self._folded_accents: dict[int, str] = {}  # by position in the folded text
        self._token_accents: dict[int, Accents] | None = None
        self._fold_map: _FoldMap | _LengthMap | None = None  # None: folding kept the offsets
        # Folded lengths of the text's chars, when _fold_map is yet to be made.
        self._lengths: dict[int, str] | None = None
        self._forms: list[str] | None = None
        # Whether the text holds combining marks, which belong to the letter
        # or digit before them but not to a word read as written (`_WORD_RE`).
        self._marks = False
        # ASCII bytes with the same offsets as the text, when there is a fast path.
        self._raw: bytes | None = None
        # The field in the Cyrillic code page, when it can take that path.
        self._page: CodePageField | None = None
        chars: set[str] = set()
        if text.isascii():
            self._raw = text.encode("ascii")
        else:
            page = _read_code_page(text)
            if page == "separators":
                self._raw = text.encode("ascii", "replace")
            elif page is not None:
                self._page = page
            else:
                chars = _non_ascii(text)
                self._marks = any(map(_is_mark, chars))
                if all(map(_is_plain_separator, chars)):
                    # Each non-ASCII char becomes one '?', a separator: offsets unchanged.
                    self._raw = text.encode("ascii", "replace")
        # The folded text as ASCII bytes, when folding left no other script.
        self._folded: bytes | None = None
        # The tokens as the space-separated runs of the lowered (or folded)
        # text, with a space around, where terms are searched for their spans;
        # `_cuts`: where a space went in between a letter and a digit.
        self._plain: bytes | None = None
        self._cuts: list[int] = []
        if self._raw is not None:
            self.tokens, lowered, self._cuts = _ascii_tokens(self._raw)
            self._plain = b" " + lowered + b" "
        elif self._page is not None:
            self.tokens = self._page.tokens
        else:
            # Offsets back into the original are only worked out if asked for.
            fast = _fold_plain(text, chars)
            if fast is not None:
                folded, lengths = fast
                self._lengths = lengths or None
            else:
                folded, self._folded_accents, uneven = _fold(text)
                if uneven:
                    self._fold_map = _FoldMap(uneven)
            if folded.isascii():
                self._folded = folded.encode("ascii")
                self.tokens, lowered, self._cuts = _ascii_tokens(self._folded)
                self._plain = b" " + lowered + b" "
            else:
                self.tokens = _TOKEN_RE.findall(folded)
        # Whether offsets in `_plain` differ from the original's.
        self._shifted = bool(self._cuts) or self._fold_map is not None or self._lengths is not None
        # One space around every token lets the automaton find whole words.
        self.joined = f" {' '.join(self.tokens)} " if self.tokens else ""

    def norm(self) -> NormText:
        """The folded text, for regular expressions."""
        if self._norm is None:
            self._norm = normalize_text(self.text)
        return self._norm

    def _locate(self) -> None:
        if self._accents is not None:
            return
        if self._raw is not None:
            self._starts, self._ends = _ascii_offsets(self._raw)
            self._accents = {}
            return
        assert self._page is None  # which locates its own tokens
        norm = self.norm()
        if self._folded is None or norm.starts is None or norm.ends is None:
            _, spans, self._accents = _token_table(norm)
            self._starts = [start for start, _ in spans]
            self._ends = [end for _, end in spans]
            return
        # Latin, Cyrillic and Greek text folds to ASCII: tokens are located in
        # the folded bytes, then mapped back, all without a Python loop.
        folded_starts, folded_ends = _ascii_offsets(self._folded)
        self._starts = list(map(norm.starts.__getitem__, folded_starts))
        self._ends = list(map(norm.ends.__getitem__, map(sub, folded_ends, repeat(1))))
        self._accents = _accents_by_token(norm.accents, folded_starts, folded_ends)

    def form_spans(self, forms: Iterable[str]) -> list[tuple[int, int]] | None:
        """Original offsets of the tokens whose form (as `forms()` has them) is
        one of `forms`, found in the text itself; None when that takes the
        token positions."""
        if self._raw is not None:
            spans = [found for form in forms for found in self.word_spans(form) or ()]
            return sorted(spans)
        if self._page is not None:
            return self._page.form_spans(forms)
        return None

    def is_latin(self) -> bool:
        """Whether every token is ASCII as written (so `forms()` are the tokens)."""
        return self._raw is not None

    def forms(self) -> list[str]:
        """Each token as written (`word_form`), in the original script: what
        `word~` stems, as Cyrillic is stemmed before it is transliterated."""
        if self._forms is not None:
            return self._forms
        if self._raw is not None:
            self._forms = self.tokens  # lower-case ASCII already
            return self._forms
        if self._page is not None:
            self._forms = self._page.forms()
            return self._forms
        # Word by word as written, each folded once per process: exact when
        # every word is one token and together they are the field's tokens.
        forms = None
        if not self._marks:
            forms = _WORD_ENTRIES.forms(_WORD_RE.findall(self.text), self.tokens)
        if forms is not None:
            self._forms = forms
            return forms
        # Otherwise from each token's offsets (marks, soft hyphens, CJK).
        self._locate()
        text = self.text
        pieces = map(text.__getitem__, map(slice, self._starts, self._ends))
        self._forms = list(map(word_form, pieces))
        return self._forms

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Original offsets covering tokens first..last (inclusive)."""
        if self._page is not None:
            return self._page.span(first, last)
        self._locate()
        return self._starts[first], self._ends[last]

    def may_contain(self, letter: str) -> bool:
        """Whether an accented Latin letter (as in `Accents`) can be in any token, at a glance.

        False is certain; True means only that the letter occurs in the text.
        """
        if self._raw is not None:
            return False  # ASCII and separators only
        if self._page is not None:
            return self._page.may_contain(letter)
        if self._cased is None:
            folded = unicodedata.normalize("NFKC", self.text).casefold()
            self._cased = unicodedata.normalize("NFC", folded)
        return letter in self._cased

    def accents(self, index: int) -> Accents:
        """Accented letters of token `index` as (offset in token, letter)."""
        if self._raw is not None:
            return ()
        if self._page is not None:
            return self._page.accents(index)
        if self._token_accents is None:
            if self._folded is not None:
                # Folded to ASCII: the fold's accents by token, with no need
                # for the original offsets.
                starts, ends = _ascii_offsets(self._folded)
                self._token_accents = _accents_by_token(self._folded_accents, starts, ends)
            else:
                self._locate()
                assert self._accents is not None
                self._token_accents = self._accents
        return self._token_accents.get(index, ())

    def word_spans(self, word: str) -> list[tuple[int, int]] | None:
        """Original offsets of the tokens equal to `word`, found in the text itself.

        None when that takes the token positions (`find_key`, then `span`).
        """
        if self._page is not None:
            return self._page.word_spans(word)
        plain = self._plain
        if plain is None:
            return None
        if not word.isascii():
            return []
        needle = f" {word} ".encode("ascii")
        size = len(word)
        found: list[tuple[int, int]] = []
        index = plain.find(needle)
        while index >= 0:  # the word starts at index + 1 of the padded text: index of the text
            found.append((index, index + size))
            index = plain.find(needle, index + size + 1)
        return self._original(found) if found and self._shifted else found

    def term_spans(self, words: TermWords) -> list[tuple[int, int]] | None:
        """Original offsets of a term's matches (`S-300`, `"sanction* relief"`,
        `Zürich`), found in the text itself; None as for `word_spans`."""
        if self._page is not None:
            if any(prefix or accents for _, prefix, accents in words):
                return None
            return self._page.term_spans(tuple(text for text, _, _ in words))
        plain = self._plain
        if plain is None:
            return None
        pattern, checks, overlapping = _term_pattern(words)
        matches = _overlapping(pattern, plain) if overlapping else pattern.finditer(plain)
        # A match starts with the space before the first word, one character
        # into the padded text: its start is the word's offset in the text.
        found = [
            (match.start(), match.end() - 1)
            for match in matches
            if not checks or self._accented(match, checks)
        ]
        return self._original(found) if found and self._shifted else found

    def _accented(self, match: re.Match[bytes], checks: tuple[tuple[int, Accents], ...]) -> bool:
        """Whether the words of a match carry the accents the rule insists on."""
        accents = self._folded_accents  # empty unless the text was folded
        for group, letters in checks:
            start = match.start(group) - 1  # in the unpadded text
            if self._cuts:
                start -= bisect_right([cut + k for k, cut in enumerate(self._cuts)], start)
            for offset, letter in letters:
                if accents.get(start + offset) != letter:
                    return False
        return True

    def _original(self, found: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Spans in `_plain` (less its first space) as offsets in the original text."""
        if self._cuts:
            # The k-th space put in between a letter and a digit is at cut + k.
            inserted = [cut + k for k, cut in enumerate(self._cuts)]
            found = [
                (start - bisect_right(inserted, start), end - bisect_right(inserted, end - 1))
                for start, end in found
            ]
        if self._lengths is not None:
            self._fold_map, self._lengths = _LengthMap(self.text, self._lengths), None
        if self._fold_map is not None:
            found = [self._fold_map.span(start, end) for start, end in found]
        return found

    def find_key(self, key: str) -> list[int]:
        """Indexes of the first tokens where an automaton key (`" iran "`,
        `" s 300 "`, `" sanction"`) matches in `joined`, as the automaton finds them."""
        joined = self.joined
        starts: list[int] = []
        index = joined.find(key)
        while index >= 0:
            starts.append(index + 1)
            index = joined.find(key, index + 1)
        return list(token_indexes(joined, starts))


def token_indexes(joined: str, starts: Iterable[int]) -> Iterator[int]:
    """The index of the token at each position of `starts` in `joined` (a
    field's tokens with one space around each); positions come roughly in
    order, so counting spaces from the previous one keeps this linear."""
    cursor = spaces = 0
    for start in starts:
        if start >= cursor:
            spaces += joined.count(" ", cursor, start)
        else:
            spaces -= joined.count(" ", start, cursor)
        cursor = start
        yield spaces - 1  # token k follows the (k+1)-th space
