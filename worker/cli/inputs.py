"""Reading a page from a local file within the limits a fetched page has.

A `.gz` file is inflated in bounded steps: a few hundred KB can inflate to
gigabytes, and `gzip.decompress` would hold them all before any check.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import BinaryIO

from worker.errors import FetchError

__all__ = ["read_limited"]

_CHUNK = 1 << 16
_GZIP = 16 + zlib.MAX_WBITS  # zlib's wbits for a gzip header and trailer


def read_limited(path: Path, max_bytes: int) -> bytes:
    """The file's bytes (inflated when it ends in .gz), at most `max_bytes` of them.

    Raises FetchError: kind "too-large" past the limit (as fetch does for a
    page), "unreadable" for a file that cannot be read or is not valid gzip.
    """
    try:
        with path.open("rb") as file:
            if path.suffix == ".gz":
                return _inflate(file, max_bytes, str(path))
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise FetchError(str(path), "unreadable", error.strerror or str(error)) from None
    if len(data) > max_bytes:
        raise FetchError(str(path), "too-large", f"file exceeds {max_bytes} bytes")
    return data


def _inflate(file: BinaryIO, max_bytes: int, name: str) -> bytes:
    inflater = zlib.decompressobj(_GZIP)
    out = bytearray()
    try:
        while not inflater.eof:
            chunk = inflater.unconsumed_tail or file.read(_CHUNK)
            if not chunk:
                raise FetchError(name, "unreadable", "gzip data ends early")
            # Never more than one byte past the limit, however well it compresses.
            out += inflater.decompress(chunk, max_bytes + 1 - len(out))
            if len(out) > max_bytes:
                raise FetchError(
                    name, "too-large", f"exceeds {max_bytes} bytes after decompression"
                )
    except zlib.error as error:
        raise FetchError(name, "unreadable", f"not valid gzip: {error}") from None
    return bytes(out)
