"""The rule language (docs/rules.md): tokenizer and parser to a frozen AST.

Grammar, loosest binding first (NOT > NEAR > AND > OR, NEAR binding tighter
than AND as the spec asks, and NOT applying to a whole NEAR expression since
`(NOT a) NEAR b` has no meaning):

    query   := or END
    or      := and (OR and)*
    and     := not ([AND] not)*          adjacent operands mean AND
    not     := NOT near | near
    near    := primary (NEAR/n primary)*
    primary := FIELD primary | TERM | PHRASE | REGEX | '(' or ')'

Every error carries the 1-based column a user should look at. Groups and
NEAR chains nest at most MAX_DEPTH deep, so no query can exhaust the stack
of the recursive parser or of the matcher that walks its tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from worker.errors import QuerySyntaxError
from worker.match.normalize import Accents, fold_unit, tokenize, word_form
from worker.match.regex import MAX_DEPTH, compile_regex
from worker.models import Field

__all__ = [
    "MAX_DEPTH",
    "And",
    "InField",
    "Near",
    "Node",
    "Not",
    "Or",
    "Query",
    "Regex",
    "Term",
    "Word",
    "parse_query",
]

ALL_FIELDS: frozenset[Field] = frozenset(("title", "summary", "body"))
_FIELD_PREFIXES: dict[str, frozenset[Field]] = {
    "title": frozenset(("title",)),
    "text": frozenset(("summary", "body")),
}
_FIELD_RE = re.compile(r"(title|text):", re.IGNORECASE)
_DISTANCE_RE = re.compile(r"[0-9]{1,4}")
_MAX_DISTANCE = 1000


@dataclass(frozen=True, slots=True)
class Word:
    """One normalized word of a term; `prefix` for `word*`; accents the rule insists on.

    `stem` for `word~`, which also finds inflected forms; `form` is then the
    word as written (`word_form`), which is what gets stemmed, and accents
    are not insisted on.
    """

    text: str
    prefix: bool = False
    accents: Accents = ()
    stem: bool = False
    form: str = ""


@dataclass(frozen=True, slots=True)
class Term:
    """A word, compound (`S-300`) or phrase: words that must follow each other."""

    words: tuple[Word, ...]
    source: str
    column: int


@dataclass(frozen=True, slots=True)
class Regex:
    """`/pattern/`, searched case-insensitively in each field's normalized text."""

    pattern: str  # already folded like the text it runs on
    source: str
    column: int


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node
    column: int


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides in one field with at most `distance` words between them."""

    left: Node
    right: Node
    distance: int
    column: int


@dataclass(frozen=True, slots=True)
class InField:
    """`title:` or `text:`: the operand is matched only in these fields."""

    fields: frozenset[Field]
    operand: Node
    column: int


Node = Term | Regex | Not | And | Or | Near | InField


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed rule query."""

    text: str
    root: Node


_Kind = Literal["(", ")", "AND", "OR", "NOT", "NEAR", "FIELD", "TERM", "PHRASE", "REGEX", "END"]
_OPERATORS = ("AND", "OR", "NOT", "NEAR")
_OPERAND_STARTS = ("(", "NOT", "FIELD", "TERM", "PHRASE", "REGEX")


@dataclass(frozen=True, slots=True)
class _Token:
    kind: _Kind
    text: str
    column: int  # 1-based
    value: int = 0  # NEAR distance


def _is_delimiter(query: str, index: int) -> bool:
    return index >= len(query) or query[index].isspace() or query[index] in "()"


