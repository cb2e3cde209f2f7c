"""Notifications: targets from apprise.yml, rendering alerts and digests, delivery.

The parts are pure except `send`, which makes exactly one Apprise call to
exactly one target and reports the outcome as a value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from worker.lazy import lazy_attribute

# Imported now: once the submodule `send` is, the package's attribute `send`
# is that module, and `from worker.notify import send` would get it, not the
# function.
from worker.notify.send import SendResult, send

if TYPE_CHECKING:
    from worker.notify.escape import Format
    from worker.notify.render import (
        AlertContent,
        DigestItem,
        Message,
        fit_message,
        render_alert,
        render_digest,
    )
    from worker.notify.targets import Target, choose_format, load_targets, targets_from_bytes

# Each name's submodule, imported on first use (worker.lazy says why).
_EXPORTS = {
    "AlertContent": "render",
    "DigestItem": "render",
    "Format": "escape",
    "Message": "render",
    "Target": "targets",
    "choose_format": "targets",
    "fit_message": "render",
    "load_targets": "targets",
    "render_alert": "render",
    "render_digest": "render",
    "targets_from_bytes": "targets",
}

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


def __getattr__(name: str) -> object:
    return lazy_attribute(__name__, _EXPORTS, name)
