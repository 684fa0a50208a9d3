"""Usage a billing system can trust, seen through the official SDK and the raw SSE wire.

- `count_tokens` equals the uncached `input_tokens` of the same request, for representative requests
  (system, tools, tool results, base64 images and PDFs, text documents, thinking) to every bundled
  scenario.
- Stream and JSON report the same usage for every block shape, whole or cut; output tokens follow
  what was actually sent (thinking included); `message_start` carries the prompt counts and the final
  `message_delta` the running totals.
"""

from __future__ import annotations

import base64
import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx
import pytest

from mockbay.server.runner import MockServer
from mockbay.tokens import count_tokens, split_tokens
from mockbay.usage.estimate import IMAGE_TOKENS, PDF_PAGE_TOKENS
from mockbay.wire.sse import parse_events
from tests.conftest import DATA, REPO, pinned_client, sync_client

MODEL = "claude-sonnet-4-6"
WIRE_HEADERS = {"x-api-key": "test-key", "anthropic-version": "2023-06-01"}
PROMPT_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")

PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000d49444154789c63f8cfc0f01f0005000201a5f0e6ec0000000049454e44ae426082"
    )
).decode()
PDF = base64.b64encode(
    b"%PDF-1.4\n1 0 obj <</Type /Pages /Kids [2 0 R 3 0 R] /Count 2>> endobj\n"
    b"2 0 obj <</Type /Page /Parent 1 0 R>> endobj\n3 0 obj <</Type /Page /Parent 1 0 R>> endobj\n%%EOF\n"
).decode()
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
PDF_DOCUMENT = {
    "type": "document",
    "title": "Forecast bulletin",
    "source": {"type": "base64", "media_type": "application/pdf", "data": PDF},
}
TEXT_DOCUMENT = {
    "type": "document",
    "title": "Notes",
    "context": "Placeholder text for a layout.",
    "source": {"type": "text", "media_type": "text/plain", "data": "Lorem ipsum dolor sit amet. " * 20},
}
EPHEMERAL = {"type": "ephemeral"}


def schema(**properties: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: {"type": kind} for name, kind in properties.items()},
        "required": list(properties),
    }


CODING_TOOLS = [
    {
        "name": "read_file",
        "description": "Read a file of the repository.",
        "input_schema": schema(path="string"),
    },
    {
        "name": "edit_file",
        "description": "Replace text in a file.",
        "input_schema": schema(path="string", old="string", new="string"),
    },
]
WEATHER_TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather.",
        "input_schema": schema(city="string", unit="string"),
    }
]
READ_CALL = {"type": "tool_use", "id": "toolu_01Read", "name": "read_file", "input": {"path": "src/app.py"}}
EDIT_CALL = {
    "type": "tool_use",
    "id": "toolu_01Edit",
    "name": "edit_file",
    "input": {"path": "src/app.py", "old": "def main():", "new": "def main() -> None:"},
}
WEATHER_CALL = {"type": "tool_use", "id": "toolu_01Wx", "name": "get_weather", "input": {"city": "Paris"}}
CODING_START = {"role": "user", "content": [{"type": "text", "text": "Add a return type to main()."}, IMAGE]}


def coding(*later: dict[str, Any], **extra: Any) -> dict[str, Any]:
    system = [
        {"type": "text", "text": "You are a careful coding agent."},
        {"type": "text", "text": "Be brief."},
    ]
    return {
        "model": MODEL,
        "system": system,
        "tools": CODING_TOOLS,
        "messages": [CODING_START, *later],
        **extra,
    }


def weather(*later: dict[str, Any]) -> dict[str, Any]:
    first = {"role": "user", "content": [PDF_DOCUMENT, {"type": "text", "text": "Weather in Paris?"}]}
    return {
        "model": MODEL,
        "system": "You report the weather.",
        "tools": WEATHER_TOOLS,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "messages": [first, *later],
    }


def chat(text: Any, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **extra}


WEATHER_TURN = {
    "role": "assistant",
    "content": [
        {"type": "thinking", "thinking": "I should call get_weather.", "signature": "EqQBCkYIBBgCKkA0c2ln"},
        {"type": "text", "text": "Let me check the forecast."},
        WEATHER_CALL,
    ],
}
HANDBOOK = "Company handbook. " + "Expenses are filed within 30 days of purchase. " * 170


