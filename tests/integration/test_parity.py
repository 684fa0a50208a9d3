"""Stream and JSON of the same reply are equal once assembled by the SDK, and equal the scenario."""

from __future__ import annotations

import json

import pytest

from tests.conftest import USER_HI, pinned_async_client, pinned_client

BLOCK_SCENARIOS = [
    "plain-text",
    "thinking-tools",
    "redacted",
    "explicit-ids",
    "chunked",
    "usage-given",
    "faker-text",
]


def _create_kwargs(max_tokens: int = 1024, **extra: object) -> dict[str, object]:
    return {"model": "claude-sonnet-4-6", "max_tokens": max_tokens, "messages": USER_HI, **extra}


@pytest.mark.parametrize("scenario", BLOCK_SCENARIOS)
def test_stream_assembles_to_the_json_reply(core_server, scenario):
    client = pinned_client(core_server, scenario)
    plain = client.messages.create(**_create_kwargs())
    with client.messages.stream(**_create_kwargs()) as stream:
        streamed = stream.get_final_message()
    assert streamed.to_dict() == plain.to_dict()
    assert plain.stop_reason is not None and plain.usage.output_tokens > 0


@pytest.mark.parametrize("scenario", BLOCK_SCENARIOS)
async def test_async_stream_matches_async_json(core_server, scenario):
    async with pinned_async_client(core_server, scenario) as client:
        plain = await client.messages.create(**_create_kwargs())
        async with client.messages.stream(**_create_kwargs()) as stream:
            streamed = await stream.get_final_message()
    assert streamed.to_dict() == plain.to_dict()


def test_reply_equals_the_scenario_blocks(core_server):
    message = pinned_client(core_server, "thinking-tools").messages.create(**_create_kwargs())
    kinds = [block.type for block in message.content]
    assert kinds == ["thinking", "text", "tool_use"]
    thinking, text, tool = message.content
    assert thinking.thinking == "The user wants the weather in Paris; I should call the tool with the city."
    assert thinking.signature.startswith("EqQB")
    assert text.text == "Let me check the forecast."
    assert tool.name == "get_weather"
    assert tool.input == {
        "city": "Paris",
        "options": {"unit": "celsius", "days": [1, 2, 3], "detail": {"wind": True}},
    }
    assert tool.id.startswith("toolu_01") and len(tool.id) == len("toolu_") + 24
    assert message.id.startswith("msg_01") and len(message.id) == len("msg_") + 24
    assert message.stop_reason == "tool_use"


def test_explicit_ids_model_and_signature_are_kept(core_server):
    message = pinned_client(core_server, "explicit-ids").messages.create(**_create_kwargs())
    assert message.id == "msg_01FixedFixedFixedFixed01"
    assert message.model == "claude-fixed-model"
    assert message.content[0].signature == "EqQBCkYIBBgCKkA0c2lnbmF0dXJl"
    assert message.content[1].id == "toolu_01FixedFixedFixedFixed1"
    assert message.content[1].input == {}


def test_redacted_thinking_keeps_its_data(core_server):
    message = pinned_client(core_server, "redacted").messages.create(**_create_kwargs())
    assert message.content[0].type == "redacted_thinking"
    assert message.content[0].data.startswith("EmwKAhgBEgy3")
    assert message.stop_reason == "end_turn"


def test_chunks_are_the_exact_deltas(core_server):
    client = pinned_client(core_server, "chunked")
    with client.messages.stream(**_create_kwargs()) as stream:
        deltas = [
            (
                event.delta.type,
                getattr(event.delta, "text", None)
                or getattr(event.delta, "thinking", None)
                or getattr(event.delta, "partial_json", None),
            )
            for event in stream
            if event.type == "content_block_delta" and event.delta.type != "signature_delta"
        ]
    assert deltas == [
        ("thinking_delta", "Think "),
        ("thinking_delta", "in "),
        ("thinking_delta", "pieces."),
        ("text_delta", "Hel"),
        ("text_delta", "lo, wor"),
        ("text_delta", "ld"),
        ("input_json_delta", '{"te'),
        ("input_json_delta", 'xt": '),
        ("input_json_delta", '"hi"}'),
    ]


def test_usage_given_in_the_scenario_wins(core_server):
    message = pinned_client(core_server, "usage-given").messages.create(**_create_kwargs())
    usage = message.usage
    assert (usage.input_tokens, usage.output_tokens) == (812, 40)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (2048, 0)
    assert (
        usage.cache_creation.ephemeral_5m_input_tokens + usage.cache_creation.ephemeral_1h_input_tokens == 0
    )
    assert usage.service_tier == "standard"


def test_faker_and_placeholders_are_deterministic(core_server):
    client = pinned_client(core_server, "faker-text")
    first = client.messages.create(**_create_kwargs())
    second = client.messages.create(**_create_kwargs())
    assert first.content[0].text == second.content[0].text and len(first.content[0].text) > 20
    assert first.content[1].text == f"You asked: {USER_HI[0]['content']} on claude-sonnet-4-6 at turn 0"


@pytest.mark.parametrize(
    ("max_tokens", "expected_kinds"),
    [(3, ["thinking"]), (40, ["thinking", "text"]), (0, [])],
)
def test_max_tokens_cut_agrees_in_stream_and_json(core_server, max_tokens, expected_kinds):
    client = pinned_client(core_server, "long-text")
    plain = client.messages.create(**_create_kwargs(max_tokens=max_tokens))
    with client.messages.stream(**_create_kwargs(max_tokens=max_tokens)) as stream:
        streamed = stream.get_final_message()
    assert plain.stop_reason == "max_tokens"
    assert [b.type for b in plain.content] == expected_kinds
    assert streamed.to_dict() == plain.to_dict()
    assert plain.usage.output_tokens <= max_tokens


def test_stop_sequence_cuts_before_the_match(core_server):
    client = pinned_client(core_server, "long-text")
    kwargs = _create_kwargs(stop_sequences=["END", "never"])
    plain = client.messages.create(**kwargs)
    with client.messages.stream(**kwargs) as stream:
        streamed = stream.get_final_message()
    assert plain.stop_reason == "stop_sequence" and plain.stop_sequence == "END"
    assert plain.content[-1].text.endswith("twelve. ")
    assert "END" not in json.dumps(plain.to_dict()["content"])
    assert streamed.to_dict() == plain.to_dict()


def test_thinking_signature_binds_to_request(core_server):
    client = pinned_client(core_server, "thinking-tools")
    a = client.messages.create(**_create_kwargs())
    b = client.messages.create(**_create_kwargs(messages=[{"role": "user", "content": "Other question"}]))
    assert a.content[0].signature != b.content[0].signature
    assert a.id != b.id
