"""Build the assistant message of a reply: blocks, ids, signatures, cuts and stop_reason.

Upstream behaviour applied here (docs/scenario-contract.md §4): a reply longer than `max_tokens` is cut there
with `stop_reason: max_tokens`; a text containing a stop sequence is cut before it with
`stop_reason: stop_sequence`; a tool_use block makes the default stop_reason `tool_use`.
The result keeps each block's stream pieces, so the SSE events and the JSON agree by construction.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from mockbay.render import ids
from mockbay.render.text import TextContext, resolve
from mockbay.scenario.model import Block, Reply
from mockbay.tokens import count_tokens, split_tokens
from mockbay.wire.request import MessagesRequest


@dataclass(slots=True)
class RenderedBlock:
    """One output block; `pieces` are its stream deltas when the scenario fixed them."""

    type: str
    text: str = ""
    pieces: tuple[str, ...] | None = None
    signature: str = ""
    data: str = ""
    id: str = ""
    name: str = ""
    input: Any = None

    def to_json(self) -> dict[str, Any]:
        if self.type == "text":
            return {"type": "text", "text": self.text}
        if self.type == "thinking":
            return {"type": "thinking", "thinking": self.text, "signature": self.signature}
        if self.type == "redacted_thinking":
            return {"type": "redacted_thinking", "data": self.data}
        return {"type": "tool_use", "id": self.id, "name": self.name, "input": self.input}

    def output_tokens(self) -> int:
        if self.type in ("text", "thinking"):
            return count_tokens(self.text)
        if self.type == "redacted_thinking":
            return math.ceil(len(self.data) / 4)
        return count_tokens(self.name) + count_tokens(json.dumps(self.input, ensure_ascii=False))


@dataclass(slots=True)
class RenderedMessage:
    """The message before usage is attached (usage needs the request's prompt accounting)."""

    id: str
    model: str
    blocks: list[RenderedBlock]
    stop_reason: str
    stop_sequence: str | None = None
    output_tokens: int = 0
    extra_headers: dict[str, str] = field(default_factory=dict)


def render_message(
    reply: Reply, request: MessagesRequest, *, seed: int, fingerprint: str, request_id: str
) -> RenderedMessage:
    """The reply's blocks rendered for this request, cut as upstream would cut them."""
    ctx = TextContext(
        seed_material=f"{seed}:{fingerprint}",
        values={
            "last_user": request.last_user_text or "",
            "model": request.model,
            "turn": str(request.turn),
            "request_id": request_id,
        },
    )
    blocks = [_render_block(b, i, ctx, seed, fingerprint) for i, b in enumerate(reply.content)]
    blocks, stop_reason, stop_sequence = _apply_cuts(blocks, request)
    if stop_reason is None:
        stop_reason = reply.stop_reason or (
            "tool_use" if any(b.type == "tool_use" for b in blocks) else "end_turn"
        )
        stop_sequence = reply.stop_sequence
    produced = sum(b.output_tokens() for b in blocks)
    return RenderedMessage(
        id=reply.id or ids.message_id(seed, fingerprint),
        model=reply.model or request.model,
        blocks=blocks,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        output_tokens=produced if request.max_tokens == 0 else max(1, produced),
        extra_headers=dict(reply.headers),
    )


def _render_block(block: Block, index: int, ctx: TextContext, seed: int, fingerprint: str) -> RenderedBlock:
    if block.type in ("text", "thinking"):
        assert block.text is not None
        text, pieces = resolve(block.text, ctx, salt=str(index))
        signature = ""
        if block.type == "thinking":
            signature = block.signature or ids.thinking_signature(seed, fingerprint, index, text)
        return RenderedBlock(type=block.type, text=text, pieces=pieces, signature=signature)
    if block.type == "redacted_thinking":
        return RenderedBlock(type="redacted_thinking", data=block.data or "")
    tool_input = block.input if block.input is not None else {}
    return RenderedBlock(
        type="tool_use",
        id=block.id or ids.tool_use_id(seed, fingerprint, index),
        name=block.name or "",
        input=tool_input,
        pieces=block.input_chunks,
    )


def _apply_cuts(
    blocks: list[RenderedBlock], request: MessagesRequest
) -> tuple[list[RenderedBlock], str | None, str | None]:
    """Walk blocks in generation order; stop at the first stop sequence or at max_tokens."""
    budget = request.max_tokens
    kept: list[RenderedBlock] = []
    for block in blocks:
        if block.type == "text" and request.stop_sequences:
            cut = _earliest_stop(block.text, request.stop_sequences)
            if cut is not None:
                position, sequence = cut
                if count_tokens(block.text[:position]) <= budget:
                    if position:
                        kept.append(_truncated(block, block.text[:position]))
                    return kept, "stop_sequence", sequence
        cost = block.output_tokens()
        if cost <= budget:
            kept.append(block)
            budget -= cost
            continue
        if block.type in ("text", "thinking") and budget > 0:
            kept.append(_truncated(block, "".join(split_tokens(block.text)[:budget])))
        return kept, "max_tokens", None
    return kept, None, None


def _earliest_stop(text: str, sequences: tuple[str, ...]) -> tuple[int, str] | None:
    found = [(text.find(s), s) for s in sequences if s and s in text]
    return min(found) if found else None


def _truncated(block: RenderedBlock, text: str) -> RenderedBlock:
    """The block with its text cut to `text` (a prefix), keeping chunk boundaries before the cut."""
    pieces = None
    if block.pieces is not None:
        kept_pieces, length = [], 0
        for piece in block.pieces:
            if length + len(piece) >= len(text):
                kept_pieces.append(piece[: len(text) - length])
                break
            kept_pieces.append(piece)
            length += len(piece)
        pieces = tuple(p for p in kept_pieces if p)
    return RenderedBlock(
        type=block.type, text=text, pieces=pieces, signature=block.signature, data=block.data
    )
