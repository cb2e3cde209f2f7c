"""Queries that do not parse say why and point at the column (docs/rules.md)."""

from __future__ import annotations

import pytest

from worker.errors import QuerySyntaxError
from worker.match import Document, compile_rules, parse_query
from worker.match.reference import reference_match

# (query, 1-based column, words the message must contain)
ERRORS: list[tuple[str, int, str]] = [
    # empty query, phrase, group
    ("", 1, "empty query"),
    ("   ", 1, "empty query"),
    ('""', 1, "empty phrase"),
    ('iran " "', 6, "empty phrase"),
    ("()", 1, "empty group"),
    ("iran ( )", 6, "empty group"),
    # dangling operators
    ("iran AND", 6, "AND needs something after it"),
    ("AND iran", 1, "AND needs something before it"),
    ("iran OR", 6, "OR needs something after it"),
    ("OR", 1, "OR needs something before it"),
    ("NOT", 1, "NOT needs something after it"),
    ("iran NOT", 6, "NOT needs something after it"),
    ("(iran OR)", 7, "OR needs something after it"),
    ("iran NEAR/5", 6, "needs something after it"),
    ("NEAR/5 iran", 1, "NEAR needs something before it"),
    ("title:", 1, "title: needs something after it"),
    # doubled operators
    ("iran AND AND oil", 10, "AND cannot follow AND"),
    ("iran OR AND oil", 9, "AND cannot follow OR"),
    ("iran AND OR oil", 10, "OR cannot follow AND"),
    ("NOT NOT iran", 5, "NOT cannot follow NOT"),
    ("iran NOT OR oil", 10, "OR cannot follow NOT"),
    ("iran NEAR/3 NOT oil", 13, "NOT cannot follow NEAR/3"),
    ("title:NOT iran", 7, "NOT cannot follow title:"),
    # unbalanced parentheses and quotes
    ("(iran", 1, "unclosed parenthesis"),
    ("((iran) OR oil", 1, "unclosed parenthesis"),
    ("iran)", 5, "unbalanced ')'"),
    ("(iran))", 7, "unbalanced ')'"),
    ('"arms deal', 1, "unclosed quote"),
    ('iran "arms deal', 6, "unclosed quote"),
    ('"arms"deal', 7, "followed by a space"),
    # NEAR without a distance, or an invalid one
    ("iran NEAR oil", 6, "NEAR needs a distance"),
    ("iran NEAR/ oil", 11, "NEAR distance must be a number"),
    ("iran NEAR/x oil", 11, "NEAR distance must be a number"),
    ("iran NEAR/-1 oil", 11, "NEAR distance must be a number"),
    ("iran NEAR/5x oil", 11, "NEAR distance must be a number"),
    ("iran NEAR/100000 oil", 11, "NEAR distance must be a number"),
    # NEAR operands are terms, phrases and OR-groups
    ("iran NEAR/3 (oil gas)", 13, "NEAR works on terms, phrases and OR-groups"),
    ("(iran NOT oil) NEAR/3 gas", 1, "NEAR works on terms, phrases and OR-groups"),
    ("iran NEAR/3 /oil/", 13, "NEAR works on terms, phrases and OR-groups"),
    # wildcards end words
    ("*", 1, "no letters or digits"),
    ("sanc*tion", 5, "'*' may only end a word"),
    ('"arms *"', 7, "'*' must end a word"),
    # terms without words
    ("iran - oil", 6, "no letters or digits"),
    # regular expressions
    ("/S-?300", 1, "unclosed regular expression"),
    ("//", 1, "empty regular expression"),
    ("iran /S-(300/", 9, "invalid regular expression"),
    ("/S-300/i", 8, "followed by a space"),
    # what RE2 cannot run in linear time, at the construct's column
    ("iran /(a)\\1/", 10, "backreferences need backtracking"),
    ("/(?P<x>a)(?P=x)/", 10, "named backreference"),
    ("/iran(?=oil)/", 6, "lookahead needs backtracking"),
    ("/(?<!x)iran/", 2, "negative lookbehind needs backtracking"),
    ("/(?>a+)b/", 2, "atomic group"),
    ("/a++b/", 4, "possessive quantifiers"),
    ("/a{2,1}/", 3, "invalid regular expression"),
    ("/(a/", 2, "missing ')'"),
    ("/a)/", 3, "unbalanced ')'"),
    ("/[(]\\1[)]/", 2 + 3, "backreferences"),
    # nesting deeper than 50 levels
    ("(" * 51 + "iran" + ")" * 51, 51, "nested deeper than 50 levels"),
    ("(" * 200 + "iran" + ")" * 200, 51, "nested deeper than 50 levels"),
    ("/" + "(" * 51 + "a" + ")" * 51 + "/", 52, "groups nested deeper than 50 levels"),
    ("a" + " NEAR/1 a" * 51, 2 + 51 * 9 - 9 + 1, "nested deeper than 50 levels"),
    # fields
    ("title:(text:iran)", 8, "text: cannot be inside"),
]


