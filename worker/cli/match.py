"""`wirewatch match`: try a query on a text, a file or a page; or rules on many articles."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
import yaml
from rich.text import Text

from worker.cli import ui
from worker.cli.common import config_option, json_option
from worker.cli.inputs import read_limited
from worker.config import load_settings
from worker.errors import ConfigError, ExtractBudgetError, FetchError, QuerySyntaxError
from worker.fetch import FetchLimits, fetch, make_client
from worker.match import (
    FIELDS,
    LANGUAGES,
    Document,
    Query,
    RuleSet,
    compile_rules,
    inflections,
    matched_terms,
    parse_query,
    resolve_language,
    span_text,
)
from worker.models import Field, RuleMatch, Span
from worker.parse import extract_article
from worker.parse.visible import visible_text
from worker.service.runtime import config_dir

__all__ = ["bad_query", "command", "explain_lines", "language_option", "snippet_lines"]

_CONTEXT = 60  # characters shown around a match
_EXIT_MATCH, _EXIT_NONE, _EXIT_BAD = 0, 1, 2


def _input_error(message: str) -> ui.Failure:
    # 2, like a bad query: nothing was tested.
    return ui.Failure(message, hint="give a readable FILE, a reachable URL, or - for stdin")


@dataclass(frozen=True, slots=True)
class _Input:
    title: str
    text: str
    language: str | None = None  # as the page declares it


def _check_language(_: click.Context, __: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    code = value.strip().lower()
    if not (len(code) == 2 and code.isascii() and code.isalpha()):
        raise click.BadParameter(f"{value!r} is not an ISO 639-1 code such as en or ru")
    return code


language_option = click.option(
    "--lang",
    "language",
    metavar="L",
    callback=_check_language,
    help="The text's language, ISO 639-1 (en, ru, de); otherwise as declared or detected.",
)


@click.command("match", short_help="Try a query on a text, file or page; show what matched.")
@click.argument("query", required=False)
@click.argument("source", required=False, metavar="[FILE|URL|-]")
@click.option("--title", help="Article title to match too (replaces an HTML page's title).")
@language_option
@json_option
@click.option(
    "--rules",
    "rules_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Batch mode: rules.yaml whose rules to run.",
)
@click.option(
    "--articles",
    "articles_file",
    type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path),
    help="Batch mode: JSON lines of {id, title, text, language}.",
)
@config_option
def command(
    query: str | None,
    source: str | None,
    title: str | None,
    language: str | None,
    as_json: bool,
    rules_file: Path | None,
    articles_file: Path | None,
    config_path: Path | None,
) -> None:
    """Test QUERY on a text (-: stdin, also when omitted), an HTML file or a page.

    Shows the matched terms and where they are. Exits 0 on a match, 1 on
    none, 2 on a bad query. With --json, one object: query, match, title,
    language, terms, spans (field, start, end, text), inflections (text,
    word, language, reason). Pages are fetched as the worker fetches them,
    within settings.yaml's limits.

    `word~` finds inflected forms in the text's language: --lang, else the
    language a page declares, else the one detected from the text.

    With --rules and --articles, prints one JSON line per article (id, and
    the ids of the rules it matches); an article's optional `language` is
    used as --lang is; exit 2 on bad rules.

    \b
    The rule language (case-insensitive, whole words):
      iran                 the word          "arms deal"     the phrase
      S-300                also S300, S 300, any dash, in Cyrillic
      sanction*            any ending
      a AND b, a b         both              a OR b          either
      NOT a, a NOT b       absent            ( ... )         grouping
      a NEAR/5 b           5 words apart at most, either order
      title:a, text:a      only in the title / summary and body
      /S-?[34]00/          a regular expression (linear time: no backreferences)
      sanction~            inflected forms: sanctions, sanctioned; Putin~: Путина

    \b
    Examples:
      wirewatch match '"S-300" AND (Iran OR Tehran)' article.html
      echo 'Russia sold the S300 to Iran' | wirewatch match 'S-300 AND Iran'
      wirewatch match 'sanction* NEAR/8 Iran' https://example.org/news/1
      wirewatch match title:iran --title 'Iran talks' --json
      echo 'Санкции против Ирана' | wirewatch match 'sanction~ OR Iran~' --lang ru
      wirewatch match --rules config/rules.yaml --articles articles.jsonl
    """
    if rules_file is not None or articles_file is not None:
        if rules_file is None or articles_file is None or query is not None:
            raise click.UsageError("batch mode takes --rules and --articles and no QUERY")
        _batch(rules_file, articles_file)
        return
    if query is None:
        raise click.UsageError("missing QUERY (or --rules with --articles)")
    try:
        parse_query(query)  # for the error without compile's rule id in it
    except QuerySyntaxError as error:
        raise bad_query(error) from None
    rules = compile_rules([("query", query)])
    loaded = _load(source, title, config_path)
    resolved = resolve_language(
        source=language, declared=loaded.language, text=f"{loaded.title}\n{loaded.text}"
    )
    doc = Document(loaded.title, "", loaded.text, resolved)
    found = rules.match(doc)
    match = found[0] if found else None
    parsed = rules.query("query")
    if as_json:
        ui.emit_json(_json_result(parsed, doc, match))
    else:
        _show(parsed, doc, match)
    raise SystemExit(_EXIT_MATCH if match else _EXIT_NONE)


def bad_query(error: QuerySyntaxError, where: str = "") -> ui.Failure:
    """A query that does not parse: the problem, the query with a caret, a hint."""
    return ui.Failure(
        f"{where}{error.message} (column {error.column})\n{error.caret()}",
        hint="the rule language is in `wirewatch match --help`",
        code=_EXIT_BAD,
    )


# -- input ---------------------------------------------------------------------


def _load(source: str | None, title: str | None, config_path: Path | None) -> _Input:
    if source is None and title is not None:
        return _Input(title, "")
    if source is None and sys.stdin.isatty():
        raise click.UsageError("give a FILE, URL or - (stdin), or --title")
    limits = _limits(config_path)
    if source is None or source == "-":
        data = sys.stdin.buffer.read(limits.max_bytes + 1)
        if len(data) > limits.max_bytes:
            raise _input_error(f"stdin: more than {limits.max_bytes} bytes (fetch.max_bytes)")
        loaded = _from_bytes(data, url="", html=None)
    elif source.startswith(("http://", "https://")):
        loaded = _fetch(source, limits)
    else:
        loaded = _read_file(Path(source), limits.max_bytes)
    return _Input(title if title is not None else loaded.title, loaded.text, loaded.language)


def _limits(config_path: Path | None) -> FetchLimits:
    """settings.yaml's fetch limits; the defaults when there is no usable settings file."""
    try:
        return load_settings(config_path or config_dir()).fetch_limits
    except ConfigError as error:
        ui.stderr().print(f"note: settings.yaml not usable, default fetch limits:\n{error}")
        return FetchLimits()