class _Lexer:
    def __init__(self, query: str) -> None:
        self.query = query
        self.index = 0
        self.tokens: list[_Token] = []

    def error(self, message: str, index: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.query, index + 1)

    def run(self) -> list[_Token]:
        query = self.query
        while self.index < len(query):
            char = query[self.index]
            if char.isspace():
                self.index += 1
            elif char in "()":
                self.emit(char, char, self.index, self.index + 1)  # type: ignore[arg-type]
            elif char == '"':
                self.phrase()
            elif char == "/":
                self.regex()
            else:
                self.bare()
        self.tokens.append(_Token("END", "", len(query) + 1))
        return self.tokens

    def emit(self, kind: _Kind, text: str, start: int, end: int, value: int = 0) -> None:
        self.tokens.append(_Token(kind, text, start + 1, value))
        self.index = end

    def phrase(self) -> None:
        start = self.index
        close = self.query.find('"', start + 1)
        if close < 0:
            raise self.error("unclosed quote", start)
        if not _is_delimiter(self.query, close + 1):
            raise self.error("a phrase must be followed by a space or parenthesis", close + 1)
        self.emit("PHRASE", self.query[start + 1 : close], start, close + 1)

    def regex(self) -> None:
        start = self.index
        index = start + 1
        while index < len(self.query) and self.query[index] != "/":
            index += 2 if self.query[index] == "\\" else 1
        if index >= len(self.query):
            raise self.error("unclosed regular expression", start)
        if not _is_delimiter(self.query, index + 1):
            raise self.error("a regular expression must be followed by a space", index + 1)
        self.emit("REGEX", self.query[start + 1 : index], start, index + 1)

    def bare(self) -> None:
        start = self.index
        field = _FIELD_RE.match(self.query, start)
        if field:
            self.emit("FIELD", field.group().lower(), start, field.end())
            return
        end = start
        while (
            end < len(self.query) and not self.query[end].isspace() and self.query[end] not in '()"'
        ):
            end += 1
        word = self.query[start:end]
        if word in ("AND", "OR", "NOT"):
            self.emit(word, word, start, end)  # type: ignore[arg-type]
        elif word == "NEAR" or word.startswith("NEAR/"):
            self.emit("NEAR", word, start, end, self.distance(word, start))
        else:
            self.emit("TERM", word, start, end)

    def distance(self, word: str, start: int) -> int:
        if word == "NEAR":
            raise self.error("NEAR needs a distance, like NEAR/5", start)
        digits = word[5:]
        if not _DISTANCE_RE.fullmatch(digits) or int(digits) > _MAX_DISTANCE:
            raise self.error(f"NEAR distance must be a number from 0 to {_MAX_DISTANCE}", start + 5)
        return int(digits)


def _words(text: str, column: int, query: str) -> tuple[Word, ...]:
    """Normalize a term or phrase; `*` right after a word makes it a prefix, `~` a stem."""
    tokens = tokenize(text)
    ends = {end: index for index, (_, _, end, _) in enumerate(tokens)}
    marks: dict[int, tuple[str, int]] = {}  # token index -> mark, where the word ends
    for index, char in enumerate(text):
        if char not in "*~":
            continue
        word_end = index
        # Letters that fold to no letter (the soft sign, `ь` -> `'`) still end the word.
        while word_end > 0 and word_end not in ends and text[word_end - 1].isalpha():
            word_end -= 1
        if word_end not in ends:
            raise QuerySyntaxError(f"'{char}' must end a word", query, column + index)
        if index + 1 < len(text) and (text[index + 1].isalnum() or text[index + 1] in "*~"):
            raise QuerySyntaxError(f"'{char}' may only end a word", query, column + index)
        marks[ends[word_end]] = (char, index)
    words = []
    for index, (token, start, _, accents) in enumerate(tokens):
        mark, end = marks.get(index, ("", 0))
        if mark == "~":
            words.append(Word(token, stem=True, form=word_form(text[start:end])))
        else:
            words.append(Word(token, mark == "*", accents))
    return tuple(words)


