"""The compiled matcher agrees with the plain reference evaluator, spans included."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from worker.match import Document, compile_rules, parse_query
from worker.match.normalize import FieldText, fold_text, normalize_text, tokenize, word_form
from worker.match.query import Term
from worker.match.reference import reference_match
from worker.models import RuleMatch

# Words chosen to collide: prefixes of each other, accents, scripts, digits.
WORDS = [
    "iran",
    "Iranian",
    "oil",
    "S",
    "300",
    "3000",
    "sanction",
    "sanctions",
    "caf\u00e9",
    "cafe",
    "CAFE",
    "\u0428\u043e\u0439\u0433\u0443",
    "shoigu",
    "\u5317\u4eac",
    "\u4eac",
    "u",
    "and",
    "deal",
    "arms",
    "\u0421",  # Cyrillic Es
    "na\u00efve",
    "x",
    # inflected forms for `word~`: Russian declensions, English endings, a soft sign
    "\u041f\u0443\u0442\u0438\u043d\u0430",  # Путина
    "\u041f\u0443\u0442\u0438\u043d",  # Путин
    "Putins",
    "\u0418\u0440\u0430\u043d\u0430",  # Ирана
    "\u0441\u0430\u043d\u043a\u0446\u0438\u0439",  # санкций
    "sanctioned",
    "\u041a\u0440\u0435\u043c\u043b\u044f",  # Кремля
    "Sanktionen",
    "Irana",  # Latin, the same token as Ирана
]
SEPARATORS = [" ", " ", " ", "-", "\u2013", ", ", ". ", "", "\u00ad", "\u2019s ", "\n\n", "/"]
QUERY_WORDS = [
    "iran",
    "oil",
    "S-300",
    "s300",
    "sanction*",
    "sanctions",
    "caf\u00e9",
    "cafe",
    "caf*",
    "Shoigu",
    "\u0428\u043e\u0439\u0433\u0443",
    "\u5317\u4eac",
    "\u4eac",
    "u",
    "and",
    "deal",
    "arms",
    "naive",
    "na\u00efve",
    "x*",
    "Putin~",
    "\u0441\u0430\u043d\u043a\u0446\u0438\u044f~",  # санкция~
    "sanction~",
    "iran~",
    "\u041a\u0440\u0435\u043c\u043b\u044c~",  # Кремль~
    "oil~",
    "S-300~",
]
REGEXES = ["/s-?300/", "/caf/", "/iran\\b/", "/\u0448\u043e\u0439/"]


@st.composite
def texts(draw: st.DrawFn) -> str:
    parts = draw(
        st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=14)
    )
    return "".join(word + sep for word, sep in parts)


documents = st.builds(
    Document, texts(), texts(), texts(), st.sampled_from([None, "en", "ru", "de", "sr", "el"])
)


@st.composite
def _proximal(draw: st.DrawFn) -> str:
    """A NEAR operand: term, phrase or OR-group of them."""
    kind = draw(st.integers(0, 3))
    words = st.sampled_from(QUERY_WORDS)
    if kind <= 1:
        return draw(words)
    if kind == 2:
        return '"' + " ".join(draw(st.lists(words, min_size=1, max_size=3))) + '"'
    items = draw(st.lists(words, min_size=2, max_size=3))
    return "(" + " OR ".join(items) + ")"


@st.composite
def _atom(draw: st.DrawFn) -> str:
    kind = draw(st.integers(0, 4))
    if kind <= 1:
        return draw(_proximal())
    if kind == 2:
        left, right = draw(_proximal()), draw(_proximal())
        return f"{left} NEAR/{draw(st.integers(0, 4))} {right}"
    if kind == 3:
        return draw(st.sampled_from(["title:", "text:"])) + draw(_proximal())
    return draw(st.sampled_from(REGEXES))


@st.composite
def queries(draw: st.DrawFn, depth: int = 3) -> str:
    if depth == 0 or draw(st.integers(0, 2)) == 0:
        return draw(_atom())
    if draw(st.integers(0, 4)) == 0:
        return f"NOT ({draw(queries(depth - 1))})"
    operator = draw(st.sampled_from([" AND ", " OR ", " ", " NOT "]))
    left, right = draw(queries(depth - 1)), draw(queries(depth - 1))
    if right.startswith("NOT"):
        right = f"({right})"  # `a NOT NOT b` is a doubled operator
    return f"({left}{operator}{right})"


@settings(max_examples=200, deadline=None)
@given(query=queries(), doc=documents)
def test_compiled_matches_reference(query: str, doc: Document) -> None:
    expected = reference_match(parse_query(query), doc, rule_id="r")
    actual = compile_rules([("r", query)]).match(doc)
    assert actual == ([expected] if expected else [])


@settings(max_examples=100, deadline=None)
@given(rules=st.lists(queries(), min_size=1, max_size=8), doc=documents)
def test_many_rules_together_match_like_each_alone(rules: list[str], doc: Document) -> None:
    ruleset = compile_rules((str(i), q) for i, q in enumerate(rules))
    expected = [reference_match(parse_query(q), doc, rule_id=str(i)) for i, q in enumerate(rules)]
    assert ruleset.match(doc) == [m for m in expected if m is not None]
    # Without spans: the same rules, nothing located.
    ids = [m.rule_id for m in expected if m is not None]
    assert ruleset.match(doc, spans=False) == [RuleMatch(rule_id) for rule_id in ids]
    # Only some rules: the same matches of those, as if the others were not there.
    some = {str(i) for i in range(0, len(rules), 2)}
    assert ruleset.match(doc, only=some) == [m for m in expected if m and m.rule_id in some]


@settings(max_examples=200, deadline=None)
@given(text=texts() | st.text(max_size=40))
def test_fast_tokenizer_agrees_with_the_general_one(text: str) -> None:
    field = FieldText(text)
    general = tokenize(text)
    assert fold_text(text) == normalize_text(text).text
    assert field.tokens == [token for token, _, _, _ in general]
    assert [field.span(i, i) for i in range(len(general))] == [(s, e) for _, s, e, _ in general]
    assert [field.accents(i) for i in range(len(general))] == [a for _, _, _, a in general]
    # Accents asked for first, before any offsets: worked out another way.
    fresh = FieldText(text)
    assert [fresh.accents(i) for i in range(len(general))] == [a for _, _, _, a in general]


@st.composite
def _text_and_term(draw: st.DrawFn) -> tuple[str, str]:
    """A text, and a phrase query that often occurs in it: some of its words,
    as written, perhaps cut short with `*`, or words of other queries."""
    text = draw(texts() | st.text(max_size=40))
    tokens = tokenize(text)
    if not tokens or draw(st.integers(0, 3)) == 0:
        return text, " ".join(draw(st.lists(st.sampled_from(QUERY_WORDS), min_size=1, max_size=3)))
    first = draw(st.integers(0, len(tokens) - 1))
    chosen = tokens[first : first + draw(st.integers(1, 3))]
    words = []
    for _, start, end, _ in chosen:
        word = text[start:end]
        cut = draw(st.integers(1, len(word))) if draw(st.booleans()) else 0
        words.append(word[:cut] + "*" if cut and word[cut - 1].isalnum() else word)
    return text, " ".join(words)


@settings(max_examples=300, deadline=None)
@given(case=_text_and_term())
def test_spans_found_in_the_text_are_those_of_the_tokens(case: tuple[str, str]) -> None:
    """Spans are searched for in the text itself (folded, with letters and
    digits split) where they can be; they must be where the tokens are."""
    text, phrase = case
    term = parse_query(f'"{phrase}"').root
    assert isinstance(term, Term)
    tokens = tokenize(text)
    size = len(term.words)
    expected = [
        (tokens[start][1], tokens[start + size - 1][2])
        for start in range(len(tokens) - size + 1)
        if all(
            (token.startswith(word.text) if word.prefix else token == word.text)
            and set(word.accents) <= set(accents)
            for word, (token, _, _, accents) in zip(term.words, tokens[start:], strict=False)
        )
    ]
    field = FieldText(text)
    searched = tuple((w.text, w.prefix, w.accents) for w in term.words)
    assert field.term_spans(searched) in (None, expected)
    for token in {token for token, _, _, _ in tokens}:
        found = [(start, end) for other, start, end, _ in tokens if other == token]
        assert field.word_spans(token) in (None, found)


@settings(max_examples=300, deadline=None)
@given(text=texts() | st.text(max_size=40))
# A combining mark after a word belongs to its token, not to the word as
# written (found by this test).
@example(text="0\u0f8d")
@example(text="cafe\u0301 au lait")
def test_word_forms_are_those_of_the_token_offsets(text: str) -> None:
    """`FieldText.forms()` reads words as written where it can; each must be
    the form of the token's own offsets in the original text."""
    expected = [word_form(text[start:end]) for _, start, end, _ in tokenize(text)]
    assert FieldText(text).forms() == expected


