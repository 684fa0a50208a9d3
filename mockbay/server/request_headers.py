"""A request's headers as every handler reads them: lower-case names, values safe to encode.

The journal keeps each exchange's headers (masked) as long as it keeps the exchange, and a client
sends the same names, and mostly the same values, on every request; the parser makes new strings
for them each time. Names and short values therefore come from two small LRU caches, so kept
exchanges share one copy of each: 0.9 KiB less per exchange for a typical SDK request (9 MB for
a full default journal of 10,000), at ~0.25 us per request. Safe because strings are immutable:
an equal string in place of another differs only by `is`, which nothing here reads. Bounded:
`SHARED_STRINGS` strings per cache, each at most `MEMO_KEY_CHARS` characters (longer ones are kept
as they came), so the caches hold under 1 MB whatever clients send.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from mockbay.lru import MEMO_KEY_CHARS

SHARED_STRINGS = 1024


@lru_cache(maxsize=SHARED_STRINGS)
def _lowered(name: str) -> str:
    """A header name in lower case, the same object for every request that sends it."""
    return name.lower()


@lru_cache(maxsize=SHARED_STRINGS)
def _shared(value: str) -> str:
    """The first-seen string equal to `value` (see the module docstring)."""
    return value


def lowered_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The request's headers by lower-case name, values made safe to encode (see header_text),
    names and short values shared between requests."""
    lowered = {
        _lowered(name) if len(name) <= MEMO_KEY_CHARS else name.lower(): (
            _shared(value) if len(value) <= MEMO_KEY_CHARS else value
        )
        for name, value in headers.items()
    }
    if not all(map(str.isascii, lowered.values())):
        return {name: header_text(value) for name, value in lowered.items()}
    return lowered


def header_text(value: str) -> str:
    """A header value whose bytes were not UTF-8 (aiohttp keeps them as lone surrogates) with
    U+FFFD in their place, so no later `.encode()` of a key or name can fail."""
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
