"""Build the assistant message of a reply: blocks, ids, signatures, cuts and stop_reason.

Upstream behaviour applied here (docs/scenario-contract.md §4): a reply longer than `max_tokens`
(by its stated `usage.output_tokens` when the scenario gives one, else mockbay's count) is cut
there with `stop_reason: max_tokens` (or `model_context_window_exceeded` when the model's
context window, after the input, leaves less than `max_tokens`); a text containing a stop
sequence is cut before it with `stop_reason: stop_sequence`; a tool_use block makes the
default stop_reason `tool_use`.
The result keeps each block's stream pieces, so the SSE events and the JSON agree by construction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mockbay.blocks import KINDS, BlockKind, RenderContext
from mockbay.render import ids, metadata
from mockbay.render.text import PLAIN_PLACEHOLDERS, TextContext
from mockbay.scenario.model import Reply
from mockbay.wire.request import MessagesRequest


@dataclass(slots=True, eq=False)
class RenderedMessage:
    """The message before usage is attached (usage needs the request's prompt accounting)."""

    id: str
    model: str
    blocks: list[BlockKind]
    stop_reason: str
    stop_sequence: str | None = None
    output_tokens: int = 0
    extra_headers: dict[str, str] = field(default_factory=dict)
    stop_details: Mapping[str, Any] | None = None
    container: Mapping[str, Any] | None = None
    context_management: Mapping[str, Any] | None = None
    diagnostics: Mapping[str, Any] | None = None
    # what the thinking-binding beta reports: none here, for mockbay drops no thinking block
    input_transformations: tuple[Mapping[str, Any], ...] | None = None
    server_tool_use: Mapping[str, int] | None = None  # counted from the blocks; usage.py adds it


class RequestValues(Mapping[str, str]):
    """The plain placeholders' values for one request, each read from it when a template names it.

    Most replies are literal text naming none, so their requests never compute the last user text
    or the turn (both derived from the body on first read, `wire.request`); a value read twice is
    the request's cached fact, so it is the same both times."""

    __slots__ = ("_request", "_request_id")

    def __init__(self, request: MessagesRequest, request_id: str) -> None:
        self._request = request
        self._request_id = request_id

    def __getitem__(self, name: str) -> str:
        if name == "last_user":
            return self._request.last_user_text or ""
        if name == "model":
            return self._request.model
        if name == "turn":
            return str(self._request.turn)
        if name == "request_id":
            return self._request_id
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return iter(PLAIN_PLACEHOLDERS)

    def __len__(self) -> int:
        return len(PLAIN_PLACEHOLDERS)


def render_message(
    reply: Reply,
    request: MessagesRequest,
    *,
    seed: int,
    fingerprint: str,
    request_id: str,
    input_tokens: int = 0,
) -> RenderedMessage:
    """The reply's blocks rendered for this request, cut as upstream would cut them."""
    ctx = TextContext(seed_material=f"{seed}:{fingerprint}", values=RequestValues(request, request_id))
    blocks: list[BlockKind] = []
    for index, block in enumerate(reply.content):
        at = RenderContext(seed, fingerprint, index, ctx, request, tuple(blocks))
        blocks.append(KINDS[block.type].render(block, at))
    budget = _as_stated(
        reply, blocks, metadata.output_budget(request.context_window, request.max_tokens, input_tokens)
    )
    blocks, stop_reason, stop_sequence = _apply_cuts(blocks, request, budget)
    if stop_reason is None:
        stop_reason = reply.stop_reason or _default_stop_reason(reply, blocks)
        stop_sequence = reply.stop_sequence
    produced = sum(b.output_tokens() for b in blocks)
    return RenderedMessage(
        id=reply.id or ids.message_id(seed, fingerprint),
        model=reply.model or _handed_over_to(blocks) or request.model,
        blocks=blocks,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
        output_tokens=produced if request.max_tokens == 0 else max(1, produced),
        extra_headers=dict(reply.headers),
        stop_details=metadata.stop_details(
            reply.stop_details, stop_reason, request, blocks, seed, fingerprint
        ),
        container=metadata.container(reply.container, request, blocks, seed, fingerprint),
        context_management=reply.context_management,
        diagnostics=reply.diagnostics,
        input_transformations=() if request.reports_input_transformations else None,
        server_tool_use=metadata.server_tool_use(
            reply.usage.server_tool_use if reply.usage else None, blocks
        ),
    )


def _handed_over_to(blocks: list[BlockKind]) -> str | None:
    """The model the last hand-over (`fallback` block) names: the JSON reply carries the label a
    stream's accumulator ends with."""
    return next((model for block in reversed(blocks) if (model := block.model_after()) is not None), None)


def _as_stated(reply: Reply, blocks: list[BlockKind], limit: tuple[int, str]) -> tuple[int, str]:
    """The output budget, measured as the reply states its own length: a reply whose
    `usage.output_tokens` fits is not cut by mockbay's token count, which can run over upstream's
    (a recording of JSON or code that filled most of `max_tokens` would come back cut)."""
    stated = reply.usage.output_tokens if reply.usage is not None else None
    if stated is None or stated > limit[0]:
        return limit
    return max(limit[0], sum(b.output_tokens() for b in blocks)), limit[1]


def _default_stop_reason(reply: Reply, blocks: list[BlockKind]) -> str:
    """`refusal` beside stop_details, `tool_use` after a client tool call, the kind's own reason
    for blocks that have one alone (`compaction`), else `end_turn`."""
    if reply.stop_details is not None:
        return "refusal"
    if any(b.CLIENT_TOOL_CALL for b in blocks):
        return "tool_use"
    alone = {b.ALONE_STOP_REASON for b in blocks}
    reason = alone.pop() if len(alone) == 1 else None
    return reason or "end_turn"


def _apply_cuts(
    blocks: list[BlockKind], request: MessagesRequest, limit: tuple[int, str]
) -> tuple[list[BlockKind], str | None, str | None]:
    """Walk blocks in generation order; stop at the first stop sequence or at the output budget."""
    budget, exhausted = limit
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
        return kept, exhausted, None
    return kept, None, None
