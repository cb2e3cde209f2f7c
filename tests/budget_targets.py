"""Functions run under the extraction budget by tests/test_parse_budget.py.

They live in a module of their own because the budget's child process imports
them by name.
"""

from __future__ import annotations

from worker.parse.budget import within_budget


@within_budget
def spin(limit: int) -> int:
    """Counts to `limit`: far past any CPU budget for a large one."""
    count = 0
    while count < limit:
        count += 1
    return count


@within_budget
def hoard(megabytes: int) -> int:
    """Holds `megabytes` of memory at once."""
    return len(bytearray(megabytes << 20))


@within_budget
def refuse(message: str) -> None:
    raise ValueError(message)


@within_budget
def add(a: int, b: int = 0) -> int:
    return a + b
