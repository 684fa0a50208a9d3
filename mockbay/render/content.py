"""Build the assistant message of a reply: blocks, ids, signatures, cuts and stop_reason.

Upstream behaviour applied here (docs/scenario-contract.md §4): a reply longer than `max_tokens` is cut there
with `stop_reason: max_tokens`; a text containing a stop sequence is cut before it with
`stop_reason: stop_sequence`; a tool_use block makes the default stop_reason `tool_use`.
The result keeps each block's stream pieces, so the SSE events and the JSON agree by construction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mockbay.blocks import KINDS, BlockKind, RenderContext
from mockbay.render import ids
from mockbay.render.text import TextContext
from mockbay.scenario.model import Reply
from mockbay.wire.request import MessagesRequest


@dataclass(slots=True)
class RenderedMessage:
    """The message before usage is attached (usage needs the request's prompt accounting)."""

    id: str
    model: str
    blocks: list[BlockKind]
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
    blocks: list[BlockKind] = []
    for index, block in enumerate(reply.content):
        at = RenderContext(seed, fingerprint, index, ctx, request, tuple(blocks))
        blocks.append(KINDS[block.type].render(block, at))
    blocks, stop_reason, stop_sequence = _apply_cuts(blocks, request)
    if stop_reason is None:
        stop_reason = reply.stop_reason or (
            "tool_use" if any(b.CLIENT_TOOL_CALL for b in blocks) else "end_turn"
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


def _apply_cuts(
    blocks: list[BlockKind], request: MessagesRequest
) -> tuple[list[BlockKind], str | None, str | None]:
    """Walk blocks in generation order; stop at the first stop sequence or at max_tokens."""
    budget = request.max_tokens
    kept: list[BlockKind] = []
    for block in blocks:
        stop = block.stop_at(request.stop_sequences) if request.stop_sequences else None
        if stop is not None:
            position, sequence = stop
            before = block.prefix(position)
            if before.output_tokens() <= budget:
                if position:
                    kept.append(before)
                return kept, "stop_sequence", sequence
        cost = block.output_tokens()
        if cost <= budget:
            kept.append(block)
            budget -= cost
            continue
        cut = block.cut(budget)
        if cut is not None:
            kept.append(cut)
        return kept, "max_tokens", None
    return kept, None, None
