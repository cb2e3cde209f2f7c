"""Every row of the rule language (docs/rules.md): texts that must and must not match."""

from __future__ import annotations

import pytest

from worker.match import Document, compile_rules, match_query, matched_terms, parse_query
from worker.match.reference import reference_match
from worker.models import Span

# (query, text, matches): the text goes in the body unless the case says otherwise.
CASES: list[tuple[str, str, bool]] = [
    # `iran`: the word, any case, whole words only
    ("iran", "Talks with Iran resumed", True),
    ("iran", "IRAN and iran", True),
    ("iran", "Iran's navy", True),
    ("iran", "Iranian officials", False),
    ("iran", "Tehran", False),
    ("IRAN", "iran", True),
    # `"arms deal"`: the words in this order, adjacent, any separators between
    ('"arms deal"', "a new arms deal was signed", True),
    ('"arms deal"', "Arms - Deal", True),
    ('"arms deal"', "a deal on arms", False),
    ('"arms deal"', "arms trade deal", False),
    # compound term
    ("S-300", "the S-300 system", True),
    ("S-300", "the S300 system", True),
    ("S-300", "the S 300 system", True),
    ("S-300", "the S\u2013300 system", True),  # en dash
    ("S-300", "the S\u2014300 system", True),  # em dash
    ("S-300", "the S\u2212300 system", True),  # minus sign
    ("S-300", "the S\u2011300 system", True),  # non-breaking hyphen
    ("S-300", "\u0421-300 \u0432 \u0418\u0440\u0430\u043d\u0435", True),  # Cyrillic Es, then -300
    ("S-300", "two S-300s", True),
    ("S-300", "the S-3000", False),
    ("S-300", "the XS-300", False),
    ("S300", "the S-300", True),
    # prefix wildcard
    ("sanction*", "new sanctions", True),
    ("sanction*", "Sanctioned banks", True),
    ("sanction*", "sanction", True),
    ("sanction*", "unsanctioned", False),
    ('"sanction* relief"', "sanctions relief talks", True),
    ('"sanction* relief"', "relief from sanctions", False),
    ('"new sanction* on"', "new sanctions on Iran", True),
    # AND, implicit AND
    ("iran AND oil", "Iran sells oil", True),
    ("iran AND oil", "Iran sells gas", False),
    ("iran oil", "oil from Iran", True),
    ("iran oil", "oil from Iraq", False),
    # OR
    ("iran OR iraq", "Iraq votes", True),
    ("iran OR iraq", "Syria votes", False),
    # NOT
    ("NOT iran", "Syria votes", True),
    ("NOT iran", "Iran votes", False),
    ("iran NOT iraq", "Iran votes", True),
    ("iran NOT iraq", "Iran and Iraq vote", False),
    ("iran AND NOT iraq", "Iran votes", True),
    # grouping and precedence NOT > AND > OR
    ("(iran OR iraq) AND oil", "Iraq oil", True),
    ("(iran OR iraq) AND oil", "Iraq gas", False),
    ("iran OR iraq oil", "Iran gas", True),  # iran OR (iraq AND oil)
    ("iran OR iraq oil", "Iraq gas", False),
    ("NOT iran oil", "Iraq oil", True),  # (NOT iran) AND oil
    ("NOT iran oil", "Iran oil", False),
    ("NOT (iran OR iraq)", "Syria", True),
    ("NOT (iran OR iraq)", "Iraq", False),
    # lower-case operators are plain words
    ("war and peace", "War and Peace", True),
    ("war and peace", "war, peace", False),
    ('"to be or not"', "to be or not to be", True),
    ("not", "not now", True),
    ("not", "now", False),
    # NEAR
    ("sanction* NEAR/5 iran", "sanctions against the regime in Iran", True),
    ("sanction* NEAR/5 iran", "Iran faces new sanctions", True),  # either order
    ("iran NEAR/5 oil", "iran one two three four five oil", True),
    ("iran NEAR/5 oil", "iran one two three four five six oil", False),
    ("iran NEAR/0 oil", "Iran oil", True),
    ("iran NEAR/0 oil", "Iran, oil", True),
    ("iran NEAR/0 oil", "Iran sells oil", False),
    ("S-300 NEAR/1 iran", "S-300 to Iran", True),  # S-300 counts as two words
    ("S-300 NEAR/0 iran", "S 300 to Iran", False),
    ('"arms deal" NEAR/2 (iran OR iraq)', "Iraq signs arms deal", True),
    ('"arms deal" NEAR/2 (iran OR iraq)', "Syria signs arms deal", False),
    ("oil iran NEAR/1 gas", "oil; Iran and gas", True),  # NEAR binds tighter than AND
    ("oil iran NEAR/1 gas", "Iran and gas", False),
    ("iran NEAR/3 oil", "Iran talks.\n\nNothing more.", False),
    # fields
    ("title:iran", "<title>Iran votes", True),
    ("title:iran", "<body>Iran votes", False),
    ("text:iran", "<summary>Iran votes", True),
    ("text:iran", "<body>Iran votes", True),
    ("text:iran", "<title>Iran votes", False),
    ("text:(iran OR iraq)", "<body>Iraq votes", True),
    ('title:"arms deal"', "<title>Arms deal", True),
    ("iran", "<title>Iran", True),  # default: title, summary and body
    ("iran", "<summary>Iran", True),
    ('"arms deal"', "<title>new arms<summary>deal signed", False),  # never across fields
    ("iran NEAR/5 oil", "<title>Iran<body>oil", False),
    # regular expressions on the normalized text
    ("/S-?[34]00/", "the S-400 and", True),
    ("/S-?[34]00/", "the s300", True),
    ("/S-?[34]00/", "the \u0421\u2013300", True),  # Cyrillic Es, en dash
    ("/S-?[34]00/", "the S-500", False),
    ("/^iran/", "<title>Iran votes", True),
    ("title:/votes$/", "<body>Iran votes", False),
    # words: punctuation, apostrophes and the periods of U.S. separate words
    ("U.S.", "the U.S. Navy", True),
    ('"us navy"', "the U.S. Navy", False),
    ('"u s navy"', "the U.S. Navy", True),
    ("navy", "(navy)", True),
    # letters and digits
    ("covid", "COVID19 cases", True),
    ("19", "COVID19 cases", True),
    ("5g", "5G networks", True),
    ("1990s", "in the 1990s", True),
    ("1990", "in the 1990s", True),
    ("199", "in the 1990s", False),
    # normalization: NFKC, casefold, soft hyphens
    ("iran", "\uff29\uff32\uff21\uff2e votes", True),  # fullwidth
    ("strasse", "Stra\u00dfe", True),
    ("stra\u00dfe", "STRASSE", True),
    ("sanctions", "sanc\u00adtions", True),  # soft hyphen
    ("office", "o\ufb03ce", True),  # ligature
    # Cyrillic and Greek via transliteration
    ("Shoigu", "\u0428\u043e\u0439\u0433\u0443 said", True),
    ("\u0428\u043e\u0439\u0433\u0443", "\u0428\u043e\u0439\u0433\u0443 said", True),
    ("\u0428\u043e\u0439\u0433\u0443", "Shoigu said", True),
    ("\u0448\u043e\u0439\u0433\u0443", "\u0428\u041e\u0419\u0413\u0423", True),
    ("Shoigu", "\u0428\u043e\u0439\u0433\u0443\u044f", False),  # Шойгуя: another word
    ("Athena", "\u0391\u03b8\u03ae\u03bd\u03b1", True),  # Αθήνα
    ("\u0391\u03b8\u03ae\u03bd\u03b1", "athena", True),
    # diacritics: asymmetric
    ("cafe", "caf\u00e9", True),
    ("cafe", "cafe\u0301", True),  # decomposed accent
    ("caf\u00e9", "caf\u00e9", True),
    ("caf\u00e9", "cafe\u0301", True),
    ("caf\u00e9", "cafe", False),
    ("caf\u00e9", "caf\u00e8", False),
    ("Sao Paulo", "S\u00e3o Paulo", True),
    ("S\u00e3o Paulo", "Sao Paulo", False),
    ("lodz", "\u0141\u00f3d\u017a", True),
    ("\u0142\u00f3d\u017a", "lodz", False),
    ("caf\u00e9*", "caf\u00e9s", True),
    ("caf\u00e9*", "cafes", False),
    # scripts written without spaces: substring, never transliterated
    ("\u5317\u4eac", "\u6211\u5728\u5317\u4eac\u5de5\u4f5c", True),  # 北京 in 我在北京工作
    ("\u5317\u4eac", "\u5357\u4eac", False),
    ("bei jing", "\u5317\u4eac", False),
    ("\u6771\u4eac", "\u79c1\u306f\u6771\u4eac\u306b\u884c\u304d\u307e\u3059", True),  # Japanese
    (
        "\u0e01\u0e23\u0e38\u0e07\u0e40\u0e17\u0e1e",
        "\u0e44\u0e1b\u0e01\u0e23\u0e38\u0e07\u0e40\u0e17\u0e1e\u0e04\u0e23\u0e31\u0e1a",
        True,
    ),  # Thai
    (
        "\u1019\u103c\u1014\u103a\u1019\u102c",
        "\u1019\u103c\u1014\u103a\u1019\u102c\u1014\u102d\u102f\u1004\u103a\u1004\u1036",
        True,
    ),  # Myanmar
    ("\u5317\u4eac NEAR/2 iran", "\u5317\u4eac\u548ciran", True),
]


