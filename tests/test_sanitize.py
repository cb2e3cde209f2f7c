"""Text from the web reaches the user inert: in alerts, email subjects and command output.

The hostile title carries what a terminal or client would act on: OSC 52
(writes the clipboard), OSC 8 (a hidden link), colour, an 8-bit CSI, a
carriage return and a right-to-left override.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.test_cli_commands import cli
from tests.web import Site
from worker.models import Article, Span
from worker.notify import AlertContent, render_alert
from worker.notify.escape import Format, single_line
from worker.notify.sanitize import json_inert, sanitize

HOSTILE_TITLE = (
    "Iran \x1b]52;c;SGVsbG8gY2xpcGJvYXJk\x07deal "
    "\x1b]8;;https://evil.example/\x1b\\click here\x1b]8;;\x1b\\ "
    "\x1b[31;1mred\x1b[0m \x9b2J\rover \u202etxt.exe\u202c \u2067iso\u2069 end"
)
# What must never reach the user: escapes, controls, bidi, and the payloads.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]|SGVsbG8|evil\\.example"
)

# (input, sanitized): one row per kind of thing the sanitizer knows.
CASES = [
    ("plain text, tabs\tand\nlines", "plain text, tabs\tand\nlines"),
    ("a\x1b[31mred\x1b[0m", "ared"),
    ("a\x1b]52;c;SGVsbG8=\x07b", "ab"),
    ("a\x1b]52;c;SGVsbG8=\x1b\\b", "ab"),
    ("a\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),
    ("a\x1bPdevice control\x1b\\b", "ab"),
    ("a\x9b2Jb\x9d0;title\x9cc", "abc"),
    ("a\x1b7b\x1bcc", "abc"),
    ("line\r\nnext\rover", "line\nnext\nover"),
    ("nul\x00bell\x07del\x7fnel\x85", "nulbelldelnel\n"),
    ("\u202eexe.txt\u202c \u2066iso\u2069 \u202a\u202b\u202d", "exe.txt iso "),
    # Right-to-left marks stay: Arabic and Hebrew text needs them.
    ("שלום\u200f!", "שלום\u200f!"),
    ("unterminated \x1b]52;c;abc", "unterminated 52;c;abc"),
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
def test_sanitize(raw: str, clean: str) -> None:
    assert sanitize(raw) == clean
    assert sanitize(clean) == clean


def test_json_keeps_values_but_writes_controls_as_escapes() -> None:
    record = {"title": HOSTILE_TITLE}
    line = json_inert(json.dumps(record, ensure_ascii=False))
    assert json.loads(line) == record
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", line)


@pytest.mark.parametrize("fmt", ["html", "markdown", "text"])
def test_alert_title_subject_and_body_are_inert(fmt: Format) -> None:
    body = f"Opening. {HOSTILE_TITLE} and more text about Iran."
    article = Article(
        "a1",
        "src",
        "https://example.org/a\u202e",
        HOSTILE_TITLE,
        "",
        body,
        datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
    )
    start = body.index("Iran")
    alert = AlertContent(
        rule_id="iran",
        article=article,
        spans=(Span("body", start, start + 4),),
        source_name="wire\x1b]0;title\x07",
    )

    message = render_alert(alert, fmt, ZoneInfo("UTC"))

    assert not _FORBIDDEN.search(message.title), repr(message.title)
    assert not _FORBIDDEN.search(message.body), repr(message.body)
    assert message.title.startswith("iran: Iran deal click here red")
    assert "txt.exe" in message.title
    assert single_line(message.title) == message.title


@pytest.mark.slow
@pytest.mark.parametrize(
    "env",
    [{}, {"FORCE_COLOR": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "200"}],
    ids=["piped", "terminal"],
)
def test_poll_dry_run_prints_hostile_titles_inert(
    loopback_config: Path, env: dict[str, str]
) -> None:
    with Site() as site:
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "Hostile \x1b]52;c;SGVsbG8=\x07wire",
            "items": [
                {
                    "id": "1",
                    "url": site.url("/a\u202e"),
                    "title": HOSTILE_TITLE,
                    "content_text": "Iran " * 30,
                }
            ],
        }
        site.put("/feed.json", json.dumps(feed), "application/feed+json")
        (loopback_config / "sources.yaml").write_text(
            f"sources:\n  - {{id: wire, url: '{site.url('/feed.json')}', full_text: false}}\n"
        )
        (loopback_config / "rules.yaml").write_text("rules:\n  - {id: iran, query: iran}\n")
        base = {"WIREWATCH_CONFIG": str(loopback_config), **env}
        text = cli("poll", "wire", "--dry-run", env=base)
        as_json = cli("poll", "wire", "--dry-run", "--json", env=base)

    assert text.returncode == 0, text.stderr
    assert "Iran deal click here red" in text.stdout
    # A terminal gets wirewatch's own colours (SGR), and nothing else.
    shown = re.sub(r"\x1b\[[0-9;]*m", "", text.stdout)
    assert not _FORBIDDEN.search(shown), repr(text.stdout)
    # stderr: the progress bar's own cursor moves, and nothing else.
    assert not _FORBIDDEN.search(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text.stderr))

    assert as_json.returncode == 0, as_json.stderr
    assert "\x1b" not in as_json.stdout
    assert not re.search("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]", as_json.stdout)
    [record] = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert record["title"].startswith("Iran")
    assert record["rules"] == ["iran"]


def test_extract_prints_hostile_fields_inert(capsys: pytest.CaptureFixture[str]) -> None:
    # The parser already drops most controls; whatever an extractor lets through
    # (a JSON-LD author is JSON-unescaped) must still be shown inert, payload and all.
    from worker.cli.extract import _show
    from worker.parse import ExtractedPage

    page = ExtractedPage(
        title=HOSTILE_TITLE,
        text=f"First paragraph.\n\n{HOSTILE_TITLE}",
        url="https://example.org/a\u202e",
        published=None,
        author="Ann \x1b]52;c;SGVsbG8=\x07Lee",
        language="en",
    )
    _show(page)
    shown = capsys.readouterr().out
    assert "title:     Iran deal click here red" in shown
    assert "author:    Ann Lee" in shown
    assert not _FORBIDDEN.search(shown), repr(shown)
