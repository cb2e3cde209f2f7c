"""`word~` (docs/rules.md): the per-language case files, and how it sits in the language."""

from __future__ import annotations

from pathlib import Path

import pytest

from worker.errors import QuerySyntaxError
from worker.match import (
    LANGUAGES,
    Document,
    compile_rules,
    inflections,
    match_query,
    parse_query,
    span_text,
)
from worker.match.reference import reference_match
from worker.match.stem import article_language, script_of, stem_key, word_language

CASES_DIR = Path(__file__).parent / "fixtures" / "stem"


def _cases() -> list[tuple[str, str, str, str | None, bool, list[str] | None]]:
    """(case id, query, text, language, matches, highlighted texts) from the case files."""
    cases = []
    for path in sorted(CASES_DIR.glob("*.txt")):
        language: str | None = path.stem
        for number, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("@lang "):
                value = line.split()[1]
                language = None if value == "none" else value
                continue
            sign, rest = line[0], line[1:]
            assert sign in "+-", f"{path.name}:{number}: starts with + or -"
            parts = [part.strip() for part in rest.split(" | ")]
            query, text = parts[0], parts[1]
            spans = parts[2].split(", ") if len(parts) > 2 else None
            cases.append((f"{path.stem}:{number}", query, text, language, sign == "+", spans))
    return cases


CASES = _cases()


def _document(text: str, language: str | None) -> Document:
    """`<title>a<body>b` puts text in fields; plain text goes in the body."""
    if not text.startswith("<"):
        return Document("", "", text, language)
    fields = {"title": "", "summary": "", "body": ""}
    for part in text[1:].split("<"):
        name, _, value = part.partition(">")
        fields[name] = value
    return Document(fields["title"], fields["summary"], fields["body"], language)


def test_every_language_file_has_cases() -> None:
    files = {path.stem for path in CASES_DIR.glob("*.txt")}
    assert {"en", "ru", "de", "fr", "es", "pl", "it", "tr"} <= files
    assert files <= set(LANGUAGES)


@pytest.mark.parametrize(
    ("query", "text", "language", "expected", "spans"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_case_files(
    query: str, text: str, language: str | None, expected: bool, spans: list[str] | None
) -> None:
    doc = _document(text, language)
    compiled = match_query(query, doc)
    reference = reference_match(parse_query(query), doc, rule_id=query)
    assert (compiled is not None) is expected
    assert compiled == reference
    if compiled is not None and spans is not None:
        assert [span_text(doc, span) for span in compiled.spans] == spans


def test_all_cases_in_one_ruleset_agree() -> None:
    queries = sorted({case[1] for case in CASES})
    rules = compile_rules((str(i), q) for i, q in enumerate(queries))
    for _, query, text, language, expected, _ in CASES:
        matched = {m.rule_id for m in rules.match(_document(text, language))}
        assert (str(queries.index(query)) in matched) is expected, (query, text)


@pytest.mark.parametrize("language", [*sorted(LANGUAGES), None])
@pytest.mark.parametrize(
    "word", ["Iran", "sanctions", "Путин", "Lavrov", "S-300", "caf\u00e9", "\u5317\u4eac"]
)
def test_tilde_finds_what_the_plain_word_finds(word: str, language: str | None) -> None:
    text = f"Talks: {word}, then ({word.upper()})."
    doc = Document("", "", text, language)
    plain = match_query(word, doc)
    stemmed = match_query(f"{word}~", doc)
    assert plain is not None and stemmed is not None
    assert set(plain.spans) <= set(stemmed.spans)


def test_word_language_follows_the_script() -> None:
    assert word_language(script_of("s"), "ru") == "en"  # Latin in a Russian article
    assert word_language(script_of("\u043f"), "de") == "ru"  # Cyrillic in a German one
    assert word_language(script_of("\u043f"), "sr") == "sr"  # Serbian is Cyrillic too
    assert word_language(script_of("s"), "sr") == "sr"  # and Latin
    assert word_language(script_of("\u03b1"), "en") is None  # Greek outside Greek articles
    assert word_language(script_of("\u03b1"), "el") == "el"
    assert word_language(script_of("\u5317"), "en") is None
    assert word_language(script_of("s"), None) == "en"


def test_cyrillic_is_stemmed_before_transliteration() -> None:
    # Snowball stems `путина` to `путин`; transliterated, that is the rule word.
    assert stem_key("\u043f\u0443\u0442\u0438\u043d\u0430", "ru") == "putin"
    assert stem_key("sanctions", "en") == "sanction"


def test_language_codes_are_normalized() -> None:
    assert article_language("pt-BR") == "pt"
    assert article_language("EN_gb") == "en"
    assert article_language("nb") == "no"
    assert article_language("uk") is None  # no Snowball stemmer for Ukrainian
    assert article_language(None) is None


def test_unknown_language_stems_cyrillic_as_russian_and_latin_as_english() -> None:
    doc = Document("", "", "\u0421\u0430\u043d\u043a\u0446\u0438\u0438 and sanctions", "uk")
    match = match_query("\u0441\u0430\u043d\u043a\u0446\u0438\u044f~ sanction~", doc)
    assert match is not None
    assert [span_text(doc, s) for s in match.spans] == [
        "\u0421\u0430\u043d\u043a\u0446\u0438\u0438",
        "sanctions",
    ]


def test_inflections_say_why() -> None:
    doc = Document("", "", "\u0418\u0440\u0430\u043d\u0430, Iran, sanctions, санкций", "ru")
    query = parse_query("Iran~ OR sanction~ OR санкция~")
    match = match_query(query.text, doc)
    assert match is not None
    found = {(i.text, i.word, i.language, i.reason) for i in inflections(query, doc, match)}
    assert found == {
        ("\u0418\u0440\u0430\u043d\u0430", "iran~", "ru", "iran + ending -\u0430"),
        ("sanctions", "sanction~", "en", "sanction + ending -s"),
        ("санкций", "санкция~", "ru", "same stem sankts"),
    }


def test_plain_words_and_not_have_no_inflections() -> None:
    doc = Document("", "", "Iran and sanctions", "en")
    query = parse_query("Iran~ NOT sanction~")
    rules = compile_rules([("r", "Iran~ AND sanction*")])
    (match,) = rules.match(doc)
    assert inflections(query, doc, match) == []


@pytest.mark.parametrize(
    ("query", "column", "message"),
    [
        ("iran~x", 5, "'~' may only end a word"),
        ("iran~*", 5, "'~' may only end a word"),
        ("iran*~", 5, "'*' may only end a word"),
        ("~iran", 1, "'~' must end a word"),
        ("oil ~", 5, "has no letters or digits"),
        ('"arms ~deal"', 7, "'~' must end a word"),
    ],
)
def test_tilde_syntax_errors(query: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.column == column
    assert message in caught.value.message


def test_stems_are_shared_across_threads() -> None:
    # PyStemmer's stemmers are not thread-safe; each thread gets its own.
    from concurrent.futures import ThreadPoolExecutor

    rules = compile_rules([("p", "Putin~"), ("s", "санкция~")])
    doc = Document("", "", "Путину и санкциями " * 50, "ru")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: rules.match(doc), range(40)))
    assert all([m.rule_id for m in found] == ["p", "s"] for found in results)
