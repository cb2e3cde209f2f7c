"""Inflected forms for `word~` (docs/rules.md): Snowball stems and inflectional endings.

A text word's language is its script's language in the article: the
article's own language when the word is written in that language's script,
English for other Latin-script words, Russian for other Cyrillic ones, none
otherwise (then `~` finds only the plain word). A rule word `w~` finds a text
word of language L when

- (a) both have the same Snowball stem in L, compared after folding (so a
  Cyrillic word is stemmed in Cyrillic, then transliterated, and `Putin~`
  meets `Путиным` through the stem `путин`); or
- (b) the text word, folded, is the rule word folded plus one of L's
  inflectional endings (Snowball stems names badly: `Иран` to `ира` but
  `Ирану` to `иран`; `Iran` + `а` still finds `Ирана`), the empty ending
  included, so `~` always finds what the plain word finds.

Stemming is memoized per (word, language), and a rule set remembers which
of its `word~` terms each word form it has met is an inflection of (most
are of none): news repeats its words, so an article costs one dictionary
look-up per distinct word, made in C (`map`), and only words never seen
before are stemmed.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress

import Stemmer

from worker.match.normalize import fold_text

__all__ = [
    "LANGUAGES",
    "Language",
    "StemIndex",
    "StemTables",
    "article_language",
    "fold_word",
    "script_of",
    "stem_key",
    "stem_keys",
    "word_forms",
    "word_language",
]

# Scripts, by the Unicode blocks of a word's first letter.
_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0370, 0x03FF, "Greek"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x1C80, 0x1C8F, "Cyrillic"),
    (0x2DE0, 0x2DFF, "Cyrillic"),
    (0xA640, 0xA69F, "Cyrillic"),
    (0x0530, 0x058F, "Armenian"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x08A0, 0x08FF, "Arabic"),
    (0xFB50, 0xFDFF, "Arabic"),
    (0xFE70, 0xFEFF, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0B80, 0x0BFF, "Tamil"),
)


@dataclass(frozen=True, slots=True)
class Language:
    """A language Snowball stems: its algorithm, scripts and inflectional endings."""

    code: str  # ISO 639-1
    name: str
    algorithm: str  # PyStemmer's name
    scripts: frozenset[str]
    # Endings a rule word may carry as written (rule (b)); only the common
    # case and number endings, never derivational suffixes (`-ian`, `-ский`).
    endings: tuple[str, ...] = ()


def _lang(
    code: str, name: str, algorithm: str, scripts: str = "Latin", endings: str = ""
) -> Language:
    return Language(code, name, algorithm, frozenset(scripts.split()), tuple(endings.split()))


_RU_ENDINGS = (
    "а я у ю е и ы о ом ем ём ой ей ою ею ам ям ами ями ах ях ов ев ым им"
    " ого его ому ему ых их ыми ими ая яя ое ее ую юю"
)
LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        _lang("ar", "Arabic", "arabic", "Arabic"),
        _lang("hy", "Armenian", "armenian", "Armenian"),
        _lang("eu", "Basque", "basque"),
        _lang("ca", "Catalan", "catalan", endings="s es"),
        _lang("cs", "Czech", "czech", endings="a u ovi em e y i ů ům ami ech ou"),
        _lang("da", "Danish", "danish", endings="s en er et ene erne"),
        _lang("nl", "Dutch", "dutch", endings="s en e"),
        _lang("en", "English", "english", endings="s es ed ing"),
        _lang("eo", "Esperanto", "esperanto", endings="j n jn"),
        _lang("et", "Estonian", "estonian"),
        _lang("fi", "Finnish", "finnish", endings="n a ä ssa ssä sta stä lla llä lle"),
        _lang("fr", "French", "french", endings="s x e es"),
        _lang("de", "German", "german", endings="e en em er es n s ns ens ern"),
        _lang("el", "Greek", "greek", "Greek"),
        _lang("hi", "Hindi", "hindi", "Devanagari"),
        _lang("hu", "Hungarian", "hungarian", endings="t ot et öt ban ben nak nek ról ről"),
        _lang("id", "Indonesian", "indonesian"),
        _lang("ga", "Irish", "irish"),
        _lang("it", "Italian", "italian", endings="a e i o"),
        _lang("lt", "Lithuanian", "lithuanian", endings="as o ui ą u e ai ų ams us"),
        _lang("ne", "Nepali", "nepali", "Devanagari"),
        _lang("no", "Norwegian", "norwegian", endings="s en er et ene"),
        _lang("fa", "Persian", "persian", "Arabic"),
        _lang("pl", "Polish", "polish", endings="a u owi em iem ie y i ów om ami ach ą ę o"),
        _lang("pt", "Portuguese", "portuguese", endings="s es a as os"),
        _lang("ro", "Romanian", "romanian", endings="ul ului ului le lor i e"),
        _lang("ru", "Russian", "russian", "Cyrillic", _RU_ENDINGS),
        _lang("sr", "Serbian", "serbian", "Cyrillic Latin", "а у ом е и има a u om e i ima"),
        _lang("es", "Spanish", "spanish", endings="s es a as os"),
        _lang("sv", "Swedish", "swedish", endings="s en er ar et na erna arna"),
        _lang("ta", "Tamil", "tamil", "Tamil"),
        _lang(
            "tr",
            "Turkish",
            "turkish",
            endings="ler lar in ın un ün i ı u ü e a de da te ta den dan ten tan le la",
        ),
        _lang("yi", "Yiddish", "yiddish", "Hebrew"),
    )
}
# Nynorsk and Bokmål are Norwegian to Snowball.
_ALIASES = {"nb": "no", "nn": "no"}


def article_language(code: str | None) -> str | None:
    """An ISO 639-1 code (`en`, `ru`, `pt-BR`) as a key of LANGUAGES, or None."""
    if not code:
        return None
    primary = code.strip().lower().replace("_", "-").split("-", 1)[0]
    primary = _ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else None


@lru_cache(maxsize=4096)
def script_of(char: str) -> str | None:
    """The script of a word, by its first character (digits count as Latin)."""
    if char.isascii():
        return "Latin"
    code = ord(char)
    for low, high, script in _SCRIPT_RANGES:
        if low <= code <= high:
            return script
    return "Latin" if unicodedata.name(char, "").startswith("LATIN") else None


def word_language(script: str | None, article: str | None) -> str | None:
    """The language a word of this script is stemmed in, in an article of `article`."""
    if script is None:
        return None
    if article is not None and script in LANGUAGES[article].scripts:
        return article
    if script == "Latin":
        return "en"
    if script == "Cyrillic":
        return "ru"
    return None


class _Stemmers(threading.local):
    """PyStemmer's stemmers are not thread-safe: one set per thread."""

    def __init__(self) -> None:
        self.by_language: dict[str, Stemmer.Stemmer] = {}

    def get(self, language: str) -> Stemmer.Stemmer:
        stemmer = self.by_language.get(language)
        if stemmer is None:
            # Its own cache is small and per thread; _StemCache does better.
            stemmer = Stemmer.Stemmer(LANGUAGES[language].algorithm, 0)
            self.by_language[language] = stemmer
        return stemmer


