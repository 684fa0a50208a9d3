"""One proxied exchange, and the `reply:` mapping that replays it (docs/scenario-contract.md §4, §5, §9).

A JSON answer becomes content, stop reason, ids and usage. An error answer becomes the error
envelope's fields when the envelope a replay builds holds all it held; any other (a proxy's page,
a gateway's own JSON, bytes that are not UTF-8) is kept as its body, to replay byte for byte. A
stream also keeps its deltas as received (`chunks`, `input_chunks`) and its timing (`recorded:`),
counted over the events mockbay re-renders: pings and events mockbay cannot replay (citations,
unknown blocks) are left out and their time folds into the next kept event. A stream cut by an
`event: error`, by the upstream closing early or by a silence (a `stall`) becomes a `fault`; a
JSON answer the client gave up waiting for is a `stall` fault alone, replayed as no answer. Every
string is scrubbed here, as the one place replies are built; when scrubbing changes a streamed
block, its deltas collapse into one so no key survives a split. Standard library only (plus the
scrubber); no I/O.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from mockbay.blocks import KINDS, Received
from mockbay.blocks.results import Raw
from mockbay.blocks.tools import ServerToolUse
from mockbay.journal import replayed_headers
from mockbay.platforms import ANTHROPIC, BEDROCK
from mockbay.record.scrub import Scrubber
from mockbay.render.usage import build_usage
from mockbay.scenario.keys_reply import REPLY
from mockbay.scenario.model import OMITTABLE_USAGE, STOP_REASONS
from mockbay.scenario.spec import Obj
from mockbay.usage.cache import CacheOutcome
from mockbay.wire.errors import pair_for

log = logging.getLogger(__name__)

_MESSAGE_FIELDS = ("stop_details", "container", "context_management", "diagnostics")
# Keys inside those objects whose null a scenario can state (`nullable` in the reply's spec, as
# diagnostics' cache_miss_reason: null, "diagnosis pending"): recorded as null. Any other null is
# the key left out, for mockbay's default.
_KEEPS_NULL = {
    key: frozenset(name for name, spec in fields.fields.items() if spec.nullable)
    for key in _MESSAGE_FIELDS
    if isinstance(fields := REPLY.fields[key], Obj)
}
REPLY_ORDER: tuple[str, ...] = ("content", "error", "stop_reason", "stop_sequence", *_MESSAGE_FIELDS)
REPLY_ORDER += ("id", "model", "usage", "headers", "recorded", "fault")
_USAGE_COUNTERS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
_CACHE_TTLS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")
_USAGE_OBJECTS = {
    "server_tool_use": ("web_search_requests", "web_fetch_requests"),
    "output_tokens_details": ("thinking_tokens",),
}
# What the scenario format accepts (schema.py, checked by a test); other values are left out.
SERVICE_TIERS = ("standard", "priority", "batch")
SPEEDS = ("standard", "fast")


@dataclass(frozen=True, slots=True, kw_only=True)
class TimedEvent:
    """One SSE event's data and when it arrived, in ms since the request was sent."""

    offset_ms: float
    data: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """A request as sent (fingerprinted, never written) and what upstream answered.

    `body` is the answer parsed, when it is a JSON object, and `raw` its bytes as they came;
    `events` is set (possibly empty) when the answer was a stream. `platform` is the wire it came
    on, whose error envelope a replay builds. `stalled` says how a stream with no end stopped: it
    went quiet until the client or the recorder gave up (a `stall`), rather than its connection
    closing (a `disconnect`); with no `events`, that the client gave up before a JSON answer was
    whole, so there is none to keep. Request headers are not kept: replays match on the body's
    fingerprint, and the proxy names the group before an exchange is built.
    """

    request: dict[str, Any]
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    raw: bytes = b""
    events: tuple[TimedEvent, ...] | None = None
    stalled: bool = False
    platform: str = ANTHROPIC


@dataclass(slots=True)
class _StreamBlock:
    """A content block as the stream built it, with the positions of its events."""

    start: dict[str, Any]
    deltas: list[dict[str, Any]] = field(default_factory=list)
    delta_positions: list[int] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)


