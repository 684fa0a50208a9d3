"""The reply memo: a pure reply is a function of the request, so it is built once.

A reply is pure when nothing but the request decides it: a single `reply` (not a sequence), no
rate limits, no simulated cache, no fault, no `{{ request_id }}` in its text, no file or
custom skill named in the request (either may be deleted before the same bytes come again), no
`thread` (answering it holds the conversation, `server/threads.py`), no server-side fallback
(its attempts may each be a sequence's step), and either a stream (its schedule
is drawn from the seed and the request too) or an instant JSON answer. Then the
same body bytes, pin and relevant headers always give the same message (ids derive from the seed
and the request), and validation, matching, rendering and scheduling can be skipped; a memoised
stream's encoded events are shared by every stream that replays them. The memo keeps the
decision that chose the reply (so a replay journals the same findings), the parsed request body
(identical bytes parse to an equal body, so exchanges share it), the reply's bytes or its plan,
its headers and warnings. Purity of the reply itself (`Reply.request_decides`) is computed once,
when the scenario is loaded.
It is cleared whenever scenarios or the config change, and bounded by entries (`--reply-memo`)
and by estimated bytes (`--reply-memo-max-mb`): the request bytes of its key and the header
values and pin beside them, the parsed body, and the reply's bytes (with its head, for the inline
answer) or events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from mockbay.journal import Exchange
from mockbay.server.decision import Decision
from mockbay.server.head import json_tail
from mockbay.server.plan import Plan
from mockbay.state import ServerState

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


@dataclass(frozen=True, slots=True, eq=False)
class Memoized:
    """A pure reply as first computed: its decision, the parsed request, and what was sent (a JSON
    body, or a stream's plan), with its headers (the reply's own, then its provenance) and warnings.
    `size` estimates its memory with its key, for the memo's byte cap."""

    decision: Decision
    request_body: Any
    body: bytes
    plan: Plan | None  # a stream's; None for a JSON reply
    headers: tuple[tuple[str, str], ...]
    warnings: tuple[str, ...]
    size: int
    # A JSON reply's header lines from its own to Content-Length, as bytes for the protocol's
    # inline answer (`server/inline.py`); None for a stream, or a head only aiohttp writes right
    json_head: bytes | None
    sent_headers: dict[str, str]  # those of its headers the journal keeps (`journal.replayed_headers`)

    def replay(self, exchange: Exchange) -> None:
        """Journal the replay as the first computation was journaled."""
        self.decision.record(exchange)
        exchange.body = self.request_body
        if self.warnings:
            exchange.warnings = list(self.warnings)


def memo_key(
    state: ServerState, raw: bytes, headers: Mapping[str, str], pinned: str | None, platform: str
) -> MemoKey:
    read = tuple(map(headers.get, state.selector.header_names))
    return MemoKey(platform, raw, pinned, headers.get(BETA_HEADER), read)


def key_text_size(key: MemoKey) -> int:
    """What the key's texts beside the body hold: the pin and header values a client chooses (up
    to 8 KiB each), which the memo's byte cap must count as it counts the body."""
    return len(key.pinned or "") + len(key.beta or "") + sum(map(len, filter(None, key.read)))


def is_pure(
    decision: Decision,
    *,
    stream: bool,
    timing_mode: str,
    limited: bool,
    cache_mode: str,
    names_stored: bool,
    threaded: bool,
    diagnosed: bool,
) -> bool:
    """Whether the reply to this request is decided by the request alone (see the module docstring);
    a threaded one is not, since answering it holds its conversation, nor one that asks for cache
    diagnostics, answered from and kept in the fingerprints."""
    request_decides = (stream or timing_mode == "instant") and cache_mode == "off" and not names_stored
    request_decides = request_decides and not (threaded or diagnosed) and not decision.attempts
    return request_decides and not limited and not decision.sequenced and decision.reply.request_decides


def remember(
    state: ServerState,
    key: MemoKey,
    decision: Decision,
    request_body: Any,
    headers: Mapping[str, str],
    warnings: tuple[str, ...],
    *,
    replayed: dict[str, str],
    body_weight: int,
    body: bytes = b"",
    plan: Plan | None = None,
) -> None:
    """Keep a pure reply with what the journal needs to record its replays: `replayed` holds those
    of its headers a saved scenario repeats (`journal.replayed_headers`), `body_weight` what the
    parsed request body holds (`parsed_size` of the key's bytes, weighed once for the journal)."""
    pairs = tuple(headers.items())
    json_head = json_tail(pairs, body) if plan is None else None
    size = ENTRY_OVERHEAD + len(key.raw) + body_weight + len(body) + len(json_head or b"")
    size += key_text_size(key)
    size += plan.due_bytes + EVENT_OVERHEAD * len(plan.due) if plan is not None else 0
    memoized = Memoized(decision, request_body, body, plan, pairs, warnings, size, json_head, replayed)
    state.memo.put(key, memoized)
