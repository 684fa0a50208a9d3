"""Request bodies for unit tests that build a `MessagesRequest` by hand: its facts are read from the
body (`wire.request`), so tool results need the assistant turn whose tool_use they answer."""

from __future__ import annotations

from typing import Any

from mockbay.wire.request import ToolResultView


def answer_tool_uses(messages: list[dict[str, Any]], results: tuple[ToolResultView, ...]) -> None:
    """Make the last assistant message the tool_use turn the results answer (named results only),
    adding a question and that turn when the conversation has no assistant message to end on."""
    if not results:
        return
    uses = [
        {"type": "tool_use", "id": r.tool_use_id, "name": r.name, "input": {}}
        for r in results
        if r.name is not None
    ]
    if not messages or messages[-1]["role"] != "assistant":
        messages.append({"role": "user", "content": "go on"})
        messages.append({"role": "assistant", "content": []})
    messages[-1] = {**messages[-1], "content": uses}


def result_blocks(results: tuple[ToolResultView, ...]) -> list[dict[str, Any]]:
    """The tool_result blocks of the last user message."""
    return [
        {
            "type": "tool_result",
            "tool_use_id": r.tool_use_id,
            "content": r.content_text,
            "is_error": r.is_error,
        }
        for r in results
    ]
