"""MkDocs hooks: the configuration reference must match the config models.

`mkdocs build` fails when docs/configuration.md is not what
docs/gen_config_reference.py makes of worker/config/models.py.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import Any

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

_SCRIPT = Path(__file__).with_name("gen_config_reference.py")

# Pages in the nav that are being written on other branches. Until one is
# merged, the build shows a short note in its place instead of failing on the
# nav and on the links to it. Empty this once they are all in.
PENDING: tuple[str, ...] = ()

log = logging.getLogger("mkdocs.hooks.wirewatch")


def on_pre_build(config: Any) -> None:
    spec = importlib.util.spec_from_file_location("gen_config_reference", _SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if module.PAGE.read_text() != module.render():
        raise PluginError(
            "docs/configuration.md is out of date with the config models: "
            "run python docs/gen_config_reference.py"
        )


def on_files(files: Files, config: Any) -> Files:
    for name in PENDING:
        if files.get_file_from_path(name) is None:
            log.info("%s is not written yet; a note stands in for it", name)
            title = name.removesuffix(".md").capitalize()
            note = f"# {title}\n\nThis page is being written.\n"
            files.append(File.generated(config, name, content=note))
    return files