@pytest.mark.parametrize(("query", "column", "message"), ERRORS)
def test_syntax_error_column(query: str, column: int, message: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query(query)
    assert caught.value.column == column
    assert message in caught.value.message
    assert caught.value.query == query


def test_caret_points_at_the_column() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse_query("iran AND AND oil")
    assert caught.value.caret() == "iran AND AND oil\n         ^"


def test_compile_names_the_rule() -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        compile_rules([("fine", "iran"), ("broken", "(iran OR iraq")])
    assert caught.value.message.startswith("rule broken: ")
    assert caught.value.column == 1
    assert caught.value.query == "(iran OR iraq"


def test_duplicate_rule_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate rule id"):
        compile_rules([("a", "iran"), ("a", "oil")])


@pytest.mark.parametrize(
    "query",
    [
        "iran and oil",  # lower-case operators are words
        "near/5",
        "title:iran text:(oil OR gas) NOT /s-?300/",
        '"sanction* relief" NEAR/0 (iran OR "north korea")',
        "a NEAR/2 b NEAR/3 c",
        "title:(title:iran)",
        "http://example.org/x",
        "24/7 AT&T",
        "(" * 50 + "iran" + ")" * 50,
        "/" + "(" * 50 + "a" + ")" * 50 + "/",
        "/[\\d]/ /a\\+\\+/ /[(?=]/ /x*?y/",  # escaped or in a class: no backtracking
        'sanction~ NEAR/3 "Putin~ visit*"',
    ],
)
def test_valid_queries_parse(query: str) -> None:
    parse_query(query)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        ("(a+)+$", "a" * 40 + "!"),
        ("(a|aa)+$", "a" * 5000 + "!"),
        ("(x+x+)+y", "x" * 5000),
        ("(.*a){12}", "a" * 3000),
        ("^(\\w+\\s?)*$", "word " * 2000 + "!"),
    ],
)
def test_hostile_regexes_finish(pattern: str, text: str) -> None:
    """Patterns that make a backtracking engine take years end (in linear time)."""
    rules = compile_rules([("r", f"/{pattern}/"), ("t", f"title:/{pattern}/")])
    doc = Document(text, text, text)
    for _ in range(20):
        found = rules.match(doc)
    reference = reference_match(parse_query(f"/{pattern}/"), doc, rule_id="r")
    assert [m for m in found if m.rule_id == "r"] == ([reference] if reference else [])


def test_deep_queries_are_errors_never_recursion() -> None:
    for depth in (51, 200, 5000):
        for query in ("(" * depth + "a" + ")" * depth, "NOT (" * depth + "a" + ")" * depth):
            with pytest.raises(QuerySyntaxError, match="nested deeper than 50"):
                parse_query(query)
    with pytest.raises(QuerySyntaxError, match="nested deeper than 50"):
        parse_query("a" + " NEAR/1 a" * 5000)
    # At the limit (a NEAR counts as a level): it parses, compiles and matches.
    query = "(" * 49 + "a NEAR/1 b" + ")" * 49
    assert compile_rules([("r", query)]).match(Document("a b")) != []
