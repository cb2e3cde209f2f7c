"""Config files that would hang or exhaust a reader are refused, with file and line.

Each case runs `wirewatch check` in a child process with a memory cap, so the
code before the fix fails here by running out of memory or time, not by
taking the test machine down with it.
"""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

FILES = ("settings.yaml", "sources.yaml", "rules.yaml", "apprise.yml")
_VALID = {
    "sources.yaml": "sources:\n  - id: wire\n    url: https://example.com/feed\n",
    "rules.yaml": "rules:\n  - id: iran\n    query: iran\n",
}
# The documented limit on a config file.
_ONE_MIB = 1 << 20
# Past any sensible need, yet far below what the bombs here expand to.
_MEMORY_CAP = 1 << 30


def _bomb(levels: int, leaf: str) -> str:
    """Nine aliases per level: `levels` levels expand to 9**levels leaves."""
    lines = [f"l0: &l0 [{', '.join([leaf] * 9)}]"]
    for level in range(1, levels):
        lines.append(f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _check(directory: Path) -> subprocess.CompletedProcess[str]:
    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_CAP, _MEMORY_CAP))

    return subprocess.run(
        [sys.executable, "-m", "worker", "check", "--config", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=cap_memory,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parent.parent), "NAME": "x"},
        check=False,
    )


def _config(tmp_path: Path, name: str, content: str | bytes) -> Path:
    for other, text in _VALID.items():
        (tmp_path / other).write_text(text)
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


@pytest.mark.parametrize("name", FILES)
def test_alias_bomb_is_a_config_error_with_its_line(tmp_path: Path, name: str) -> None:
    # apprise.yml's leaves hold a placeholder: `${NAME}` is filled on every scalar.
    leaf = '"${NAME}"' if name == "apprise.yml" else '"lol"'
    path = _config(tmp_path, name, _bomb(9, leaf))

    result = _check(tmp_path)

    assert result.returncode == 1, result.stderr[-2000:]
    # The level where the expansion first passes the bound (9**6 > 200,000).
    assert f"{path}:6: " in result.stdout
    assert "aliases expand to more than" in result.stdout


@pytest.mark.parametrize("name", FILES)
def test_oversized_file_is_refused_unread(tmp_path: Path, name: str) -> None:
    path = _config(tmp_path, name, b"# padding\n" * (_ONE_MIB // 10 + 1))

    result = _check(tmp_path)

    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{path}:1: " in result.stdout
    assert "larger than 1024 KiB" in result.stdout


@pytest.mark.parametrize("name", FILES)
def test_object_building_tag_is_refused(tmp_path: Path, name: str) -> None:
    marker = tmp_path / "ran"
    body = f'first: 1\nx: !!python/object/apply:os.system ["touch {marker}"]\n'
    path = _config(tmp_path, name, body)

    result = _check(tmp_path)

    assert result.returncode == 1
    assert f"{path}:2: " in result.stdout
    assert "python/object/apply:os.system' is not allowed here" in result.stdout
    assert not marker.exists()


@pytest.mark.parametrize("name", FILES)
def test_deep_nesting_is_refused(tmp_path: Path, name: str) -> None:
    path = _config(tmp_path, name, "deep: " + "[" * 20_000 + "]" * 20_000 + "\n")

    result = _check(tmp_path)

    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{path}:1: " in result.stdout
    assert "nested more than" in result.stdout


@pytest.mark.parametrize("name", FILES)
def test_control_character_is_a_config_error_with_its_line(tmp_path: Path, name: str) -> None:
    """PyYAML's reader refuses a NUL as soon as it is made: an error at its
    line, not a traceback (found by fuzzing the starter config)."""
    path = _config(tmp_path, name, "first: 1\nsecond: 2\nthird: a\x00b\n")

    result = _check(tmp_path)

    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{path}:3: " in result.stdout
    assert "unacceptable character #x0000" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["!!timestamp soon", "!!int many", "!!float lots"])
def test_explicit_tag_with_a_value_it_cannot_hold(tmp_path: Path, value: str) -> None:
    path = _config(tmp_path, "settings.yaml", f"tick: 5s\nwhen: {value}\n")

    result = _check(tmp_path)

    assert result.returncode == 1, result.stderr[-2000:]
    assert f"{path}:2: " in result.stdout
    assert f"{value.split()[0]} cannot hold" in result.stdout
    assert "Traceback" not in result.stderr


def test_shared_defaults_by_alias_still_load(tmp_path: Path) -> None:
    sources = (
        "defaults: &d {interval: 5m}\n"
        "sources:\n"
        "  - {id: one, url: 'https://example.com/a', <<: *d}\n"
        "  - {id: two, url: 'https://example.com/b', <<: *d}\n"
    )
    _config(tmp_path, "sources.yaml", sources)

    result = _check(tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 2 sources, 1 rule," in result.stdout
