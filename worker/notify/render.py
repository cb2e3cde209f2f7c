"""Alert and digest messages in HTML (email), Markdown (chat) or plain text.

A body is a sequence of blocks joined by a blank line ("\\n\\n"), and no block
contains a blank line itself. In HTML the first and last block are the
document's head and tail. That lets `fit_message` shorten a message for a
service with a length limit at a block boundary without parsing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from zoneinfo import ZoneInfo

from worker.models import Article, Span
from worker.notify.escape import Format, escape, is_web_url, link_target, single_line
from worker.notify.snippets import Snippet, matched_terms, snippets

__all__ = [
    "AlertContent",
    "DigestItem",
    "Message",
    "fit_message",
    "render_alert",
    "render_digest",
]

BLOCK_SEPARATOR = "\n\n"
_HTML_DOCTYPE = "<!DOCTYPE html>"
_ELLIPSIS = "…"
# A Markdown hard line break. CommonMark renderers (Matrix, via Apprise) join
# plain newlines into one line; the two spaces are invisible everywhere else.
_MD_BREAK = "  \n"


@dataclass(frozen=True, slots=True)
class AlertContent:
    """What one alert is about: the rule, the article and where the rule matched."""

    rule_id: str
    article: Article
    spans: tuple[Span, ...]
    source_name: str
    also_reported_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestItem:
    alert: AlertContent
    at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    """A rendered notification. `title` is always plain single-line text (it becomes
    an email subject); `body` is in `format`. `link` is where the full text lives,
    used when the body has to be shortened."""

    title: str
    body: str
    format: Format
    link: str = ""


# ---------------------------------------------------------------- pieces


def _when(moment: datetime | None, tz: ZoneInfo) -> str:
    if moment is None:
        return "unknown"
    if moment.tzinfo is None:
        # Naive times in the pipeline are UTC by convention; never guess local time.
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def _highlight(piece: str, fmt: Format) -> str:
    # Markers go inside any surrounding spaces: Markdown ignores "** word**".
    core = piece.strip()
    if not core or fmt == "text":
        return escape(piece, fmt)
    lead, trail = piece[: len(piece) - len(piece.lstrip())], piece[len(piece.rstrip()) :]
    text = escape(core, fmt)
    if fmt == "html":
        # nowrap: a highlighted "S-300" must not break at its hyphen.
        style = "background-color:#fff0a0;color:inherit;white-space:nowrap"
        text = f'<mark style="{style}"><b>{text}</b></mark>'
    else:
        text = f"**{text}**"
    return f"{lead}{text}{trail}"


def _snippet(snippet: Snippet, fmt: Format) -> str:
    body = "".join(_highlight(p, fmt) if hit else escape(p, fmt) for p, hit in snippet.runs)
    before = _ELLIPSIS if snippet.cut_before else ""
    after = _ELLIPSIS if snippet.cut_after else ""
    text = f"{before}{body}{after}"
    if fmt == "text":
        # Pieces were made inert one by one; in plain text nothing separates
        # them, so "@" + a highlighted "everyone" must be checked joined.
        text = escape(text, fmt)
    if fmt == "html":
        style = "margin:12px 0;padding:0 0 0 12px;border-left:3px solid #c8c8c8;color:#333333"
        return f'<p style="{style}">{text}</p>'
    if fmt == "markdown":
        return f"> {text}"
    return text


def _link(url: str, fmt: Format, label: str = "Link") -> str:
    """The one link in a message, built by us from the article URL."""
    if not is_web_url(url):
        # Not something a reader should be sent to; show it, inert.
        return f"{label}: {escape(url, fmt)}"
    if fmt == "html":
        href = link_target(url, fmt)
        # A long URL wraps, preferably at its hyphens and slashes; break-all
        # would cut words in two ("agai-nst") even where a hyphen was near.
        style = "color:#0b57d0;overflow-wrap:anywhere;word-break:break-word"
        return f'{label}: <a href="{href}" style="{style}">{href}</a>'
    if fmt == "markdown":
        return f"{label}: [{escape(url.strip(), fmt, defuse=False)}]({link_target(url, fmt)})"
    return f"{label}: {link_target(url, fmt)}"


def _facts(rows: Sequence[tuple[str, str]], fmt: Format) -> str:
    """Label/value lines; values already escaped for `fmt`."""
    if fmt == "html":
        lines = "<br>\n".join(f"<b>{label}:</b> {value}" for label, value in rows)
        return f'<p style="margin:0 0 12px;color:#444444;font-size:15px">{lines}</p>'
    if fmt == "markdown":
        return _MD_BREAK.join(f"**{label}:** {value}" for label, value in rows)
    return "\n".join(f"{label}: {value}" for label, value in rows)


def _heading(text: str, fmt: Format, level: int = 1) -> str:
    line = escape(single_line(text), fmt)
    if fmt == "html":
        size = 20 if level == 1 else 17
        style = f"font-size:{size}px;line-height:1.3;margin:16px 0 8px"
        return f'<h{level} style="{style}">{line}</h{level}>'
    if fmt == "markdown":
        return f"**{line}**"
    return line


def _names(names: Sequence[str], fmt: Format) -> str:
    return ", ".join(escape(single_line(n), fmt) for n in names)


def _document(title: str, blocks: Sequence[str], fmt: Format) -> str:
    """Join blocks; for HTML wrap them in a small document that reads well on a phone."""
    blocks = [b.replace(BLOCK_SEPARATOR, "\n") for b in blocks if b]
    if fmt != "html":
        return BLOCK_SEPARATOR.join(blocks)
    head = "\n".join(
        [
            _HTML_DOCTYPE,
            '<html lang="en">',
            '<head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title, fmt)}</title></head>",
            '<body style="margin:0;padding:0;background-color:#f3f3f3">',
            '<div style="max-width:640px;margin:0 auto;padding:16px;background-color:#ffffff;'
            "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
            'font-size:16px;line-height:1.5;color:#1a1a1a;overflow-wrap:break-word">',
        ]
    )
    return BLOCK_SEPARATOR.join([head, *blocks, "</div>\n</body>\n</html>"])


def _title(rule_id: str, article_title: str) -> str:
    # Plain text, yet still defused: services show titles as they are, and
    # some ping on @everyone or linkify a bare URL there too.
    text = single_line(article_title) or "(untitled)"
    return single_line(escape(f"{rule_id}: {text}", "text"))


# ---------------------------------------------------------------- alerts


def render_alert(alert: AlertContent, fmt: Format, tz: ZoneInfo) -> Message:
    """One alert: title `<rule id>: <article title>`; facts, snippets, then the link."""
    article = alert.article
    title = _title(alert.rule_id, article.title)
    rows = [
        ("Source", escape(single_line(alert.source_name), fmt)),
        ("Published", _when(article.published, tz)),
    ]
    terms = matched_terms(article, alert.spans)
    if terms:
        rows.append(("Matched", _names(terms, fmt)))
    if alert.also_reported_by:
        rows.append(("Also reported by", _names(alert.also_reported_by, fmt)))
    blocks = [
        _heading(title, fmt),
        _facts(rows, fmt),
        *(_snippet(s, fmt) for s in snippets(article, alert.spans)),
        _wrap_paragraph(_link(article.url, fmt), fmt),
    ]
    # Plain text and Markdown services show the title themselves (or Apprise
    # puts it on top), so only the HTML document repeats it as a heading.
    if fmt != "html":
        blocks = blocks[1:]
    return Message(title, _document(title, blocks, fmt), fmt, link=article.url)


def _wrap_paragraph(text: str, fmt: Format) -> str:
    return f'<p style="margin:16px 0 0">{text}</p>' if fmt == "html" else text


# ---------------------------------------------------------------- digests


def _digest_entry(item: DigestItem, fmt: Format, tz: ZoneInfo) -> str:
    """One alert inside a digest, kept short: title, facts, first snippet, link."""
    alert, article = item.alert, item.alert.article
    head = escape(single_line(article.title) or "(untitled)", fmt)
    facts = [f"{escape(single_line(alert.source_name), fmt)}, {_when(article.published, tz)}"]
    terms = matched_terms(article, alert.spans)
    if terms:
        facts.append(f"Matched: {_names(terms, fmt)}")
    if alert.also_reported_by:
        facts.append(f"Also reported by: {_names(alert.also_reported_by, fmt)}")
    found = snippets(article, alert.spans)
    quote = _snippet(found[0], fmt) if found else ""
    link = _link(article.url, fmt)
    if fmt == "html":
        lines = "<br>\n".join([f"<b>{head}</b>", *facts])
        return f'<div style="margin:0 0 16px">{lines}\n{quote}\n{link}</div>'
    if fmt == "markdown":
        # The quote goes last: a line after "> ..." would join the quote.
        lines = _MD_BREAK.join(line for line in [f"**{head}**", *facts, link] if line)
        return f"{lines}\n{quote}" if quote else lines
    return "\n".join([f"- {head}", *(f"  {line}" for line in [*facts, quote, link] if line)])


def render_digest(
    items: Sequence[DigestItem], fmt: Format, tz: ZoneInfo, *, window_label: str
) -> Message:
    """One message for a digest window: alerts grouped by rule, each group in time order."""
    label = single_line(window_label)
    count = len(items)
    title = single_line(
        escape(f"wirewatch digest {label}: {count} alert{'' if count == 1 else 's'}", "text")
    )
    blocks = [_heading(title, fmt)] if fmt == "html" else []
    if not items:
        blocks.append(_wrap_paragraph(escape("No alerts in this window.", fmt), fmt))
    ordered = sorted(items, key=lambda i: (i.alert.rule_id, _sort_key(i.at)))
    for rule_id, group in groupby(ordered, key=lambda i: i.alert.rule_id):
        entries = list(group)
        blocks.append(_heading(f"{rule_id} ({len(entries)})", fmt, level=2))
        blocks.extend(_digest_entry(entry, fmt, tz) for entry in entries)
    return Message(title, _document(title, blocks, fmt), fmt)


def _sort_key(moment: datetime) -> float:
    # Mixed naive/aware datetimes cannot be compared; treat naive ones as UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC"))).timestamp()


# ---------------------------------------------------------------- length limits


def _suffix(message: Message) -> str:
    if message.link and is_web_url(message.link):
        return _wrap_paragraph(
            _link(message.link, message.format, f"{_ELLIPSIS} full text"), message.format
        )
    note = f"{_ELLIPSIS} shortened; the rest is in wirewatch alerts"
    return _wrap_paragraph(escape(note, message.format), message.format)


def _cut_words(text: str, room: int) -> str:
    cut = text[:room]
    space = cut.rfind(" ")
    return (cut[:space] if space > room // 2 else cut).rstrip()


def fit_message(message: Message, max_chars: int) -> Message:
    """Shorten the body to `max_chars` at a block boundary, ending with where to read on.

    Services with a hard limit drop or reject longer messages; a shortened
    alert that points at the article is better than none.
    """
    if max_chars <= 0 or len(message.body) <= max_chars:
        return message
    blocks = message.body.split(BLOCK_SEPARATOR)
    is_doc = message.format == "html" and message.body.startswith(_HTML_DOCTYPE) and len(blocks) > 1
    head, middle, tail = (blocks[:1], blocks[1:-1], blocks[-1:]) if is_doc else ([], blocks, [])
    suffix = _suffix(message)
    kept: list[str] = []
    for block in middle:
        if len(BLOCK_SEPARATOR.join([*head, *kept, block, suffix, *tail])) > max_chars:
            break
        kept.append(block)
    if not kept and middle and message.format != "html":
        # Not even the first block fits: cut inside it (an HTML block cannot
        # be cut without breaking its markup, so HTML keeps just the pointer).
        room = max_chars - len(suffix) - len(BLOCK_SEPARATOR) - len(_ELLIPSIS)
        kept = [_cut_words(middle[0], room) + _ELLIPSIS] if room > 0 else []
    body = BLOCK_SEPARATOR.join([*head, *kept, suffix, *tail])
    if len(body) > max_chars:
        # Even the pointer does not fit; the service will cut the rest.
        body = body[: max(0, max_chars - 1)] + _ELLIPSIS
    return Message(message.title, body, message.format, message.link)
