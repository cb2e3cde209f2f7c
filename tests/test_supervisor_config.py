"""`wirewatch run`'s own process reads the config in a forked child: its first
line gets the counts, and the process that lives as long as the service keeps
neither the parsed config nor Apprise."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from worker.service.supervisor import ConfigCounts, _counts_in_child

ROOT = Path(__file__).resolve().parent.parent


def write_config(directory: Path, *, rule: str = "Tehran") -> Path:
    directory.mkdir()
    (directory / "sources.yaml").write_text(
        "sources:\n"
        "  - id: wire\n    url: https://example.org/rss\n    type: feed\n"
        "  - id: desk\n    url: https://example.org/atom\n    type: feed\n"
    )
    (directory / "rules.yaml").write_text(
        f"rules:\n  - id: r\n    query: '{rule}'\n    notify: [desk]\n"
    )
    (directory / "apprise.yml").write_text("urls:\n  - json://127.0.0.1:9/hook:\n      tag: desk\n")
    return directory


def test_counts_come_from_a_child(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config")
    assert _counts_in_child(config, {}) == ConfigCounts(sources=2, rules=1, targets=1)


def test_errors_are_printed_and_no_counts_come_back(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "config", rule="(Tehran")
    assert _counts_in_child(config, {}) is None
    err = capfd.readouterr().err
    assert "wirewatch: the config has errors:" in err
    assert "rules.yaml" in err


def test_this_process_loads_no_apprise_to_count(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config")
    probe = (
        "import json, sys; from pathlib import Path; "
        "from worker.service.supervisor import _counts_in_child; "
        f"counts = _counts_in_child(Path({str(config)!r}), {{}}); "
        "print(json.dumps([counts.targets, 'apprise' in sys.modules]))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [1, False]