@dataclass(frozen=True)
class Case:
    """One request to a bundled scenario: `body` holds what count_tokens takes, `create` the rest."""

    scenario: str
    body: dict[str, Any]
    create: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # Streams that fail on purpose or are paced slowly: read the usage in message_start, sent at once.
    first_event_only: bool = False
    caches: bool = False  # `cache: simulate` with a breakpoint: part of the prompt is read or written


CASES = {
    "coding-agent/image": Case("coding-agent", coding()),
    "coding-agent/string-result": Case(
        "coding-agent",
        coding(
            {"role": "assistant", "content": [{"type": "text", "text": "Reading it."}, READ_CALL]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_01Read", "content": "def main():"}],
            },
        ),
    ),
    "coding-agent/forced-tool-block-result": Case(
        "coding-agent",
        coding(
            {"role": "assistant", "content": [READ_CALL]},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_01Read", "content": "def main():"}],
            },
            {"role": "assistant", "content": [EDIT_CALL]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01Edit",
                        "content": [{"type": "text", "text": "1 replacement"}],
                        "is_error": False,
                    }
                ],
            },
            tool_choice={"type": "any"},
        ),
    ),
    "coding-agent/error-result-markers-ignored": Case(
        "coding-agent",
        coding(
            {"role": "assistant", "content": [READ_CALL]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01Read",
                        "content": "permission denied",
                        "is_error": True,
                        "cache_control": EPHEMERAL,
                    }
                ],
            },
            cache_control=EPHEMERAL,
        ),
    ),
    "weather-agent/thinking-pdf": Case("weather-agent", weather(), {"max_tokens": 2048}),
    "weather-agent/tool-result-after-thinking": Case(
        "weather-agent",
        weather(
            WEATHER_TURN,
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01Wx",
                        "content": [{"type": "text", "text": "18 C, sunny"}, IMAGE],
                    }
                ],
            },
        ),
        {"max_tokens": 2048},
    ),
    "weather-agent/error-result-drops-earlier-thinking": Case(
        "weather-agent",
        weather(
            WEATHER_TURN,
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "toolu_01Wx",
                        "content": "timeout",
                        "is_error": True,
                    },
                    {"type": "text", "text": "Try again?"},
                ],
            },
        ),
        {"max_tokens": 2048},
    ),
    "prompt-cache/unmarked": Case("prompt-cache", chat("Deadline for expenses?", system=HANDBOOK)),
    "prompt-cache/marked": Case(
        "prompt-cache",
        chat(
            "Deadline for expenses?", system=[{"type": "text", "text": HANDBOOK, "cache_control": EPHEMERAL}]
        ),
        caches=True,
    ),
    "generated-reply/text-document": Case(
        "generated-reply",
        chat(
            [TEXT_DOCUMENT, {"type": "text", "text": "Continue this lorem ipsum."}],
            system="You write filler.",
        ),
        {"metadata": {"user_id": "u-42"}},
    ),
    "stop-sequence/stop-sequences": Case(
        "stop-sequence", chat("Please list the steps for a cake."), {"stop_sequences": ["###"]}
    ),
    "rate-limited/header": Case("rate-limited", chat("Hello"), headers={"x-mockbay-demo": "rate-limit"}),
    "slow-stream/header": Case(
        "slow-stream", chat("Stream to me"), headers={"x-mockbay-demo": "slow-stream"}, first_event_only=True
    ),
    "tenant-acme/header": Case("tenant-acme", chat("Who are you?"), headers={"x-tenant": "acme"}),
    "tenant-globex/header": Case(
        "tenant-globex", chat("Who are you?"), headers={"x-tenant": "globex"}, first_event_only=True
    ),
    "flaky-upstream/retried": Case("flaky-upstream", chat("Is the upstream flaky today?")),
    "midstream-failure/error-event": Case(
        "midstream-failure",
        chat("Tell me a story."),
        headers={"x-mockbay-fault": "error_event"},
        first_event_only=True,
    ),
    "midstream-failure/disconnect": Case(
        "midstream-failure",
        chat("Tell me a story."),
        headers={"x-mockbay-fault": "disconnect"},
        first_event_only=True,
    ),
}
WITHOUT_USAGE = {"http-errors": "answers every request with an HTTP error, which carries no usage"}


@pytest.fixture(scope="module")
def bundled() -> Iterator[MockServer]:
    with MockServer([REPO / "scenarios"]) as server:
        yield server
        assert server.state.internal_errors == []  # streams closed early must not break the server


