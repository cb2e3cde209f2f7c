"""Package re-exports that import their module on first use.

A package's `__init__` names its public surface, but importing the package
must not import every part of it: `worker.config` needs `worker.fetch`'s
`origin_of`, and an eager `__init__` would load httpx, trafilatura and
Apprise into beat and the supervisor too (about 40 MB each, never used
there). Each package keeps its names for type checkers under
`TYPE_CHECKING` and resolves them at run time through `lazy_attribute`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

__all__ = ["lazy_attribute"]


def lazy_attribute(package: str, exports: Mapping[str, str], name: str) -> object:
    """`package.name`, imported from the submodule `exports` names for it."""
    module = exports.get(name)
    if module is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{package}.{module}"), name)
