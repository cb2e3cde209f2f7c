"""What importing a module loads: beat, the supervisor and config loading
must not carry the libraries only fetching, extraction and sending use
(each costs every process that imports it tens of MB; bench/RESULTS.md)."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The libraries of the poll and article paths and of delivery.
HEAVY = ("apprise", "trafilatura", "htmldate", "py3langid", "numpy", "httpx", "bs4", "lxml")


def imported_heavy(statement: str) -> list[str]:
    """The HEAVY modules in sys.modules after `statement`, in a fresh interpreter."""
    probe = (
        f"{statement}; import json, sys; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return list(json.loads(result.stdout))


@pytest.mark.parametrize(
    "statement",
    [
        "import worker.config",
        # `celery -A worker.service.app beat` and `wirewatch run`'s own process.
        "import worker.service.app",
        "import worker.service.supervisor",
        "from worker.cli.run import command",
    ],
)
def test_import_loads_no_fetch_extract_or_notify_library(statement: str) -> None:
    assert imported_heavy(statement) == []


def test_the_poll_worker_loads_no_article_path() -> None:
    # Ticks, polls and deliveries: the article path (extraction, language
    # detection, near-duplicates) is the articles worker's alone.
    statement = (
        "import worker.service.tasks, worker.pipeline.poll, worker.pipeline.delivery, "
        "worker.pipeline.digest; from worker.pipeline import poll_source"
    )
    loaded = imported_heavy(statement)
    assert not {"trafilatura", "htmldate", "py3langid", "numpy", "apprise"} & set(loaded)


def test_loading_a_config_without_listings_or_targets_stays_light(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - id: wire\n    url: https://example.org/rss\n    type: feed\n"
    )
    (tmp_path / "rules.yaml").write_text("rules:\n  - id: r\n    query: Tehran\n")
    statement = (
        "from pathlib import Path; from worker.config import load_config; "
        f"config = load_config(Path({str(tmp_path)!r}), {{}}); assert len(config.sources) == 1"
    )
    assert imported_heavy(statement) == []


def test_the_lazy_names_resolve_to_their_modules() -> None:
    import worker.fetch
    import worker.fetch.client
    import worker.notify
    import worker.notify.targets

    assert worker.fetch.Fetcher is worker.fetch.client.Fetcher
    assert worker.notify.targets_from_bytes is worker.notify.targets.targets_from_bytes
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = worker.fetch.nothing


@pytest.mark.parametrize(
    "package", ["worker.fetch", "worker.match", "worker.notify", "worker.parse", "worker.pipeline"]
)
def test_no_lazy_name_is_also_a_submodule(package: str) -> None:
    # Importing the submodule would set the package's attribute to the module,
    # and `from package import name` would then return the module.
    module = importlib.import_module(package)
    submodules = {info.name for info in pkgutil.iter_modules(module.__path__)}
    assert not submodules & set(module._EXPORTS)
