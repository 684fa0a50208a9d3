"""The reply memo: a pure reply is a function of the request, so it is built once.

A reply is pure when nothing but the request decides it: a single `reply` (not a sequence), no
rate limits, no simulated cache, no fault, no `{{ request_id }}` in its text, and either a stream
(its schedule is drawn from the seed and the request too) or an instant JSON answer. Then the
same body bytes, pin and relevant headers always give the same message (ids derive from the seed
and the request), and validation, matching, rendering and scheduling can be skipped; a memoised
stream's encoded events are shared by every stream that replays them. The memo keeps the reply's
bytes (or events) and headers and the journal's findings, the parsed request body among them
(identical bytes parse to an equal body, so exchanges share it).
It is cleared whenever scenarios or the config change, and bounded (`--reply-memo`).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

from mockbay.journal import Exchange
from mockbay.scenario.model import ChunkedText, LiteralText, Reply
from mockbay.state import MemoizedReply, ServerState
from mockbay.timing import Scheduled

JOURNAL_FIELDS = ("body", "matched", "missed", "generated", "scenario", "step", "rule", "turn", "near_misses")
BETA_HEADER = "anthropic-beta"  # validation reads it (interleaved thinking)


def memo_key(state: ServerState, raw: bytes, headers: Mapping[str, str], pinned: str | None) -> Hashable:
    """Everything a pure reply depends on: body bytes, pin, and the headers validation or matching read."""
    read = tuple(headers.get(name) for name in state.selector.header_names)
    return raw, pinned, headers.get(BETA_HEADER), read


def is_pure(
    reply: Reply, *, stream: bool, timing_mode: str, limited: bool, cache_mode: str, sequenced: bool
) -> bool:
    """Whether the reply to this request is decided by the request alone (see the module docstring)."""
    request_decides = (stream or timing_mode == "instant") and cache_mode == "off"
    reply_decides = not limited and not sequenced and reply.fault is None
    return request_decides and reply_decides and not _mentions_request_id(reply)


def remember(
    state: ServerState,
    key: Hashable,
    headers: dict[str, str],
    exchange: Exchange,
    *,
    body: bytes = b"",
    events: tuple[Scheduled, ...] | None = None,
) -> None:
    fields = tuple((name, getattr(exchange, name)) for name in JOURNAL_FIELDS)
    memoized = MemoizedReply(body=body, events=events, headers=tuple(headers.items()), journal_fields=fields)
    state.memo.put(key, memoized)


def replay(memoized: MemoizedReply, exchange: Exchange) -> None:
    """Tell the journal what the first computation of this reply found."""
    for name, value in memoized.journal_fields:
        setattr(exchange, name, value)


def _mentions_request_id(reply: Reply) -> bool:
    for block in reply.content:
        source = block.text
        texts = (
            (source.value,)
            if isinstance(source, LiteralText)
            else source.pieces
            if isinstance(source, ChunkedText)
            else ()
        )
        if any("request_id" in text for text in texts):
            return True
    return False
