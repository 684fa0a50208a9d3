"""Request bodies under a cap, with upstream's 413 beyond it (docs/wire.md §3.3). Messages use the
app-wide 32 MB; batch creates and file uploads read their own body under their own cap."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.server.protocol import CLIENT_FAULTS, reason
from mockbay.wire.errors import default_message


def too_large() -> ApiError:
    """The edge proxy's 413 (docs/wire.md §3.3), for a declared or an actual body over the limit."""
    return ApiError(413, "request_too_large", default_message(413, "request_too_large"))


def refuse_declared(headers: Mapping[str, str], limit: int) -> None:
    """A declared length over the cap is refused before the body is read, as the edge proxy does
    (aiohttp's parser has already refused a `content-length` that is not a number)."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdecimal() and int(declared) > limit:
        raise too_large()


def unreadable(exc: BaseException) -> ApiError:
    """A body whose chunking or compression is broken: the client's fault, a 400."""
    return ApiError(400, "invalid_request_error", f"The request body could not be read: {reason(exc)}")


async def read_capped(request: web.Request, limit: int) -> bytes:
    """The whole body; one that grows over the cap while read (chunked) is the same 413."""
    chunks, total = [], 0
    try:
        async for chunk in request.content.iter_any():
            total += len(chunk)
            if total > limit:
                raise too_large()
            chunks.append(chunk)
    except CLIENT_FAULTS as exc:
        raise unreadable(exc) from None
    return b"".join(chunks)
