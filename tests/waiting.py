"""Waiting on conditions, never on the clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal, TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T | Literal[False] | None],
    timeout: float,
    what: str,
    interval: float = 0.1,
) -> T:
    """Return the first truthy value of `predicate`, or fail after `timeout` seconds.

    A predicate that answers None or False until the condition holds gives the
    value it then answers, typed without the None or False."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)
