"""Reading a response body within a byte limit and a deadline, decompressing in bounded steps."""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator

import httpx

from worker.errors import FetchError

__all__ = ["read_limited"]


def read_limited(url: str, response: httpx.Response, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(url, "too-large", f"declared {declared} bytes, limit is {max_bytes}")
    chunks: list[bytes] = []
    size = 0
    # Decompressed data is counted, so a gzip bomb hits the limit too.
    for chunk in _decoded(url, response):
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(url, "too-large", f"body exceeds {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise FetchError(url, "timeout", "body not complete within the deadline")
        chunks.append(chunk)
    return b"".join(chunks)


# Decompressed output per step: a 64 KiB chunk of a gzip bomb could otherwise
# expand to 64 MB in one call, per worker thread, before any limit is checked.
_DECODE_STEP = 256 * 1024


def _decoded(url: str, response: httpx.Response) -> Iterator[bytes]:
    """The body, decompressed at most `_DECODE_STEP` bytes at a time."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding in ("", "identity"):
        yield from response.iter_raw()
        return
    if encoding in ("gzip", "x-gzip"):
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    elif encoding == "deflate":
        decoder = zlib.decompressobj()  # zlib-wrapped; raw deflate is retried below
    else:
        raise FetchError(url, "decode", f"unsupported Content-Encoding {encoding!r}")
    first = True
    try:
        for raw in response.iter_raw():
            if first and encoding == "deflate" and raw and (raw[0] & 0x0F) != 8:
                decoder = zlib.decompressobj(-zlib.MAX_WBITS)  # servers that send raw deflate
            first = False
            data = decoder.decompress(raw, _DECODE_STEP)
            while True:
                yield data
                if not decoder.unconsumed_tail:
                    break
                data = decoder.decompress(decoder.unconsumed_tail, _DECODE_STEP)
        yield decoder.flush()
    except zlib.error as exc:
        raise FetchError(url, "decode", f"body cannot be decompressed: {exc}") from exc
