"""What upstream does to a request's context before the model reads it (docs/wire-notes.md,
"Context management"): the prompt mockbay then estimates, caches and charges, the
`applied_edits` it reports, and the automatic compaction to put before the answer.

- A `compaction` block in `messages` stands for everything before it: the prompt starts there,
  so a conversation compacted once is measured from its summary on.
- `context_management.edits` apply in the order given, each to what the ones before it left:
  `clear_thinking_20251015` drops the thinking of all but the assistant turns it keeps (the
  estimate counts the kept ones: `usage.estimate.thinking_counted_from`); once its trigger is
  reached, `clear_tool_uses_20250919` empties the results (and, as asked, the inputs) of all but
  the most recent tool uses; `compact_20260112` summarizes the context (`mockbay.summarize`),
  which the model then reads in its place.
An edit that clears nothing is not reported. Pure: the same body gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mockbay.summarize import summary
from mockbay.usage.estimate import (
    assistant_turn_starts,
    block_tokens,
    estimate_input_tokens,
    thinking_counted_from,
)
from mockbay.wire.context_management import (
    CLEAR_THINKING,
    CLEAR_TOOL_USES,
    TOOL_USES,
    ClearThinking,
    ClearToolUses,
    Compact,
    context_edits,
)
from mockbay.wire.request import THINKING_BLOCKS

COMPACTION = "compaction"  # the block that stands for the conversation before it
TOOL_USE_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})  # calls whose results clear
APPLIED_EDITS = "applied_edits"


@dataclass(frozen=True, slots=True, eq=False)
class Compacted:
    """An automatic compaction: the summary, whether the reply stops after it, and the input
    tokens of the context it closed (its `usage.iterations` entry's)."""

    summary: str
    pause: bool
    closed_tokens: int


@dataclass(frozen=True, slots=True, eq=False)
class Managed:
    """The context as the model reads it (`prompt`, the body to estimate), what was cleared, and
    the compaction, if one ran."""

    prompt: Mapping[str, Any]
    applied: tuple[dict[str, Any], ...] = ()
    compacted: Compacted | None = None

    @property
    def report(self) -> dict[str, Any] | None:
        """The reply's `context_management`, when an edit cleared something."""
        return {APPLIED_EDITS: [dict(entry) for entry in self.applied]} if self.applied else None


def manage(body: Mapping[str, Any], *, compacting: bool = True) -> Managed:
    """The request's context after upstream's edits (see the module docstring); `compacting`
    False leaves out `compact_20260112` (count_tokens samples nothing to compact for)."""
    prompt = from_last_compaction(body)
    applied: list[dict[str, Any]] = []
    compacted: Compacted | None = None
    for edit in context_edits(body):
        entry: dict[str, Any] | None = None
        if isinstance(edit, ClearThinking):
            entry = _cleared_thinking(prompt)
        elif isinstance(edit, ClearToolUses):
            prompt, entry = _clear_tool_uses(prompt, edit)
        elif compacting and compacted is None and (closed := _compaction_closes(prompt, edit)) is not None:
            compacted = Compacted(summary(prompt), edit.pause, closed)
            prompt = {**prompt, "messages": [_summary_message(compacted.summary)]}
        if entry is not None:
            applied.append(entry)
    return Managed(prompt, tuple(applied), compacted)


def edited(body: Mapping[str, Any]) -> Managed | None:
    """`manage(body)`, or None where upstream reads the body as sent (most requests: no edit
    applies and no compaction block is in it), so the decision carries nothing for them. A body
    without edits whose messages hold no compaction block is one of those without `manage`'s
    work: with no edit to apply, `manage` only starts the prompt at the last compaction."""
    if not context_edits(body) and from_last_compaction(body) is body:
        return None
    managed = manage(body)
    if managed.prompt is body and not managed.applied and managed.compacted is None:
        return None
    return managed


def from_last_compaction(body: Mapping[str, Any]) -> Mapping[str, Any]:
    """The body with its messages from the last `compaction` block on (the body itself if none).
    Every request is scanned, so the loop is the plainest one."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return body
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        content = message.get("content") if isinstance(message, dict) else None
        if type(content) is not list:
            continue
        last = None
        for j, block in enumerate(content):
            if type(block) is dict and block.get("type") == COMPACTION:
                last = j
        if last is None:
            continue
        if i == 0 and last == 0:
            return body
        return {**body, "messages": [{**message, "content": content[last:]}, *messages[i + 1 :]]}
    return body


def _compaction_closes(prompt: Mapping[str, Any], edit: Compact) -> int | None:
    """The input tokens of the context a compaction closes, when the trigger is reached by one
    that holds more than a summary (a request that carries only the last compaction's, the tool
    runner resuming a paused one, has nothing new to summarize); else None."""
    messages = prompt.get("messages") or []
    kinds = {block.get("type") for block in _blocks(messages[0])} if len(messages) == 1 else set()
    if kinds == {COMPACTION}:
        return None
    tokens = estimate_input_tokens(prompt)
    return tokens if tokens >= edit.trigger else None


def _summary_message(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": [{"type": COMPACTION, "content": text}]}


def _cleared_thinking(prompt: Mapping[str, Any]) -> dict[str, Any] | None:
    """`clear_thinking_20251015`'s entry: the assistant turns before the kept ones that held
    thinking, and its tokens."""
    kept_from = thinking_counted_from(prompt)
    if kept_from == 0:  # `keep: all` (Claude Code's), or nothing before the kept turns
        return None
    messages = prompt.get("messages") or []
    model = str(prompt.get("model", ""))
    starts = [start for start in assistant_turn_starts(messages) if start < kept_from]
    turns = tokens = 0
    for start, end in zip(starts, [*starts[1:], kept_from], strict=False):  # none when no turn
        thinking = [
            block
            for message in messages[start:end]
            if message.get("role") == "assistant"
            for block in _blocks(message)
            if block.get("type") in THINKING_BLOCKS
        ]
        turns += bool(thinking)
        tokens += sum(block_tokens(block, model) for block in thinking)
    if not turns:
        return None
    return {"type": CLEAR_THINKING, "cleared_thinking_turns": turns, "cleared_input_tokens": tokens}


def _clear_tool_uses(
    prompt: Mapping[str, Any], edit: ClearToolUses
) -> tuple[Mapping[str, Any], dict[str, Any] | None]:
    """`clear_tool_uses_20250919`, once its trigger is reached: the prompt with the results of
    all but the `keep` most recent tool uses (of tools not excluded) emptied, and their inputs
    too where `clear_inputs` says, and its entry; the prompt unchanged when nothing, or less
    than `clear_at_least` tokens, would go."""
    uses = [block for block in _message_blocks(prompt) if block.get("type") in TOOL_USE_BLOCKS]
    whole = estimate_input_tokens(prompt)
    if (len(uses) if edit.trigger_kind == TOOL_USES else whole) < edit.trigger:
        return prompt, None
    clearable = [use for use in uses if use.get("name") not in edit.exclude_tools]
    cleared = clearable[: max(0, len(clearable) - edit.keep)]
    if not cleared:
        return prompt, None
    results = {use.get("id") for use in cleared}
    inputs = {
        use.get("id")
        for use in cleared
        if edit.clear_inputs is True or (edit.clear_inputs and use.get("name") in edit.clear_inputs)
    }
    messages = [_cleared_message(message, results, inputs) for message in prompt.get("messages") or []]
    edited = {**prompt, "messages": messages}
    tokens = whole - estimate_input_tokens(edited)
    if tokens < edit.clear_at_least:
        return prompt, None
    return edited, {
        "type": CLEAR_TOOL_USES,
        "cleared_tool_uses": len(cleared),
        "cleared_input_tokens": tokens,
    }


def _cleared_message(message: Any, results: set[Any], inputs: set[Any]) -> Any:
    """The message with the named results' content and uses' input emptied (itself if none)."""
    content = message.get("content") if isinstance(message, Mapping) else None
    if not isinstance(content, list):
        return message
    edited = [_cleared_block(block, results, inputs) for block in content]
    if all(new is old for new, old in zip(edited, content, strict=True)):
        return message
    return {**message, "content": edited}


def _cleared_block(block: Any, results: set[Any], inputs: set[Any]) -> Any:
    if not isinstance(block, Mapping):
        return block
    if block.get("type") in TOOL_USE_BLOCKS and block.get("id") in inputs:
        return {**block, "input": {}}
    if "tool_use_id" in block and block.get("tool_use_id") in results:
        return {**block, "content": []}
    return block


def _message_blocks(prompt: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for message in prompt.get("messages") or []:
        yield from _blocks(message)


def _blocks(message: Any) -> list[Mapping[str, Any]]:
    content = message.get("content") if isinstance(message, Mapping) else None
    return [block for block in content if isinstance(block, Mapping)] if isinstance(content, list) else []