_LONG_WORDS = st.text(alphabet="жщьъёйЖЩ\u042cЪЁяю\u0445цчшaz5 —«»\u00a0", min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(words=st.lists(_LONG_WORDS, min_size=60, max_size=160), extra=st.sampled_from(["", "ß"]))
def test_spans_of_long_folded_text_are_those_of_the_tokens(words: list[str], extra: str) -> None:
    """Long Cyrillic text (folding lengthens and drops letters) maps spans back
    by blocks of chars: every token, wherever in the text, keeps its offsets
    (`ß`, outside the Cyrillic code page, takes the general way)."""
    text = " ".join(words) + extra
    tokens = tokenize(text)
    field = FieldText(text)
    for token in {token for token, _, _, _ in tokens}:
        found = [(start, end) for other, start, end, _ in tokens if other == token]
        assert field.word_spans(token) in (None, found)


_EUROPEAN_WORDS = st.text(
    alphabet="éèüößæœçñãÉÜŒŸłąŁżŚğş\u0131İάΣςΐaz5 —«»\u00a0'\u2019", min_size=1, max_size=12
)


@settings(max_examples=80, deadline=None)
@given(words=st.lists(_LONG_WORDS | _EUROPEAN_WORDS, min_size=1, max_size=80))
def test_code_page_fields_agree_with_the_general_path(words: list[str]) -> None:
    """Text that takes a code-page path (Cyrillic, Western or Central
    European, Greek, Turkish) has the general path's tokens, forms, token offsets, accents,
    and form spans (found by searching its own words)."""
    text = " ".join(words)
    tokens = tokenize(text)
    field = FieldText(text)
    assert field.tokens == [token for token, _, _, _ in tokens]
    assert field.forms() == [word_form(text[start:end]) for _, start, end, _ in tokens]
    assert [field.span(i, i) for i in range(len(tokens))] == [(s, e) for _, s, e, _ in tokens]
    assert [field.accents(i) for i in range(len(tokens))] == [a for _, _, _, a in tokens]
    for form in set(field.forms()):
        expected = [(s, e) for _, s, e, _ in tokens if word_form(text[s:e]) == form]
        assert field.form_spans([form]) in (None, expected)  # None: by token positions
    plain = [token for token, _, _, _ in tokens]
    for first in range(len(plain) - 1):
        pair = (plain[first], plain[first + 1])
        expected = [
            (tokens[i][1], tokens[i + 1][2])
            for i in range(len(plain) - 1)
            if (plain[i], plain[i + 1]) == pair
        ]
        term = tuple((word, False, ()) for word in pair)
        assert field.term_spans(term) in (None, expected)


def test_a_word_spelt_with_every_accent_is_bounded_and_still_found() -> None:
    """Hostile text: one word in thousands of accented spellings. The code
    page keeps a bounded number of spellings per token (past it, spans come
    from the token positions), and every occurrence is still highlighted."""
    accents = {"e": "eéèêë", "a": "aàáâãäå", "o": "oòóôõö", "u": "uùúûü", "i": "iìíîï"}
    spellings = [
        f"r{e1}s{u}m{e2}{a}{o}{i}"
        for e1 in accents["e"]
        for u in accents["u"]
        for e2 in accents["e"]
        for a in accents["a"]
        for o in accents["o"]
        for i in accents["i"]
    ][:3000]
    text = " ".join(spellings)
    field = FieldText(text)
    assert field.tokens == ["resumeaoi"] * len(spellings)
    expected = [(start, end) for _, start, end, _ in tokenize(text)]
    assert field.word_spans("resumeaoi") is None  # crowded: by the token positions
    found = compile_rules([("r", "resumeaoi")]).match(Document("", "", text))
    assert [(span.start, span.end) for span in found[0].spans] == expected
