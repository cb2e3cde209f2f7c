"""`wirewatch notify-test`: does every target receive what wirewatch sends?"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from worker.cli.common import config_option, load_or_exit
from worker.models import Article, Span
from worker.notify import AlertContent, render_alert, send

__all__ = ["command"]

_SAMPLE_BODY = (
    "This is a test alert from wirewatch. If you can read it, alerts for your rules "
    "will arrive here. A matched term such as S-300 is highlighted like this one."
)


@click.command("notify-test")
@click.option("--tag", default=None, help="Only the targets with this tag.")
@config_option
def command(tag: str | None, config_path: Path | None) -> None:
    """Send a test alert to each target; exit 1 if any failed."""
    config = load_or_exit(config_path)
    targets = [t for t in config.targets if tag is None or tag in t.tags]
    if not targets:
        click.echo("no targets" + (f" tagged {tag!r}" if tag else "") + " in apprise.yml", err=True)
        sys.exit(1)
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
    failed = 0
    for target in targets:
        result = send(target, render_alert(alert, target.format, config.settings.zone))
        failed += not result.ok
        mark = click.style("sent  ", fg="green") if result.ok else click.style("FAILED", fg="red")
        click.echo(f"{mark} {target.safe_url}" + ("" if result.ok else f": {result.detail}"))
    sys.exit(1 if failed else 0)
