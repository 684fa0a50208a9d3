"""`mockbay record` of a web-search conversation loses nothing (docs/scenario-contract.md §10).

The upstream is an aiohttp app in this test that answers as the real API does with web search on:
a server_tool_use (with `caller`), its web_search_tool_result, a text with a citation (streamed as
a `citations_delta`), `usage.server_tool_use` and `inference_geo`, and a block kind mockbay has no
class for. Recorded through `mockbay record`, replayed by `mockbay serve` with no upstream: the
SDK sees equal messages, JSON and stream.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
import yaml
from aiohttp import web

from mockbay.server.runner import MockServer
from tests.loopback_app import serving
from tests.processes import start, stop

MODEL = "claude-sonnet-4-6"
CALL_ID = "srvtoolu_01WSearchUpstreamIdAbCdEf"
MESSAGE: dict[str, Any] = {
    "id": "msg_01UpstreamWebSearchAbCdEf",
    "type": "message",
    "role": "assistant",
    "model": MODEL,
    "content": [
        {"type": "text", "text": "I'll search for that."},
        {
            "type": "server_tool_use",
            "id": CALL_ID,
            "name": "web_search",
            "input": {"query": "weather in Paris"},
            "caller": {"type": "direct"},
        },
        {
            "type": "web_search_tool_result",
            "tool_use_id": CALL_ID,
            "content": [
                {
                    "type": "web_search_result",
                    "url": "https://example.com/paris",
                    "title": "Paris weather",
                    "encrypted_content": "EqgfCioIARgBIiQ3YTAwMjY1Mi1mZjM5LTQ1NGUtODgxNC1kNjNjNTk1ZWI3Y2I",
                    "page_age": "1 day ago",
                }
            ],
            "caller": {"type": "direct"},
        },
        {
            "type": "text",
            "text": "It is 18 C and sunny.",
            "citations": [
                {
                    "type": "web_search_result_location",
                    "url": "https://example.com/paris",
                    "title": "Paris weather",
                    "encrypted_index": "Eo8BCioIAhgBIiQyYjQ0OWJmZi1lNm",
                    "cited_text": "18 C, sunny",
                }
            ],
        },
    ],
    "stop_reason": "end_turn",
    "stop_sequence": None,
    "stop_details": None,
    "container": None,
    "usage": {
        "input_tokens": 2048,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": 96,
        "server_tool_use": {"web_search_requests": 1, "web_fetch_requests": 0},
        "service_tier": "standard",
        "inference_geo": "global",
    },
}
TOOLS = [{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}]


def _events(message: dict[str, Any]) -> list[dict[str, Any]]:
    """The stream upstream sends for `message`: text and tool input in pieces, results whole."""
    start = {**copy.deepcopy(message), "content": [], "stop_reason": None}
    start["usage"] = {**start["usage"], "output_tokens": 1}
    del start["usage"]["server_tool_use"]
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(message["content"]):
        deltas: list[dict[str, Any]] = []
        opening = block
        if block["type"] == "text":
            opening = {"type": "text", "text": ""}
            deltas = [{"type": "citations_delta", "citation": c} for c in block.get("citations", [])]
            half = len(block["text"]) // 2
            deltas += [
                {"type": "text_delta", "text": t} for t in (block["text"][:half], block["text"][half:])
            ]
        elif block["type"] == "server_tool_use":
            opening = {**block, "input": {}}
            text = json.dumps(block["input"])
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in ("", text[:7], text[7:])]
        events.append({"type": "content_block_start", "index": index, "content_block": opening})
        events += [{"type": "content_block_delta", "index": index, "delta": d} for d in deltas]
        events.append({"type": "content_block_stop", "index": index})
    usage = {k: message["usage"][k] for k in ("input_tokens", "output_tokens", "server_tool_use")}
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append({"type": "message_delta", "delta": delta, "usage": usage})
    events.append({"type": "message_stop"})
    return events


FUTURE_BLOCK = {"type": "future_block", "payload": {"kept": True}}


async def _answer(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    message = copy.deepcopy(MESSAGE)
    question = body["messages"][-1]["content"]
    message["id"] += str(sum(map(ord, question)))  # each request its own id, as upstream
    if "future" in question:  # a block kind mockbay has no class for
        message["content"].append(FUTURE_BLOCK)
    if not body.get("stream"):
        return web.json_response(message, headers={"request-id": "req_upstream"})
    response = web.StreamResponse(headers={"content-type": "text/event-stream", "request-id": "req_upstream"})
    await response.prepare(request)
    for event in _events(message):
        await response.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
    await response.write_eof()
    return response


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    """The test upstream on loopback, in a thread of its own."""
    app = web.Application()
    app.router.add_post("/v1/messages", _answer)
    with serving(app) as url:
        yield url


def _client(base_url: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, api_key="sk-ant-api03-test", max_retries=0)


def _request(question: str) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 1024,
        "tools": TOOLS,
        "messages": [{"role": "user", "content": question}],
    }


def _seen(base_url: str) -> dict[str, Any]:
    """A streamed question and a JSON one, each also asked the other way, and the raw JSON answer
    holding a block the SDK has no class for."""
    with _client(base_url) as sdk:
        out: dict[str, Any] = {}
        for name, question in (("streamed", "Weather in Paris?"), ("json", "Weather in Lyon?")):
            with sdk.messages.stream(**_request(question)) as stream:
                streamed = stream.get_final_message().model_dump()
            out[name] = (streamed, sdk.messages.create(**_request(question)).model_dump())
    headers = {"x-api-key": "sk-ant-api03-test", "anthropic-version": "2023-06-01"}
    out["future"] = httpx.post(
        f"{base_url}/v1/messages", json=_request("A future block?"), headers=headers
    ).json()
    return out


@pytest.fixture(scope="module")
def recorded(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("record-server-tools")
    proxy = start("record", "--upstream", upstream, "--out", str(out), "--port", "0")
    try:
        with _client(proxy.url) as sdk:
            with sdk.messages.stream(**_request("Weather in Paris?")) as stream:
                stream.get_final_message()
            sdk.messages.create(**_request("Weather in Lyon?"))
            sdk.with_raw_response.messages.create(**_request("A future block?")).http_response.read()
    finally:
        stop(proxy)
    return out, _seen(upstream)


def test_the_upstream_answers_alike_in_json_and_stream(recorded: tuple[Path, dict[str, Any]]) -> None:
    for name in ("streamed", "json"):
        streamed, plain = recorded[1][name]
        assert streamed == plain
        assert [b["type"] for b in plain["content"]][:4] == [
            "text",
            "server_tool_use",
            "web_search_tool_result",
            "text",
        ]


def test_the_replay_gives_equal_messages_json_and_stream(recorded: tuple[Path, dict[str, Any]]) -> None:
    out, live = recorded
    with MockServer([out]) as replay:
        again = _seen(replay.url)
    assert again == live
    answer = again["streamed"][1]
    assert answer["content"][3]["citations"][0]["cited_text"] == "18 C, sunny"
    assert answer["usage"]["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}
    assert answer["usage"]["inference_geo"] == "global"
    assert answer["content"][1]["caller"] == {"type": "direct"}
    assert again["future"]["content"][-1] == FUTURE_BLOCK


def test_the_files_hold_every_block(recorded: tuple[Path, dict[str, Any]]) -> None:
    (streamed_file,) = [p for p in recorded[0].iterdir() if "paris" in p.name]
    reply = yaml.safe_load(streamed_file.read_text())["turns"][0]["reply"]
    keys = [next(iter(block)) for block in reply["content"]]
    assert keys == ["text", "server_tool_use", "web_search_tool_result", "text"]
    assert reply["content"][1]["server_tool_use"]["input_chunks"] == ["", '{"query', '": "weather in Paris"}']
    assert reply["usage"]["server_tool_use"] == {"web_search_requests": 1, "web_fetch_requests": 0}
    (future_file,) = [p for p in recorded[0].iterdir() if "future" in p.name]
    future = yaml.safe_load(future_file.read_text())["turns"][0]["reply"]
    assert future["content"][-1] == {"raw": FUTURE_BLOCK}
