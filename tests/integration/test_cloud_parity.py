"""One engine, three wires: on Bedrock and Vertex AI a stream assembles to the JSON reply, both
equal the first-party reply to the same request (ids included), and a mid-stream fault is the
stream error each wire sends."""

from __future__ import annotations

import sys

import anthropic
import pytest

from mockbay.wire import jsonbody
from tests.conftest import pinned_client
from tests.integration.cloud import (
    BEDROCK_MODEL,
    VERTEX_MODEL,
    ask,
    bedrock,
    bedrock_options,
    vertex,
    vertex_options,
)

WIRES = {
    "bedrock": (bedrock, anthropic.AsyncAnthropicBedrock, bedrock_options, BEDROCK_MODEL),
    "vertex": (vertex, anthropic.AsyncAnthropicVertex, vertex_options, VERTEX_MODEL),
}


@pytest.mark.parametrize("wire", WIRES)
@pytest.mark.parametrize("scenario", ["plain-text", "thinking-tools", "chunked"])
def test_stream_assembles_to_the_json_reply(cloud_server, wire, scenario):
    make_client, _, _, model = WIRES[wire]
    client = make_client(cloud_server, scenario)
    plain = client.messages.create(**ask(model))
    with client.messages.stream(**ask(model)) as stream:
        streamed = stream.get_final_message()
    assert streamed.to_dict() == plain.to_dict()
    assert plain.model == model


@pytest.mark.parametrize("wire", WIRES)
async def test_async_stream_assembles_to_the_json_reply(cloud_server, wire):
    _, async_client, options, model = WIRES[wire]
    async with async_client(**options(f"{cloud_server.url}/s/thinking-tools")) as client:
        plain = await client.messages.create(**ask(model))
        async with client.messages.stream(**ask(model)) as stream:
            streamed = await stream.get_final_message()
    assert streamed.to_dict() == plain.to_dict()
    assert [block.type for block in plain.content] == ["thinking", "text", "tool_use"]


@pytest.mark.parametrize("wire", WIRES)
def test_the_same_scenario_answers_every_wire_alike(cloud_server, wire):
    make_client, _, _, model = WIRES[wire]
    first_party = pinned_client(cloud_server, "thinking-tools").messages.create(**ask(model))
    assert make_client(cloud_server, "thinking-tools").messages.create(**ask(model)).to_dict() == (
        first_party.to_dict()
    )


@pytest.mark.parametrize(
    ("wire", "error_type"),
    [("bedrock", "serviceUnavailableException"), ("vertex", "overloaded_error")],  # an exception frame / SSE
)
def test_a_midstream_error_fault_surfaces_as_a_stream_error(cloud_server, wire, error_type):
    make_client, _, _, model = WIRES[wire]
    client = make_client(cloud_server, "midstream-error")
    with pytest.raises(anthropic.APIStatusError) as caught, client.messages.stream(**ask(model)) as stream:
        for _ in stream:
            pass
    assert caught.value.status_code == 200
    assert caught.value.body["error"] == {"type": error_type, "message": "Overloaded"}


@pytest.mark.parametrize("wire", WIRES)
def test_the_simulated_cache_writes_then_reads(cloud_server, wire):
    make_client, _, _, model = WIRES[wire]
    system = [{"type": "text", "text": "s" * 7350, "cache_control": {"type": "ephemeral"}}]
    client = make_client(cloud_server, "plain-text")
    cloud_server.reset()
    with cloud_server.overrides(cache="simulate"):
        wrote, read = (client.messages.create(**ask(model, system=system)).usage for _ in range(2))
    assert wrote.cache_creation_input_tokens > 2000 and wrote.cache_read_input_tokens == 0
    assert (
        read.cache_read_input_tokens == wrote.cache_creation_input_tokens
        and read.cache_creation_input_tokens == 0
    )


@pytest.mark.parametrize("wire", WIRES)
def test_a_cloud_body_is_parsed_once(cloud_server, wire, monkeypatch):
    """The adapter parses the body and hands the translated value on; the pipeline does not parse
    it again (the bytes it encodes for the reply memo's key are never read back)."""
    parses: list[bytes] = []
    original = jsonbody.parse_body

    def counted(raw: bytes) -> object:
        parses.append(raw)
        return original(raw)

    for module in list(sys.modules.values()):  # every module that holds the function, however imported
        if getattr(module, "parse_body", None) is original:
            monkeypatch.setattr(module, "parse_body", counted)
    client_of, _, _, model = WIRES[wire]
    client = client_of(cloud_server, "plain-text")
    asked = ask(model, messages=[{"role": "user", "content": f"parsed once on {wire}?"}])
    assert client.messages.create(**asked).content
    assert len(parses) == 1
    if wire == "vertex":  # Vertex counts tokens too
        assert client.messages.count_tokens(model=model, messages=asked["messages"]).input_tokens > 0
        assert len(parses) == 2
