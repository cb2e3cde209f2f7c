"""The config in force while files change: an invalid edit to any of the four
files is rejected as a whole, the last good config stays, and no edit can make
a task wait (a FIFO, a huge file, bytes that are not UTF-8, an alias bomb).

Real files and a real Redis (the last good files are kept there); the worker
end to end is in tests/test_e2e_pipeline.py.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from worker.config import Config
from worker.service.embedded_redis import EmbeddedRedis
from worker.service.live_config import LiveConfig
from worker.store import Store

GOOD = {
    "settings.yaml": "timezone: UTC\n",
    "sources.yaml": "sources:\n  - id: wire\n    url: https://example.com/feed\n",
    "rules.yaml": "rules:\n  - id: iran\n    query: iran\n",
    "apprise.yml": "urls:\n  - json://example.com/hook\n",
}
# Nine aliases per level: 9**7 values, far past the bound, in a few hundred bytes.
BOMB = "l0: &l0 [a, a, a, a, a, a, a, a, a]\n" + "".join(
    f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]\n" for n in range(1, 7)
)


def _syntax(path: Path) -> None:
    path.write_text("rules: [\n")


def _unknown_key(path: Path) -> None:
    path.write_text(path.read_text() + "colour: red\n")


def _alias_bomb(path: Path) -> None:
    path.write_text(path.read_text() + BOMB)


def _not_utf8(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"# caf\xe9\n")


def _oversized(path: Path) -> None:
    # Sparse: 4 GiB on paper, nothing on disk; reading it whole would take minutes.
    os.truncate(path, 4 << 30)


def _fifo(path: Path) -> None:
    # Opening it for reading would wait for a writer that never comes.
    path.unlink()
    os.mkfifo(path)


# Each damage, with a pattern of what the rejection says.
BROKEN: dict[str, tuple[Callable[[Path], None], str]] = {
    "syntax": (_syntax, "YAML"),
    "unknown key": (_unknown_key, "unknown key|not supported"),
    "alias bomb": (_alias_bomb, "alias"),
    "not UTF-8": (_not_utf8, "(?i)utf-8"),
    "oversized": (_oversized, "larger than"),
    "a FIFO": (_fifo, "not a regular file"),
}


@pytest.fixture
def store(own_redis: EmbeddedRedis) -> Store:
    return Store.from_url(own_redis.url)


def write_good(directory: Path) -> None:
    directory.mkdir(exist_ok=True)
    for name, text in GOOD.items():
        path = directory / name
        path.unlink(missing_ok=True)
        path.write_text(text)


def within(seconds: float, call: Callable[[], Config | None]) -> Config | None:
    """`call()`, failing the test if it has not returned after `seconds`."""
    result: list[Config | None] = []
    thread = threading.Thread(target=lambda: result.append(call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"blocked for more than {seconds:g}s"
    return result[0]


def bump(path: Path) -> None:
    """A new mtime even within the file system's clock resolution."""
    stamp = time.time_ns() + 1_000_000_000
    os.utime(path, ns=(stamp, stamp), follow_symlinks=False)


@pytest.mark.parametrize("file", list(GOOD))
@pytest.mark.parametrize("edit", list(BROKEN))
def test_an_invalid_edit_keeps_the_last_good_config_and_never_blocks(
    tmp_path: Path, store: Store, file: str, edit: str
) -> None:
    config_dir = tmp_path / "config"
    write_good(config_dir)
    live = LiveConfig(config_dir, store, environ={})
    good = live.current()
    assert good is not None and live.error is None

    damage, named = BROKEN[edit]
    damage(config_dir / file)
    assert within(5, live.current) is good
    assert live.error is not None
    assert file in live.error and re.search(named, live.error), live.error

    # A second process (a worker starting now, `wirewatch status`) starts
    # from the last good files kept in Redis and sees the same error.
    fresh = LiveConfig(config_dir, store, environ={})
    kept = within(5, fresh.current)
    assert kept is not None and kept.fingerprint == good.fingerprint
    assert fresh.error is not None and re.search(named, fresh.error)

    # Fixed, with a new rule: in force at the next look.
    write_good(config_dir)
    rules = config_dir / "rules.yaml"
    rules.write_text(GOOD["rules.yaml"] + "  - id: grain\n    query: grain\n")
    bump(rules)
    fixed = within(5, live.current)
    assert fixed is not None and live.error is None
    assert [rule.id for rule in fixed.rules] == ["iran", "grain"]


def test_a_file_changed_while_read_keeps_what_was_validated(tmp_path: Path, store: Store) -> None:
    # The snapshot in Redis is what passed validation, never a later text.
    config_dir = tmp_path / "config"
    write_good(config_dir)
    live = LiveConfig(config_dir, store, environ={})
    assert live.current() is not None
    assert store.config.good() == GOOD
