"""An exchange as the shared journal keeps it: its journal JSON plus what was sent on the wire.

The inspector's detail and "save as scenario" need the reply as it left (a JSON answer's body, or
a stream's encoded events with their planned offsets, and the headers a replay repeats), so any
replica can answer them for any request id. The wire part rides in the same JSON, so
`--journal-max-mb` counts it; bytes go as text with `surrogateescape`, which keeps a Bedrock
frame's binary prelude exact.
"""

from __future__ import annotations

import json
from typing import Any

from mockbay.journal import Exchange, Offsets
from mockbay.timing import Scheduled

WIRE = "wire"  # the key the sent reply is kept under, beside the journal's own fields


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def pack(exchange: Exchange) -> str:
    """The JSON the shared journal stores for one finished exchange."""
    entry = exchange.to_json()
    events = exchange.sent_events
    entry[WIRE] = {
        "body": None if exchange.reply_body is None else _text(exchange.reply_body),
        "events": None if events is None else [[e.offset, _text(e.data), e.counted] for e in events],
        "headers": exchange.sent_headers,
    }
    return json.dumps(entry, default=str)


def listed(entry: dict[str, Any]) -> dict[str, Any]:
    """The journal list's view of a stored entry: the wire part left to the detail view."""
    entry.pop(WIRE, None)
    return entry


def unpack(entry: dict[str, Any]) -> Exchange:
    """The exchange back from its stored JSON, with the reply it sent."""
    wire = entry.pop(WIRE, None) or {}
    body, events = wire.get("body"), wire.get("events")
    for name in ("planned_offsets_ms", "observed_offsets_ms"):
        entry[name] = Offsets.of(entry[name])
    return Exchange(
        **entry,
        reply_body=None if body is None else _bytes(body),
        sent_events=None if events is None else tuple(Scheduled(o, _bytes(d), c) for o, d, c in events),
        sent_headers=wire.get("headers"),
    )
