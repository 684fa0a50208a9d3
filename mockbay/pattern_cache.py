"""Request patterns in Python's `re` cache, bounded by size.

`re` keeps the last 512 patterns it compiled, by their text, for the life of the process; a
request's JSON Schema compiles its `pattern` values and `patternProperties` keys there
(`jsonschema` checks them with `re.search`, its metaschema's `regex` format with `re.compile`,
and the generate fallback reads them with `re.search`: regexgen.py). A client chooses them, up to
the body's 32 MB, so a step that compiled one longer than `CACHED_PATTERN_CHARS` clears the cache
as it ends (`re.purge`): what stays is at most 512 patterns of 1 KiB. Every string of the source
(keys too) is measured, so no pattern can slip past; mockbay's own patterns are compiled once
and held by their modules, so a purge costs them nothing.
Stdlib only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CACHED_PATTERN_CHARS = 1024


def holds_long_text(source: Any) -> bool:
    """Whether a JSON value (or a bare pattern) holds a string, key or value, longer than
    `CACHED_PATTERN_CHARS`; walked without recursion, as a schema may nest deep."""
    pending = [source]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if len(item) > CACHED_PATTERN_CHARS:
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


@contextmanager
def compiling(source: Any) -> Iterator[None]:
    """Around a step that compiles the patterns `source` holds (a schema, a pattern): once it
    ends, however it ends, `re` forgets them if one is too long to keep."""
    try:
        yield
    finally:
        if holds_long_text(source):
            re.purge()
