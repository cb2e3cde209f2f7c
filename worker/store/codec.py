"""redis-py types every reply as bytes | str; the client decodes, these say so to mypy."""

from __future__ import annotations

__all__ = ["mapping", "text", "texts"]


def text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def texts(values: object) -> list[str]:
    return [text(v) for v in values]  # type: ignore[attr-defined]


def mapping(data: object) -> dict[str, str]:
    return {text(k): text(v) for k, v in data.items()}  # type: ignore[attr-defined]