def reply_for(exchange: Exchange, scrubber: Scrubber) -> dict[str, Any]:
    """The scrubbed `reply:` mapping for one exchange, keys in reading order."""
    if exchange.stalled and exchange.events is None:  # no answer came: none is replayed either
        return {"fault": {"kind": "stall"}}
    if exchange.status >= 400:
        reply = (
            _error_reply(exchange.status, exchange.body, scrubber)
            if exchange.body is not None and _enveloped(exchange.body, exchange.platform)
            else _raw_error_reply(exchange.status, exchange.raw, exchange.headers, scrubber)
        )
    elif exchange.events is not None:
        reply = _stream_reply(exchange.events, exchange.request, scrubber, exchange.stalled)
    else:
        body = exchange.body or {}
        reply = _message_fields(body, exchange.request, body.get("content") or [], scrubber)
        reply["content"] = _blocks([_StreamBlock(b) for b in body.get("content", [])], scrubber, False)[0]
    headers = replayed_headers(scrubber.headers(exchange.headers))
    if headers:
        reply["headers"] = headers
    return {key: reply[key] for key in REPLY_ORDER if key in reply}


_ENVELOPE_KEYS = frozenset({"type", "error", "request_id"})
_ERROR_KEYS = frozenset({"type", "message", "details"})


def _enveloped(body: dict[str, Any], platform: str) -> bool:
    """Whether the error envelope a replay builds on this wire holds all the body held: Bedrock's
    `{"message": ...}`, or Anthropic's `{"type": "error", "error": {type, message, details:
    {error_code}}, "request_id"}` (the request id is minted anew); the message not empty, since
    an empty one replays as upstream's usual text. A gateway's JSON of another shape (`{"detail":
    ...}`, Kong's `{"message": ...}` on the first-party wire, Google's `{"error": {"code": ...}}`)
    or an envelope with more in it is not: it is kept as sent."""
    if platform == BEDROCK:
        return body.keys() == {"message"} and _words(body["message"])
    error = body.get("error")
    if body.get("type") != "error" or not body.keys() <= _ENVELOPE_KEYS or not isinstance(error, dict):
        return False
    details = error.get("details", {"error_code": "absent"})
    return (
        error.keys() <= _ERROR_KEYS
        and _words(error.get("type"))
        and _words(error.get("message"))
        and isinstance(details, dict)
        and details.keys() == {"error_code"}
        and _words(details["error_code"])
    )


def _words(value: object) -> bool:
    return isinstance(value, str) and value != ""


def _raw_error_reply(
    status: int, raw: bytes, headers: Mapping[str, str], scrubber: Scrubber
) -> dict[str, Any]:
    """An error answer the envelope cannot repeat (a proxy's HTML 502, an empty 504, a gateway's
    own JSON): its body and content type as sent, so the replay repeats them rather than an
    envelope upstream never sent. Bytes that are not UTF-8 are scrubbed around (their invalid
    bytes kept as they are) and written as `body: {base64: ...}`, which YAML text cannot hold."""
    scrubbed = scrubber.text(raw.decode("utf-8", "surrogateescape")).encode("utf-8", "surrogateescape")
    try:
        body: str | dict[str, str] = scrubbed.decode("utf-8")
    except UnicodeDecodeError:
        body = {"base64": base64.b64encode(scrubbed).decode("ascii")}
    error: dict[str, Any] = {"status": status, "body": body}
    content_type = {k.lower(): v for k, v in headers.items()}.get("content-type")
    if content_type:
        error["content_type"] = content_type
    return {"error": error}


def _error_reply(status: int, body: dict[str, Any], scrubber: Scrubber) -> dict[str, Any]:
    """An error whose body `_enveloped` found the replay's envelope to hold."""
    error = body.get("error")
    if isinstance(error, dict):
        _, error_type = pair_for(status, error["type"])
        message = error["message"]
    else:  # Bedrock's {"message": ...}
        _, error_type = pair_for(status, None)
        message = body["message"]
    return {"error": {"status": status, **_error_fields(error_type, message, error, scrubber)}}


def _error_fields(
    error_type: str, message: str, error: dict[str, Any] | None, scrubber: Scrubber
) -> dict[str, Any]:
    """An error's type, scrubbed message and, when the wire's `error.details` has one, its
    `error_code` (which the SDK picks an exception class by)."""
    fields = {"type": error_type, "message": scrubber.text(message)}
    details = error.get("details") if error is not None else None
    code = details.get("error_code") if isinstance(details, dict) else None
    if isinstance(code, str) and code:
        fields["error_code"] = scrubber.text(code)
    return fields


