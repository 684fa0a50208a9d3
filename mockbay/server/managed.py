"""The reply to a request whose context upstream edited (`mockbay.context_edits`): the
`context_management` report, the automatic compaction's block before the answer (or alone, with
`pause_after_compaction`), and `usage.iterations` that split the compaction from the answer.

A reply that scripts its own `context_management` keeps it; one that starts with a `compaction`
block has its compaction already. As the SDK documents `usage.iterations`, a `compaction`
entry's tokens are not in the top-level counters, which are the answer's (`message` entry);
a paused reply has no answer, so they are all 0 (docs/wire-notes.md, "Context management").
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from mockbay.blocks.compaction import Compaction, compaction_block
from mockbay.context_edits import Compacted, Managed
from mockbay.render.content import RenderedMessage
from mockbay.render.usage import ITERATIONS
from mockbay.scenario.model import Reply

PROMPT_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
NO_CACHE_WRITES = {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}


def paused_reply(compacted: Compacted) -> Reply:
    """The reply that stops after the compaction: its block alone (stop reason `compaction`)."""
    return Reply(content=(compaction_block(compacted.summary),))


def managed_reply(reply: Reply, managed: Managed | None) -> Reply:
    """The reply with the compaction's block first and the edits' report, as upstream sends them."""
    if managed is None or reply.error is not None or reply.batch_result is not None:
        return reply
    content = reply.content
    if managed.compacted is not None and not (content and content[0].type == Compaction.TYPE):
        content = (compaction_block(managed.compacted.summary), *content)
    report = reply.context_management if reply.context_management is not None else managed.report
    if content is reply.content and report is reply.context_management:
        return reply
    return replace(reply, content=content, context_management=report)


def compaction_usage(usage: dict[str, Any], message: RenderedMessage, compacted: Compacted) -> dict[str, Any]:
    """The usage with `iterations`: the compaction (the context it closed, its summary's output
    tokens), then the answer, whose counts stay at the top level; none computed where the usage
    already has them (a scenario's, or server-side fallbacks')."""
    if ITERATIONS in usage or not message.blocks or message.blocks[0].TYPE != Compaction.TYPE:
        return usage
    summarized = message.blocks[0].output_tokens()
    compaction = {
        "type": "compaction",
        "input_tokens": compacted.closed_tokens,
        "output_tokens": summarized,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": dict(NO_CACHE_WRITES),
    }
    if compacted.pause:  # no answer was sampled
        counts = dict.fromkeys((*PROMPT_COUNTS, "output_tokens"), 0)
        return {**usage, **counts, "cache_creation": dict(NO_CACHE_WRITES), ITERATIONS: [compaction]}
    answered = max(0, usage["output_tokens"] - summarized)
    answer = {
        "type": "message",
        **{key: usage[key] for key in PROMPT_COUNTS},
        "output_tokens": answered,
        "cache_creation": dict(usage["cache_creation"]),
    }
    return {**usage, "output_tokens": answered, ITERATIONS: [compaction, answer]}
