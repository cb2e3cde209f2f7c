"""Secrets never reach a worker's log: every line is masked where it is written.

Each log line of a worker process passes `MaskingFilter` on its way to a
handler: every `${NAME}` value of the config in force (`Config.secrets`,
with its URL-encoded forms) and the password of any `scheme://user:pass@`
URL (REDIS_URL) become `****`, and the line passes the one sanitizer, since
it quotes strangers' text (links, titles, server answers) that must not
drive the terminal showing the log. This covers lines written by third-party
code too (Apprise quoting a target URL, a traceback quoting a request), which
no call site could mask itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from worker.notify.sanitize import sanitize
from worker.secrets import Secrets, mask_url_password

__all__ = ["MaskingFilter", "mask_handlers"]


class MaskingFilter(logging.Filter):
    """Masks (and sanitizes) the message, its arguments and any traceback of each record."""

    def __init__(self, secrets: Callable[[], Secrets]) -> None:
        super().__init__()
        self._secrets = secrets

    def mask(self, text: str) -> str:
        return sanitize(mask_url_password(self._secrets().mask(text)))

    def filter(self, record: logging.LogRecord) -> bool:
        # The message is formatted here, once, so that a secret passed as an
        # argument is masked too; the record then carries only the result.
        record.msg = self.mask(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.mask(record.exc_text)
        if record.stack_info:
            record.stack_info = self.mask(record.stack_info)
        return True


def mask_handlers(logger: logging.Logger, secrets: Callable[[], Secrets]) -> None:
    """Put a MaskingFilter on each of `logger`'s handlers (once per handler).

    On the handlers, not the logger: a logger's filters see only the records
    logged on it, a handler's see every record that propagates to it.
    """
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter(secrets))
