"""A JSON answer's HTTP/1.1 head written as bytes, as aiohttp's response object writes it.

For the protocol's inline memo hits (`inline`), which answer without that object. aiohttp writes
the handler's headers in their order, then `Content-Type`, `Content-Length`, `Date` (its
once-a-second cached text) and `Server`, each name and value UTF-8 encoded; a test compares the
bytes of both paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE

OK_LINE = b"HTTP/1.1 200 OK\r\n"
# What aiohttp refuses to write in a header (a potential header injection): the head is not written
FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Names the head writes itself, or the answer's own: a memo header with one of them is not inlined
OWN_NAMES = frozenset(
    {"request-id", "anthropic-organization-id", "anthropic-workspace-id", "content-type", "content-length"}
    | {"date", "server"}
)


def header_lines(headers: Iterable[tuple[str, str]]) -> bytes:
    """`name: value` lines, as aiohttp encodes them."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers).encode()


def json_tail(headers: Iterable[tuple[str, str]], body: bytes) -> bytes | None:
    """A JSON reply's own header lines and its `Content-Type` and `Content-Length`, encoded once;
    None when aiohttp would write them otherwise (a control character, a lone surrogate, a name
    the head writes itself), so that reply is always answered by aiohttp."""
    pairs = tuple(headers)
    if any(name.lower() in OWN_NAMES or FORBIDDEN.search(name + value) for name, value in pairs):
        return None
    try:
        lines = header_lines(pairs)
    except UnicodeEncodeError:
        return None
    return lines + b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)


def date_and_server() -> bytes:
    """The last two header lines and the blank line that ends the head."""
    return _date_and_server(rfc822_formatted_time())


@lru_cache(maxsize=2)
def _date_and_server(date: str) -> bytes:
    """The lines for one second's date, encoded once: the date changes once a second, and two
    entries keep a second's lines while the next one starts."""
    return f"Date: {date}\r\nServer: {SERVER_SOFTWARE}\r\n\r\n".encode()
