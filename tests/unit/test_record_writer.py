"""Exchanges -> scenario YAML: replies, streams, timing, faults, layout, scrubbing, and the loader's view."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockbay.fingerprint import fingerprint
from mockbay.platforms import ANTHROPIC, BEDROCK, VERTEX
from mockbay.record.exchange import SERVICE_TIERS, STOP_REASONS, Exchange, TimedEvent, reply_for
from mockbay.record.scrub import MARKER, Scrubber
from mockbay.record.writer import Recording, file_name, group_name, upstream_host, write_atomic
from mockbay.scenario import schema
from mockbay.scenario.loader import load_text
from mockbay.scenario.model import ChunkedText, LiteralText

SCRUB = Scrubber()
KEY = "sk-ant-api03-Xk9mQ2vL8nR4tY7wE1zA5bC3dF6gH0jI"
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
USAGE = {
    "input_tokens": 10,
    "cache_creation_input_tokens": 100,
    "cache_read_input_tokens": 2048,
    "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 0},
    "output_tokens": 1,
    "service_tier": "standard",
    "inference_geo": "not_available",
}


def request(*turns: str, model: str = "claude-sonnet-4-5", stream: bool = False) -> dict[str, Any]:
    """A request whose messages alternate user / assistant, starting and ending with user."""
    messages = [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(turns)]
    return {"model": model, "max_tokens": 256, "messages": messages, "stream": stream}


def stream(*items: tuple[float, dict[str, Any]]) -> tuple[TimedEvent, ...]:
    return tuple(TimedEvent(offset_ms=ms, data=data) for ms, data in items)


def start(message_id: str = "msg_01A") -> dict[str, Any]:
    message = {"id": message_id, "type": "message", "role": "assistant", "model": "claude-sonnet-4-5"}
    return {
        "type": "message_start",
        "message": {**message, "content": [], "stop_reason": None, "usage": USAGE},
    }


def block(index: int, **content_block: Any) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": content_block}


def delta(index: int, kind: str, **fields: str) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": {"type": kind, **fields}}


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def finish(stop_reason: str = "end_turn", output_tokens: int = 40) -> list[dict[str, Any]]:
    return [
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": output_tokens, "input_tokens": None},
        },
        {"type": "message_stop"},
    ]


PING = {"type": "ping"}

TOOL_STREAM = stream(
    (812.04, start()),
    (813.0, block(0, type="thinking", thinking="", signature="")),
    (813.5, PING),
    (820.0, delta(0, "thinking_delta", thinking="Paris,\nso ")),
    (830.0, delta(0, "thinking_delta", thinking="the tool.")),
    (831.0, delta(0, "signature_delta", signature="EqUBCkYIBBgCKkA0c2lnbmF0dXJl")),
    (832.0, stop(0)),
    (833.0, block(1, type="text", text="")),
    (840.0, delta(1, "text_delta", text="Let me ")),
    (845.0, delta(1, "text_delta", text="check.")),
    (846.0, stop(1)),
    (847.0, block(2, type="tool_use", id="toolu_01B", name="get_weather", input={})),
    (848.0, delta(2, "input_json_delta", partial_json="")),
    (849.0, delta(2, "input_json_delta", partial_json='{"city": "Pa')),
    (850.0, delta(2, "input_json_delta", partial_json='ris"}')),
    (851.0, stop(2)),
    (900.0, finish("tool_use")[0]),
    (900.25, finish()[1]),
)


def test_a_json_message_becomes_content_ids_and_usage() -> None:
    body = {
        "id": "msg_01A",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Hmm.", "signature": "EqUBsig"},
            {"type": "redacted_thinking", "data": "opaque-blob"},
            {"type": "text", "text": "Checking.", "citations": None},
            {"type": "tool_use", "id": "toolu_01A", "name": "get_weather", "input": {"city": "Lyon"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {**USAGE, "output_tokens": 58},
    }
    headers = {"request-id": "req_1", "anthropic-ratelimit-requests-remaining": "49", "content-type": "x"}
    reply = reply_for(Exchange(request=request("hi"), status=200, headers=headers, body=body), SCRUB)
    assert reply == {
        "content": [
            {"thinking": "Hmm.", "signature": "EqUBsig"},
            {"redacted_thinking": "opaque-blob"},
            {"text": "Checking."},
            {"tool_use": {"name": "get_weather", "input": {"city": "Lyon"}, "id": "toolu_01A"}},
        ],
        "stop_reason": "tool_use",
        "id": "msg_01A",
        "model": "claude-sonnet-4-5",
        "usage": {
            "input_tokens": 10,
            "output_tokens": 58,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 2048,
            "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 0},
            "service_tier": "standard",
        },
        "headers": {"anthropic-ratelimit-requests-remaining": "49"},
    }


def test_a_stream_keeps_deltas_as_received_and_gaps_without_pings() -> None:
    reply = reply_for(Exchange(request=request("hi", stream=True), status=200, events=TOOL_STREAM), SCRUB)
    assert reply["content"] == [
        {"thinking": {"chunks": ["Paris,\nso ", "the tool."]}, "signature": "EqUBCkYIBBgCKkA0c2lnbmF0dXJl"},
        {"text": {"chunks": ["Let me ", "check."]}},
        {
            "tool_use": {
                "name": "get_weather",
                "input": {"city": "Paris"},
                "input_chunks": ["", '{"city": "Pa', 'ris"}'],
                "id": "toolu_01B",
            }
        },
    ]
    assert reply["stop_reason"] == "tool_use"
    assert reply["usage"]["output_tokens"] == 40 and reply["usage"]["input_tokens"] == 10
    # 17 events but the ping: the ping's 0.5 ms folds into the gap before the first thinking delta
    assert reply["recorded"] == {
        "ttft_ms": 812.0,
        "gaps_ms": [1.0, 7.0, 10.0, 1.0, 1.0, 1.0, 7.0, 5.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 49.0, 0.2],
    }
    assert "fault" not in reply


def test_gaps_are_differences_of_rounded_offsets_so_they_sum_to_the_last_offset() -> None:
    offsets = [0.04 + 0.33 * i for i in range(30)]
    events = (
        [start()] + [block(0, type="text", text="")] + [delta(0, "text_delta", text="x")] * 25 + [stop(0)]
    )
    events += finish()
    reply = reply_for(
        Exchange(request=request("hi"), status=200, events=stream(*zip(offsets, events, strict=True))), SCRUB
    )
    recorded = reply["recorded"]
    assert len(recorded["gaps_ms"]) == 29
    assert recorded["ttft_ms"] + sum(recorded["gaps_ms"]) == pytest.approx(round(offsets[-1], 1), abs=1e-9)


def test_an_error_event_becomes_an_error_event_fault_after_the_events_before_it() -> None:
    events = stream(
        (100.0, start()),
        (101.0, block(0, type="text", text="")),
        (101.5, PING),
        (102.0, delta(0, "text_delta", text="Once upon")),
        (150.0, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
        (151.0, stop(0)),  # nothing after an error counts
    )
    reply = reply_for(Exchange(request=request("hi"), status=200, events=events), SCRUB)
    assert reply["content"] == [{"text": {"chunks": ["Once upon"]}}]
    assert "stop_reason" not in reply
    assert reply["fault"] == {
        "kind": "error_event",
        "after_events": 3,
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert reply["recorded"] == {"ttft_ms": 100.0, "gaps_ms": [1.0, 1.0, 48.0]}


def test_a_stream_that_ends_without_message_stop_is_a_disconnect() -> None:
    events = stream(
        (5.0, start()), (6.0, block(0, type="text", text="")), (7.0, delta(0, "text_delta", text="a"))
    )
    reply = reply_for(Exchange(request=request("hi"), status=200, events=events), SCRUB)
    assert reply["fault"] == {"kind": "disconnect", "after_events": 3}


def envelope(error_type: str, message: str, **more: Any) -> bytes:
    return json.dumps({"type": "error", "error": {"type": error_type, "message": message, **more}}).encode()


# (status, the body as upstream sent it, its wire, the `error:` written); every one with
# content_type: application/json unless text/plain is named
ERROR_BODIES: list[tuple[int, bytes, str, dict[str, Any]]] = [
    (
        529,
        envelope("overloaded_error", "Overloaded"),
        ANTHROPIC,
        {"type": "overloaded_error", "message": "Overloaded"},
    ),
    (
        400,
        envelope("invalid_request_error", f"bad key {KEY}"),
        ANTHROPIC,
        {"type": "invalid_request_error", "message": f"bad key {MARKER}"},
    ),
    (
        429,
        envelope("rate_limit_error", "Spent", details={"error_code": "enforced_spend_limit_reached"}),
        VERTEX,
        {"type": "rate_limit_error", "message": "Spent", "error_code": "enforced_spend_limit_reached"},
    ),
    (
        401,
        b'{"message": "Unauthorized"}',
        BEDROCK,
        {"type": "authentication_error", "message": "Unauthorized"},
    ),
    # the envelope cannot repeat these: kept as sent
    (502, b"Bad gateway", ANTHROPIC, {"body": "Bad gateway", "content_type": "text/plain"}),
    (429, b"", ANTHROPIC, {"body": "", "content_type": "text/plain"}),
    (401, b'{"detail": "Not authenticated"}', ANTHROPIC, {"body": '{"detail": "Not authenticated"}'}),
    (401, b'{"message": "Unauthorized"}', ANTHROPIC, {"body": '{"message": "Unauthorized"}'}),  # Kong's
    (401, b'{"message": ""}', BEDROCK, {"body": '{"message": ""}'}),
    (404, b'["not", "an", "object"]', ANTHROPIC, {"body": '["not", "an", "object"]'}),
    (400, envelope("api_error", ""), ANTHROPIC, {"body": envelope("api_error", "").decode()}),
    (
        400,
        envelope(
            "invalid_request_error",
            "No",
            details={"error_code": "thread_unsupported_request", "unsupported": ["x"]},
        ),
        ANTHROPIC,
        {
            "body": envelope(
                "invalid_request_error",
                "No",
                details={"error_code": "thread_unsupported_request", "unsupported": ["x"]},
            ).decode()
        },
    ),
    (
        401,
        b'{"error": {"code": 401, "message": "No", "status": "UNAUTHENTICATED"}}',
        VERTEX,
        {"body": '{"error": {"code": 401, "message": "No", "status": "UNAUTHENTICATED"}}'},
    ),
    (
        400,
        b'{"type": "error", "error": {"type": "x", "message": "m", "param": null}}',
        ANTHROPIC,
        {"body": '{"type": "error", "error": {"type": "x", "message": "m", "param": null}}'},
    ),
    (
        502,
        b"\xe9chec " + KEY.encode() + b" \xff\n",  # Latin-1, holding a key
        ANTHROPIC,
        {
            "body": {"base64": base64.b64encode(b"\xe9chec " + MARKER.encode() + b" \xff\n").decode()},
            "content_type": "text/plain",
        },
    ),
]


@pytest.mark.parametrize(
    ("status", "raw", "platform", "expected"),
    ERROR_BODIES,
    ids=[f"{p}-{r[:24]!r}" for _, r, p, _ in ERROR_BODIES],
)
def test_errors_become_error_replies_with_their_headers(
    status: int, raw: bytes, platform: str, expected: dict[str, Any]
) -> None:
    """The envelope's fields when the replay's envelope holds all the body held on that wire; else
    the body as sent (base64 when not UTF-8), scrubbed, with its content type."""
    content_type = expected.get("content_type", "application/json")
    headers = {"retry-after": "2", "x-should-retry": "true", "request-id": "req_9", "x-api-key": KEY}
    headers["content-type"] = content_type
    parsed = json.loads(raw) if raw.startswith(b"{") else None
    exchange = Exchange(
        request=request("hi"), status=status, headers=headers, body=parsed, raw=raw, platform=platform
    )
    reply = reply_for(exchange, SCRUB)
    assert list(reply) == ["error", "headers"]
    assert reply["headers"] == {"retry-after": "2", "x-should-retry": "true"}
    kept = {"content_type": content_type} if "body" in expected else {}
    assert reply["error"] == {"status": status, **expected, **kept}


def test_a_key_split_across_deltas_is_scrubbed_and_its_deltas_collapse_with_their_time() -> None:
    events = stream(
        (10.0, start()),
        (11.0, block(0, type="text", text="")),
        (12.0, delta(0, "text_delta", text="key: " + KEY[:10])),
        (13.0, delta(0, "text_delta", text=KEY[10:])),
        (14.0, delta(0, "text_delta", text=" ok")),
        (15.0, stop(0)),
        (16.0, block(1, type="tool_use", id="toolu_1", name="login", input={})),
        (17.0, delta(1, "input_json_delta", partial_json='{"user": "al", "api_key": "')),
        (18.0, delta(1, "input_json_delta", partial_json='abc"}')),
        (19.0, stop(1)),
        *zip((20.0, 21.0), finish(), strict=True),
    )
    reply = reply_for(Exchange(request=request("hi"), status=200, events=events), SCRUB)
    assert reply["content"] == [
        {"text": {"chunks": [f"key: {MARKER} ok"]}},
        {
            "tool_use": {
                "name": "login",
                "input": {"user": "al", "api_key": MARKER},
                "input_chunks": [f'{{"user": "al", "api_key": "{MARKER}"}}'],
                "id": "toolu_1",
            }
        },
    ]
    # the dropped deltas' time folds into the next kept event
    assert reply["recorded"]["gaps_ms"] == [1.0, 1.0, 3.0, 1.0, 1.0, 2.0, 1.0, 1.0]
    assert KEY[10:] not in yaml.safe_dump(reply)


def test_empty_blocks_and_argument_free_tools_load() -> None:
    events = stream(
        (1.0, start()),
        (2.0, block(0, type="text", text="")),
        (3.0, stop(0)),
        (4.0, block(1, type="tool_use", id="toolu_2", name="now", input={})),
        (5.0, delta(1, "input_json_delta", partial_json="")),
        (6.0, stop(1)),
        *zip((7.0, 8.0), finish("tool_use"), strict=True),
    )
    recording = Recording("empty")
    recording.add(Exchange(request=request("hi"), status=200, events=events), SCRUB)
    (scenario,) = load_text(recording.to_yaml(upstream="http://up", now=NOW))
    text, tool = scenario.turns[0].reply.content
    assert text.text == LiteralText(value="")
    assert tool.input == {} and tool.input_chunks is None


# Absent from that usage and computed by mockbay (the call brings server_tool_use); the unknown
# `flex` tier was carried, so it is not omitted, only not written.
OMITTED_HERE = [
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "inference_geo",
    "server_tool_use",
]


def test_values_the_format_cannot_hold_are_left_out() -> None:
    body = {
        "content": [{"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}}],
        "stop_reason": "an_unknown_reason",
        "usage": {"input_tokens": 1, "output_tokens": 2, "service_tier": "flex"},
    }
    reply = reply_for(Exchange(request=request("hi"), status=200, body=body), SCRUB)
    assert reply == {
        "content": [{"server_tool_use": {"name": "web_search", "input": {}, "id": "srvtoolu_1"}}],
        "usage": {"input_tokens": 1, "output_tokens": 2, "omit": OMITTED_HERE},
    }


def test_a_block_without_a_key_is_recorded_raw() -> None:
    block = {"type": "some_new_block", "data": [1, 2]}
    reply = reply_for(Exchange(request=request("hi"), status=200, body={"content": [block]}), SCRUB)
    assert reply["content"] == [{"raw": block}]


def test_stop_reasons_and_service_tiers_match_the_schema() -> None:
    fields = schema.resolve(schema.DEFS["reply"]).fields  # type: ignore[attr-defined]
    assert fields["stop_reason"].values == STOP_REASONS
    assert fields["usage"].fields["service_tier"].values == SERVICE_TIERS


# ---- files ----------------------------------------------------------------------------------


def tool_loop() -> tuple[list[Exchange], list[dict[str, Any]]]:
    first = request("Weather in Paris?", stream=True)
    second = request("Weather in Paris?", "Let me check.", "18 C")
    answer = {
        "id": "msg_02",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Sunny,\n18 C."}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 30, "output_tokens": 9},
    }
    exchanges = [
        Exchange(request=first, status=200, events=TOOL_STREAM),
        Exchange(request=second, status=200, body=answer),
    ]
    return exchanges, [first, second]


def test_a_conversation_is_one_scenario_with_one_turn_per_exchange_that_the_loader_reads() -> None:
    exchanges, requests = tool_loop()
    recording = Recording("weather")
    for exchange in exchanges:
        recording.add(exchange, SCRUB)
    text = recording.to_yaml(upstream="https://user:pw@api.anthropic.com:443/v1?key=x", now=NOW)
    assert text.startswith(
        "# Recorded by `mockbay record` from https://api.anthropic.com:443 on 2025-01-02T03:04:05Z"
        " (recording format 1).\n"
    )
    assert "user:pw" not in text and "key=x" not in text
    data = yaml.safe_load(text)
    assert list(data) == ["name", "description", "turns"]
    assert data["description"] == "Recorded from claude-sonnet-4-5: Weather in Paris?"
    assert [t["when"] for t in data["turns"]] == [
        {"fingerprint": fingerprint(requests[0]), "last_user": "Weather in Paris?"},
        {"fingerprint": fingerprint(requests[1]), "last_user": "18 C"},
    ]
    assert next(iter(data["turns"][0]["reply"])) == "content"
    assert "text: |-\n" in text  # multi-line prose as a literal block
    assert "gaps_ms: [1.0, 7.0," in text  # numbers as one row
    assert f'fingerprint: "{fingerprint(requests[0])}"' in text

    (scenario,) = load_text(text, "weather.yaml")
    first, second = scenario.turns
    assert first.when is not None and first.when.fingerprint == fingerprint(requests[0])
    assert first.reply is not None and second.reply is not None
    thinking, _, tool = first.reply.content
    assert thinking.text == ChunkedText(pieces=("Paris,\nso ", "the tool.")) and thinking.signature
    assert tool.input_chunks == ("", '{"city": "Pa', 'ris"}') and tool.id == "toolu_01B"
    assert first.reply.recorded is not None and first.reply.recorded.ttft_ms == 812.0
    assert first.reply.usage is not None and first.reply.usage.ephemeral_5m_input_tokens == 100
    assert second.reply.content[0].text == LiteralText(value="Sunny,\n18 C.")


def test_the_same_request_again_replaces_its_entry_in_place_later_wins() -> None:
    exchanges, _ = tool_loop()
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    retry = Exchange(request=exchanges[0].request, status=529, body=overloaded)
    again = Exchange(
        request={**exchanges[0].request, "stream": False, "metadata": {"user_id": "u"}},
        status=529,
        body=overloaded,
    )
    recording = Recording("weather")
    for exchange in (retry, exchanges[1], again, exchanges[0]):
        recording.add(exchange, SCRUB)
    turns = recording.document()["turns"]
    assert len(turns) == 2
    assert turns[0]["reply"]["content"][1] == {"text": {"chunks": ["Let me ", "check."]}}


def test_the_latest_request_at_each_depth_is_the_turn_and_the_others_are_rules() -> None:
    exchanges, requests = tool_loop()
    other = request("Weather in Rome?")  # an earlier attempt at depth 0
    deep = request("a", "b", "c", "d", "e", "f", "g")  # depth 3: depth 2 was never recorded
    recording = Recording("mixed")
    for exchange in (
        Exchange(request=deep, status=200, body={"content": []}),
        Exchange(request=other, status=200, body={"content": []}),
        *exchanges,
    ):
        recording.add(exchange, SCRUB)
    doc = recording.document()
    assert [t["when"]["fingerprint"] for t in doc["turns"]] == [fingerprint(r) for r in requests]
    assert [r["when"] for r in doc["rules"]] == [
        {"fingerprint": fingerprint(other), "last_user": "Weather in Rome?", "turn": 0},
        {"fingerprint": fingerprint(deep), "last_user": "g", "turn": 3},
    ]
    (scenario,) = load_text(recording.to_yaml(upstream="http://up", now=NOW))
    assert [r.when.turn.min for r in scenario.rules if r.when and r.when.turn] == [0, 3]


def test_a_written_file_reads_back_to_the_same_file_and_keeps_its_layout_when_extended() -> None:
    exchanges, _ = tool_loop()
    recording = Recording("weather")
    for exchange in (Exchange(request=request("first try"), status=200, body={"content": []}), *exchanges):
        recording.add(exchange, SCRUB)
    text = recording.to_yaml(upstream="http://up", now=NOW)
    again = Recording.from_yaml(text, "weather.yaml")
    assert sorted(map(repr, again.entries)) == sorted(map(repr, recording.entries))
    assert again.to_yaml(upstream="http://up", now=NOW) == text
    deeper = Exchange(request=request("x", "y", "z", "w", "v"), status=200, body={"content": []})
    again.add(deeper, SCRUB)
    recording.add(deeper, SCRUB)
    assert again.document() == recording.document()
    assert len(again.document()["turns"]) == 3 and len(again.document()["rules"]) == 1


def test_a_file_from_a_newer_format_or_not_a_recording_is_refused() -> None:
    from mockbay.errors import MockbayError

    with pytest.raises(MockbayError, match="recording format 99 is newer"):
        Recording.from_yaml("# Recorded by x (recording format 99).\nname: a\n", "a.yaml")
    with pytest.raises(MockbayError, match=r"a\.yaml: not a recording"):
        Recording.from_yaml("name: a\nturns:\n  - reply: {text: hi}\n", "a.yaml")


@pytest.mark.parametrize(
    "text",
    ["line one\nline two\n", "trailing space \nnext", "  leading\nindent", "tab\tand\r\nCRLF", "ünï\ncødé"],
)
def test_any_text_survives_the_yaml_round_trip_exactly(text: str) -> None:
    body = {"content": [{"type": "text", "text": text}], "stop_reason": "end_turn"}
    recording = Recording("rt")
    recording.add(Exchange(request=request("hi"), status=200, body=body), SCRUB)
    (scenario,) = load_text(recording.to_yaml(upstream="http://up", now=NOW))
    assert scenario.turns[0].reply is not None
    assert scenario.turns[0].reply.content[0].text == LiteralText(value=text)


def test_credentials_never_reach_the_file() -> None:
    req = request(f"my key is {KEY}")
    body = {"content": [{"type": "text", "text": f"You said {KEY}"}], "stop_reason": "end_turn"}
    headers = {"x-api-key": KEY, "authorization": f"Bearer {KEY}", "anthropic-ratelimit-requests-limit": "5"}
    recording = Recording(group_name(req, {}, None, SCRUB))
    recording.add(Exchange(request=req, status=200, headers=headers, body=body), SCRUB)
    text = recording.to_yaml(upstream="https://api.anthropic.com", now=NOW)
    assert KEY not in text and KEY[14:30] not in text
    assert text.count(MARKER) == 2  # description and reply text


def test_group_names() -> None:
    req = request("What is the weather in Paris today, please?")
    auto = group_name(req, {}, None, SCRUB)
    assert (
        auto.startswith("rec-what-is-the-weather-in-") and len(auto) == len("rec-what-is-the-weather-in-") + 8
    )
    assert (
        group_name(request("What is the weather in Paris today, please?", "x", "y"), {}, None, SCRUB) == auto
    )
    assert group_name(request("Other"), {}, None, SCRUB) != auto
    assert (
        group_name(
            request("What is the weather in Paris today, please?", model="claude-haiku-4-5"), {}, None, SCRUB
        )
        != auto
    )
    assert group_name(req, {"X-Mockbay-Record-Name": "agents/weather"}, None, SCRUB) == "agents-weather"
    assert group_name(req, {"x-mockbay-record-name": "named"}, "pinned", SCRUB) == "pinned"


def test_a_key_in_the_first_message_does_not_reach_the_group_name() -> None:
    """The name is the file's name and a progress line: its words come from the scrubbed text."""
    key = "sk-ant-api03-" + "AbCd1234" * 8
    name = group_name(request(f"{key} is my key, why is it refused?"), {}, None, SCRUB)
    assert name.startswith("rec-scrubbed-is-my-key-why-"), name
    assert "api03" not in name and "abcd1234" not in name


