"""A rendered message as the ordered SSE events of docs/wire.md §5 (the inverse of the SDK's accumulator).

message_start (usage with the prompt counts, output_tokens 1), then per block: content_block_start,
its deltas, content_block_stop; a ping after the first block start as upstream sends it; then
message_delta (running totals) and message_stop. Indexes are contiguous from 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockbay.blocks.base import Splitter
from mockbay.render.content import RenderedMessage
from mockbay.tokens import count_tokens

__all__ = ["PING", "PlannedEvent", "Splitter", "build_events", "message_json"]

PING: dict[str, Any] = {"type": "ping"}
# usage fields of message_delta, in order: the token counters and those the SDK's accumulators copy
_DELTA_USAGE = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "server_tool_use",
    "output_tokens_details",
    "fallback_credit",
    "iterations",
)


@dataclass(frozen=True, slots=True, eq=False)
class PlannedEvent:
    """One SSE event and how many output tokens it carries (timing spaces deltas by tokens)."""

    data: dict[str, Any]
    tokens: int = 0

    @property
    def is_delta(self) -> bool:
        return bool(self.data["type"] == "content_block_delta")


def message_json(message: RenderedMessage, usage: dict[str, Any]) -> dict[str, Any]:
    """The non-streaming body; field order as upstream's."""
    return {
        "id": message.id,
        "type": "message",
        "role": "assistant",
        "model": message.model,
        "content": [b.to_json() for b in message.blocks],
        "stop_reason": message.stop_reason,
        "stop_sequence": message.stop_sequence,
        "stop_details": _copy(message.stop_details),
        "container": _copy(message.container),
        **({"context_management": dict(message.context_management)} if message.context_management else {}),
        **({"diagnostics": dict(message.diagnostics)} if message.diagnostics is not None else {}),
        **(
            {"input_transformations": [dict(entry) for entry in message.input_transformations]}
            if message.input_transformations is not None
            else {}
        ),
        "usage": usage,
    }


def _copy(value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return dict(value) if value is not None else None


def build_events(message: RenderedMessage, usage: dict[str, Any], split: Splitter) -> list[PlannedEvent]:
    """Every event of the stream, in order; `split` cuts text into deltas where no chunks were given."""
    start = message_json(message, {**usage, "output_tokens": min(1, usage["output_tokens"])})
    start.update(content=[], stop_reason=None, stop_sequence=None, stop_details=None, container=None)
    events = [PlannedEvent({"type": "message_start", "message": start})]
    for index, block in enumerate(message.blocks):
        events.append(
            PlannedEvent({"type": "content_block_start", "index": index, "content_block": block.opening()})
        )
        if index == 0:
            events.append(PlannedEvent(PING))
        events.extend(
            PlannedEvent(
                {"type": "content_block_delta", "index": index, "delta": payload}, count_tokens(text)
            )
            for payload, text in block.deltas(split)
        )
        events.append(PlannedEvent({"type": "content_block_stop", "index": index}))
    final_usage = {k: usage[k] for k in _DELTA_USAGE if k in usage}  # `omit` may drop a cache counter
    # Every field of the delta, null ones too: the API's types make each one required (the
    # TypeScript SDK's stream helper copies `stop_details` as it comes, so a missing one reads
    # `undefined` where the JSON reply says null); both SDKs keep message_start's container on null.
    delta: dict[str, Any] = {
        "stop_reason": message.stop_reason,
        "stop_sequence": message.stop_sequence,
        "stop_details": _copy(message.stop_details),
        "container": _copy(message.container),
    }
    data: dict[str, Any] = {"type": "message_delta", "delta": delta, "usage": final_usage}
    if message.context_management:
        data["context_management"] = dict(message.context_management)
    events.append(PlannedEvent(data))
    events.append(PlannedEvent({"type": "message_stop"}))
    return events
