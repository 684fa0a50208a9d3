"""The request fingerprint: what it ignores, what it keeps, and that each request is hashed once."""

from __future__ import annotations

import re
import sys

import httpx

import mockbay.fingerprint
from mockbay.fingerprint import fingerprint
from mockbay.server.runner import MockServer

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


def test_a_replayed_request_is_hashed_once(tmp_path, monkeypatch):
    """Matching by fingerprint (a recording's gate), the message id and the timing seed all read
    the request's one fingerprint: the body is hashed once per request, not once per reader."""
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "weather?"}],
    }
    scenario = tmp_path / "replay.yaml"
    scenario.write_text(
        f"name: replay\nmatch: {{fingerprint: {fingerprint(body)}}}\nturns: [{{reply: {{text: Sunny.}}}}]\n",
        encoding="utf-8",
    )
    hashed: list[object] = []
    original = mockbay.fingerprint.fingerprint

    def counted(value: dict[str, object]) -> str:
        hashed.append(value)
        return original(value)

    for module in list(sys.modules.values()):  # every module that holds the function, however imported
        if getattr(module, "fingerprint", None) is original:
            monkeypatch.setattr(module, "fingerprint", counted)
    with MockServer([scenario], fallback="strict") as server:
        reply = httpx.post(
            f"{server.url}/v1/messages",
            json=body,
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
        )
    assert reply.json()["content"][0]["text"] == "Sunny."
    assert len(hashed) == 1


def test_every_fingerprint_has_the_form_a_condition_takes() -> None:
    """`fingerprint:` conditions refuse any other form (mockbay.fingerprint.PATTERN)."""
    for body in (BODY, {}, {"model": "m", "messages": []}):
        assert re.fullmatch(mockbay.fingerprint.PATTERN, fingerprint(body))