def _fold_pattern(pattern: str) -> str:
    # Regex syntax is all ASCII, so folding the non-ASCII characters (Cyrillic
    # to Latin, accents off, dashes to '-') changes only literals, the same way
    # the text was folded.
    return "".join(c if c.isascii() else fold_unit(c)[0] for c in pattern)


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _Lexer(query).run()
        self.position = 0
        self.scope: frozenset[Field] = ALL_FIELDS
        self.depth = 0  # groups and NEARs around the current token

    # -- helpers ---------------------------------------------------------------

    def peek(self) -> _Token:
        return self.tokens[self.position]

    def next(self) -> _Token:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def previous(self) -> _Token | None:
        return self.tokens[self.position - 1] if self.position else None

    def error(self, message: str, column: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.query, column)

    def missing_operand(self) -> QuerySyntaxError:
        """Why no operand can start at the current token."""
        token = self.peek()
        before = self.previous()
        if before is None and token.kind == "END":
            return self.error("empty query", 1)
        if before is not None and before.kind == "(" and token.kind == ")":
            return self.error("empty group", before.column)
        if (
            token.kind in _OPERATORS
            and before is not None
            and before.kind in (*_OPERATORS, "FIELD")
        ):
            return self.error(f"{token.kind} cannot follow {before.text}", token.column)
        if before is not None and before.kind in (*_OPERATORS, "FIELD"):
            return self.error(f"{before.text} needs something after it", before.column)
        if token.kind in _OPERATORS:
            return self.error(f"{token.kind} needs something before it", token.column)
        if token.kind == ")":
            return self.error("unbalanced ')'", token.column)
        return self.error("expected a term", token.column)

    # -- grammar ---------------------------------------------------------------

    def parse(self) -> Query:
        root = self.parse_or()
        token = self.peek()
        if token.kind == ")":
            raise self.error("unbalanced ')'", token.column)
        if token.kind != "END":  # pragma: no cover - every other token starts an operand
            raise self.error("unexpected input", token.column)
        return Query(self.query, root)

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.peek().kind == "OR":
            self.next()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.peek().kind in ("AND", *_OPERAND_STARTS):
            if self.peek().kind == "AND":
                self.next()
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Node:
        if self.peek().kind != "NOT":
            return self.parse_near()
        token = self.next()
        if self.peek().kind == "NOT":
            raise self.error("NOT cannot follow NOT", self.peek().column)
        return Not(self.parse_near(), token.column)

    def parse_near(self) -> Node:
        left_column = self.peek().column
        left = self.parse_primary()
        chained = 0
        while self.peek().kind == "NEAR":
            token = self.next()
            chained += 1
            self.check_depth(self.depth + chained, token.column)
            right_column = self.peek().column
            right = self.parse_primary()
            self.check_near_operand(left, left_column)
            self.check_near_operand(right, right_column)
            left = Near(left, right, token.value, token.column)
        return left

    def check_near_operand(self, node: Node, column: int) -> None:
        if not _has_positions(node):
            raise self.error("NEAR works on terms, phrases and OR-groups only", column)

    def parse_primary(self) -> Node:
        token = self.peek()
        if token.kind == "FIELD":
            return self.parse_field()
        if token.kind == "(":
            return self.parse_group()
        if token.kind == "TERM":
            self.next()
            return self.term(token.text, token.column)
        if token.kind == "PHRASE":
            self.next()
            if not tokenize(token.text):
                raise self.error("empty phrase", token.column)
            return Term(_words(token.text, token.column + 1, self.query), token.text, token.column)
        if token.kind == "REGEX":
            self.next()
            return self.regex(token)
        raise self.missing_operand()

    def term(self, text: str, column: int) -> Term:
        if not tokenize(text):
            raise self.error(f"'{text}' has no letters or digits", column)
        return Term(_words(text, column, self.query), text, column)

    def regex(self, token: _Token) -> Regex:
        if not token.text:
            raise self.error("empty regular expression", token.column)
        pattern = _fold_pattern(token.text)
        try:
            compile_regex(pattern)
        except ValueError as exc:
            problem = exc.args[0]
            # Folding maps one pattern char to one (fold_unit on a letter may
            # give more, but offsets before it are the user's).
            offset = min(problem.offset, len(token.text) - 1)
            raise self.error(
                f"invalid regular expression: {problem.message}", token.column + 1 + offset
            ) from None
        return Regex(pattern, token.text, token.column)

    def check_depth(self, depth: int, column: int) -> None:
        if depth > MAX_DEPTH:
            raise self.error(f"query nested deeper than {MAX_DEPTH} levels", column)

    def parse_field(self) -> Node:
        token = self.next()
        fields = _FIELD_PREFIXES[token.text.rstrip(":")]
        outer = self.scope
        inner = outer & fields
        if not inner:
            raise self.error(f"{token.text} cannot be inside another field's prefix", token.column)
        self.scope = inner
        try:
            operand = self.parse_primary()
        finally:
            self.scope = outer
        return InField(fields, operand, token.column)

    def parse_group(self) -> Node:
        opening = self.next()
        self.check_depth(self.depth + 1, opening.column)
        self.depth += 1
        try:
            inner = self.parse_or()
        finally:
            self.depth -= 1
        if self.peek().kind != ")":
            raise self.error("unclosed parenthesis", opening.column)
        self.next()
        return inner


def _has_positions(node: Node) -> bool:
    """NEAR needs word positions: terms, phrases, OR-groups of them, or another NEAR."""
    if isinstance(node, Term | Near):
        return True
    if isinstance(node, InField):
        return _has_positions(node.operand)
    if isinstance(node, Or):
        return all(_has_positions(operand) for operand in node.operands)
    return False


def parse_query(text: str) -> Query:
    """Parse a rule query; raises QuerySyntaxError with the 1-based column."""
    return _Parser(text).parse()