def _fetch(url: str, limits: FetchLimits) -> _Input:
    # The worker's own fetcher: private addresses, size and redirect limits
    # apply here as they do to polled pages.
    with make_client(limits) as client:
        try:
            response = fetch(client, url, limits)
        except FetchError as error:
            raise _input_error(f"cannot fetch {url}: {error}") from None
    html = "html" in (response.content_type or "")
    return _from_bytes(response.content, url=response.url, html=html)


def _read_file(path: Path, max_bytes: int) -> _Input:
    # Within fetch's max_bytes, also after decompression, as a fetched page is.
    try:
        data = read_limited(path, max_bytes)
    except FetchError as error:
        raise _input_error(f"cannot read {path}: {error.message}") from None
    html = any(suffix in (".html", ".htm", ".xhtml") for suffix in path.suffixes) or None
    return _from_bytes(data, url=path.resolve().as_uri(), html=html)


def _looks_like_html(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def _from_bytes(data: bytes, *, url: str, html: bool | None) -> _Input:
    if html is None:
        html = _looks_like_html(data)
    if not html:
        return _Input("", data.decode("utf-8", errors="replace"))
    try:
        page = extract_article(data, url=url or "about:blank")
        if page is not None:
            return _Input(page.title, page.text, page.language)
        # Not an article (a listing, an index page): match what a reader would see.
        return _Input(*visible_text(data))
    except ExtractBudgetError as error:
        raise _input_error(f"page not read: {error}") from None


# -- output --------------------------------------------------------------------


def _json_result(query: Query, doc: Document, match: RuleMatch | None) -> dict[str, Any]:
    spans = match.spans if match else ()
    return {
        "query": query.text,
        "match": match is not None,
        "title": doc.title,
        "language": doc.language,
        "terms": list(matched_terms(doc, match)) if match else [],
        "spans": [
            {"field": s.field, "start": s.start, "end": s.end, "text": span_text(doc, s)}
            for s in spans
        ],
        "inflections": [
            {"text": i.text, "word": i.word, "language": i.language, "reason": i.reason}
            for i in (inflections(query, doc, match) if match else [])
        ],
    }


def explain_lines(query: Query, doc: Document, match: RuleMatch) -> list[str]:
    """One line per inflected form a `word~` found: the form, the rule word, why."""
    return [item.describe() for item in inflections(query, doc, match)]


def _language_line(doc: Document) -> str:
    if doc.language is None:
        return "language: unknown (Latin-script words stemmed as English, Cyrillic as Russian)"
    known = LANGUAGES.get(doc.language)
    if known is None:
        return f"language: {doc.language} (no stemmer: word~ stems only English and Russian)"
    return f"language: {doc.language} ({known.name})"


def _show(query: Query, doc: Document, match: RuleMatch | None) -> None:
    out = ui.stdout()
    if match is None:
        out.print("no match")
        return
    if not match.spans:
        out.print(Text.assemble(("match", "green"), " (by absence: nothing to highlight)"))
        return
    terms = ", ".join(matched_terms(doc, match))
    out.print(Text.assemble(("match", "green"), f": {terms}"))
    mark = ui.highlighter(ui.styled(out))
    for field, snippet in snippet_lines(doc, match.spans, mark):
        out.print(ui.marked(f"{field}: {snippet}"))
    explained = explain_lines(query, doc, match)
    if explained:
        out.print(_language_line(doc))
        for line in explained:
            out.print(f"inflected: {line}")


def snippet_lines(
    doc: Document, spans: Sequence[Span], mark: Callable[[str], str]
) -> list[tuple[Field, str]]:
    """(field, snippet) for the matches, title first: context around them, matches marked."""
    lines: list[tuple[Field, str]] = []
    for field in FIELDS:
        text = doc.field(field)
        for start, end, inside in _snippets(text, [s for s in spans if s.field == field]):
            lines.append((field, _render(text, start, end, inside, mark)))
    return lines


def _merge(spans: list[Span]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span.end)
        else:
            merged.append([span.start, span.end])
    return [(a, b) for a, b in merged]


def _snippets(text: str, spans: list[Span]) -> Iterator[tuple[int, int, list[tuple[int, int]]]]:
    """Windows of context around the matches; close matches share one window."""
    window: tuple[int, int, list[tuple[int, int]]] | None = None
    for start, end in _merge(spans):
        low, high = max(0, start - _CONTEXT), min(len(text), end + _CONTEXT)
        if window is not None and low <= window[1]:
            window = (window[0], high, [*window[2], (start, end)])
            continue
        if window is not None:
            yield window
        window = (low, high, [(start, end)])
    if window is not None:
        yield window


def _render(
    text: str, start: int, end: int, inside: list[tuple[int, int]], mark: Callable[[str], str]
) -> str:
    parts = ["…" if start > 0 else ""]
    position = start
    for a, b in inside:
        parts.append(text[position:a])
        parts.append(mark(text[a:b]))
        position = b
    parts.append(text[position:end])
    parts.append("…" if end < len(text) else "")
    return " ".join("".join(parts).split())


# -- batch ---------------------------------------------------------------------


def _batch(rules_file: Path, articles_file: Path) -> None:
    rules = _load_rules(rules_file)
    with ui.Progress(None, "matching") as progress:
        for number, article in _articles(articles_file):
            title, text = str(article.get("title") or ""), str(article.get("text") or "")
            declared = article.get("language")
            language = resolve_language(
                declared=declared if isinstance(declared, str) else None,
                text=f"{title}\n{text}",
            )
            doc = Document(title, "", text, language)
            matched = [m.rule_id for m in rules.match(doc, spans=False)]
            ui.emit_json({"id": article.get("id", number), "rules": matched})
            progress.advance()


def _load_rules(path: Path) -> RuleSet:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        _bad_rules(f"{path}: cannot read rules: {error}")
    entries = data.get("rules") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        _bad_rules(f"{path}: expected 'rules:' with a list of {{id, query}}")
    pairs = []
    for index, entry in enumerate(entries):
        if not (
            isinstance(entry, dict) and isinstance(entry.get("query"), str) and entry.get("id")
        ):
            _bad_rules(f"{path}: rule {index + 1}: needs an id and a query")
        pairs.append((str(entry["id"]), entry["query"]))
    try:
        return compile_rules(pairs)
    except QuerySyntaxError as error:
        raise bad_query(error, f"{path}: ") from None
    except ValueError as error:
        _bad_rules(f"{path}: {error}")


def _bad_rules(message: str) -> NoReturn:
    raise ui.Failure(message, hint="a rules file is `rules:` with a list of {id, query}")


def _articles(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with click.open_file(str(path), encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                article = json.loads(line)
            except json.JSONDecodeError as error:
                raise _input_error(f"{path}:{number}: not JSON: {error.msg}") from None
            if not isinstance(article, dict):
                raise _input_error(f"{path}:{number}: expected a JSON object")
            yield number, article
