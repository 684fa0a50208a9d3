"""The `compaction` block (beta `compact-2026-09-04`): a summary of the conversation that later
requests send first in `messages`, in place of the messages it summarizes.

A compaction request (`compaction: {type: summarize}`) gets this block alone, with stop reason
`compaction` (`mockbay/summarize.py` writes it); a scenario may script one in any reply,
as upstream's automatic compaction puts one before the answer. Its stream is the SDK's
accumulator's: `content_block_start` carries the block without its summary (its `signature` and
`tool_changes` already in it, since no delta carries them), then one `compaction_delta` with
`content` and `encrypted_content`, which the accumulator assigns rather than appends
(docs/wire-notes.md, "Compaction"). The summary is generated text: it costs output tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mockbay.blocks.base import Delta, Received, RenderContext, Splitter, register
from mockbay.blocks.results import Whole
from mockbay.render import ids
from mockbay.scenario.model import Block
from mockbay.scenario.spec import AnyValue, List, Str
from mockbay.tokens import count_tokens

if TYPE_CHECKING:
    from mockbay.record.scrub import Scrubber

DELTA_FIELDS = ("content", "encrypted_content")  # what `compaction_delta` carries


@register
@dataclass(frozen=True, slots=True, eq=False)
class Compaction(Whole):
    """`compaction`: `content` (the summary, or null when none was produced), `encrypted_content`,
    `signature` (derived from the seed, the request and the summary unless given) and
    `tool_changes` (`[]`, no tool changed, unless given)."""

    TYPE = "compaction"
    KEY_DOC = (
        "A compaction block: {content, encrypted_content, signature, tool_changes}; "
        "its signature is generated unless given."
    )
    FIELDS = {
        "content": AnyValue(doc="The summary text, or null for a compaction that produced none."),
        "encrypted_content": Str(doc="Opaque metadata from a prior compaction; default null."),
        "signature": Str(doc="Signature over the summary; generated deterministically unless given."),
        "tool_changes": List(AnyValue(doc="A tool_addition or tool_removal block."), doc="Default []."),
    }
    REQUIRED = ("content",)
    ALONE_STOP_REASON = "compaction"

    @classmethod
    def complete(cls, fields: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        content = fields.get("content")
        signature = fields.get("signature") or ids.opaque(ctx.seed, ctx.fingerprint, "compaction", content)
        return {
            "content": content,
            "encrypted_content": fields.get("encrypted_content"),
            "signature": signature,
            "tool_changes": list(fields.get("tool_changes") or []),
        }

    def opening(self) -> dict[str, Any]:
        return {**self.block, **dict.fromkeys(DELTA_FIELDS)}

    def deltas(self, split: Splitter) -> list[Delta]:
        summary = self.block["content"]
        delta = {"type": "compaction_delta", **{key: self.block[key] for key in DELTA_FIELDS}}
        return [(delta, summary if isinstance(summary, str) else "")]

    def output_tokens(self) -> int:
        summary = self.block["content"]
        return count_tokens(summary) if isinstance(summary, str) else 0

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        fields = {k: v for k, v in received.start.items() if k != "type"}
        for delta in received.deltas:
            if delta.get("type") == "compaction_delta":
                fields.update({key: delta.get(key) for key in DELTA_FIELDS})
        kept = {k: v for k, v in fields.items() if v is not None or k == "content"}
        return {cls.TYPE: scrubber.json(kept)}, min(len(received.deltas), 1)  # its replay sends one delta


def compaction_block(summary: str | None) -> Block:
    """The scenario model's block for a summary, as a compaction request's reply holds it."""
    return Block(type=Compaction.TYPE, fields=(("content", summary),))