def test_file_names_and_upstream_host() -> None:
    assert file_name("weather agent: v2") == "weather-agent-v2.yaml"
    assert file_name("../..") == "recording.yaml"
    assert upstream_host("http://127.0.0.1:8081/base?x=1") == "http://127.0.0.1:8081"


def test_write_atomic_replaces_whole_files_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "a.yaml"
    write_atomic(target, "one\n")
    write_atomic(target, "two\n")
    assert target.read_text() == "two\n"
    assert [p.name for p in target.parent.iterdir()] == ["a.yaml"]


def test_message_level_fields_and_usage_objects_are_kept() -> None:
    body = {
        "content": [{"type": "text", "text": "No."}],
        "stop_reason": "refusal",
        "stop_details": {"type": "refusal", "category": "cyber", "explanation": None},
        "container": {"id": "container_011CX", "expires_at": "2031-01-01T00:00:00Z"},
        "diagnostics": {"cache_miss_reason": {"type": "model_changed", "cache_missed_input_tokens": 9}},
        "usage": {
            "input_tokens": 1,
            "output_tokens": 2,
            "server_tool_use": {"web_search_requests": 2, "web_fetch_requests": 0},
            "output_tokens_details": {"thinking_tokens": 1},
            "inference_geo": "us",
            "speed": "fast",
        },
    }
    reply = reply_for(Exchange(request=request("hi"), status=200, body=body), SCRUB)
    assert {k: reply[k] for k in ("stop_reason", "stop_details", "container", "diagnostics")} == {
        k: body[k] for k in ("stop_reason", "stop_details", "container", "diagnostics")
    }  # explanation: null too, a value the scenario language takes
    omitted = ["cache_creation_input_tokens", "cache_read_input_tokens", "cache_creation", "service_tier"]
    assert reply["usage"] == {**body["usage"], "omit": omitted}  # what it lacked stays absent
    (scenario,) = load_text(yaml.safe_dump({"name": "r", "rules": [{"reply": reply}]}))
    assert (
        scenario.rules[0].reply is not None and scenario.rules[0].reply.stop_details == reply["stop_details"]
    )


