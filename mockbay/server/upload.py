"""Request bodies under a cap, with upstream's 413 beyond it (docs/wire.md §3.3). Messages use the
app-wide 32 MB; batch creates and file uploads read their own body under their own cap.

A body's `Content-Encoding` is decoded here, not by aiohttp (`protocol.EnvelopeRunner` turns its
decoding off): aiohttp reads an unknown coding as identity, names a missing extra for `br` and
`zstd`, and takes a gzip stream cut short as whole. Upstream answers each with an `error_code`
(docs/wire.md §6.3) that the SDK turns into its own exception class.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.server.protocol import CLIENT_FAULTS, MAX_REASON, BodyTimeout, reason, timeout_error
from mockbay.wire.errors import default_message

IDENTITY = "identity"
# The codings mockbay decodes (the ones aiohttp decoded before), with zlib's window bits.
DECODED = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
RAW_DEFLATE = -zlib.MAX_WBITS
ZLIB_METHOD = 8
# What reading a body can raise for the client's doing: broken framing, or a body that stalled
BODY_FAULTS = (*CLIENT_FAULTS, BodyTimeout)


def too_large(error_code: str | None = None) -> ApiError:
    """The edge proxy's 413 (docs/wire.md §3.3), for a declared or an actual body over the limit."""
    return ApiError(
        413, "request_too_large", default_message(413, "request_too_large"), error_code=error_code
    )


def refuse_declared(headers: Mapping[str, str], limit: int) -> None:
    """A declared length over the cap is refused before the body is read, as the edge proxy does
    (aiohttp's parser has already refused a `content-length` that is not a number)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > limit:
        raise too_large()


def unreadable(exc: BaseException) -> ApiError:
    """A body the client did not send whole and well: one still arriving at the body timeout is
    upstream's 408 (the SDK retries it), one whose chunking or compression is broken a 400."""
    if isinstance(exc, BodyTimeout):
        return timeout_error(exc)
    return ApiError(400, "invalid_request_error", f"The request body could not be read: {reason(exc)}")


def quota_exceeded(held: str) -> ApiError:
    """A store of uploads full (files, skills): upstream's `storage_quota_exceeded`, with what
    mockbay holds at most and the flags that say so in `held`."""
    return ApiError(
        400,
        "invalid_request_error",
        f"Storage quota exceeded: mockbay holds at most {held}",
        error_code="storage_quota_exceeded",
    )


def unsupported(name: str) -> ApiError:
    """A coding mockbay does not decode (br and zstd among them: decoders it does not ship)."""
    shown = name if len(name) <= MAX_REASON else f"{name[:MAX_REASON]}…"
    return ApiError(
        400,
        "invalid_request_error",
        f"Unsupported Content-Encoding: {shown} (supported: {', '.join(DECODED)}, {IDENTITY})",
        error_code="request_body_encoding_unsupported",
    )


def invalid(name: str, why: str) -> ApiError:
    """A body that is not valid for its coding: the could-not-be-read 400, with upstream's code."""
    return ApiError(
        400,
        "invalid_request_error",
        f"The request body could not be read: invalid {name} data ({why})",
        error_code="request_body_encoding_invalid",
    )


def coding(headers: Mapping[str, str]) -> str | None:
    """The body's `Content-Encoding` in lower case; None for a body sent as is (no header, an
    empty one, `identity`). No header, the hot path, costs one lookup."""
    header = headers.get("content-encoding")
    if header is None:
        return None
    name = header.strip().lower()
    return None if not name or name == IDENTITY else name


def decoded(raw: bytes, headers: Mapping[str, str], limit: int) -> bytes:
    """`raw` decoded as its `Content-Encoding` says. Decoding stops one byte past `limit`, so a
    gzip bomb costs no more than the cap."""
    name = coding(headers)
    if name is None:
        return raw
    if name not in DECODED:
        raise unsupported(name)
    if not raw:
        return raw  # no bytes to decode, as aiohttp had it
    return _inflate(raw, name, limit)


def _window_bits(name: str, first: int) -> int:
    """A deflate body without the zlib header is read as raw deflate, as aiohttp read it."""
    if name == "deflate" and first & 0x0F != ZLIB_METHOD:
        return RAW_DEFLATE
    return DECODED[name]


def _inflate(raw: bytes, name: str, limit: int) -> bytes:
    """The whole stream, ended and with nothing after it; over `limit` once decoded is a 413."""
    decoder = zlib.decompressobj(_window_bits(name, raw[0]))
    try:
        body = decoder.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise invalid(name, str(exc).rpartition(": ")[2]) from None
    if len(body) > limit:
        raise too_large("request_body_too_large_after_decoding")
    if not decoder.eof:
        raise invalid(name, "the stream ends early")
    if decoder.unused_data:
        raise invalid(name, "bytes after the end of the stream")
    return body


async def read_capped(request: web.Request, limit: int) -> bytes:
    """The whole body, decoded; one that grows over the cap while read (chunked) is the same 413."""
    chunks, total = [], 0
    try:
        async for chunk in request.content.iter_any():
            total += len(chunk)
            if total > limit:
                raise too_large()
            chunks.append(chunk)
    except BODY_FAULTS as exc:
        raise unreadable(exc) from None
    return decoded(b"".join(chunks), request.headers, limit)
