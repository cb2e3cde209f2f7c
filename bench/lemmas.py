"""`word~` by Snowball stems (what wirewatch does) or by simplemma's lemmas?

    pip install simplemma   # measured only here; not a wirewatch dependency
    python bench/lemmas.py

Cases: every line of tests/fixtures/stem/*.txt whose query is one `word~`
(inflected forms that must match, and words that share letters but not a
stem, which must not), in each file's languages. A case is right for
wirewatch when `match_query` gives the expected answer; for simplemma when
some word of the text has the rule word's lemma (both lemmas folded as
wirewatch folds text, so that `Putin~` can meet `Путина`). Also: time per
word (warm, one core), and the memory and install size each brings.
"""

from __future__ import annotations

import importlib.util
import re
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from worker.match import Document, match_query  # noqa: E402
from worker.match.normalize import tokenize  # noqa: E402
from worker.match.stem import fold_word, stem_keys  # noqa: E402

CASES = ROOT / "tests" / "fixtures" / "stem"
_SINGLE = re.compile(r"([^\s~\"():]+)~")

Case = tuple[str, bool, str, str]  # language, expected, rule word, text


def read_cases() -> list[Case]:
    cases: list[Case] = []
    for path in sorted(CASES.glob("*.txt")):
        language = path.stem
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("@lang "):
                language = line.split()[1]
                continue
            if line[:1] not in "+-" or not line.strip():
                continue
            query, text = (part.strip() for part in line[1:].split("|")[:2])
            found = _SINGLE.fullmatch(query)
            # Field-scoped cases (`<title>...`) test scopes, not forms.
            if found and language != "none" and "<title>" not in text:
                cases.append((language, line[0] == "+", found.group(1), text))
    return cases


def words(text: str) -> list[str]:
    return [text[start:end] for _, start, end, _ in tokenize(text)]


def wirewatch_says(case: Case) -> bool:
    language, _, word, text = case
    return match_query(f"{word}~", Document(text, "", "", language)) is not None


def simplemma_says(lemmatize: Callable[[str, str], str], case: Case) -> bool:
    language, _, word, text = case
    wanted = fold_word(lemmatize(word.lower(), language).lower())
    return any(fold_word(lemmatize(w.lower(), language).lower()) == wanted for w in words(text))


def per_word_us(lookup: Callable[[list[str]], object], forms: list[str]) -> float:
    lookup(forms)  # warm
    start = time.process_time()
    for _ in range(20):
        lookup(forms)
    return (time.process_time() - start) / (20 * len(forms)) * 1e6


def main() -> None:
    cases = read_cases()
    print(f"{len(cases)} single-word `word~` cases from {CASES.relative_to(ROOT)}")
    right = 0
    for case in cases:
        verdict = wirewatch_says(case)
        right += verdict == case[1]
        if verdict != case[1]:
            print(f"  wirewatch wrong: {case[0]} {case[2]}~ | {case[3]}")
    print(f"wirewatch (Snowball stems + endings): {right}/{len(cases)} right")
    if importlib.util.find_spec("simplemma") is None:
        print("simplemma is not installed: pip install simplemma")
        return
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    import simplemma

    def lemmatize(word: str, language: str) -> str:
        return str(simplemma.lemmatize(word, lang=language))

    right = 0
    for case in cases:
        verdict = simplemma_says(lemmatize, case)
        right += verdict == case[1]
        if verdict != case[1]:
            print(f"  simplemma wrong: {case[0]} {case[2]}~ | {case[3]}")
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    print(f"simplemma {simplemma.__version__} (lemmas): {right}/{len(cases)} right")
    forms = [w.lower() for case in cases if case[0] == "ru" for w in words(case[3])] * 50
    snowball = per_word_us(lambda batch: stem_keys(batch, "ru"), forms)
    lemmas = per_word_us(lambda batch: [lemmatize(w, "ru") for w in batch], forms)
    print(f"per Russian word, warm: Snowball {snowball:.2f} us, simplemma {lemmas:.2f} us")
    print(f"memory simplemma added (peak RSS, Russian and the case languages): {grown:.0f} MB")
    size = sum(p.stat().st_size for p in Path(simplemma.__file__).parent.rglob("*") if p.is_file())
    print(f"simplemma install size: {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
