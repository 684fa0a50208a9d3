"""The request fingerprint: what it ignores and what it keeps."""

from __future__ import annotations

from mockbay.fingerprint import fingerprint

BODY = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 100,
    "messages": [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Checking.", "citations": None},
                {
                    "type": "tool_use",
                    "id": "toolu_1",
                    "name": "w",
                    "input": {"c": None},
                    "caller": {"type": "direct"},
                },
            ],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"}]},
    ],
}


def test_ignores_stream_metadata_and_key_order():
    reordered = dict(reversed(list(BODY.items())))
    assert fingerprint({**BODY, "stream": True, "metadata": {"user_id": "u"}}) == fingerprint(reordered)


def test_assistant_blocks_keep_only_rendered_fields():
    echoed = {
        **BODY,
        "messages": [
            BODY["messages"][0],
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "w", "input": {"c": None}},
                ],
            },
            BODY["messages"][2],
        ],
    }
    assert fingerprint(BODY) == fingerprint(echoed)


def test_content_changes_the_fingerprint():
    other = {**BODY, "max_tokens": 101}
    assert fingerprint(other) != fingerprint(BODY)
    null_input = {**BODY, "messages": [*BODY["messages"][:1]]}
    assert fingerprint(null_input) != fingerprint(BODY)
    assert len(fingerprint(BODY)) == 16