def _event_error(data: dict[str, Any], scrubber: Scrubber) -> dict[str, Any]:
    """A stream's `event: error` as a fault's error: type, message and error_code, which the
    replay's envelope repeats (its request id minted anew). What else the event carried (another
    shape, more keys) a fault's error cannot hold: it is logged and left out, and the replay sends
    the envelope of the error's type (api_error when it names none)."""
    error = data.get("error")
    fields = error if isinstance(error, dict) else {}
    error_type = fields.get("type") if _words(fields.get("type")) else "api_error"
    message = fields.get("message") if isinstance(fields.get("message"), str) else ""
    if not _enveloped(data, ANTHROPIC):
        log.warning("an error event is recorded as its type and message alone, not as sent: %s", data)
    return _error_fields(str(error_type), str(message), fields, scrubber)


def _message_fields(
    message: dict[str, Any], request: dict[str, Any], blocks: list[Any], scrubber: Scrubber
) -> dict[str, Any]:
    """Everything of a Message but its content (`blocks`, as the wire has them); None fields are
    left to mockbay's defaults."""
    fields: dict[str, Any] = {}
    for key in ("stop_reason", "stop_sequence", "id", "model"):
        if message.get(key) is not None:
            fields[key] = scrubber.text(str(message[key]))
    if fields.get("stop_reason", STOP_REASONS[0]) not in STOP_REASONS:
        log.warning("stop_reason %r not recorded: scenarios cannot give it", fields.pop("stop_reason"))
    for key in _MESSAGE_FIELDS:
        if isinstance(message.get(key), dict):
            kept = _KEEPS_NULL.get(key, frozenset())
            fields[key] = scrubber.json({k: v for k, v in message[key].items() if v is not None or k in kept})
    usage = message.get("usage")
    if isinstance(usage, dict):
        fields["usage"] = _usage(usage, request, blocks)
    return fields


def _usage(usage: dict[str, Any], request: dict[str, Any], blocks: list[Any]) -> dict[str, Any]:
    """The counters the scenario format has (model.UsageSpec; others are not replayable), and as
    `omit` those mockbay would compute for this request and content that the original did not
    carry, so the replay carries no more than it did."""
    out: dict[str, Any] = {k: usage[k] for k in _USAGE_COUNTERS if usage.get(k) is not None}
    cache_creation = usage.get("cache_creation")
    if isinstance(cache_creation, dict):
        out["cache_creation"] = {
            k: cache_creation[k] for k in _CACHE_TTLS if cache_creation.get(k) is not None
        }
    if usage.get("service_tier") in SERVICE_TIERS:
        out["service_tier"] = usage["service_tier"]
    for key, counters in _USAGE_OBJECTS.items():
        if isinstance(usage.get(key), dict):
            out[key] = {k: usage[key][k] for k in counters if isinstance(usage[key].get(k), int)}
    if isinstance(usage.get("inference_geo"), str) and usage["inference_geo"] not in ("", "not_available"):
        out["inference_geo"] = usage["inference_geo"]
    if usage.get("speed") in SPEEDS:
        out["speed"] = usage["speed"]
    if isinstance(usage.get("fallback_credit"), dict) and "status" in usage["fallback_credit"]:
        out["fallback_credit"] = usage["fallback_credit"]
    if isinstance(usage.get("iterations"), list):
        out["iterations"] = [attempt for attempt in usage["iterations"] if isinstance(attempt, dict)]
    calls = any(isinstance(b, dict) and b.get("type") == ServerToolUse.TYPE for b in blocks)
    computed = build_usage(
        CacheOutcome(input_tokens=0), 0, None, server_tool_use={} if calls else None, body=request
    )
    omitted = [key for key in OMITTABLE_USAGE if key in computed and usage.get(key) is None]
    if omitted:
        out["omit"] = omitted
    return out


@dataclass(slots=True)
class _StreamWalk:
    """The message a stream assembles (docs/wire.md §5.3, §5.4), event by event."""

    message: dict[str, Any] = field(default_factory=dict)
    blocks: dict[int, _StreamBlock] = field(default_factory=dict)
    dropped: set[int] = field(default_factory=set)
    error: dict[str, Any] | None = None
    stopped: bool = False

    def feed(self, position: int, data: dict[str, Any]) -> None:
        kind, block = data.get("type"), self.blocks.get(data.get("index", -1))
        if kind == "message_start":
            self.message = dict(data.get("message", {}))
        elif kind == "content_block_start":
            self.blocks[data["index"]] = _StreamBlock(dict(data["content_block"]), positions=[position])
        elif kind == "content_block_delta" and block is not None:
            block.deltas.append(dict(data.get("delta") or {}))
            block.delta_positions.append(position)
        elif kind == "content_block_stop" and block is not None:
            block.positions.append(position)
        elif kind == "message_delta":
            delta = data.get("delta", {})
            self.message.update(
                {k: delta[k] for k in ("stop_reason", "stop_sequence", *_MESSAGE_FIELDS) if k in delta}
            )
            if data.get("context_management") is not None:
                self.message["context_management"] = data["context_management"]
            usage = dict(self.message.get("usage") or {})  # totals, not increments: later values win
            usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
            self.message["usage"] = usage
        elif kind == "message_stop":
            self.stopped = True
        elif kind == "error":
            self.error = data
        else:
            self.dropped.add(position)


