"""Notifications: targets from apprise.yml, rendering alerts and digests, delivery.

The parts are pure except `send`, which makes exactly one Apprise call to
exactly one target and reports the outcome as a value.
"""

from __future__ import annotations

from worker.notify.escape import Format
from worker.notify.render import (
    AlertContent,
    DigestItem,
    Message,
    fit_message,
    render_alert,
    render_digest,
)
from worker.notify.send import SendResult, send
from worker.notify.targets import Target, choose_format, load_targets, targets_from_bytes

__all__ = [
    "AlertContent",
    "DigestItem",
    "Format",
    "Message",
    "SendResult",
    "Target",
    "choose_format",
    "fit_message",
    "load_targets",
    "render_alert",
    "render_digest",
    "send",
    "targets_from_bytes",
]