_STEMMERS = _Stemmers()


@lru_cache(maxsize=1 << 15)
def fold_word(word: str) -> str:
    """A word (`word_form`) folded as rule words and text are (`Ирана` -> `irana`)."""
    return "".join(fold_text(word).split())


@lru_cache(maxsize=1 << 16)
def stem_key(form: str, language: str) -> str:
    """A word's Snowball stem in `language`, folded as text is (`путина` -> `putin`)."""
    return fold_word(_STEMMERS.get(language).stemWord(form))


class _StemCache:
    """Stem keys by language and word, shared by threads (dict operations are
    atomic); emptied when full, which a day's news rarely makes it."""

    LIMIT = 1 << 18

    def __init__(self) -> None:
        self.by_language: dict[str, dict[str, str]] = {}

    def keys(self, forms: list[str], language: str) -> list[str]:
        cache = self.by_language.get(language)
        if cache is None:
            cache = self.by_language.setdefault(language, {})
        found: list[str | None] = list(map(cache.get, forms))
        if None not in found:
            return found  # type: ignore[return-value]
        missing = [form for form, key in zip(forms, found, strict=True) if key is None]
        stems: list[str] = _STEMMERS.get(language).stemWords(missing)
        keys = stems if "".join(stems).isascii() else list(map(fold_word, stems))
        if len(cache) + len(missing) > self.LIMIT:
            cache.clear()
        cache.update(zip(missing, keys, strict=True))
        return list(map(cache.__getitem__, forms))


_STEM_CACHE = _StemCache()


def stem_keys(forms: list[str], language: str) -> list[str]:
    """`stem_key` of many words at once, memoized per language."""
    return _STEM_CACHE.keys(forms, language)