def _document(text: str) -> Document:
    """`<title>a<summary>b<body>c` puts text in fields; plain text goes in the body."""
    if not text.startswith("<"):
        return Document("", "", text)
    fields = {"title": "", "summary": "", "body": ""}
    for part in text[1:].split("<"):
        name, _, value = part.partition(">")
        fields[name] = value
    return Document(fields["title"], fields["summary"], fields["body"])


@pytest.mark.parametrize(("query", "text", "expected"), CASES)
def test_rule_language(query: str, text: str, expected: bool) -> None:
    doc = _document(text)
    assert (match_query(query, doc) is not None) is expected
    assert (reference_match(parse_query(query), doc) is not None) is expected


def test_all_rows_in_one_ruleset_agree_with_single_queries() -> None:
    # The same queries compiled together must not disturb each other.
    queries = sorted({query for query, _, _ in CASES})
    rules = compile_rules((str(i), q) for i, q in enumerate(queries))
    for query, text, expected in CASES:
        matched = {m.rule_id for m in rules.match(_document(text))}
        assert (str(queries.index(query)) in matched) is expected, (query, text)


def test_spans_are_offsets_into_the_original_text() -> None:
    body = "Russia delivered the \u0421\u2013300 (S300s) to Tehran."
    match = match_query("S-300 AND tehran", Document("", "", body))
    assert match is not None
    texts = [body[s.start : s.end] for s in match.spans]
    assert texts == ["\u0421\u2013300", "S300", "Tehran"]
    assert all(s.field == "body" for s in match.spans)


