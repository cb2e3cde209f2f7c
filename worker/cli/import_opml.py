"""`wirewatch import-opml FILE`: add an OPML subscription list's feeds to sources.yaml.

The user's file is edited as text, not re-dumped: new entries are inserted
after the last entry of `sources:`, so comments, ordering and quoting stay
as the user wrote them. The result is validated with the config loader
before it replaces the file, atomically, so a failed import changes nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
import yaml
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from rich.console import Console
from rich.text import Text
from unidecode import unidecode

from worker.cli import ui
from worker.cli.common import config_folder, config_option, json_option
from worker.config import CONFIG_FILES, load_config, load_settings
from worker.errors import ConfigError
from worker.fetch.netguard import is_refused_address
from worker.parse import canonical_url
from worker.parse.urls import BadUrl, parse_web_url

__all__ = ["OpmlFeed", "add_sources", "command", "parse_opml"]

SOURCES = "sources.yaml"
_MAX_ID = 40  # long enough to tell feeds apart, short enough to type in rules.yaml
_NOT_ID = re.compile(r"[^a-z0-9]+")
_SEPARATORS = re.compile(r"[/,]")


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed of an OPML file: its address, title and the folders it sits in."""

    url: str
    title: str
    tags: tuple[str, ...]
    host: str  # lower case, IDNA-encoded