@lru_cache(maxsize=1 << 14)
def word_forms(form: str, text: str, language: str | None) -> frozenset[str]:
    """Tokens that are the rule word (`form` as written, `text` as a token)
    plus an ending of `language`, the empty ending included (rule (b))."""
    if language is None:
        return frozenset((text,))
    return frozenset((text, *(text + fold_word(e) for e in LANGUAGES[language].endings)))


@dataclass(frozen=True, slots=True)
class StemTables:
    """A language's tables: stem -> `word~` keys, token -> keys (rule word plus
    an ending), and the key sets of both, to intersect with an article's words
    (a set intersection walks the smaller side; a dict's keys would be copied)."""

    by_stem: dict[str, tuple[str, ...]]
    by_form: dict[str, tuple[str, ...]]
    stems: frozenset[str]
    forms: frozenset[str]


class StemIndex:
    """The `word~` terms of a rule set, looked up by stem and by form per language.

    Each term is known by its key (`~` and the rule word's form). The tables
    for a language are built the first time an article needs them and kept:
    a rule set meets a handful of languages, and rebuilding them per article
    would cost more than the article.
    """

    __slots__ = ("_by_language", "_hit_forms", "_hits", "_lock", "words")

    # Word forms remembered per article language: a day's news meets a few
    # hundred thousand; when more, the memo starts again.
    HITS_LIMIT = 1 << 18

    def __init__(self, words: Iterable[tuple[str, str]]) -> None:
        # Rule words: (form as written, token), as `query.Word` has them.
        self.words = tuple(dict.fromkeys(words))
        self._by_language: dict[str | None, StemTables] = {}
        # Per article language: word form -> the `word~` keys it is a form of
        # (empty for most). Shared by threads: dict operations are atomic.
        self._hits: dict[str | None, dict[str, tuple[str, ...]]] = {}
        # Per article language: the forms in that memo that are of some term.
        self._hit_forms: dict[str | None, set[str]] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.words)

    def tables(self, language: str | None) -> StemTables:
        """The stem and form tables for words of `language`."""
        tables = self._by_language.get(language)
        if tables is None:
            with self._lock:
                tables = self._by_language.get(language) or self._build(language)
                self._by_language[language] = tables
        return tables

    def hits(
        self, forms: set[str] | frozenset[str], article: str | None
    ) -> dict[str, tuple[str, ...]]:
        """The distinct word `forms` of an article in language `article` that
        are inflections of some `word~` term, each with the terms' keys."""
        memo = self._hits.get(article)
        if memo is None:
            memo = self._hits.setdefault(article, {})
            self._hit_forms.setdefault(article, set())
        hit_forms = self._hit_forms[article]
        # Set operations run in C: an article's forms were mostly met before.
        missing = forms.difference(memo)
        if missing:
            if len(memo) + len(missing) > self.HITS_LIMIT:
                # The hit forms first: a reader never finds a hit with no entry.
                hit_forms.clear()
                memo.clear()
            resolved = self._resolve(list(missing), article)
            memo.update(resolved)
            hit_forms.update(compress(resolved, resolved.values()))
        found = hit_forms.intersection(forms)
        if not found:
            return {}
        try:
            return {form: memo[form] for form in found}
        except KeyError:  # another thread started the memo again meanwhile
            return {
                form: keys for form, keys in self._resolve(list(found), article).items() if keys
            }

    def _resolve(self, forms: list[str], article: str | None) -> dict[str, tuple[str, ...]]:
        """`hits` for forms not met before, by the rules (a) and (b) above."""
        groups: dict[str | None, list[str]] = {}
        for form in forms:
            groups.setdefault(word_language(script_of(form[0]), article), []).append(form)
        resolved: dict[str, tuple[str, ...]] = {}
        for language, words in groups.items():
            tables = self.tables(language)
            stems = stem_keys(words, language) if language is not None else [""] * len(words)
            for form, stem in zip(words, stems, strict=True):
                token = form if form.isascii() else fold_word(form)
                keys = tables.by_stem.get(stem, ()) + tables.by_form.get(token, ())
                resolved[form] = tuple(dict.fromkeys(keys))
        return resolved

    def _build(self, language: str | None) -> StemTables:
        by_stem: dict[str, list[str]] = {}
        by_form: dict[str, list[str]] = {}
        for form, token in self.words:
            key = "~" + form
            if language is not None:
                by_stem.setdefault(stem_key(form, language), []).append(key)
            for text in word_forms(form, token, language):
                by_form.setdefault(text, []).append(key)
        return StemTables(
            {stem: tuple(keys) for stem, keys in by_stem.items()},
            {text: tuple(keys) for text, keys in by_form.items()},
            frozenset(by_stem),
            frozenset(by_form),
        )
