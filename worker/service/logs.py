"""What `wirewatch run` and the compose services print: one human line per event.

Event lines (a poll's summary, an alert sent, an error with its source) go to
the `wirewatch` logger; the package's own module loggers (`worker.*`) print
the same way. Celery's banners, its per-task received/succeeded lines and the
warnings meant for operators of raw Celery show only when verbose
(`wirewatch run -v`, or WIREWATCH_VERBOSE=1 for a compose service).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from celery.exceptions import SecurityWarning

from worker.models import DeliveryKey, DeliveryKind
from worker.notify.targets import Target

__all__ = [
    "EVENTS",
    "VERBOSE_ENV",
    "configure",
    "delivery_line",
    "masked_url",
    "quiet_celery_warnings",
    "target_kind",
    "verbose",
]

EVENTS = "wirewatch"
VERBOSE_ENV = "WIREWATCH_VERBOSE"

_HUMAN = "%(asctime)s %(message)s"
_VERBOSE = "[%(asctime)s: %(levelname)s/%(processName)s] %(name)s: %(message)s"


def verbose() -> bool:
    return os.environ.get(VERBOSE_ENV, "") not in ("", "0")


class _Human(logging.Formatter):
    """`2025-05-01 12:00:03 source=wire polled: 3 new`; warnings and errors say so."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        if record.levelno >= logging.WARNING:
            date, _, rest = line.partition(" ")
            time_, _, message = rest.partition(" ")
            return f"{date} {time_} {record.levelname.lower()}: {message}"
        return line


def configure(level: str | int, *, loud: bool) -> None:
    """Log to stderr: wirewatch's lines at `level`; everything else (Celery,
    kombu, httpx) only from WARNING on, unless `loud`."""
    handler = logging.StreamHandler(sys.stderr)
    if loud:
        handler.setFormatter(logging.Formatter(_VERBOSE))
    else:
        handler.setFormatter(_Human(_HUMAN, datefmt="%Y-%m-%d %H:%M:%S"))
        quiet_celery_warnings()
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level if loud else logging.WARNING)
    for name in (EVENTS, "worker"):
        logging.getLogger(name).setLevel(level)
    # httpx logs every request at INFO; the poll and article lines say what was fetched.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def quiet_celery_warnings() -> None:
    """Celery warns that a worker runs as root (a container's default) because
    pickled tasks would make that dangerous; wirewatch's tasks take JSON only."""
    if not verbose():
        warnings.filterwarnings("ignore", category=SecurityWarning)


def masked_url(url: str) -> str:
    """A Redis URL without its password, for the start line and messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:****@{host}"))


def target_kind(target: Target) -> str:
    """`email`, or the Apprise service's scheme (`slack`, `ntfy`, `json`...)."""
    scheme = target.safe_url.partition("://")[0].lower()
    return "email" if scheme in ("mailto", "mailtos") else scheme


def delivery_line(key: str, outcome: str, targets: Sequence[Target]) -> str:
    """`alert s300-iran -> analysts (email): sent`, from an outbox key and what `deliver` said."""
    parsed = DeliveryKey.parse(key)
    if parsed.kind == DeliveryKind.ALERT:
        what = f"alert {parsed.subject.partition(':')[0]}"
    elif parsed.kind == DeliveryKind.HEALTH:
        what = f"health notice source={parsed.subject.rpartition(':')[0]}"
    else:
        what = "digest"
    target = next((t for t in targets if t.id == parsed.target_id), None)
    # A target's id is a hash of its URL: its tags are what the user wrote.
    to = (
        f"{'+'.join(sorted(target.tags)) or target.id} ({target_kind(target)})"
        if target
        else parsed.target_id
    )
    said = "sent" if outcome.startswith("sent") else outcome
    return f"{what} -> {to}: {said}"
