"""The reply to a compaction request (`compaction: {type: summarize}`, beta `compact-2026-09-04`):
a `compaction` block alone, stop reason `compaction`, whose summary mockbay writes from the
conversation.

Upstream answers a compaction request with nothing but the summary, whatever the conversation,
so only a step whose reply is such a summary answers one (`server.decision`); otherwise this one
does, and `--fallback strict` does not refuse it (docs/wire-notes.md, "Compaction"). The
summary is deterministic: the same conversation gives the same text, and its signature comes
from the seed and the request, like every generated id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockbay.blocks.compaction import compaction_block
from mockbay.scenario.model import Reply
from mockbay.wire.request import text_of

CLIPPED = 160  # characters of a quoted user text


def compaction_reply(body: Mapping[str, Any]) -> Reply:
    """The summary alone; its stop reason, `compaction`, is the block's default."""
    return Reply(content=(compaction_block(summary(body)),))


def summary(body: Mapping[str, Any]) -> str:
    """What the conversation asked and did: its first and latest user texts and the tools it called."""
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    asked = [
        text for m in messages if m.get("role") == "user" and (text := text_of(m.get("content")).strip())
    ]
    called = dict.fromkeys(
        str(block.get("name"))
        for m in messages
        if m.get("role") == "assistant" and isinstance(m.get("content"), list)
        for block in m["content"]
        if isinstance(block, dict) and block.get("type") == "tool_use"
    )
    parts = [f"Summary of the conversation so far ({len(messages)} messages)."]
    if asked:
        parts.append(f"The user asked: \u201c{_clipped(asked[0])}\u201d.")
    if called:
        parts.append(f"Tools called: {', '.join(called)}.")
    if len(asked) > 1:
        parts.append(f"Latest request: \u201c{_clipped(asked[-1])}\u201d.")
    return " ".join(parts)


def _clipped(text: str) -> str:
    return text if len(text) <= CLIPPED else text[: CLIPPED - 1].rstrip() + "\u2026"
