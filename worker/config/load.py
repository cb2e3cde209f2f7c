"""Reading a config directory into a `Config`, or a `ConfigError` naming every issue.

Each file is checked as far as it can be, and issues are collected rather
than raised one by one: fixing a config should take one round, not one per
mistake.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from worker.config.models import (
    Config,
    Rule,
    RulesFile,
    Settings,
    Source,
    SourceDefaults,
    SourcesFile,
    share_alike_parts,
)
from worker.config.yamlmarks import (
    MAX_CONFIG_BYTES,
    KeyPath,
    Marked,
    YamlSyntaxError,
    load_marked,
)
from worker.errors import ConfigError, ConfigIssue
from worker.notify import Target, targets_from_bytes

__all__ = [
    "CONFIG_FILES",
    "ConfigFiles",
    "config_from_files",
    "load_config",
    "load_settings",
    "read_config_files",
]

SETTINGS = "settings.yaml"
SOURCES = "sources.yaml"
RULES = "rules.yaml"
APPRISE = "apprise.yml"
CONFIG_FILES = (SETTINGS, SOURCES, RULES, APPRISE)

_M = TypeVar("_M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class ConfigFiles:
    """The four files of a directory as read once: bytes (None: absent), and why any
    could not be read. What `config_from_files` validates is exactly what was read,
    so a file edited meanwhile cannot slip into a config checked from its old text."""

    directory: Path
    contents: Mapping[str, bytes | None]
    problems: tuple[ConfigIssue, ...] = ()

    def texts(self) -> dict[str, str]:
        """The files present, as text (valid only for files that passed validation)."""
        return {
            name: data.decode("utf-8") for name, data in self.contents.items() if data is not None
        }


def read_config_files(directory: Path) -> ConfigFiles:
    """The four files of `directory`, each read at most to the size limit.

    Never blocks: a file that is no regular file (a FIFO, a device) is
    refused without being read, like one over the size limit.
    """
    directory = Path(directory)
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "does not exist"
        raise ConfigError([ConfigIssue(str(directory), None, "", f"config directory {what}")])
    issues: list[ConfigIssue] = []
    contents = {name: _read(directory, name, issues) for name in CONFIG_FILES}
    return ConfigFiles(directory, contents, tuple(issues))


def load_config(directory: Path, environ: Mapping[str, str] | None = None) -> Config:
    """Load and validate the four config files of `directory`.

    `environ` fills ``${NAME}`` in apprise.yml and in sources' `headers` and
    `auth`; the process environment when None.
    Raises ConfigError listing every issue found, each with file, line and field.
    """
    return config_from_files(read_config_files(directory), environ)


def config_from_files(files: ConfigFiles, environ: Mapping[str, str] | None = None) -> Config:
    """Validate files already read (`read_config_files`, or a kept snapshot of them)."""
    directory = files.directory
    env = os.environ if environ is None else environ
    issues = list(files.problems)
    contents = {name: files.contents.get(name) for name in CONFIG_FILES}
    for name in (SOURCES, RULES):
        if contents[name] is None and not any(i.file == _show(directory, name) for i in issues):
            issues.append(ConfigIssue(_show(directory, name), None, "", _missing(directory, name)))

    settings = _load_settings(directory, contents[SETTINGS], issues)
    sources, known = _load_sources(directory, contents[SOURCES], settings, env, issues)
    rules = _load_rules(directory, contents[RULES], known, issues)
    targets: tuple[Target, ...] = ()
    apprise_data = contents[APPRISE]
    if apprise_data is not None:
        try:
            targets = targets_from_bytes(apprise_data, _show(directory, APPRISE), env)
        except ConfigError as error:
            issues.extend(error.issues)
    elif (directory / "apprise.yaml").exists():
        # Apprise picks its format by extension, and the spec names .yml;
        # a .yaml file would otherwise be ignored without a word.
        issues.append(
            ConfigIssue(_show(directory, "apprise.yaml"), None, "", f"rename it to {APPRISE}")
        )

    if issues:
        raise ConfigError(_in_order(issues))
    return Config(
        settings=settings,
        sources=sources,
        rules=rules,
        targets=targets,
        directory=directory,
        fingerprint=_fingerprint(contents),
    )


def load_settings(directory: Path) -> Settings:
    """settings.yaml alone (defaults when absent), for processes that need no more.

    Raises ConfigError, as load_config does, when the file is unusable.
    """
    directory = Path(directory)
    issues: list[ConfigIssue] = []
    settings = _load_settings(directory, _read(directory, SETTINGS, issues), issues)
    if issues:
        raise ConfigError(_in_order(issues))
    return settings


def _in_order(issues: list[ConfigIssue]) -> list[ConfigIssue]:
    """Files in the order they were read, each file's issues top to bottom."""
    files = list(dict.fromkeys(issue.file for issue in issues))
    return sorted(issues, key=lambda i: (files.index(i.file), i.line or 0))