def test_text_a_streamed_block_opens_with_is_its_first_chunk() -> None:
    """A start carrying text before its deltas keeps it (in the first chunk, so the deltas and their
    gaps stay as received): the chunks join to what the client built."""
    events = stream(
        (1.0, start()),
        (2.0, block(0, type="text", text="Opened ")),
        (3.0, delta(0, "text_delta", text="then ")),
        (4.0, delta(0, "text_delta", text="streamed.")),
        (5.0, {"type": "content_block_stop", "index": 0}),
        (6.0, {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 3}}),
        (7.0, {"type": "message_stop"}),
    )
    reply = reply_for(Exchange(request=request("hi", stream=True), status=200, events=events), SCRUB)
    assert reply["content"] == [{"text": {"chunks": ["Opened then ", "streamed."]}}]


def test_a_null_the_scenario_language_takes_is_recorded_and_loads_back() -> None:
    """`cache_miss_reason: null` (upstream's "diagnosis pending") is nullable in a scenario, so it
    is kept; a null elsewhere is still the key left out."""
    body = {
        "content": [{"type": "text", "text": "Hi."}],
        "stop_reason": "end_turn",
        "diagnostics": {"cache_miss_reason": None},
        "usage": {"input_tokens": 1, "output_tokens": 2},
    }
    reply = reply_for(Exchange(request=request("hi"), status=200, body=body), SCRUB)
    assert reply["diagnostics"] == {"cache_miss_reason": None}
    (scenario,) = load_text(yaml.safe_dump({"name": "r", "rules": [{"reply": reply}]}))
    assert scenario.rules[0].reply is not None


def test_recorded_server_tool_blocks_load_back() -> None:
    body = {
        "content": [
            {
                "type": "server_tool_use",
                "id": "srvtoolu_1",
                "name": "web_search",
                "input": {},
                "caller": None,
            },
            {
                "type": "web_search_tool_result",
                "tool_use_id": "srvtoolu_1",
                "caller": None,
                "content": [{"type": "web_search_result", "url": "u", "title": "t", "page_age": None}],
            },
            {
                "type": "text",
                "text": "x",
                "citations": [
                    {
                        "type": "web_search_result_location",
                        "url": "u",
                        "title": None,
                        "encrypted_index": "e",
                        "cited_text": "c",
                    }
                ],
            },
        ]
    }
    reply = reply_for(Exchange(request=request("hi"), status=200, body=body), SCRUB)
    (scenario,) = load_text(yaml.safe_dump({"name": "r", "rules": [{"reply": reply}]}))
    assert [b.type for b in scenario.rules[0].reply.content] == [
        "server_tool_use",
        "web_search_tool_result",
        "text",
    ]
