"""`wirewatch extract FILE|URL`: what the article parser makes of a page."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.text import Text

from worker.cli import ui
from worker.cli.common import config_option, json_option
from worker.cli.inputs import read_limited
from worker.config import load_settings
from worker.errors import ConfigError, ExtractBudgetError, FetchError
from worker.fetch import FetchLimits, fetch, make_client
from worker.parse import ExtractedPage, extract_article
from worker.service.runtime import config_dir

__all__ = ["command"]

_EXIT_ARTICLE, _EXIT_NOT_ARTICLE = 0, 1


def _input_error(message: str) -> ui.Failure:
    # The page cannot be had (unreadable file, failed fetch): nothing was extracted.
    return ui.Failure(
        message,
        hint="give a readable HTML file or a reachable http(s) URL",
        code=_EXIT_NOT_ARTICLE,
    )


@click.command("extract", short_help="Show the article wirewatch extracts from a page.")
@click.argument("source", metavar="FILE|URL")
@json_option
@config_option
def command(source: str, as_json: bool, config_path: Path | None) -> None:
    """Show what wirewatch extracts from an article page: title, canonical url,
    published time, author, language and the main text.

    Exits 0 for an article, 1 when the page holds none (or cannot be had).
    URLs are fetched as the worker fetches them, within settings.yaml's
    limits. With --json, one object: title, url, published, updated,
    author, language, site_name, description, text.

    \b
    Examples:
      wirewatch extract https://www.themoscowtimes.com/2024/05/01/some-story-a12345
      wirewatch extract saved-page.html --json | jq -r .text
    """
    limits = _limits(config_path)
    if source.startswith(("http://", "https://")):
        data, url, content_type = _fetch(source, limits)
    else:
        data, url, content_type = (
            _read_file(Path(source), limits.max_bytes),
            _file_url(source),
            None,
        )
    try:
        page = extract_article(data, url=url, content_type=content_type)
    except ExtractBudgetError as error:
        raise ui.Failure(
            f"{source}: not extracted: {error}",
            hint="the worker matches such an entry on its feed's own text",
            code=_EXIT_NOT_ARTICLE,
        ) from None
    if page is None:
        raise ui.Failure(
            f"{source}: not an article",
            hint="a listing or front page holds no one article: try an article's own URL",
            code=_EXIT_NOT_ARTICLE,
        )
    if as_json:
        ui.emit_json(_as_json(page))
    else:
        _show(page)
    sys.exit(_EXIT_ARTICLE)


def _limits(config_path: Path | None) -> FetchLimits:
    """settings.yaml's fetch limits; the defaults when there is no usable settings file.

    Only settings.yaml is read: a page can be extracted with no sources or
    rules written yet, and a broken rules file is no reason to refuse.
    """
    try:
        return load_settings(config_path or config_dir()).fetch_limits
    except ConfigError as error:
        ui.stderr().print(f"note: settings.yaml not usable, default fetch limits:\n{error}")
        return FetchLimits()


def _fetch(url: str, limits: FetchLimits) -> tuple[bytes, str, str | None]:
    # The worker's own fetcher, so private addresses, size and redirect limits
    # apply here exactly as they do to polled pages.
    with make_client(limits) as client:
        try:
            response = fetch(client, url, limits)
        except FetchError as error:
            raise _input_error(f"cannot fetch {url}: {error}") from None
    return response.content, response.url, response.content_type


def _read_file(path: Path, max_bytes: int) -> bytes:
    # Within fetch's max_bytes, also after decompression, as a fetched page is.
    try:
        return read_limited(path, max_bytes)
    except FetchError as error:
        raise _input_error(f"cannot read {path}: {error.message}") from None


def _file_url(source: str) -> str:
    return Path(source).resolve().as_uri()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _as_json(page: ExtractedPage) -> dict[str, Any]:
    return {
        "title": page.title,
        "url": page.url,
        "published": _iso(page.published),
        "updated": _iso(page.updated),
        "author": page.author,
        "language": page.language,
        "site_name": page.site_name,
        "description": page.description,
        "text": page.text,
    }


def _show(page: ExtractedPage) -> None:
    out = ui.stdout()
    fields = _as_json(page)
    text = fields.pop("text")
    for name, value in fields.items():
        line = Text(f"{name + ':':<11}", style="bold")
        line.append_text(ui.plain(str(value) if value is not None else "-"))
        out.print(line)
    out.print()
    out.print(ui.plain(text))
