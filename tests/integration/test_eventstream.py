"""The event-stream frames mockbay writes, read by botocore's own parser (CRCs checked)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from mockbay.server.runner import MockServer
from mockbay.wire.eventstream import chunk
from tests.conftest import DATA, USER_HI
from tests.integration.cloud import BEDROCK_MODEL

SIGV4 = {"authorization": "AWS4-HMAC-SHA256 Credential=AKIDFRAMES/20261206/us-east-1/bedrock/aws4_request"}
BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": USER_HI}


def _stream_bytes(server, scenario: str) -> httpx.Response:
    url = f"{server.url}/s/{scenario}/model/{BEDROCK_MODEL}/invoke-with-response-stream"
    return httpx.post(url, json=BODY, headers=SIGV4)


def _decode(pieces: list[bytes]) -> list:
    buffer = EventStreamBuffer()
    messages = []
    for piece in pieces:
        buffer.add_data(piece)
        messages.extend(buffer)
    return messages


def _events(messages: list) -> list[dict]:
    return [json.loads(base64.b64decode(json.loads(m.payload)["bytes"])) for m in messages]


def test_message_stop_is_the_documented_136_bytes():
    """The worked example of docs/cloud-platforms.md, byte for byte."""
    raw = chunk({"type": "message_stop"})
    assert len(raw) == 136
    assert raw[:12].hex() == "000000880000004b05babc22"
    assert raw[-4:].hex() == "b76b2af1"


def test_every_frame_is_a_chunk_event_carrying_one_stream_event(cloud_server):
    response = _stream_bytes(cloud_server, "thinking-tools")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
    messages = _decode([response.content])
    assert {tuple(sorted(m.headers.items())) for m in messages} == {
        ((":content-type", "application/json"), (":event-type", "chunk"), (":message-type", "event"))
    }
    events = _events(messages)
    assert events[0]["type"] == "message_start" and events[-1] == {"type": "message_stop"}
    assert {"content_block_start", "content_block_delta", "message_delta"} <= {e["type"] for e in events}


def test_frames_split_at_every_byte_boundary_decode_alike(cloud_server):
    raw = _stream_bytes(cloud_server, "plain-text").content
    whole = _events(_decode([raw]))
    for cut in range(1, len(raw)):
        assert _events(_decode([raw[:cut], raw[cut:]])) == whole
    assert _events(_decode([raw[i : i + 1] for i in range(len(raw))])) == whole


@pytest.mark.parametrize("position", [9, -1])  # the prelude CRC, the message CRC
def test_botocore_checks_both_crcs(cloud_server, position):
    raw = bytearray(_stream_bytes(cloud_server, "plain-text").content)
    raw[position] ^= 0xFF
    with pytest.raises(ChecksumMismatch):
        _decode([bytes(raw)])


def test_a_midstream_fault_ends_with_an_exception_frame(cloud_server):
    messages = _decode([_stream_bytes(cloud_server, "midstream-error").content])
    last = messages[-1]
    assert last.headers == {
        ":exception-type": "serviceUnavailableException",
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    assert json.loads(last.payload) == {"message": "Overloaded"}
    assert all(m.headers[":message-type"] == "event" for m in messages[:-1])
    assert len([e for e in _events(messages[:-1]) if e["type"] != "ping"]) == 4  # after_events: 4


@pytest.mark.parametrize("scenario", ["late-past-end", "late-after-ms"])
def test_a_late_fault_takes_the_place_of_the_stream_end(scenario):
    """A trigger past the end cuts Bedrock's frames as it cuts SSE: the exception frame follows the
    last content_block_stop, with no message_delta or message_stop before it."""
    with MockServer([DATA / "faults" / "late.yaml"]) as server:
        messages = _decode([_stream_bytes(server, scenario).content])
    assert messages[-1].headers[":exception-type"] == "serviceUnavailableException"
    events = [e["type"] for e in _events(messages[:-1]) if e["type"] != "ping"]
    assert events == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * 2,
        "content_block_stop",
    ]


def test_same_request_same_bytes_and_the_memo_keeps_wires_apart(cloud_server):
    """A first-party stream of the same request, answered (and memoised) first, is SSE; the Bedrock
    one stays event-stream, byte for byte the same each time."""
    first_party = httpx.post(
        f"{cloud_server.url}/s/plain-text/v1/messages",
        json={
            **{k: v for k, v in BODY.items() if k != "anthropic_version"},
            "model": BEDROCK_MODEL,
            "stream": True,
        },
        headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
    )
    assert first_party.headers["content-type"].startswith("text/event-stream")
    once, again = _stream_bytes(cloud_server, "plain-text"), _stream_bytes(cloud_server, "plain-text")
    assert once.headers["content-type"] == "application/vnd.amazon.eventstream"
    assert once.content == again.content
    assert _events(_decode([once.content]))[0]["type"] == "message_start"
