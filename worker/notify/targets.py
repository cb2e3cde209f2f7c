"""Notification targets from config/apprise.yml (Apprise's own YAML format).

`${NAME}` placeholders are filled from the environment first, so secrets stay
out of the file. Then Apprise parses the config, one `urls` entry at a time,
so that a URL it cannot load is reported with the line it is written on.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from worker.errors import ConfigError, ConfigIssue
from worker.notify.escape import Format
from worker.secrets import Secrets

if TYPE_CHECKING:
    import apprise

__all__ = [
    "Target",
    "apprise_asset",
    "choose_format",
    "load_targets",
    "plugin_for",
    "targets_from_bytes",
]

# worker.config.yamlmarks.MAX_CONFIG_BYTES, which cannot be imported at load time.
_MAX_BYTES = 1 << 20
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_VALID_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SCHEMA = re.compile(r"\s*([A-Za-z][A-Za-z0-9+.-]*)://")
# Top-level keys of Apprise's YAML config that wirewatch accepts.
_KNOWN_KEYS = frozenset({"version", "urls", "tag", "tags", "groups", "asset"})
# Telegram declares HTML first but takes only a handful of inline tags, so a
# full HTML document would be refused; it gets plain text instead.
_LIMITED_HTML = frozenset({"tgram"})
# Matrix lists plain text first, yet its clients show the HTML that Apprise
# makes from Markdown; generic webhooks list the same formats and get text.
_RENDERS_MARKDOWN = frozenset({"matrix", "matrixs"})


@dataclass(frozen=True, slots=True)
class Target:
    """One notification service. `url` holds secrets: log and show `safe_url` only."""

    id: str
    url: str
    safe_url: str
    tags: frozenset[str]
    format: Format
    # The values that came from ${NAME}: `mask` hides them in any text about this target.
    secrets: Secrets = field(default_factory=Secrets)

    def mask(self, text: str) -> str:
        """`text` (an error, a log line) with this target's secrets shown as `****`."""
        return self.secrets.mask(text)

    def __repr__(self) -> str:
        # The default repr would print the secret URL into logs and tracebacks.
        return f"Target(id={self.id!r}, safe_url={self.safe_url!r}, tags={sorted(self.tags)!r})"


# Apprise is imported where it is used: `worker.config` imports this module,
# and beat, the supervisor and `wirewatch check` of a config without targets
# should not carry Apprise and its plugins (tests/test_imports.py).


def apprise_asset() -> apprise.AppriseAsset:
    import apprise

    # Apprise's own ${...} templates would read APPRISE_TEMPLATE_* variables at
    # send time; wirewatch has already filled every placeholder, so they stay off.
    return apprise.AppriseAsset(app_id="wirewatch", allow_templates=False)


def plugin_for(url: str) -> Any:
    """The Apprise service object for a full URL, or None if Apprise cannot load it."""
    import apprise

    return apprise.Apprise.instantiate(url, asset=apprise_asset())


def _formats(plugin: Any) -> list[str]:
    declared = plugin.notify_format
    values = declared if isinstance(declared, (tuple, list)) else [declared]
    return [str(getattr(v, "value", v)) for v in values]


def _protocols(plugin: Any) -> set[str]:
    found: set[str] = set()
    for attr in ("protocol", "secure_protocol"):
        value = getattr(plugin, attr, None)
        found.update([value] if isinstance(value, str) else (value or ()))
    return found


def _format_of(plugin: Any) -> Format:
    """The format to render for a service, so that Apprise never has to convert it."""
    override = getattr(plugin, "_format_override", None)
    formats = _formats(plugin)
    preferred = str(getattr(override, "value", override)) if override else formats[0]
    if preferred == "html" and not _protocols(plugin) & _LIMITED_HTML:
        return "html"
    if preferred == "markdown" or ("markdown" in formats and "html" not in formats):
        return "markdown"
    if not override and _protocols(plugin) & _RENDERS_MARKDOWN:
        return "markdown"
    return "text"


def choose_format(target: Target | str) -> Format:
    """The body format for a target (or a full Apprise URL): HTML for email,
    Markdown for chat services that render it, plain text otherwise."""
    if isinstance(target, Target):
        return target.format
    plugin = plugin_for(target)
    return "text" if plugin is None else _format_of(plugin)


# ---------------------------------------------------------------- ${NAME}


@dataclass(frozen=True, slots=True)
class _Where:
    file: str
    field: str


