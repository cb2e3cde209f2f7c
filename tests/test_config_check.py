"""`wirewatch check`: exit codes and what it prints."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from worker.cli.check import command

ROOT = Path(__file__).parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "config"


def test_example_config_passes_with_a_warning() -> None:
    result = CliRunner().invoke(command, ["--config", str(ROOT / "config")])

    assert result.exit_code == 0, result.output
    assert "warning: no notification targets" in result.output
    assert result.output.rstrip().endswith("ok: 6 sources, 3 rules, 0 targets")


def test_errors_exit_1_with_file_and_line() -> None:
    directory = FIXTURES / "unknown-key"
    result = CliRunner().invoke(command, ["--config", str(directory)])

    assert result.exit_code == 1
    assert f"{directory}/sources.yaml:6: sources[0].intervall: unknown key" in result.output
    assert result.output.rstrip().endswith(f"4 errors in {directory}")


def test_query_error_shows_the_caret() -> None:
    result = CliRunner().invoke(command, ["--config", str(FIXTURES / "bad-query")])

    assert result.exit_code == 1
    assert "rules.yaml:5: rules[1].query:" in result.output
    assert "at column 15\n    Iran OR Tehran)\n                  ^\n" in result.output


def test_directory_from_environment() -> None:
    runner = CliRunner()
    result = runner.invoke(command, [], env={"WIREWATCH_CONFIG": str(FIXTURES / "missing-sources")})

    assert result.exit_code == 1
    assert "sources.yaml: file not found" in result.output


def test_default_directory_is_config_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WIREWATCH_CONFIG", raising=False)
    runner = CliRunner()
    missing = runner.invoke(command, [])
    Path("config").mkdir()
    Path("config/sources.yaml").write_text("sources: []\n")
    Path("config/rules.yaml").write_text("rules: []\n")
    empty = runner.invoke(command, [])

    assert missing.exit_code == 1
    assert "config: config directory does not exist" in missing.output
    assert empty.exit_code == 0
    assert "warning: no sources" in empty.output
    assert "ok: 0 sources, 0 rules, 0 targets" in empty.output


def test_notify_tags_without_a_target_warn(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text("sources:\n  - {id: a, url: 'https://example.org/'}\n")
    (tmp_path / "rules.yaml").write_text("rules:\n  - {id: r, query: x, notify: [analysts]}\n")
    (tmp_path / "apprise.yml").write_text(
        "version: 1\nurls:\n  - json://hooks.example.org/x:\n      tag: newsroom\n"
    )
    result = CliRunner().invoke(command, ["--config", str(tmp_path)])

    assert result.exit_code == 0, result.output
    assert "rule 'r' notifies tag 'analysts', which no target has" in result.output
    assert "no target is tagged 'admin'" in result.output
    assert "ok: 1 source, 1 rule, 1 target" in result.output
