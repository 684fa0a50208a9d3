"""Multipart form bodies of the upload endpoints (/v1/files, /v1/skills), read under a byte cap.

Faults of the client's body are 400s that say what is wrong (docs/wire-notes.md, Files), never a
500: aiohttp's reader raises a variety of exceptions for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from email.utils import collapse_rfc2231_value

from aiohttp import BodyPartReader, MultipartReader, StreamReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import BadContentDispositionHeader, BadContentDispositionParam

from mockbay.server.upload import BODY_FAULTS, coding, read_capped, too_large, unreadable
from mockbay.wire.fieldtypes import bad

DISPOSITION = "content-disposition"
# What aiohttp's reader warns about a first part's Content-Disposition (its `_charset_` check),
# raised where warnings are errors; it raises RuntimeError for a long `_charset_` value.
MALFORMED_DISPOSITION = (BadContentDispositionHeader, BadContentDispositionParam)
NAMELESS_PART = (
    'multipart: a part without a name; each part needs Content-Disposition: form-data; name="..." '
    "(a body cut short after a boundary ends in one)"
)


@dataclass(frozen=True, slots=True)
class FormPart:
    """One part as sent: its field name, filename (as given, paths included), type and bytes."""

    name: str
    filename: str
    content_type: str
    content: bytes


async def read_form(request: web.Request, limit: int, accepts: Callable[[str], bool]) -> list[FormPart]:
    """The parts in order; the body stays under `limit`, and a field `accepts` refuses is a 400."""
    if not request.content_type.startswith("multipart/"):
        raise bad("Content-Type: the upload must be multipart/form-data")
    parts: list[FormPart] = []
    total = 0
    try:
        reader = await _form_reader(request, limit)
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                raise bad("multipart: nested multipart bodies are not accepted")
            chunks = []
            while chunk := await part.read_chunk():
                total += len(chunk)
                if total > limit:
                    raise too_large()
                chunks.append(chunk)
            name, filename = _disposition(part.headers.get("Content-Disposition", ""))
            if not name:
                raise bad(NAMELESS_PART)
            if not accepts(name):
                raise bad(f"{name}: Extra inputs are not permitted")
            parts.append(FormPart(name, filename, part.headers.get("Content-Type", ""), b"".join(chunks)))
    except MALFORMED_DISPOSITION as exc:
        raise bad(
            f"There was an error parsing the multipart body: malformed Content-Disposition: {exc}"
        ) from None
    except (ValueError, AssertionError, LookupError, RuntimeError, HttpProcessingError) as exc:
        raise bad(f"There was an error parsing the multipart body: {exc}") from None
    except BODY_FAULTS as exc:
        raise unreadable(exc) from None
    return parts


async def _form_reader(request: web.Request, limit: int) -> MultipartReader:
    """The form as sent; a coded one is read whole under `limit` and decoded first, as aiohttp
    hands bodies over undecoded (`protocol.EnvelopeRunner`). The buffer's mark is `limit`, so
    feeding the whole body never pauses the connection."""
    if coding(request.headers) is None:
        return await request.multipart()
    stream = StreamReader(request.protocol, limit, loop=asyncio.get_running_loop())
    stream.feed_data(await read_capped(request, limit))
    stream.feed_eof()
    return MultipartReader(request.headers, stream)


def _disposition(header: str) -> tuple[str, str]:
    """(field name, filename) from a part's Content-Disposition, read by the stdlib's lenient
    parser: aiohttp's (`part.name`) warns about a malformed one, which is an exception where
    warnings are errors (a test suite), and drops it. Undecodable bytes read as U+FFFD."""
    message = Message()
    message[DISPOSITION] = header
    name = message.get_param("name", "", header=DISPOSITION)
    return collapse_rfc2231_value(name), message.get_filename("")