def _substitute(
    node: yaml.Node,
    environ: Mapping[str, str],
    where: _Where,
    issues: list[ConfigIssue],
    filled: set[str],
) -> None:
    """Fill placeholders inside every scalar of the parsed document, in place.

    Working on parsed scalars rather than the raw text means a value holding
    '#', ': ', quotes or a newline cannot change the YAML structure.
    """
    if isinstance(node, yaml.ScalarNode):
        node.value = _fill(node, environ, where, issues, filled)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            field = f"{where.field}[{index}]"
            _substitute(item, environ, _Where(where.file, field), issues, filled)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _substitute(key, environ, where, issues, filled)
            child = key.value if isinstance(key, yaml.ScalarNode) else "?"
            child = child if "://" not in str(child) else "url"
            field = f"{where.field}.{child}" if where.field else str(child)
            _substitute(value, environ, _Where(where.file, field), issues, filled)


def _fill(
    node: yaml.ScalarNode,
    environ: Mapping[str, str],
    where: _Where,
    issues: list[ConfigIssue],
    filled: set[str],
) -> str:
    text = str(node.value)

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        line = node.start_mark.line + 1 + text.count("\n", 0, match.start())
        if not _VALID_NAME.fullmatch(name):
            issues.append(ConfigIssue(where.file, line, where.field, f"invalid ${{{name}}}"))
        elif name not in environ:
            message = f"environment variable {name} is not set"
            issues.append(ConfigIssue(where.file, line, where.field, message))
        else:
            # Every value from the environment is a secret, wherever it lands.
            filled.add(environ[name])
            return environ[name]
        return match.group(0)

    return _PLACEHOLDER.sub(replace, text)


# ---------------------------------------------------------------- parsing


