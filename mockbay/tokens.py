"""Output-side tokenisation: split text into token-sized pieces whose join is the text.

Used to count output tokens, to cut a reply at `max_tokens`, and to size stream deltas. A
piece is an optional leading space plus up to four word characters, one other character, or a
run of other whitespace: about 3.5-4 characters per token on English prose, close to upstream.
"""

from __future__ import annotations

import re
from functools import lru_cache

_PIECE = re.compile(r" ?\w{1,4}| ?[^\w\s]|\s+", re.UNICODE)


def split_tokens(text: str) -> list[str]:
    """Token pieces of `text`; `"".join(split_tokens(t)) == t` always holds."""
    return _PIECE.findall(text)


CACHED_TEXT_CHARS = 512  # longer texts are counted afresh; the cache holds at most ~2 MB of keys


def count_tokens(text: str) -> int:
    """Token pieces in `text`. Short texts (a scenario's reply, a stream's delta) recur with every
    request that renders them, so their counts are cached (4,096 entries)."""
    return _count_short(text) if len(text) <= CACHED_TEXT_CHARS else len(split_tokens(text))


@lru_cache(maxsize=4096)
def _count_short(text: str) -> int:
    return len(split_tokens(text))
