"""`wirewatch notify-test`: does every target receive what wirewatch sends?"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click
from rich.text import Text

from worker.cli import ui
from worker.cli.common import config_option, json_option, load_or_fail
from worker.models import Article, Span
from worker.notify import AlertContent, render_alert, send

__all__ = ["command"]

_SAMPLE_BODY = (
    "This is a test alert from wirewatch. If you can read it, alerts for your rules "
    "will arrive here. A matched term such as S-300 is highlighted like this one."
)


@click.command("notify-test", short_help="Send a test alert to the targets.")
@click.option("--tag", default=None, help="Only the targets with this tag.")
@json_option
@config_option
def command(tag: str | None, as_json: bool, config_path: Path | None) -> None:
    """Send a test alert to each target in apprise.yml; exit 1 if any failed.

    Targets are shown by their URL with secrets masked. With --json, one
    line per target: target, ok, detail.

    \b
    Examples:
      wirewatch notify-test
      wirewatch notify-test --tag admin
    """
    config = load_or_fail(config_path)
    targets = [t for t in config.targets if tag is None or tag in t.tags]
    if not targets:
        tags = sorted(frozenset().union(*(t.tags for t in config.targets)))
        raise ui.Failure(
            "no targets" + (f" tagged {tag!r}" if tag else "") + " in apprise.yml",
            hint=f"tags in use: {', '.join(tags)}"
            if tag and tags
            else "add a target to apprise.yml (see the configuration reference, apprise.yml)",
            code=1,
        )
    start = _SAMPLE_BODY.index("S-300")
    alert = AlertContent(
        rule_id="notify-test",
        article=Article(
            id="notify-test",
            source_id="wirewatch",
            url="https://github.com/wirewatch/wirewatch",
            title="Test alert from wirewatch",
            summary="",
            body=_SAMPLE_BODY,
            published=datetime.now(UTC),
        ),
        spans=(Span("body", start, start + len("S-300")),),
        source_name="wirewatch",
    )
    out = ui.stdout()
    failed = 0
    with ui.Progress(len(targets), "sending") as progress:
        for target in targets:
            result = send(
                target,
                render_alert(alert, target.format, config.settings.zone),
                allow_private_networks=config.settings.allow_private_networks,
            )
            failed += not result.ok
            progress.advance()
            if as_json:
                ui.emit_json({"target": target.safe_url, "ok": result.ok, "detail": result.detail})
                continue
            line = Text("sent    ", style="green") if result.ok else Text("FAILED  ", style="red")
            line.append_text(
                ui.plain(target.safe_url + ("" if result.ok else f": {result.detail}"))
            )
            progress.print(out, line)
    raise SystemExit(1 if failed else 0)
