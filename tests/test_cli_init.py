"""`wirewatch init`: the starter config it writes, and what it refuses."""

from __future__ import annotations

import os
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from tests.wirewatch_process import PROJECT, run_cli
from worker import __version__
from worker.cli import main
from worker.cli.init import STARTER
from worker.config import CONFIG_FILES, FetchSettings, NearDuplicateSettings, Settings, load_config

STARTER_DIR = PROJECT / "worker" / "config" / "starter"


def _cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("WIREWATCH_CONFIG", "REDIS_URL")}
    return env | {"PYTHONPATH": str(PROJECT)}


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in directory.iterdir()}


def test_init_writes_a_config_that_check_accepts(tmp_path: Path) -> None:
    created = run_cli("init", str(tmp_path / "desk"), env=_cli_env())

    assert created.returncode == 0, created.stderr
    config = tmp_path / "desk" / "config"
    assert sorted(p.name for p in config.iterdir()) == sorted(CONFIG_FILES)
    for name in CONFIG_FILES:
        assert (config / name).read_bytes() == (STARTER_DIR / name).read_bytes()
        assert f"created {config / name}" in created.stderr
    assert "wirewatch check" in created.stderr
    assert created.stdout == ""

    checked = run_cli("check", "--config", str(config), env=_cli_env())
    assert checked.returncode == 0, checked.stdout
    assert checked.stdout.rstrip().endswith("ok: 2 sources, 3 rules, 0 targets")


def test_a_second_init_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", str(tmp_path)]).exit_code == 0
    config = tmp_path / "config"
    (config / "rules.yaml").write_text("rules: []\n")
    before = _snapshot(config)

    again = runner.invoke(main, ["init", str(tmp_path)])

    assert again.exit_code == 1
    assert f"{config / 'settings.yaml'} already exists; nothing was written" in again.output
    assert _snapshot(config) == before


def test_one_existing_file_is_enough_to_refuse(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "apprise.yml").write_text("version: 1\n")

    result = CliRunner().invoke(main, ["init", str(tmp_path)])

    assert result.exit_code == 1
    assert "apprise.yml already exists" in result.output
    assert [p.name for p in config.iterdir()] == ["apprise.yml"]


def test_default_folder_is_config_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WIREWATCH_CONFIG", raising=False)

    result = CliRunner().invoke(main, ["init"])

    assert result.exit_code == 0, result.output
    assert (tmp_path / "config" / "rules.yaml").is_file()
    assert "cd " not in result.output  # already where `wirewatch run` looks


def test_run_without_a_config_folder_points_to_init(tmp_path: Path) -> None:
    env = _cli_env() | {"WIREWATCH_CONFIG": str(tmp_path / "config")}

    result = run_cli("run", env=env)

    assert result.returncode == 2
    assert f"no config folder at {tmp_path / 'config'}" in result.stderr
    assert f"`wirewatch init {tmp_path}` writes a commented starter config there" in result.stderr
    assert "Traceback" not in result.stderr


def _uncommented(text: str, pattern: str) -> str:
    """`text` with its commented lines that match `pattern` made live."""
    return "\n".join(
        re.sub(r"^( *)# ?", r"\1", line) if re.match(pattern, line) else line
        for line in text.splitlines()
    )


def test_settings_lists_every_setting_with_its_default() -> None:
    text = (STARTER_DIR / "settings.yaml").read_text()
    assert "# user_agent: wirewatch/<version>\n" in text
    live = _uncommented(text, r"# ( *)[a-z_]+:").replace("<version>", __version__)
    values = yaml.safe_load(live)

    assert set(values) == set(Settings.model_fields)
    assert set(values["fetch"]) == set(FetchSettings.model_fields)
    assert set(values["near_duplicate"]) == set(NearDuplicateSettings.model_fields)
    del values["contact"]  # an example: it has no default
    assert Settings.model_validate(values) == Settings()


def test_the_commented_examples_are_valid(tmp_path: Path) -> None:
    """Uncommenting the listing page and the targets gives a config that loads."""
    for name in CONFIG_FILES:
        (tmp_path / name).write_bytes((STARTER_DIR / name).read_bytes())
    sources = tmp_path / "sources.yaml"
    text = sources.read_text()
    example = text.index("  # - id: ministry-news")
    sources.write_text(text[:example] + _uncommented(text[example:], r" *# "))
    apprise = tmp_path / "apprise.yml"
    text = apprise.read_text()
    start = text.index("# urls:")
    apprise.write_text(text[:start] + _uncommented(text[start:], r"# "))
    secrets = {
        "SMTP_USER": "alerts",
        "SMTP_PASSWORD": "secret",
        "TELEGRAM_BOT_TOKEN": "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "TELEGRAM_CHAT_ID": "-1001234567890",
    }

    config = load_config(tmp_path, secrets)

    assert [s.id for s in config.sources] == ["bbc-world", "moscow-times", "ministry-news"]
    tags = set().union(*(target.tags for target in config.targets))
    assert tags == {"analysts", "admin", "newsroom"}


def test_the_starter_files_are_package_data() -> None:
    """`pip install .` ships them: pyproject's package-data covers each one."""
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["worker.config"]
    shipped = sorted(p.name for p in STARTER.iterdir() if p.is_file())

    assert shipped == sorted(CONFIG_FILES)
    for name in shipped:
        assert any(fnmatch(f"starter/{name}", pattern) for pattern in patterns), name
