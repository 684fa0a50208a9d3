"""Output-side tokenisation: split text into token-sized pieces whose join is the text.

Used to count output tokens, to cut a reply at `max_tokens`, and to size stream deltas. A
piece is an optional leading space plus up to four word characters, one other character, or a
run of other whitespace: about 3.5-4 characters per token on English prose, close to upstream.
"""

from __future__ import annotations

import re

_PIECE = re.compile(r" ?\w{1,4}| ?[^\w\s]|\s+", re.UNICODE)


def split_tokens(text: str) -> list[str]:
    """Token pieces of `text`; `"".join(split_tokens(t)) == t` always holds."""
    return _PIECE.findall(text)


def count_tokens(text: str) -> int:
    return len(split_tokens(text))
