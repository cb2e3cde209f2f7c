"""`wirewatch import-opml FILE`: feeds from a feed reader's export into sources.yaml."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from worker.cli import main
from worker.cli.import_opml import add_sources
from worker.config import load_config

FIXTURES = Path(__file__).parent / "fixtures" / "opml"


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["import-opml", *args], catch_exceptions=False)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    directory = tmp_path / "config"
    directory.mkdir()
    shutil.copyfile(FIXTURES / "sources.yaml", directory / "sources.yaml")
    (directory / "rules.yaml").write_text(
        "rules:\n  - id: any\n    query: iran\n    sources: [bbc]\n"
    )
    return directory


def in_order(lines: list[str], within: list[str]) -> bool:
    """Whether `lines` all occur in `within`, in the same order."""
    remaining = iter(within)
    return all(any(line == other for other in remaining) for line in lines)


def test_import(config: Path) -> None:
    original = (config / "sources.yaml").read_text()
    result = run(str(FIXTURES / "feeds.opml"), "--config", str(config))
    assert result.exit_code == 0, result.output
    text = (config / "sources.yaml").read_text()

    # The user's file is kept as written, comments included; entries are added.
    assert in_order(original.splitlines(), text.splitlines())
    assert "# My sources. Keep this comment!" in text
    assert "# the BBC, already watched" in text
    assert "  # - id: commented-out" in text
    # New entries follow the last real entry, before the commented-out example.
    assert text.index("id: the-moscow-times") < text.index("# - id: commented-out")
    assert "  - id: the-moscow-times\n    name: The Moscow Times\n" in text

    sources = {s.id: s for s in load_config(config).sources}
    assert list(sources) == [
        "bbc",
        "the-moscow-times",
        "meduza",
        "defence-news",
        "defence-news-2",
        "tass-com",
    ]
    assert sources["the-moscow-times"].tags == ("russia",)
    assert sources["the-moscow-times"].type == "feed"
    assert sources["the-moscow-times"].interval.total_seconds() == 300  # the file's defaults
    assert sources["meduza"].name == "Медуза"  # the id is transliterated, the name kept
    assert sources["meduza"].url == "https://meduza.io/rss/all"
    assert sources["defence-news"].tags == ("russia", "defence", "military", "air-defence", "arms")
    assert sources["defence-news-2"].tags == ("world",)
    assert sources["defence-news-2"].url == "https://www.defensenews.com/m/rss/atom"
    assert sources["tass-com"].url == "https://tass.com/rss/v2.xml"

    assert "added    the-moscow-times: https://www.themoscowtimes.com/rss/news" in result.stdout
    skipped = "skipped  https://feeds.bbci.co.uk/news/world/rss.xml (already a source)"
    assert skipped in result.stdout
    assert "ignored  file:///etc/passwd" in result.stderr
    assert "5 sources added" in result.stdout

    # Importing again adds nothing and leaves the file alone.
    again = run(str(FIXTURES / "feeds.opml"), "--config", str(config))
    assert again.exit_code == 0, again.output
    assert "nothing to add" in again.stdout
    assert (config / "sources.yaml").read_text() == text


def test_dry_run_changes_nothing(config: Path) -> None:
    original = (config / "sources.yaml").read_bytes()
    result = run(str(FIXTURES / "feeds.opml"), "--dry-run", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "added    meduza: https://meduza.io/rss/all" in result.stdout
    assert "not changed" in result.stdout
    assert (config / "sources.yaml").read_bytes() == original


def test_new_config_directory(tmp_path: Path) -> None:
    config = tmp_path / "fresh"
    config.mkdir()
    (config / "rules.yaml").write_text("rules: []\n")
    result = run(str(FIXTURES / "feeds.opml"), "--config", str(config))
    assert result.exit_code == 0, result.output
    assert len(load_config(config).sources) == 6
    assert (
        (config / "sources.yaml").read_text().startswith("sources:\n  # imported from feeds.opml")
    )


def test_invalid_result_is_never_written(config: Path) -> None:
    broken = (
        (config / "sources.yaml").read_text().replace("type: feed", "type: feed\n    interval: 5s")
    )
    (config / "sources.yaml").write_text(broken)
    result = run(str(FIXTURES / "feeds.opml"), "--config", str(config))
    assert result.exit_code == 1
    assert "nothing was changed" in result.stderr
    assert "out of range" in result.stderr
    assert (config / "sources.yaml").read_text() == broken
    assert [p.name for p in config.iterdir() if p.name.startswith(".")] == []  # no temp files


@pytest.mark.parametrize("name", ["xxe.opml", "billion_laughs.opml"])
def test_entities_are_refused(config: Path, name: str) -> None:
    original = (config / "sources.yaml").read_bytes()
    result = run(str(FIXTURES / name), "--config", str(config))
    assert result.exit_code == 1
    assert "not a usable OPML file" in result.stderr
    assert (config / "sources.yaml").read_bytes() == original


def test_not_opml(config: Path, tmp_path: Path) -> None:
    (tmp_path / "feed.xml").write_text("<rss version='2.0'><channel/></rss>")
    result = run(str(tmp_path / "feed.xml"), "--config", str(config))
    assert result.exit_code == 1
    assert "not an OPML file" in result.stderr


ENTRY = {"id": "new", "url": "https://new.example/rss", "type": "feed"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "sources: []\n",
            "sources:\n  - id: new\n    url: https://new.example/rss\n    type: feed\n\n",
        ),
        (
            "sources:\n- id: a\n  url: https://a.example/\n# after\nrules_note: 1\n",
            "sources:\n- id: a\n  url: https://a.example/\n"
            "- id: new\n  url: https://new.example/rss\n  type: feed\n# after\nrules_note: 1\n",
        ),
        (
            "sources: [{id: a, url: 'https://a.example/'}]  # flow\n",
            "sources: [{id: a, url: 'https://a.example/'}, "
            "{id: new, url: 'https://new.example/rss', type: feed}]  # flow\n",
        ),
        (
            "defaults: {interval: 5m}",
            "defaults: {interval: 5m}\n"
            "sources:\n  - id: new\n    url: https://new.example/rss\n    type: feed\n",
        ),
    ],
)
def test_add_sources_text(text: str, expected: str) -> None:
    assert add_sources(text, [ENTRY]) == expected


def test_private_addresses_are_refused_one_by_one(config: Path) -> None:
    result = run(str(FIXTURES / "private.opml"), "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    actions = {line["url"]: line["action"] for line in lines}
    assert actions.pop("https://feeds.example.org/news.xml") == "added"
    # The octal form is no usable URL at all: ignored with its reason, not imported.
    assert "http://0177.0.0.1/rss" not in actions
    assert "0177.0.0.1" in result.stderr and "dotted-quad" in result.stderr
    assert set(actions.values()) == {"refused"}, actions
    assert len(actions) == 6
    why = {line["url"]: line["why"] for line in lines if line["action"] == "refused"}
    assert "loopback" in why["http://127.0.0.1:8080/feed"]
    assert "metadata" in why["http://169.254.169.254/latest/meta-data/"]
    assert "metadata" in why["http://metadata.google.internal/computeMetadata/v1/"]
    text = (config / "sources.yaml").read_text()
    assert "feeds.example.org" in text
    assert "127.0.0.1" not in text and "169.254" not in text and "localhost" not in text


def test_refusal_is_explained_on_a_terminal(config: Path) -> None:
    result = run(str(FIXTURES / "private.opml"), "--config", str(config), "--dry-run")
    assert result.exit_code == 0, result.output
    refused = [line for line in result.stdout.splitlines() if line.startswith("refused")]
    assert len(refused) == 6
    assert all("allow_private_networks: true" in line for line in refused)


def test_private_addresses_are_imported_when_allowed(config: Path) -> None:
    (config / "settings.yaml").write_text("allow_private_networks: true\n")
    result = run(str(FIXTURES / "private.opml"), "--config", str(config), "--json")
    assert result.exit_code == 0, result.output
    actions = [json.loads(line)["action"] for line in result.stdout.splitlines()]
    assert actions == ["added"] * 7