@pytest.fixture(scope="module")
def shapes() -> Iterator[MockServer]:
    with MockServer([DATA / "usage" / "blocks.yaml"]) as server:
        yield server


def prompt_usage(client: anthropic.Anthropic, case: Case) -> anthropic.types.Usage:
    """The usage create reports, or for `first_event_only` the one in the stream's message_start."""
    body = {"max_tokens": 1024, **case.body, **case.create}
    if not case.first_event_only:
        return client.messages.create(**body).usage
    with client.messages.create(**body, stream=True) as stream:
        first = next(iter(stream))
    assert first.type == "message_start"
    return first.message.usage


def test_every_bundled_scenario_is_covered(bundled):
    names = {scenario.name for scenario in bundled.state.registry}
    assert names == {case.scenario for case in CASES.values()} | set(WITHOUT_USAGE)


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_count_tokens_equals_the_uncached_input_tokens(bundled, case):
    session = {**MockServer.session_headers(uuid.uuid4().hex), **case.headers}
    client = sync_client(bundled.url, default_headers=session)
    usage = prompt_usage(client, case)
    last = bundled.journal.last
    assert last is not None and last.scenario == case.scenario
    counted = client.messages.count_tokens(**case.body).input_tokens
    cached = (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
    assert usage.input_tokens + cached == counted
    assert (cached > 0) == case.caches


def test_images_and_pdf_pages_are_counted(bundled):
    """count_tokens grows by the documented constants, so the parity above is not over zeros."""
    client = sync_client(bundled.url)
    plain = chat([{"type": "text", "text": "Describe."}])
    with_image = chat([IMAGE, {"type": "text", "text": "Describe."}])
    with_pdf = chat([PDF_DOCUMENT, {"type": "text", "text": "Describe."}])
    base = client.messages.count_tokens(**plain).input_tokens
    assert (
        client.messages.count_tokens(**with_image).input_tokens == base + 1
    )  # a 1x1 PNG: 1 / 750, at least 1
    unread = chat(
        [{**IMAGE, "source": {**IMAGE["source"], "data": "AAAA"}}, {"type": "text", "text": "Describe."}]
    )
    assert client.messages.count_tokens(**unread).input_tokens == base + IMAGE_TOKENS
    title = math.ceil(len(PDF_DOCUMENT["title"]) / 3.5)
    assert client.messages.count_tokens(**with_pdf).input_tokens == base + 2 * PDF_PAGE_TOKENS + title


# ---- stream and JSON ------------------------------------------------------------------------

SHAPES = {
    "text": ("text", {}),
    "text/max-tokens": ("text", {"max_tokens": 5}),
    "text/stop-sequence": ("text", {"stop_sequences": ["END"]}),
    "thinking-tool": ("thinking-tool", {}),
    "thinking-tool/cut-in-thinking": ("thinking-tool", {"max_tokens": 6}),
    "thinking-tool/cut-in-text": ("thinking-tool", {"max_tokens": 22}),
    "redacted": ("redacted", {}),
    "chunked": ("chunked", {}),
    "chunked/max-tokens": ("chunked", {"max_tokens": 6}),
    "chunked/stop-sequence": ("chunked", {"stop_sequences": ["END"]}),
    "given-usage": ("given-usage", {}),
}


def create_kwargs(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 1024, "messages": [{"role": "user", "content": "Go on."}], **extra}


def sent_tokens(content: list[dict[str, Any]]) -> int:
    """Output tokens of what a reply carries: text and thinking by the output tokenizer, tool calls as
    name plus JSON input, redacted thinking at 4 characters a token."""
    total = 0
    for block in content:
        if block["type"] in ("text", "thinking"):
            total += count_tokens(block[block["type"]])
        elif block["type"] == "tool_use":
            total += count_tokens(block["name"]) + count_tokens(
                json.dumps(block["input"], ensure_ascii=False)
            )
        else:
            total += math.ceil(len(block["data"]) / 4)
    return total


def raw_stream(server: MockServer, scenario: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    with httpx.Client() as http:
        response = http.post(
            f"{server.url}/s/{scenario}/v1/messages", json={**body, "stream": True}, headers=WIRE_HEADERS
        )
    assert response.status_code == 200
    return [data for _, data in parse_events(response.content)]


def streamed_content(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Blocks rebuilt from the raw deltas: what the wire actually sent."""
    blocks: dict[int, dict[str, Any]] = {}
    for event in events:
        if event["type"] == "content_block_start":
            blocks[event["index"]] = dict(event["content_block"])
        elif event["type"] == "content_block_delta":
            delta, target = event["delta"], blocks[event["index"]]
            if delta["type"] == "text_delta":
                target["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                target["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                target["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                target["partial"] = target.get("partial", "") + delta["partial_json"]
    for target in blocks.values():
        if target["type"] == "tool_use":
            target["input"] = json.loads(target.pop("partial", "") or "{}")
    return [blocks[i] for i in sorted(blocks)]


@pytest.mark.parametrize(("scenario", "extra"), list(SHAPES.values()), ids=list(SHAPES))
def test_stream_and_json_usage_agree(shapes, scenario, extra):
    client = pinned_client(shapes, scenario)
    body = create_kwargs(**extra)
    plain = client.messages.create(**body)
    with client.messages.stream(**body) as stream:
        streamed = stream.get_final_message()
    assert streamed.to_dict() == plain.to_dict()

    usage = plain.usage.model_dump()
    events = raw_stream(shapes, scenario, body)
    start = events[0]["message"]["usage"]
    assert {k: start[k] for k in PROMPT_COUNTS} == {k: usage[k] for k in PROMPT_COUNTS}
    assert start["cache_creation"] == usage["cache_creation"]
    assert start["output_tokens"] == 1
    final = [e for e in events if e["type"] == "message_delta"][-1]["usage"]
    assert final == {k: usage[k] for k in (*PROMPT_COUNTS, "output_tokens")}

    content = [block.to_dict() for block in plain.content]
    assert streamed_content(events) == content
    if scenario != "given-usage":
        assert usage["output_tokens"] == sent_tokens(content)


def test_a_max_tokens_cut_bills_only_what_was_sent(shapes):
    client = pinned_client(shapes, "text")
    whole = client.messages.create(**create_kwargs())
    cut = client.messages.create(**create_kwargs(max_tokens=5))
    full_text = whole.content[0].text
    assert (cut.stop_reason, cut.content[0].text) == ("max_tokens", "".join(split_tokens(full_text)[:5]))
    assert cut.usage.output_tokens == 5 == count_tokens(cut.content[0].text)
    assert whole.usage.output_tokens == count_tokens(full_text) == 23
    assert cut.usage.input_tokens == whole.usage.input_tokens


def test_a_stop_sequence_cut_bills_only_what_was_sent(shapes):
    client = pinned_client(shapes, "text")
    whole = client.messages.create(**create_kwargs())
    cut = client.messages.create(**create_kwargs(stop_sequences=["END"]))
    sent = whole.content[0].text.split("END")[0]
    assert (cut.stop_reason, cut.stop_sequence, cut.content[0].text) == ("stop_sequence", "END", sent)
    assert cut.usage.output_tokens == count_tokens(sent) == 15 < whole.usage.output_tokens


def test_thinking_counts_as_output(shapes):
    client = pinned_client(shapes, "thinking-tool")
    whole = client.messages.create(**create_kwargs())
    thinking, text, tool = whole.content
    assert thinking.type == "thinking" and text.type == "text" and tool.type == "tool_use"
    visible = count_tokens(text.text) + count_tokens(tool.name) + count_tokens(json.dumps(tool.input))
    assert whole.usage.output_tokens == count_tokens(thinking.thinking) + visible

    cut = client.messages.create(**create_kwargs(max_tokens=6))
    assert [block.type for block in cut.content] == ["thinking"]
    assert cut.stop_reason == "max_tokens"
    assert cut.usage.output_tokens == 6 == count_tokens(cut.content[0].thinking)


def test_scenario_usage_wins_in_stream_and_json(shapes):
    client = pinned_client(shapes, "given-usage")
    with client.messages.stream(**create_kwargs()) as stream:
        streamed = stream.get_final_message()
    assert streamed.usage.model_dump(include={*PROMPT_COUNTS, "output_tokens", "cache_creation"}) == {
        "input_tokens": 812,
        "cache_creation_input_tokens": 100,
        "cache_read_input_tokens": 2048,
        "output_tokens": 40,
        "cache_creation": {"ephemeral_5m_input_tokens": 60, "ephemeral_1h_input_tokens": 40},
    }