def streamed_message(events: tuple[TimedEvent, ...]) -> dict[str, Any]:
    """The message a stream's events assemble, as a client's accumulator builds it: the start's
    fields and each block with its deltas applied. What a recorded thread holds of a streamed
    turn (`record/proxy.py`); unrecorded, unscrubbed, never written."""
    walk = _StreamWalk()
    for position, event in enumerate(events):
        walk.feed(position, event.data)
    return {**walk.message, "content": [_assembled(walk.blocks[i]) for i in sorted(walk.blocks)]}


_JOINED_DELTAS = {"text_delta": "text", "thinking_delta": "thinking"}  # delta type -> the key it extends


def _assembled(block: _StreamBlock) -> dict[str, Any]:
    """A block's start with its deltas applied: text and thinking joined, the last signature,
    citations appended, and streamed tool input parsed (the start's, if it does not parse)."""
    out = dict(block.start)
    pieces: list[str] = []
    for delta in block.deltas:
        kind = delta.get("type")
        if kind in _JOINED_DELTAS:
            key = _JOINED_DELTAS[kind]
            out[key] = str(out.get(key) or "") + str(delta.get(key, ""))
        elif kind == "input_json_delta":
            pieces.append(str(delta.get("partial_json", "")))
        elif kind == "signature_delta":
            out["signature"] = delta.get("signature")
        elif kind == "citations_delta":
            out["citations"] = [*(out.get("citations") or []), delta.get("citation")]
    if "".join(pieces).strip():
        with contextlib.suppress(ValueError):
            out["input"] = json.loads("".join(pieces))
    return out


def _stream_reply(
    events: tuple[TimedEvent, ...], request: dict[str, Any], scrubber: Scrubber, stalled: bool
) -> dict[str, Any]:
    walk = _StreamWalk()
    timed: list[TimedEvent] = []
    for event in events:
        if event.data.get("type") != "ping" and walk.error is None:  # nothing follows an error
            walk.feed(len(timed), event.data)
            timed.append(event)
    starts = [walk.blocks[i].start for i in sorted(walk.blocks)]
    reply = _message_fields(walk.message, request, starts, scrubber)
    reply["content"], unreplayed = _blocks([walk.blocks[i] for i in sorted(walk.blocks)], scrubber, True)
    kept = [round(float(e.offset_ms), 1) for i, e in enumerate(timed) if i not in walk.dropped | unreplayed]
    if kept:
        reply["recorded"] = {"ttft_ms": kept[0], "gaps_ms": [round(b - a, 1) for a, b in pairwise(kept)]}
    if walk.error is not None:
        error = _event_error(walk.error, scrubber)
        reply["fault"] = {"kind": "error_event", "after_events": len(kept) - 1, "error": error}
    elif not walk.stopped:
        reply["fault"] = {"kind": "stall" if stalled else "disconnect", "after_events": len(kept)}
    return reply


def _blocks(
    blocks: list[_StreamBlock], scrubber: Scrubber, streamed: bool
) -> tuple[list[dict[str, Any]], set[int]]:
    """Scenario content blocks, and the event positions that no longer exist in the replay.

    Each block's kind reads it back (blocks.KINDS) and says how many of its deltas the replay
    sends; the rest of its delta events are not replayed. A kind with no class is kept as `raw`.
    """
    content: list[dict[str, Any]] = []
    unreplayed: set[int] = set()
    for block in blocks:
        kind = KINDS.get(str(block.start.get("type")), Raw)
        if kind is Raw and block.deltas:
            log.warning("a %r block's deltas are not recorded: raw keeps its start", block.start.get("type"))
        entry, deltas = kind.record(Received(block.start, tuple(block.deltas)), scrubber, streamed)
        unreplayed.update(block.delta_positions[deltas:])
        content.append(entry)
    return content, unreplayed
