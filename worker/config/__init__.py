"""The user's config directory, validated: settings, sources, rules and targets.

`load_config` reads it whole and either returns a frozen `Config` or raises
`ConfigError` listing every issue with its file, line and field.
"""

from __future__ import annotations

# isort: off
# The models come first: a module that imports worker.config while load.py is
# still importing its own dependencies then finds them already defined.
from worker.config.durations import format_duration, parse_duration
from worker.config.models import (
    Config,
    FetchSettings,
    NearDuplicateSettings,
    Rule,
    Selectors,
    Settings,
    Source,
    SourceDefaults,
)
from worker.config.load import (
    CONFIG_FILES,
    ConfigFiles,
    config_from_files,
    load_config,
    load_settings,
    read_config_files,
)

# isort: on

__all__ = [
    "CONFIG_FILES",
    "Config",
    "ConfigFiles",
    "FetchSettings",
    "NearDuplicateSettings",
    "Rule",
    "Selectors",
    "Settings",
    "Source",
    "SourceDefaults",
    "config_from_files",
    "format_duration",
    "load_config",
    "load_settings",
    "parse_duration",
    "read_config_files",
]