def _compose(text: str, file: str) -> yaml.Node | None:
    # Imported here: worker.config imports this module to load apprise.yml.
    from worker.config.yamlmarks import YamlSyntaxError, compose_bounded, new_loader

    # Bounded like the other config files: `${NAME}` is filled in on every
    # scalar as the tree is walked, so an alias bomb would hang right here.
    try:
        loader = new_loader(text, yaml.SafeLoader)
    except YamlSyntaxError as exc:
        raise ConfigError(
            [ConfigIssue(file, exc.line, "", f"invalid YAML: {exc.message}")]
        ) from exc
    try:
        return compose_bounded(text, loader)
    except YamlSyntaxError as exc:
        raise ConfigError(
            [ConfigIssue(file, exc.line, "", f"invalid YAML: {exc.message}")]
        ) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError([ConfigIssue(file, line, "", f"invalid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(file, None, "", f"invalid YAML: {exc}")]) from exc
    finally:
        loader.dispose()


def _construct(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _top_level(root: yaml.Node, file: str) -> tuple[dict[str, Any], list[tuple[int, Any]]]:
    """The settings shared by all entries, and each `urls` entry with its line."""
    if not isinstance(root, yaml.MappingNode):
        raise ConfigError([ConfigIssue(file, _line(root), "", "expected a mapping with 'urls'")])
    shared: dict[str, Any] = {}
    entries: list[tuple[int, Any]] = []
    issues: list[ConfigIssue] = []
    for key, value in root.value:
        name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
        if name == "urls":
            entries = _entries(value, file, issues)
        elif name in _KNOWN_KEYS:
            shared[name] = _construct(value)
        else:
            # `include` would make Apprise fetch more config from elsewhere,
            # and `template` is Apprise's own placeholder scheme; neither is
            # watched or validated by wirewatch, so both are refused.
            issues.append(ConfigIssue(file, _line(key), name, "not supported here"))
    if shared.get("version", 1) != 1:
        issues.append(ConfigIssue(file, _line(root), "version", "only version 1 is supported"))
    if issues:
        raise ConfigError(issues)
    return shared, entries


def _entries(node: yaml.Node, file: str, issues: list[ConfigIssue]) -> list[tuple[int, Any]]:
    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        issues.append(ConfigIssue(file, _line(node), "urls", "expected a list of URLs"))
        return []
    return [(_line(item), _construct(item)) for item in node.value]


def _written_url(entry: Any) -> str:
    if isinstance(entry, str):
        return entry
    if isinstance(entry, Mapping):
        return next((str(k) for k in entry if "://" in str(k)), "")
    return ""


def _why_not(entry: Any) -> str:
    """A reason for a URL Apprise would not load, without echoing its secrets."""
    url = _written_url(entry)
    schema = _SCHEMA.match(url)
    if not schema:
        return "not an Apprise URL (expected scheme://...)"
    name = schema.group(1).lower()
    if name not in _known_schemas():
        return f"unknown URL scheme '{name}://'"
    return f"Apprise cannot load this {name}:// URL; check its host, credentials and options"


def _known_schemas() -> frozenset[str]:
    from apprise.manager_plugins import NotificationManager

    # Apprise's plugin manager is untyped; the schemas are plain strings.
    manager: Any = NotificationManager
    return frozenset(str(s).lower() for s in manager().schemas())


def _services(shared: dict[str, Any], entry: Any) -> list[Any]:
    from apprise.config.base import ConfigBase

    document = yaml.safe_dump({**shared, "urls": [entry]}, allow_unicode=True)
    services, _configs = ConfigBase.config_parse_yaml(document, asset=apprise_asset())
    return list(services)


def _build(pairs: list[tuple[str, Any]], secrets: Secrets) -> tuple[Target, ...]:
    """One Target per distinct URL; the same service listed twice gets the union of tags."""
    by_url: dict[str, tuple[Any, set[str]]] = {}
    for url, service in pairs:
        tags = {str(t) for t in getattr(service, "tags", ())}
        if url in by_url:
            by_url[url][1].update(tags)
        else:
            by_url[url] = (service, tags)
    return tuple(
        Target(
            id=hashlib.sha256(url.encode("utf-8")).hexdigest()[:16],
            url=url,
            # Apprise hides what it knows to be a password; the values from
            # ${NAME} may stand anywhere else too (host, path, query, header).
            safe_url=secrets.mask(str(service.url(privacy=True))),
            secrets=secrets,
            tags=frozenset(tags),
            format=_format_of(service),
        )
        for url, (service, tags) in by_url.items()
    )


def load_targets(path: Path, environ: Mapping[str, str]) -> tuple[Target, ...]:
    """Every target in `path`; an absent or empty file has none.

    Raises ConfigError listing every problem, each with its file and line.
    """
    file = str(path)
    try:
        with path.open("rb") as handle:
            # Past the limit is refused by _compose; no need to read it all.
            data = handle.read(_MAX_BYTES + 1)
    except FileNotFoundError:
        return ()
    except OSError as exc:
        raise ConfigError([ConfigIssue(file, None, "", f"cannot read: {exc}")]) from exc
    return targets_from_bytes(data, file, environ)


def targets_from_bytes(data: bytes, file: str, environ: Mapping[str, str]) -> tuple[Target, ...]:
    """The targets of an apprise.yml already read (`file` names it in errors)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(file, None, "", f"cannot read: {exc}")]) from exc
    root = _compose(text, file)
    if root is None:
        return ()
    issues: list[ConfigIssue] = []
    filled: set[str] = set()
    _substitute(root, environ, _Where(file, ""), issues, filled)
    secrets = Secrets(frozenset(filled))
    try:
        if issues:
            raise ConfigError(issues)
        shared, entries = _top_level(root, file)
        pairs: list[tuple[str, Any]] = []
        for line, entry in entries:
            with _apprise_logs_masked(secrets):
                services = _services(shared, entry)
            if not services:
                issues.append(ConfigIssue(file, line, "urls", _why_not(entry)))
            pairs.extend((str(service.url(privacy=False)), service) for service in services)
        if issues:
            raise ConfigError(issues)
    except ConfigError as exc:
        # `${NAME}` is filled in on every scalar, keys included, before the
        # file is checked: an error that quotes one must not show its value.
        raise ConfigError([_masked(issue, secrets) for issue in exc.issues]) from None
    return _build(pairs, secrets)


def _masked(issue: ConfigIssue, secrets: Secrets) -> ConfigIssue:
    return replace(issue, field=secrets.mask(issue.field), message=secrets.mask(issue.message))


class _Masked(logging.Filter):
    def __init__(self, secrets: Secrets) -> None:
        super().__init__()
        self.secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.secrets.mask(record.getMessage())
        record.args = None
        return True


@contextmanager
def _apprise_logs_masked(secrets: Secrets) -> Iterator[None]:
    """Apprise logs each URL it loads ("Loaded URL: ...", at debug), path and
    headers in clear, before any config (and so any log filter) knows the
    secrets: its records are masked at the source while a target is built."""
    logger = logging.getLogger("apprise")
    masked = _Masked(secrets)
    logger.addFilter(masked)
    try:
        yield
    finally:
        logger.removeFilter(masked)
