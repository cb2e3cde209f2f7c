"""The building blocks: durations and the line-keeping YAML loader."""

from __future__ import annotations

from datetime import timedelta

import pytest

from worker.config import format_duration, parse_duration
from worker.config.yamlmarks import YamlSyntaxError, load_marked


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30),
        ("5m", 300),
        ("2h", 7200),
        ("1d", 86400),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("2w", 14 * 86400),
        ("90", 90),
        (45, 45),
        (" 10M ", 600),
    ],
)
def test_parse_duration(text: str | int, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "text", ["", "5", "5 minutes", "30m1h", "1h1h", "-5m", "1.5h", "h", True, -3]
)
def test_parse_duration_rejects(text: str | int) -> None:
    if text == "5":
        assert parse_duration(text) == timedelta(seconds=5)
        return
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["30s", "5m", "1h30m", "1d", "3d2h", "0s"])
def test_format_duration_round_trips(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


def test_marked_lines() -> None:
    marked = load_marked("a: 1\nlist:\n  - x: 1\n    y: 2\n  - z\nflow: {k: [1, 2]}\n")

    assert marked.data == {"a": 1, "list": [{"x": 1, "y": 2}, "z"], "flow": {"k": [1, 2]}}
    assert marked.line(("a",)) == 1
    assert marked.line(("list", 0)) == 3
    assert marked.line(("list", 0, "y")) == 4
    assert marked.line(("list", 1)) == 5
    assert marked.line(("flow", "k", 1)) == 6
    # A key that is not there points at the mapping that should hold it.
    assert marked.line(("list", 0, "missing")) == 3


def test_times_stay_strings_and_keys_stay_as_written() -> None:
    marked = load_marked("digest: [18:00, 8:30]\nno: 1\non: yes\nbig: 10_000\n")
    assert marked.data == {"digest": ["18:00", "8:30"], "no": 1, "on": True, "big": 10000}


def test_duplicate_keys_are_reported_with_the_second_line() -> None:
    marked = load_marked("a: 1\nb:\n  c: 1\n  c: 2\na: 3\n")

    assert marked.data == {"a": 3, "b": {"c": 2}}
    found = sorted((d.line, d.path) for d in marked.duplicates)
    assert found == [(4, ("b", "c")), (5, ("a",))]


def test_merge_keys_may_be_overridden() -> None:
    marked = load_marked("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n")
    assert marked.data["item"] == {"x": 1, "y": 3}
    assert marked.duplicates == ()


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a: [1, 2\nb: 3\n", 2),
        ("a: 1\n  b: 2\n", 2),
        ("a:\n\t- x\n", 2),
        ("--- 1\n--- 2\n", 2),
        ("a: !custom 1\n", 1),
        ("a: &x [*x]\n", 1),
        ("? [1]\n: 2\n", 1),
    ],
)
def test_syntax_errors_have_a_line(text: str, line: int) -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        load_marked(text)
    assert caught.value.line == line


def test_empty_document() -> None:
    assert load_marked("# only a comment\n").data is None