def _show(directory: Path, name: str) -> str:
    # As the user gave it (`config/rules.yaml`), so it can be pasted into an editor.
    return str(directory / name)


def _missing(directory: Path, name: str) -> str:
    stem = name.rsplit(".", 1)[0]
    for other in (f"{stem}.yml", f"{stem}.yaml"):
        if other != name and (directory / other).exists():
            return f"file not found (there is {other}: rename it to {name})"
    return "file not found; it is required"


def _read(directory: Path, name: str, issues: list[ConfigIssue]) -> bytes | None:
    shown = _show(directory, name)
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
        fd = os.open(directory / name, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        issues.append(ConfigIssue(shown, None, "", f"cannot read: {error.strerror}"))
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            issues.append(ConfigIssue(shown, None, "", "not a regular file; not read"))
            return None
        with os.fdopen(fd, "rb", closefd=False) as file:
            # At most one byte past the limit: a huge file is refused unread.
            data = file.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        issues.append(ConfigIssue(shown, None, "", f"cannot read: {error.strerror}"))
        return None
    finally:
        os.close(fd)
    if len(data) > MAX_CONFIG_BYTES:
        message = f"file is larger than {MAX_CONFIG_BYTES // 1024} KiB; not read"
        issues.append(ConfigIssue(shown, 1, "", message))
        return None
    return data


def _fingerprint(contents: Mapping[str, bytes | None]) -> str:
    digest = hashlib.sha256()
    for name in CONFIG_FILES:
        data = contents[name]
        # Name and length frame each file, so moving bytes from one file to
        # the next, or deleting an empty file, still changes the hash.
        digest.update(f"{name}\0{-1 if data is None else len(data)}\0".encode())
        digest.update(data or b"")
    return digest.hexdigest()


class _File:
    """One YAML file being checked: turns validation errors into located issues."""

    def __init__(self, directory: Path, name: str, issues: list[ConfigIssue]) -> None:
        self.shown = _show(directory, name)
        self.issues = issues
        self.marked = Marked(data=None, lines={})

    def parse(self, content: bytes) -> bool:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.add(None, (), f"not UTF-8 text (byte {error.start})")
            return False
        try:
            self.marked = load_marked(text)
        except YamlSyntaxError as error:
            self.add(error.line, (), f"YAML syntax error: {error.message}")
            return False
        for duplicate in self.marked.duplicates:
            self.add(duplicate.line, duplicate.path, "duplicate key")
        if self.marked.data is not None and not isinstance(self.marked.data, dict):
            self.add(1, (), "expected a mapping of keys at the top level")
            return False
        return True

    @property
    def data(self) -> dict[str, Any]:
        return self.marked.data if isinstance(self.marked.data, dict) else {}

    def add(self, line: int | None, path: KeyPath, message: str) -> None:
        self.issues.append(ConfigIssue(self.shown, line, _field(path), message))

    def at(self, path: KeyPath, message: str) -> None:
        self.add(self.marked.line(path), path, message)

    def validate(
        self,
        model: type[_M],
        data: Any,
        prefix: KeyPath = (),
        context: Mapping[str, Any] | None = None,
    ) -> _M | None:
        try:
            return model.model_validate(data, context=context)
        except ValidationError as error:
            for detail in error.errors():
                path = (*prefix, *_loc(detail))
                self.at(path, _message(detail, model, _loc(detail)))
            return None


def _load_settings(directory: Path, content: bytes | None, issues: list[ConfigIssue]) -> Settings:
    file = _File(directory, SETTINGS, issues)
    if content is None or not file.parse(content):
        return Settings()
    return file.validate(Settings, file.data) or Settings()


def _load_sources(
    directory: Path,
    content: bytes | None,
    settings: Settings,
    environ: Mapping[str, str],
    issues: list[ConfigIssue],
) -> tuple[tuple[Source, ...], frozenset[str] | None]:
    """The valid sources, and every id and tag a rule may name (None: unknown).

    The names come from the raw items too, so that a rule naming a source
    which has a mistake of its own is not reported as well: that is noise.
    """
    file = _File(directory, SOURCES, issues)
    if content is None or not file.parse(content):
        return (), None
    shape = file.validate(SourcesFile, file.data)
    if shape is None:
        return (), None
    defaults = file.validate(
        SourceDefaults, shape.defaults or {}, ("defaults",), {"settings": settings}
    )
    # `environ` fills ${NAME} in a source's headers and auth.
    context = {"defaults": defaults or SourceDefaults(), "settings": settings, "environ": environ}
    sources: list[Source] = []
    names: set[str] = set()
    first_line: dict[str, int | None] = {}
    for index, item in enumerate(shape.sources or []):
        names.update(_raw_names(item))
        duplicate = _is_duplicate(file, item, ("sources", index), first_line)
        source = file.validate(Source, item, ("sources", index), context)
        if source is not None and not duplicate:
            sources.append(source)
    share_alike_parts(sources)
    return tuple(sources), frozenset(names)


def _is_duplicate(
    file: _File, item: object, where: KeyPath, first_line: dict[str, int | None]
) -> bool:
    """Reports an id used by an earlier item, on the later one's line.

    Ids are compared as written, before validation, so that a duplicate is
    found even when one of the two items has a mistake of its own.
    """
    raw = item.get("id") if isinstance(item, dict) else None
    if not isinstance(raw, str):
        return False
    path = (*where, "id")
    if raw in first_line:
        file.at(path, f"duplicate id {raw!r} (first at line {first_line[raw]})")
        return True
    first_line[raw] = file.marked.line(path)
    return False


def _raw_names(item: object) -> Iterable[str]:
    if not isinstance(item, dict):
        return ()
    found = [item.get("id")]
    tags = item.get("tags")
    found.extend(tags if isinstance(tags, list) else [tags])
    return (name for name in found if isinstance(name, str))


def _load_rules(
    directory: Path,
    content: bytes | None,
    known: frozenset[str] | None,
    issues: list[ConfigIssue],
) -> tuple[Rule, ...]:
    """The valid rules; `known` is None when sources.yaml could not be read at all,
    and then references to sources are not checked: every one would look unknown.
    """
    file = _File(directory, RULES, issues)
    if content is None or not file.parse(content):
        return ()
    shape = file.validate(RulesFile, file.data)
    if shape is None:
        return ()
    rules: list[Rule] = []
    first_line: dict[str, int | None] = {}
    for index, item in enumerate(shape.rules or []):
        duplicate = _is_duplicate(file, item, ("rules", index), first_line)
        rule = file.validate(Rule, item, ("rules", index))
        if rule is None:
            continue
        if known is not None:
            for position, name in enumerate(rule.sources or ()):
                if name not in known:
                    hint = _did_you_mean(name, known)
                    file.at(
                        ("rules", index, "sources", position),
                        f"{name!r} is neither a source id nor a tag in {SOURCES}{hint}",
                    )
        if not duplicate:
            rules.append(rule)
    return tuple(rules)


def _loc(detail: ErrorDetails) -> KeyPath:
    return tuple(part for part in detail["loc"] if isinstance(part, str | int))


def _field(path: KeyPath) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else part
    return text


def _message(detail: ErrorDetails, model: type[BaseModel], loc: KeyPath) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        key = str(loc[-1]) if loc else ""
        return "unknown key" + _did_you_mean(key, allowed, listing=True)
    if kind == "missing":
        return "required key is missing"
    message = detail["msg"]
    if kind == "wirewatch":
        return message
    # pydantic's own messages ("Input should be a valid integer") read
    # better with the offending value quoted, since the line may hold several.
    message = message[:1].lower() + message[1:]
    value = detail.get("input")
    if isinstance(value, str | int | float | bool) or value is None:
        message += f" (got {value!r})"
    return message


def _fields_at(model: type[BaseModel], loc: KeyPath) -> Sequence[str]:
    """The keys allowed at `loc` inside `model`, for "did you mean" hints."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part)
        if info is None:
            return ()
        nested = _model_in(info.annotation)
        if nested is None:
            return ()
        current = nested
    return tuple(current.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in getattr(annotation, "__args__", ()):
        found = _model_in(argument)
        if found is not None:
            return found
    return None


def _did_you_mean(word: str, choices: Iterable[str], *, listing: bool = False) -> str:
    options = sorted(choices)
    close = difflib.get_close_matches(word, options, n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if listing and options:
        return f" (expected one of: {', '.join(options)})"
    return ""
