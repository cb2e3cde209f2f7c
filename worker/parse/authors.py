"""An article's author, chosen among every name a page gives.

Each candidate is cleaned ("By Jane Doe | 3 May" is "Jane Doe") and refused
when it is not a person's name: a profile URL, a social handle, the site's or
publisher's name. Among what is left the name most sources agree on wins; the
sources' weights (JSON-LD, then meta tags and microdata, then visible bylines)
only break ties.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from worker.parse.text import clean_line

__all__ = ["agreed_author", "choose_author", "clean_author"]

# "By", "Written by", "Von", "Par", "Por", "Di", "Door", "Av", "Af", "Przez", "Автор:", "Author:"
_LEAD = re.compile(
    r"^(?:(?:written|posted|published|reported|text|story|words|photos?"
    r"|eingestellt|veröffentlicht|artikel|beitrag|ein\s+beitrag)\s+)?"
    r"(?:by|von|vom|par|por|di|door|av|af|przez|от|автор|autor|auteur|author|texte?|redaktion)"
    r"\b\s*:?\s*",
    re.IGNORECASE,
)
# Where a byline goes on to say something else: a date, a role, a source.
_TAIL = re.compile(
    r"\s*(?:[|\u2022\u00b7,;]|\s[-\u2013\u2014]\s|\bon\s+\w+\s+\d|\bupdated\b|\bpublished\b|\d{1,4}[./-]\d"
    # "Jane Doe am 3. Mai", an author box's "Alle Artikel", "More posts", "Kontakt".
    r"|\s+am(?:\s|$)|\balle\s+(?:artikel|beiträge)\b|\b(?:more|all)\s+posts\b|\bkontakt\b"
    # An author box's "Alles von Jane Doe", "Über Jane Doe"; "vor 5 Stunden", "3 hours ago";
    # a weekday before the date ("Jane Doe Fr, 18.10.2019").
    r"|\balles\s+von\b|\süber\s+(?:den\s+|die\s+)?autor|\svor\s+\d"
    r"|\s\d+\s+(?:minutes?|hours?|days?)\s+ago\b"
    r"|\s(?:mo|di|mi|do|fr|sa|so|mon|tue|wed|thu|fri|sat|sun)\.?,?\s*\d).*$",
    re.IGNORECASE,
)
# A trailing role, title or agency after the name: "Jane Doe, Staff Writer",
# "Jane Doe | Reuters" (a site's name there is cut in _accepted), "Jane Doe, PhD".
_ROLE = re.compile(
    r"\s*[,|]\s*(?:(?:senior|chief|staff|special|contributing|guest|freelance|news|sports?"
    r"|political|foreign|business|science|health)\s+)*"
    r"(?:writer|reporter|correspondent|editor|contributor|columnist|journalist|staff"
    r"|ph\.?\s?d\.?|m\.?d\.?|reuters|ap|afp|dpa|apa|upi|bloomberg)\.?\s*$",
    re.IGNORECASE,
)
# "Interview: Jane Doe", "Text und Fotos: Jane Doe": what the person did, then the name.
_LABEL = re.compile(
    r"^(?:interview|text|texte|fotos?|photos?|words|recherche|reporting)"
    r"(?:\s+(?:und|and|&)\s+(?:fotos?|photos?|text|bilder))?\s*:\s*",
    re.IGNORECASE,
)
# "Jane Doe,John Roe" as some CMSs join a list.
_BARE_COMMA = re.compile(r"(?<=[^\W\d_]),(?=[^\W\d_])")
# A social handle after the name: "Jane Doe @janedoe".
_HANDLE = re.compile(r"\s+@\w+$")
# Ornaments set around a name in bylines: "~ Jane Doe", "Jane Doe »".
_AROUND = " ,;:|-~\u2013\u2014\u00bb\u00ab\u203a\u2039\u00b7\u2022"
_LAST_PART = re.compile(r"\s*[,|]\s*(?=[^,|]*$)")
_URL = re.compile(r"https?://|www\.|\w{2,}\.[a-z]{2,6}(?:/|$)|\.html?\b", re.IGNORECASE)
# "Posted on 3 May 2020 by Jane Doe": the name follows the last "by".
_INNER_BY = re.compile(r"\b(?:by|von|vom|par|por|door|av|af)\s+(?=\w)", re.IGNORECASE)
# What comes before "by" in a byline that is not a name ("von der Leyen" is one).
_PREAMBLE = re.compile(
    r"\d|posted|published|written|updated|veröffentlicht|publiziert|geschrieben|erstellt|publié",
    re.IGNORECASE,
)
# Account names, not people's names: "wordpressadmin", "jane_doe".
_ACCOUNT = re.compile(r"_|admin|^user\d*$", re.IGNORECASE)
_LETTER = re.compile(r"[^\W\d_]")
_NON_WORD = re.compile(r"\W+")
_MAX_WORDS = 8
# What another source giving the same name adds: more than the gap between two
# sources' weights, so two sources agreeing beat one that weighs more.
_AGREEMENT = 2
_MAX_LENGTH = 100
# Weights of the sources a page declares (meta tags, microdata, JSON-LD), not shows.
_DECLARED = 4
_LIST_SEPARATOR = re.compile(r"\s*[,;&]\s*|\s+(?:and|und|et|y)\s+", re.IGNORECASE)


def clean_author(raw: str, *, byline: bool = False) -> str | None:
    """A person's name from a raw author value, or None when it holds none.

    A byline (visible text) is cut at the first date, role or separator; a
    declared value (meta, JSON-LD) is only trimmed: "Jane Doe, John Roe" there
    names two people.
    """
    value = clean_line(raw)
    if not value or _URL.search(value) or value.startswith("@"):
        return None
    value = _LEAD.sub("", value).strip()
    value = _LABEL.sub("", value)
    value = _ROLE.sub("", value)
    value = _HANDLE.sub("", value)
    if byline:
        inner = list(_INNER_BY.finditer(value))
        if inner and _PREAMBLE.search(value[: inner[-1].start()]):
            value = value[inner[-1].end() :]
        value = _TAIL.sub("", value).strip()
    value = _BARE_COMMA.sub(", ", value.strip(_AROUND))
    if not value or not _LETTER.search(value) or len(value) > _MAX_LENGTH:
        return None
    if _ACCOUNT.search(value) and " " not in value:
        return None
    names = re.split(r";\s*", value)
    if any(len(name.split()) > _MAX_WORDS for name in names):
        return None
    if sum(ch.isdigit() for ch in value) > 2:
        return None
    return value


def choose_author(
    candidates: Sequence[tuple[str, int, bool]], site_names: Sequence[str]
) -> str | None:
    """The name among (raw value, weight, is_organization) candidates with the most support.

    Support is the candidate's weight plus two for every other source that
    gives the same name (or a name it contains, as a byline often adds a
    co-author). An organization counts only when it is not the site itself.
    """
    cleaned = _accepted(candidates, site_names)
    best: tuple[int, int, str] | None = None
    for index, (name, weight) in enumerate(cleaned):
        key = _compact(name)
        support = weight + _AGREEMENT * sum(
            1
            for other_index, (other, _) in enumerate(cleaned)
            if other_index != index
            and _compact(other)
            and (_compact(other) in key or key in _compact(other))
        )
        if best is None or (support, -index) > (best[0], best[1]):
            best = (support, -index, name)
    if best is None:
        return None
    return _whole_list(best[2], cleaned)


def _names_more_people(value: str) -> bool:
    """Whether a value lists several people, each by a full name ("Jane Doe, TD" does not)."""
    names = [n for n in _LIST_SEPARATOR.split(value) if n.strip()]
    return len(names) > 1 and all(len(n.split()) >= 2 for n in names)


def _whole_list(name: str, cleaned: Sequence[tuple[str, int]]) -> str:
    """The list of authors that `name` is the first of, when the page declares one:
    bylines that name only the first author outvote the list by number, not by
    evidence. Among lists, the one written most often, as the page writes it."""
    key = _compact(name)
    if not any(weight >= _DECLARED and _is_longer_list(other, key) for other, weight in cleaned):
        return name
    lists = [other for other, _ in cleaned if _is_longer_list(other, key)]
    return max(lists, key=lambda other: (lists.count(other), -lists.index(other)))


def _is_longer_list(value: str, key: str) -> bool:
    compact = _compact(value)
    return len(compact) > len(key) and compact.startswith(key) and _names_more_people(value)


def agreed_author(
    candidates: Sequence[tuple[str, int, bool]], site_names: Sequence[str]
) -> str | None:
    """The one name all these candidates give once cleaned; None when they give none or differ."""
    names = {_compact(name): name for name, _ in _accepted(candidates, site_names)}
    return next(iter(names.values())) if len(names) == 1 else None


def _accepted(
    candidates: Sequence[tuple[str, int, bool]], site_names: Sequence[str]
) -> list[tuple[str, int]]:
    sites = {_compact(name) for name in site_names if _compact(name)}
    # A personal blog's site name is its author's name: a schema.org Person says so.
    people = {_compact(raw) for raw, weight, is_org in candidates if weight >= 5 and not is_org}
    cleaned: list[tuple[str, int]] = []
    for raw, weight, is_org in candidates:
        name = clean_author(raw, byline=weight <= 3)
        if name is not None:
            name = _without_site(name, sites)
        if name is None or (_is_site(name, sites) and _compact(name) not in people):
            continue
        if is_org and any(_compact(name) in site or site in _compact(name) for site in sites):
            continue
        cleaned.append((name, weight))
    return cleaned


def _without_site(name: str, sites: set[str]) -> str:
    """ "Rob Picheta, CNN" is Rob Picheta when CNN is the site's name."""
    parts = _LAST_PART.split(name)
    if len(parts) == 2 and parts[0] and _compact(parts[1]) in sites:
        return parts[0]
    return name


def _is_site(name: str, sites: set[str]) -> bool:
    # A publisher named as the author ("The Daily Example", "REUTERS") is no byline.
    return _compact(name) in sites


def _compact(value: str) -> str:
    return _NON_WORD.sub("", value.casefold())
