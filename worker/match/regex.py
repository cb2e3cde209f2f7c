"""`/regex/` rules on RE2: matching in time linear in the text, whatever the pattern.

Python's `re` backtracks: `/(a+)+$/` on forty `a`s and a `!` never ends.
RE2 never backtracks, so it cannot run what needs backtracking
(backreferences, lookaround, atomic groups, possessive quantifiers): those
are syntax errors here, found by a scan that knows where they are, so the
message points at the column (RE2's own errors carry no position).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import re2

__all__ = ["MAX_DEPTH", "Pattern", "RegexProblem", "compile_regex", "regex_problem"]

MAX_DEPTH = 50  # nesting of groups, as for queries


class Pattern(Protocol):
    """What the matcher uses of a compiled RE2 pattern."""

    def finditer(self, text: str) -> _Matches: ...

    def search(self, text: str) -> _Match | None: ...


class _Match(Protocol):
    def start(self) -> int: ...

    def end(self) -> int: ...

    def group(self) -> str: ...


class _Matches(Protocol):
    def __iter__(self) -> _Matches: ...

    def __next__(self) -> _Match: ...


@dataclass(frozen=True, slots=True)
class RegexProblem:
    """Why a pattern is refused, and the 0-based offset in it to point at."""

    message: str
    offset: int


_UNSUPPORTED = (
    ("(?=", "lookahead"),
    ("(?!", "negative lookahead"),
    ("(?<=", "lookbehind"),
    ("(?<!", "negative lookbehind"),
    ("(?>", "atomic group"),
    ("(?P=", "named backreference"),
    ("(?(", "conditional group"),
)
_BACKREFERENCE = re.compile(r"\\(?:[1-9]|k<|k'|k\{|g\{?-?[0-9<])")


def regex_problem(pattern: str) -> RegexProblem | None:
    """A construct RE2 cannot run, or nesting past MAX_DEPTH; None if neither."""
    opened: list[int] = []  # offsets of the groups still open
    index = 0
    in_class = False
    size = len(pattern)
    while index < size:
        char = pattern[index]
        if char == "\\":
            found = _BACKREFERENCE.match(pattern, index)
            if found and not in_class:
                return RegexProblem(
                    "backreferences need backtracking, which rules do not allow", index
                )
            index += 2
            continue
        if in_class:
            in_class = char != "]" or pattern[index - 1] == "["
        elif char == "[":
            in_class = True
            if pattern.startswith(("[^]", "[]"), index):  # a leading ] is a literal
                index += 3 if pattern[index + 1] == "^" else 2
                continue
        elif char == "(":
            for opening, name in _UNSUPPORTED:
                if pattern.startswith(opening, index):
                    message = f"{name} needs backtracking, which rules do not allow"
                    return RegexProblem(message, index)
            opened.append(index)
            if len(opened) > MAX_DEPTH:
                return RegexProblem(f"groups nested deeper than {MAX_DEPTH} levels", index)
        elif char == ")":
            if not opened:
                return RegexProblem("unbalanced ')'", index)
            opened.pop()
        elif (
            char == "+"
            and index > 0
            and pattern[index - 1] in "*+?}"
            and not _escaped(pattern, index - 1)
        ):
            return RegexProblem(
                "possessive quantifiers need backtracking, which rules do not allow", index
            )
        index += 1
    if opened:
        return RegexProblem("missing ')'", opened[-1])
    return None


def _escaped(pattern: str, index: int) -> bool:
    backslashes = 0
    while index - backslashes - 1 >= 0 and pattern[index - backslashes - 1] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def _options() -> re2.Options:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # errors are raised and shown to the user, not logged by RE2
    return options


_OPTIONS = _options()


def compile_regex(pattern: str) -> Pattern:
    """Compile for case-insensitive search; raises ValueError(RegexProblem) if refused."""
    problem = regex_problem(pattern)
    if problem is not None:
        raise ValueError(problem)
    try:
        compiled: Pattern = re2.compile(pattern, _OPTIONS)
    except re2.error as error:
        detail = error.args[0] if error.args else b""
        text = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        raise ValueError(RegexProblem(text, _offset(pattern, text))) from None
    return compiled


def _offset(pattern: str, message: str) -> int:
    """Where RE2's message points: it quotes the offending part of the pattern."""
    _, _, quoted = message.partition(": ")
    if quoted:
        found = pattern.find(quoted)
        if found >= 0:
            return found
    return 0
