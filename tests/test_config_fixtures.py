"""Broken config directories and the exact errors a user sees for each.

Every directory under fixtures/config/ holds config files with mistakes and
an `expected.txt`: the error output of loading it, file paths relative to the
directory. A `*` in an expected line stands for any text; it is used where the
wording belongs to another module (query parser, notification targets) or a
library, so these tests pin down our lines, fields and columns, not theirs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from worker.config import load_config
from worker.errors import ConfigError

FIXTURES = Path(__file__).parent / "fixtures" / "config"
CASES = sorted(path.name for path in FIXTURES.iterdir() if (path / "expected.txt").exists())
# Only SMTP_USER is set: missing-env must report the other placeholder alone.
ENVIRON = {"SMTP_USER": "wirewatch"}


def _pattern(line: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in line.split("*")))


def test_every_case_is_collected() -> None:
    assert len(CASES) >= 10


@pytest.mark.parametrize("case", CASES)
def test_errors_name_file_line_and_field(case: str) -> None:
    directory = FIXTURES / case
    expected = (directory / "expected.txt").read_text(encoding="utf-8").splitlines()

    with pytest.raises(ConfigError) as caught:
        load_config(directory, ENVIRON)

    actual = str(caught.value).replace(f"{directory}/", "").splitlines()
    assert len(actual) == len(expected), "\n".join(actual)
    for got, want in zip(actual, expected, strict=True):
        assert _pattern(want).fullmatch(got), f"\n got: {got}\nwant: {want}"


@pytest.mark.parametrize("case", CASES)
def test_every_issue_is_located(case: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(FIXTURES / case, ENVIRON)

    for issue in caught.value.issues:
        assert Path(issue.file).parent == FIXTURES / case
        # Only a missing file has no line to point at.
        assert issue.line is not None or "not found" in issue.message