def test_spans_cover_accents_soft_hyphens_and_transliteration() -> None:
    doc = Document("\u0428\u043e\u0439\u0433\u0443 in Lo\u0301dz", "", "new sanc\u00adtions")
    match = match_query("shoigu lodz sanction*", doc)
    assert match is not None
    assert matched_terms(doc, match) == (
        "\u0428\u043e\u0439\u0433\u0443",
        "Lo\u0301dz",
        "sanc\u00adtions",
    )


def test_spans_for_title_come_first_and_not_parts_have_none() -> None:
    doc = Document("Iran talks", "", "Iran and Iraq")
    match = match_query("iran NOT syria", doc)
    assert match is not None
    assert match.spans == (Span("title", 0, 4), Span("body", 0, 4))


def test_near_highlights_the_terms_that_were_near() -> None:
    body = "oil was found. Much later, far away and long after, oil prices near Iran rose"
    match = match_query("oil NEAR/3 iran", Document("", "", body))
    assert match is not None
    assert [body[s.start : s.end] for s in match.spans] == ["oil", "Iran"]


def test_only_branches_that_held_are_highlighted() -> None:
    match = match_query("iran OR (iraq NOT oil)", Document("", "", "Iran, Iraq and oil"))
    assert match is not None
    assert [(s.start, s.end) for s in match.spans] == [(0, 4)]


