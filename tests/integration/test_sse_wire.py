"""Raw bytes of the SSE stream: framing, event grammar, indexes, usage, headers (docs/wire.md §5)."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from mockbay.wire.sse import parse_events

HEADERS = {"x-api-key": "test-key", "anthropic-version": "2023-06-01", "content-type": "application/json"}
BODY = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 1024,
    "messages": [{"role": "user", "content": "hi"}],
    "stream": True,
}
GRAMMAR = re.compile(
    r"^message_start (ping )*"
    r"(content_block_start (ping |content_block_delta )*content_block_stop (ping )*)*"
    r"(message_delta )+message_stop $"
)


def _stream(server, scenario: str) -> httpx.Response:
    return httpx.post(f"{server.url}/s/{scenario}/v1/messages", headers=HEADERS, json=BODY)


@pytest.mark.parametrize("scenario", ["plain-text", "thinking-tools", "redacted", "chunked"])
def test_every_event_is_named_and_follows_the_grammar(core_server, scenario):
    response = _stream(core_server, scenario)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
    assert response.headers["request-id"].startswith("req_011C")
    raw = response.content
    assert raw.endswith(b"\n\n")
    blocks = raw.decode().split("\n\n")[:-1]
    names = []
    for block in blocks:
        lines = block.split("\n")
        assert len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: ")
        name, data = lines[0][7:], json.loads(lines[1][6:])
        assert data["type"] == name
        names.append(name)
    assert GRAMMAR.match(" ".join(names) + " "), names


@pytest.mark.parametrize("scenario", ["plain-text", "thinking-tools", "chunked"])
def test_indexes_are_contiguous_and_blocks_sequential(core_server, scenario):
    events = [data for _, data in parse_events(_stream(core_server, scenario).content)]
    open_index = None
    next_index = 0
    for event in events:
        if event["type"] == "content_block_start":
            assert open_index is None and event["index"] == next_index
            open_index, next_index = event["index"], next_index + 1
        elif event["type"] == "content_block_delta":
            assert event["index"] == open_index
        elif event["type"] == "content_block_stop":
            assert event["index"] == open_index
            open_index = None


def test_usage_in_start_and_delta_with_running_totals(core_server):
    events = [data for _, data in parse_events(_stream(core_server, "plain-text").content)]
    start = events[0]["message"]
    assert start["stop_reason"] is None and start["content"] == []
    assert set(start["usage"]) >= {
        "input_tokens",
        "output_tokens",
        "cache_creation_input_tokens",
        "cache_read_input_tokens",
    }
    assert start["usage"]["output_tokens"] == 1
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["usage"]["input_tokens"] == start["usage"]["input_tokens"]
    assert delta["usage"]["output_tokens"] > 1
    assert delta["delta"] == {
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "stop_details": None,
        "container": None,
    }


def test_thinking_signature_delta_is_last_before_stop(core_server):
    events = [data for _, data in parse_events(_stream(core_server, "thinking-tools").content)]
    stop_position = next(i for i, e in enumerate(events) if e["type"] == "content_block_stop")
    assert events[stop_position - 1]["delta"]["type"] == "signature_delta"
    start = next(e for e in events if e["type"] == "content_block_start")
    assert start["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}


def test_tool_input_pieces_concatenate_to_the_json(core_server):
    events = [data for _, data in parse_events(_stream(core_server, "thinking-tools").content)]
    tool_start = next(
        e for e in events if e["type"] == "content_block_start" and e["content_block"]["type"] == "tool_use"
    )
    assert tool_start["content_block"]["input"] == {}
    pieces = [
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    ]
    assert pieces[0] == "" and len(pieces) > 3
    assert json.loads("".join(pieces))["options"]["days"] == [1, 2, 3]


def test_a_ping_follows_the_first_block_start(core_server):
    names = [name for name, _ in parse_events(_stream(core_server, "plain-text").content)]
    assert names[:3] == ["message_start", "content_block_start", "ping"]


def test_json_reply_has_upstream_fields_and_content_type(core_server):
    body = {**BODY, "stream": False}
    response = httpx.post(f"{core_server.url}/s/plain-text/v1/messages", headers=HEADERS, json=body)
    assert response.headers["content-type"] == "application/json"
    message = response.json()
    assert list(message) == [
        "id",
        "type",
        "role",
        "model",
        "content",
        "stop_reason",
        "stop_sequence",
        "stop_details",
        "container",
        "usage",
    ]
    assert message["usage"]["cache_creation"] == {
        "ephemeral_5m_input_tokens": 0,
        "ephemeral_1h_input_tokens": 0,
    }