class _Refused(ui.Failure):
    """Nothing was imported: sources.yaml is unchanged."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, code=1)


@click.command("import-opml", short_help="Add an OPML file's feeds to sources.yaml.")
@click.argument("opml_file", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would be added; change nothing.")
@json_option
@config_option
def command(opml_file: Path, dry_run: bool, as_json: bool, config_path: Path | None) -> None:
    """Add the feeds of an OPML file (as feed readers export them) to sources.yaml.

    Feeds whose URL is already a source are skipped, and so are feeds on
    loopback, private, link-local or cloud-metadata addresses unless
    settings.yaml has `allow_private_networks: true`; folders and categories
    become tags. Ids are made from the feed titles. The existing file keeps
    its text and comments; the new entries are appended to `sources:`, and
    the file is replaced only if the result is valid. With --json, one line
    per feed: action (added, skipped or refused), id, url, and why for a
    refused one. Exits 0, or 1 when nothing
    could be imported.

    \b
    Examples:
      wirewatch import-opml subscriptions.opml --dry-run
      wirewatch import-opml subscriptions.opml
      wirewatch check
    """
    directory = config_folder(config_path)
    try:
        feeds = parse_opml(opml_file.read_bytes())
    except OSError as error:
        raise _Refused(
            f"cannot read {opml_file}: {error.strerror}",
            hint="export the OPML file from your feed reader and give its path",
        ) from None
    path = directory / SOURCES
    try:
        original = path.read_text(encoding="utf-8-sig") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise _Refused(f"cannot read {path}: {error}") from None
    allow_private = _allows_private_networks(directory)
    existing = _existing_sources(original, path)
    known_urls = {_url_key(str(s.get("url", ""))) for s in existing}
    ids = {str(s.get("id")) for s in existing if s.get("id")}
    added: list[dict[str, Any]] = []
    out = ui.stdout()
    with ui.Progress(len(feeds), "importing") as progress:
        for feed in feeds:
            progress.advance()
            if _url_key(feed.url) in known_urls:
                _report(out, as_json, "skipped", None, feed.url)
                continue
            why = None if allow_private else _private_host(feed.host)
            if why is not None:
                _report(out, as_json, "refused", None, feed.url, why)
                continue
            known_urls.add(_url_key(feed.url))
            entry = _entry(feed, ids)
            ids.add(str(entry["id"]))
            added.append(entry)
            _report(out, as_json, "added", str(entry["id"]), feed.url)
        summary = ui.stderr() if as_json else out
        if not added:
            summary.print(f"nothing to add to {path}")
            return
        updated = add_sources(original, added, note=f"imported from {opml_file.name}")
        _validate(directory, updated)
    if dry_run:
        summary.print(f"dry run: {path} not changed ({len(added)} sources would be added)")
        return
    _write_atomically(path, updated)
    summary.print(f"{len(added)} sources added to {path}")
    summary.print(
        Text("next: `wirewatch poll ID --dry-run` shows what a new source gives", style="dim")
    )


def _report(
    out: Console,
    as_json: bool,
    action: str,
    source_id: str | None,
    url: str,
    why: str | None = None,
) -> None:
    if as_json:
        found = {"action": action, "id": source_id, "url": url}
        ui.emit_json(found if why is None else {**found, "why": why})
    elif why is not None:
        line = Text(f"{action:<9}", style="yellow")
        line.append(ui.plain(f"{url} ({why}; set allow_private_networks: true to import it)"))
        out.print(line)
    elif source_id is None:
        out.print(Text(f"{action:<9}", style="dim") + ui.plain(f"{url} (already a source)"))
    else:
        out.print(Text(f"{action:<9}", style="green") + ui.plain(f"{source_id}: {url}"))


# Names that reach the machine itself or a cloud's instance metadata service
# without any DNS answer to check (metadata.google.internal is 169.254.169.254).
_METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
    }
)


def _allows_private_networks(directory: Path) -> bool:
    try:
        return load_settings(directory).allow_private_networks
    except ConfigError:
        return False  # an unusable settings.yaml allows nothing beyond the defaults


def _private_host(host: str) -> str | None:
    """Why a feed on `host` must not be imported without allow_private_networks, or None.

    Address literals in any form and well-known local names are refused here;
    a name that resolves to such an address is refused when it is fetched.
    """
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is the machine itself"
    if host in _METADATA_NAMES:
        return f"{host} is a cloud metadata service"
    try:
        return is_refused_address(host)
    except ValueError:  # a name, not an address
        return None


# -- OPML ----------------------------------------------------------------------


def parse_opml(data: bytes) -> list[OpmlFeed]:
    """The feeds of an OPML document, in document order, without repeats.

    defusedxml refuses entity declarations and external references, so an
    OPML file cannot read local files or expand without bound.
    """
    try:
        root = fromstring(data)
    except (ET.ParseError, DefusedXmlException) as error:
        raise _Refused(f"not a usable OPML file: {error}") from None
    body = root.find("body")
    if root.tag != "opml" or body is None:
        raise _Refused("not an OPML file: expected <opml> with a <body>")
    feeds: list[OpmlFeed] = []
    seen: set[str] = set()
    for feed in _walk(body, ()):
        if feed.url not in seen:
            seen.add(feed.url)
            feeds.append(feed)
    return feeds


def _walk(parent: ET.Element, folders: tuple[str, ...]) -> Iterator[OpmlFeed]:
    for outline in parent.findall("outline"):
        title = " ".join((outline.get("title") or outline.get("text") or "").split())
        url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
        if not url:
            # An outline without a feed is a folder: its name tags what it holds.
            yield from _walk(outline, (*folders, title) if title else folders)
            continue
        checked = parse_web_url(url)
        if isinstance(checked, BadUrl):
            ui.stderr().print(ui.plain(f"ignored  {url} ({checked.reason})"))
            continue
        categories = _SEPARATORS.split(outline.get("category") or "")
        tags = (_slug(name) for name in (*folders, *categories))
        yield OpmlFeed(
            url=url,
            title=title,
            tags=tuple(dict.fromkeys(t for t in tags if t)),
            host=checked.host,
        )


def _slug(text: str) -> str:
    # unidecode, so a Cyrillic or accented title still gives a readable id.
    return _NOT_ID.sub("-", unidecode(text).lower()).strip("-")[:_MAX_ID].strip("-")


def _url_key(url: str) -> str:
    # Tracking parameters, default ports and case of the host do not make another feed.
    return canonical_url(url.strip()) or url.strip()


def _entry(feed: OpmlFeed, taken: set[str]) -> dict[str, Any]:
    base = _slug(feed.title) or _slug(urlsplit(feed.url).hostname or "") or "feed"
    source_id, number = base, 2
    while source_id in taken:
        suffix = f"-{number}"
        source_id = base[: _MAX_ID - len(suffix)].rstrip("-") + suffix
        number += 1
    entry: dict[str, Any] = {"id": source_id}
    if feed.title and feed.title != source_id:
        entry["name"] = feed.title
    entry["url"] = feed.url
    entry["type"] = "feed"
    if feed.tags:
        entry["tags"] = list(feed.tags)
    return entry


# -- sources.yaml as text ------------------------------------------------------


def _existing_sources(text: str, path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(text) if text.strip() else None
    except yaml.YAMLError as error:
        raise _Refused(f"{path} is not valid YAML; fix it first:\n{error}") from None
    if data is None:
        return []
    if not isinstance(data, dict):
        raise _Refused(f"{path}: expected a mapping with `sources:` at the top level")
    sources = data.get("sources") or []
    if not isinstance(sources, list):
        raise _Refused(f"{path}: `sources:` is not a list")
    return [s for s in sources if isinstance(s, dict)]


def add_sources(text: str, entries: Sequence[dict[str, Any]], *, note: str = "") -> str:
    """`text` (a sources.yaml) with `entries` added at the end of its `sources:` list."""
    if text and not text.endswith("\n"):
        text += "\n"
    root = yaml.compose(text) if text.strip() else None
    value = _sources_node(root)
    comment = f"# {note}\n" if note else ""
    if value is None:  # no `sources:` key yet
        return text + "sources:\n" + _block(entries, 2, comment)
    if isinstance(value, yaml.SequenceNode) and value.value and not value.flow_style:
        position = _after_last_item(text, value)
        block = _block(entries, value.start_mark.column, comment)
        # Entries spaced by blank lines get one before the new block too.
        spaced = "\n\n" in text[value.start_mark.index : position].rstrip("\n")
        return text[:position] + ("\n" if spaced else "") + block + text[position:]
    if isinstance(value, yaml.SequenceNode) and value.value:
        # A flow list `[{...}, {...}]`: the new entries join it in the same style.
        close = value.end_mark.index - 1
        flow = ", ".join(_flow(entry) for entry in entries)
        return text[:close] + ", " + flow + text[close:]
    # `sources:` with nothing, `[]`, `null` or `~`: the value becomes a block list.
    start, end = value.start_mark.index, value.end_mark.index
    return text[:start].rstrip(" ") + "\n" + _block(entries, 2, comment) + text[end:].lstrip(" ")


def _sources_node(root: yaml.Node | None) -> yaml.Node | None:
    if root is None:
        return None
    if not isinstance(root, yaml.MappingNode):
        raise _Refused("sources.yaml: expected a mapping with `sources:` at the top level")
    for key, value in root.value:
        if (
            isinstance(key, yaml.ScalarNode)
            and key.value == "sources"
            and isinstance(value, yaml.Node)
        ):
            return value
    return None


def _after_last_item(text: str, sequence: yaml.SequenceNode) -> int:
    """Where the line after the last item's last value begins.

    The sequence's own end mark lies past any comments that follow it (such
    as a commented-out example); the new entries belong right after the last
    real entry instead.
    """
    node: yaml.Node = sequence
    while (
        isinstance(node, yaml.SequenceNode | yaml.MappingNode)
        and node.value
        and not (node.flow_style)
    ):
        last = node.value[-1]
        node = last[1] if isinstance(last, tuple) else last
    end = node.end_mark.index
    if end > 0 and text[end - 1] == "\n":
        return end  # a block scalar ends with its line break
    newline = text.find("\n", end)
    return len(text) if newline < 0 else newline + 1


class _Dumper(yaml.SafeDumper):
    """Entries as block mappings with their lists inline (`tags: [a, b]`), as users write them."""


def _inline_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


_Dumper.add_representer(list, _inline_list)


def _block(entries: Sequence[dict[str, Any]], indent: int, comment: str) -> str:
    pad = " " * indent
    lines = [comment.rstrip("\n")] if comment else []
    for entry in entries:
        dumped = yaml.dump(
            entry, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=4096
        ).splitlines()
        lines += [f"- {dumped[0]}", *(f"  {line}" for line in dumped[1:])]
    return "".join(f"{pad}{line}\n" for line in lines)


def _flow(entry: dict[str, Any]) -> str:
    return yaml.safe_dump(
        entry, sort_keys=False, allow_unicode=True, default_flow_style=True, width=4096
    ).strip()


def _validate(directory: Path, text: str) -> None:
    """Refuse the change unless sources.yaml, with it, loads without an issue.

    The check runs on a copy of the config directory, so the real file is
    untouched until the result is known good. Issues in the other files
    (an unset secret in apprise.yml) are not the import's business.
    """
    with tempfile.TemporaryDirectory(prefix="wirewatch-import-") as scratch:
        copy = Path(scratch)
        for name in CONFIG_FILES:
            if name != SOURCES and (directory / name).is_file():
                shutil.copyfile(directory / name, copy / name)
        if not (copy / "rules.yaml").exists():
            (copy / "rules.yaml").write_text("rules: []\n", encoding="utf-8")
        (copy / SOURCES).write_text(text, encoding="utf-8")
        try:
            load_config(copy)
        except ConfigError as error:
            problems = [
                f"{SOURCES}:{issue.line or '?'}: {issue.field}: {issue.message}"
                for issue in error.issues
                if Path(issue.file).name == SOURCES
            ]
            if problems:
                raise _Refused(
                    "sources.yaml would not be valid after the import; nothing was changed:\n"
                    + "\n".join(problems)
                ) from None


def _write_atomically(path: Path, text: str) -> None:
    """Replace `path` in one step: a reader (the worker) sees the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    temporary = ""
    try:
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as error:
        if temporary:
            Path(temporary).unlink(missing_ok=True)
        raise _Refused(f"cannot write {path}: {error.strerror}") from None
    if sys.platform != "win32":
        # The rename is durable only once the directory entry is on disk too.
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