def test_pure_negative_rule_matches_with_no_spans() -> None:
    rules = compile_rules([("quiet", "NOT iran"), ("loud", "iran")])
    assert [(m.rule_id, m.spans) for m in rules.match(Document("Syria"))] == [("quiet", ())]


def test_only_the_rules_asked_for_are_matched() -> None:
    rules = compile_rules([("a", "iran"), ("b", "iran OR oil"), ("c", "oil")])
    found = rules.match(Document("Iran and oil"), only={"b", "c", "d"})
    assert [m.rule_id for m in found] == ["b", "c"]
    assert found == [m for m in rules.match(Document("Iran and oil")) if m.rule_id in "bc"]


def test_rule_ids_in_order() -> None:
    rules = compile_rules([("b", "x"), ("a", "y")])
    assert rules.rule_ids == ("b", "a")
    assert [m.rule_id for m in rules.match(Document("y x"))] == ["b", "a"]


def test_document_from_article_and_explaining_a_rule() -> None:
    from datetime import UTC, datetime

    from worker.models import Article

    article = Article(
        id="a1",
        source_id="wire",
        url="https://example.org/a1",
        title="Talks in Tehran",
        summary="",
        body="The S-300 deal",
        published=datetime(2026, 1, 1, tzinfo=UTC),
    )
    rules = compile_rules([("s300", '"S-300" AND tehran')])
    doc = Document.from_article(article)
    (match,) = rules.match(doc)
    assert matched_terms(doc, match) == ("Tehran", "S-300")
    assert rules.query("s300") == parse_query('"S-300" AND tehran')
    assert len(rules) == 1


def test_rules_that_need_no_term_and_regex_rules_are_always_evaluated() -> None:
    rules = compile_rules(
        [("absent", "NOT iran"), ("either", "oil OR NOT gas"), ("re", "/s-?300/"), ("w", "iran")]
    )
    assert [m.rule_id for m in rules.match(Document("", "", "the S300"))] == [
        "absent",
        "either",
        "re",
    ]
    assert [m.rule_id for m in rules.match(Document("", "", "gas"))] == ["absent"]


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ('"iran iran"', "Iran, iran \u2014 IRAN iran!"),  # overlapping phrase matches
        ("sanction*", "Sanctions, sanctioned; SANCTION. unsanctioned"),
        ('"arms sanction*"', "arms  --  sanctions and arms sanction"),
        ("S-300 OR s300", "S-300, S 300, S\u2013300, S300s and XS-300"),  # a cut: word by word
        ('"s 300" AND oil', "the S \u2014 300 and oil"),
        ("caf\u00e9 OR cafe", "Caf\u00e9 or cafe \u2019s"),
        # Folded text whose offsets shift (Cyrillic, \u00df, a soft hyphen) before the spans
        (
            '"sanction* relief" OR stra\u00dfe',
            "\u0428\u043e\u0439\u0433\u0443 in Stra\u00dfe: sanc\u00adtions relief",
        ),
        (
            "Z\u00fcrich AND zurich",
            "Zurich, Z\u00fcrich and \u0421-300 in ZU\u0308RICH",
        ),  # accents checked
        ("iran AND 300 AND bn", "a 2nd S300 for Iran, 5bn"),  # letters meet digits
    ],
)
def test_spans_found_in_the_text_agree_with_positions(query: str, text: str) -> None:
    """Spans are looked up in the text itself where they can be: same as the reference."""
    doc = Document(text, "", f"Body: {text}")
    expected = reference_match(parse_query(query), doc, rule_id="r")
    assert expected is not None and expected.spans
    assert compile_rules([("r", query)]).match(doc) == [expected]
