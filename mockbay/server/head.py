"""A JSON answer's HTTP/1.1 head written as bytes, as aiohttp's response object writes it.

For the protocol's inline answers (`inline`), which answer without aiohttp's request. aiohttp writes
the handler's headers in their order, then `Content-Type`, `Content-Length`, `Date` (its
once-a-second cached text) and `Server`, each name and value UTF-8 encoded by its C writer (which
leaves a lone surrogate out); a test compares the bytes of both paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import chain

from aiohttp import web
from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE

from mockbay.wire.headers import REFUSED_CHARACTERS

OK_LINE = b"HTTP/1.1 200 OK\r\n"
# What aiohttp refuses to write in a header (a potential header injection): the head is not written
FORBIDDEN = re.compile(f"[{REFUSED_CHARACTERS}]")
# Names the head writes itself, or the answer's own: a memo header with one of them is not inlined
OWN_NAMES = frozenset(
    {"request-id", "anthropic-organization-id", "anthropic-workspace-id", "content-type", "content-length"}
    | {"date", "server"}
)


def header_lines(headers: Iterable[tuple[str, str]]) -> bytes:
    """`name: value` lines, as aiohttp's C writer encodes them: UTF-8, a lone surrogate left out."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8", "ignore")


def writable_pairs(headers: Iterable[tuple[str, str]]) -> bool:
    """Whether aiohttp would write these headers: none holds a character it refuses (`FORBIDDEN`).
    One search over every name and value joined by a tab, which it allows: a refused character
    is in the joined text exactly when it is in one of them."""
    return FORBIDDEN.search("\t".join(chain.from_iterable(headers))) is None


def json_tail(headers: tuple[tuple[str, str], ...], body: bytes) -> bytes | None:
    """A JSON reply's own header lines and its `Content-Type` and `Content-Length`, encoded once;
    None when aiohttp would not write them so (a refused character, a name the head writes
    itself), so that reply is always answered by aiohttp."""
    own = _own_lines(headers)
    return None if own is None else own + b"Content-Length: %d\r\n" % len(body)


@lru_cache(maxsize=256)
def _own_lines(pairs: tuple[tuple[str, str], ...]) -> bytes | None:
    """A reply's own header lines and its `Content-Type`, or None (`json_tail`).

    Memoised because they are a function of the pairs alone, and the replies of one rule carry
    the same pairs (its provenance and its own headers), so a memo store need not check and encode
    them again; 256 entries of a few hundred bytes."""
    if any(name.lower() in OWN_NAMES for name, _ in pairs) or not writable_pairs(pairs):
        return None
    return header_lines(pairs) + b"Content-Type: application/json\r\n"


def date_and_server() -> bytes:
    """The last two header lines and the blank line that ends the head."""
    return _date_and_server(rfc822_formatted_time())


@lru_cache(maxsize=2)
def _date_and_server(date: str) -> bytes:
    """The lines for one second's date, encoded once: the date changes once a second, and two
    entries keep a second's lines while the next one starts."""
    return f"Date: {date}\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode()


def writable(response: web.Response) -> bool:
    """Whether aiohttp would write the response's headers (`writable_pairs`)."""
    return writable_pairs(response.headers.items())


def answer_bytes(response: web.Response) -> bytes:
    """A whole JSON answer (`writable`) as aiohttp writes it: the status line and the response's
    headers in their order, then `Content-Length`, `Date` and `Server` unless given, then the body."""
    body = response.body if isinstance(response.body, bytes) else b""
    given = response.headers  # a case-insensitive multidict: `in` ignores case, as aiohttp does
    headers = list(given.items())
    if "Content-Length" not in given:
        headers.append(("Content-Length", str(len(body))))
    if "Date" not in given:
        headers.append(("Date", rfc822_formatted_time()))
    if "Server" not in given:
        headers.append(("Server", SERVER_SOFTWARE))
    status_line = f"HTTP/1.1 {response.status} {response.reason}\r\n".encode()
    return status_line + header_lines(headers) + b"\r\n" + body
