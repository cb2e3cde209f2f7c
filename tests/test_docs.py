"""The documentation site: it builds without a broken link, and its generated parts are current."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.wirewatch_process import PROJECT


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(PROJECT), NO_MKDOCS_2_WARNING="1")
    return subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def test_configuration_reference_matches_the_models() -> None:
    result = _run("docs/gen_config_reference.py", "--check")

    assert result.returncode == 0, result.stdout + result.stderr


def test_site_builds_strictly(tmp_path: Path) -> None:
    """`mkdocs build --strict`: a broken link, anchor or nav entry fails the build."""
    site = tmp_path / "site"

    result = _run("-m", "mkdocs", "build", "--strict", "--site-dir", str(site))

    assert result.returncode == 0, result.stderr
    reference = (site / "configuration" / "index.html").read_text()
    assert "fetch.per_host_delay" in reference
    for image in ("email-alert.png", "digest.png"):
        assert (site / "img" / image).stat().st_size > 10_000
    assert not (site / "gen_config_reference.py").exists()


def test_screenshot_script_renders_the_messages(tmp_path: Path) -> None:
    """docs/screenshots.py, up to the browser: the alert and digest it shows are real renders."""
    result = _run("docs/screenshots.py", "--html", str(tmp_path))

    assert result.returncode == 0, result.stderr
    alert = (tmp_path / "email-alert.html").read_text()
    digest = (tmp_path / "digest.html").read_text()
    assert "<mark" in alert and "S-300" in alert
    assert "sanctions (2)" in digest and "s300-iran (2)" in digest
