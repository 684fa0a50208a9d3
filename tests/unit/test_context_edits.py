"""The context as upstream's edits leave it (`mockbay.context_edits`): where a compaction starts
it, which tool uses are cleared, and that an edit of another shape (lenient validation) is
ignored rather than failing."""

from __future__ import annotations

from typing import Any

import pytest

from mockbay.context_edits import edited, from_last_compaction, manage
from mockbay.usage.estimate import estimate_input_tokens

SUMMARY = {"type": "compaction", "content": "Earlier: a question about Paris."}


def body(messages: list[dict[str, Any]], *edits: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"model": "claude-sonnet-4-5", "max_tokens": 64, "messages": messages}
    if edits:
        request["context_management"] = {"edits": list(edits)}
    return request


def test_the_context_starts_at_the_last_compaction_block() -> None:
    messages = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "before"}, SUMMARY, {"type": "text", "text": "Sunny."}],
        },
        {"role": "user", "content": "And Rome?"},
    ]
    trimmed = from_last_compaction(body(messages))["messages"]
    assert trimmed == [
        {"role": "assistant", "content": [SUMMARY, {"type": "text", "text": "Sunny."}]},
        messages[2],
    ]
    untouched = body(messages[2:])
    assert from_last_compaction(untouched) is untouched


@pytest.mark.parametrize(
    "request_body",
    [
        body([{"role": "user", "content": "Hi"}]),
        body([{"role": "user", "content": [SUMMARY, {"type": "text", "text": "Go on."}]}]),
        body([{"role": "assistant", "content": [SUMMARY]}, {"role": "user", "content": "Hi"}]),
        body([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [SUMMARY]}]),
        body([{"role": "user", "content": "Hi"}], {"type": "clear_thinking_20251015", "keep": "all"}),
        body([{"role": "user", "content": "Hi"}], {"type": "clear_tool_uses_20250919"}),
    ],
)
def test_edited_is_none_exactly_where_manage_leaves_the_body_as_sent(request_body: dict[str, Any]) -> None:
    """`edited` skips `manage` for a body without edits whose compaction scan cuts nothing: it
    must answer as `manage` would."""
    managed = manage(request_body)
    as_sent = managed.prompt is request_body and not managed.applied and managed.compacted is None
    result = edited(request_body)
    assert (result is None) == as_sent
    if result is not None:
        assert result.prompt == managed.prompt


def test_a_summary_alone_is_not_compacted_again() -> None:
    resumed = body([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [SUMMARY]}])
    edit = {"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 0}}
    assert manage({**resumed, "context_management": {"edits": [edit]}}).compacted is None
    assert manage(body([{"role": "user", "content": "Hi"}], edit)).compacted is not None


def uses(count: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Go."}]
    for i in range(count):
        messages.append(
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": f"t{i}", "name": "run", "input": {"i": i}}],
            }
        )
        messages.append(
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": f"t{i}", "content": "x" * 350}],
            }
        )
    return messages


def test_cleared_tokens_are_what_the_estimate_loses() -> None:
    request = body(
        uses(5), {"type": "clear_tool_uses_20250919", "trigger": {"type": "tool_uses", "value": 5}}
    )
    managed = manage(request)
    (entry,) = managed.applied
    assert entry["cleared_tool_uses"] == 2 and entry["cleared_input_tokens"] == 200
    assert estimate_input_tokens(managed.prompt) == estimate_input_tokens(request) - 200
    assert request["messages"][2]["content"][0]["content"] == "x" * 350  # the body itself is not edited


@pytest.mark.parametrize(
    "edit",
    [
        "clear_tool_uses_20250919",
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": "many"}},
        {"type": "clear_tool_uses_20250919", "keep": [3], "exclude_tools": "run", "clear_tool_inputs": 1},
        {"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": -2}},
        {"type": "compact_20260112", "trigger": None, "pause_after_compaction": "yes"},
        {"type": "something_new"},
    ],
)
def test_an_edit_of_another_shape_is_read_with_defaults_or_ignored(edit: Any) -> None:
    managed = manage(body(uses(2), edit))
    assert managed.applied == () and managed.compacted is None
