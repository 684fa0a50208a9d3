"""The reply memo: a pure reply is a function of the request, so it is built once.

A reply is pure when nothing but the request decides it: a single `reply` (not a sequence), no
rate limits, no simulated cache, no fault, no `{{ request_id }}` in its text, and either a stream
(its schedule is drawn from the seed and the request too) or an instant JSON answer. Then the
same body bytes, pin and relevant headers always give the same message (ids derive from the seed
and the request), and validation, matching, rendering and scheduling can be skipped; a memoised
stream's encoded events are shared by every stream that replays them. The memo keeps the reply's
bytes (or events) and headers and the journal's findings, the parsed request body among them
(identical bytes parse to an equal body, so exchanges share it).
It is cleared whenever scenarios or the config change, and bounded by entries (`--reply-memo`)
and by estimated bytes (`--reply-memo-max-mb`): the request bytes of its key, the parsed body,
and the reply's bytes or events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from mockbay.journal import Exchange
from mockbay.scenario.model import ChunkedText, LiteralText, Reply
from mockbay.server import provenance
from mockbay.server.stream import offset_ms
from mockbay.state import MemoizedReply, ServerState
from mockbay.timing import Scheduled
from mockbay.wire.jsonbody import parsed_size

JOURNAL_FIELDS: tuple[str, ...] = ("body", "matched", "missed", "generated", "scenario", "step", "rule")
JOURNAL_FIELDS += ("turn", "near_misses", "warnings")
BETA_HEADER = "anthropic-beta"  # validation reads it (interleaved thinking)
EVENT_OVERHEAD = 112  # bytes of one Scheduled tuple beside its data, and its planned offset
ENTRY_OVERHEAD = 512  # the key tuple, the record, its headers and journal findings


class MemoKey(NamedTuple):
    """Everything a pure reply depends on: the wire it came in on, body bytes, pin, and the headers
    validation or matching read."""

    platform: str
    raw: bytes
    pinned: str | None
    beta: str | None
    read: tuple[str | None, ...]


def memo_key(
    state: ServerState, raw: bytes, headers: Mapping[str, str], pinned: str | None, platform: str
) -> MemoKey:
    read = tuple(headers.get(name) for name in state.selector.header_names)
    return MemoKey(platform, raw, pinned, headers.get(BETA_HEADER), read)


def is_pure(
    reply: Reply, *, stream: bool, timing_mode: str, limited: bool, cache_mode: str, sequenced: bool
) -> bool:
    """Whether the reply to this request is decided by the request alone (see the module docstring)."""
    request_decides = (stream or timing_mode == "instant") and cache_mode == "off"
    reply_decides = not limited and not sequenced and reply.fault is None
    return request_decides and reply_decides and not _mentions_request_id(reply)


def remember(
    state: ServerState,
    key: MemoKey,
    headers: dict[str, str],
    exchange: Exchange,
    *,
    body: bytes = b"",
    events: tuple[Scheduled, ...] | None = None,
) -> None:
    """Keep a pure reply with the journal's findings; its headers are the reply's own followed by
    the `x-mockbay-*` provenance those findings give, so a replay adds them in one update."""
    fields = tuple((name, getattr(exchange, name)) for name in JOURNAL_FIELDS)
    headers = {**headers, **provenance.headers(exchange)}
    size = ENTRY_OVERHEAD + len(key.raw) + parsed_size(key.raw) + len(body)
    size += sum(len(event.data) + EVENT_OVERHEAD for event in events or ())
    memoized = MemoizedReply(
        body=body,
        events=events,
        planned_ms=tuple(offset_ms(event) for event in events or ()),
        headers=tuple(headers.items()),
        journal_fields=fields,
        size=size,
    )
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
