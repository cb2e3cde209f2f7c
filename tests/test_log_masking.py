"""MaskingFilter on a real handler: secrets (as arguments, in the message, in a
traceback), a REDIS_URL password and terminal escapes never reach the output."""

from __future__ import annotations

import io
import logging

from worker.secrets import Secrets
from worker.service.log_masking import mask_handlers

SECRET = "s3cr3t/with space"


def test_every_line_through_the_handler_is_masked_and_sanitized() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test-log-masking")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.handlers = [handler]
    mask_handlers(logger, lambda: Secrets.of([SECRET]))
    mask_handlers(logger, lambda: Secrets.of([SECRET]))  # once per handler
    assert len(handler.filters) == 1

    logger.warning("delivery failed: %s", f"https://h/hooks/{SECRET}?t=s3cr3t%2Fwith%20space")
    logger.warning("redis at redis://:pw-123@10.0.0.1:6379/0 unreachable")
    logger.warning("using the feed's text: bad link http://x/\x1b]52;c;ZXZpbA==\x07\u202e")
    try:
        raise ValueError(f"token {SECRET}")
    except ValueError:
        logger.exception("failed")
    out = stream.getvalue()
    for shown in (SECRET, "s3cr3t%2Fwith%20space", "pw-123", "\x1b", "\u202e", "ZXZpbA"):
        assert shown not in out, out
    assert out.count("****") == 4
    assert "ValueError: token ****" in out
