"""Structured outputs and forced tools with `--fallback generate`, and the warning for a scripted
text that does not follow the request's schema (docs/scenario-contract.md §10)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel

from mockbay.server.runner import MockServer
from tests.conftest import USER_HI, sync_client

MODEL = "claude-sonnet-4-6"


class Address(BaseModel):
    street: str
    city: str


class Person(BaseModel):
    name: str
    age: int
    email: str
    kind: Literal["customer", "supplier"]
    tags: list[str]
    address: Address
    nickname: str | None


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(fallback="generate") as running:
        yield running


def test_parse_gets_an_instance_of_the_model(server: MockServer) -> None:
    client = sync_client(server.url)
    parsed = client.messages.parse(model=MODEL, max_tokens=1024, messages=USER_HI, output_format=Person)
    assert isinstance(parsed.parsed_output, Person) and parsed.stop_reason == "end_turn"
    again = client.messages.parse(model=MODEL, max_tokens=1024, messages=USER_HI, output_format=Person)
    assert again.parsed_output == parsed.parsed_output  # deterministic from the seed
    assert server.journal.last.warnings == []


def test_the_json_text_validates_and_streams_equal(server: MockServer) -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "array", "items": {"type": "integer", "minimum": 3}, "minItems": 2},
            "mode": {"enum": ["a", "b"]},
        },
        "required": ["items", "mode"],
        "additionalProperties": False,
    }
    kwargs: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 1024,
        "messages": USER_HI,
        "output_config": {"format": {"type": "json_schema", "schema": schema}},
    }
    client = sync_client(server.url)
    plain = client.messages.create(**kwargs)
    jsonschema.validate(json.loads(plain.content[0].text), schema)
    with client.messages.stream(**kwargs) as stream:
        assert stream.get_final_message().to_dict() == plain.to_dict()


def test_a_forced_tool_gets_input_valid_for_its_schema(server: MockServer) -> None:
    schema = Person.model_json_schema()
    message = sync_client(server.url).messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=USER_HI,
        tools=[{"name": "save_person", "input_schema": schema}],
        tool_choice={"type": "tool", "name": "save_person"},
    )
    assert message.stop_reason == "tool_use" and message.content[-1].type == "tool_use"
    jsonschema.validate(message.content[-1].input, schema)


SERVER_TOOL_TYPES = {
    "web_search": "web_search_20250305",
    "web_fetch": "web_fetch_20250910",
}  # the oldest of each


@pytest.mark.parametrize(
    ("tool", "kinds"),
    [
        ("web_search", ["server_tool_use", "web_search_tool_result", "text"]),
        ("web_fetch", ["server_tool_use", "web_fetch_tool_result", "text"]),
    ],
)
def test_a_forced_server_tool_gets_a_server_tool_use(server: MockServer, tool: str, kinds: list[str]) -> None:
    message = sync_client(server.url).messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=USER_HI,
        tools=[
            {"type": SERVER_TOOL_TYPES[tool], "name": tool},
            {"name": "get_time", "input_schema": {"type": "object"}},
        ],
        tool_choice={"type": "tool", "name": tool},
    )
    assert [b.type for b in message.content] == kinds
    assert (
        message.content[0].id.startswith("srvtoolu_01")
        and message.content[1].tool_use_id == message.content[0].id
    )
    assert message.stop_reason == "end_turn"
    assert getattr(message.usage.server_tool_use, f"{tool}_requests") == 1


def test_a_scripted_text_off_the_schema_is_served_with_a_warning(server: MockServer) -> None:
    scenario = "name: off-schema\nrules:\n  - reply: {text: {json: {name: Ada}}}\n"
    with server.overrides():
        server.load(scenario)
        client = sync_client(f"{server.url}/s/off-schema")
        message = client.messages.create(
            model=MODEL,
            max_tokens=1024,
            messages=USER_HI,
            output_config={"format": {"type": "json_schema", "schema": Person.model_json_schema()}},
        )
        assert message.content[0].text == '{"name":"Ada"}'
        (warning,) = server.journal.last.warnings
        assert "does not follow the request's schema" in warning and "'age' is a required property" in warning


def test_a_generated_reply_off_its_schema_is_reported_once(
    server: MockServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The generator does not honour `pattern`: its text is checked as a scripted one is, once."""
    caplog.set_level(logging.WARNING, logger="mockbay")
    schema = {"type": "object", "properties": {"zip": {"type": "string", "pattern": "^[0-9]{5}$"}}}
    fmt = {"format": {"type": "json_schema", "schema": {**schema, "required": ["zip"]}}}
    message = sync_client(server.url).messages.create(
        model=MODEL, max_tokens=1024, messages=USER_HI, output_config=fmt
    )
    assert "zip" in json.loads(message.content[0].text)
    (warning,) = server.journal.last.warnings
    assert "does not match '^[0-9]{5}$'" in warning
    logged = [r.getMessage() for r in caplog.records if "does not match" in r.getMessage()]
    assert len(logged) == 1 and warning in logged[0]


# Schemas a client may send that are no schema, or point nowhere: each still gets its reply, with a
# warning naming why the schema cannot be used, never a 500 (a validator raised on each before).
UNUSABLE_SCHEMAS = [
    ("unknown-type", {"type": "nonsense"}, "is not valid under any of the given schemas"),
    ("enum-not-a-list", {"enum": 5}, "5 is not of type 'array'"),
    ("broken-pattern", {"properties": {"name": {"type": "string", "pattern": "("}}}, "is not a 'regex'"),
    ("pointer-to-nowhere", {"$ref": "#/nope"}, "PointerToNowhere"),
    ("remote-ref", {"$ref": "http://example.com/schema"}, "Unresolvable"),
    ("endless-ref", {"$defs": {"a": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}, "recursion"),
]


@pytest.mark.parametrize(("schema", "why"), [pytest.param(s, w, id=name) for name, s, w in UNUSABLE_SCHEMAS])
def test_an_unusable_schema_is_answered_with_a_warning(
    server: MockServer, schema: dict[str, Any], why: str
) -> None:
    scenario = "name: any-text\nrules:\n  - reply: {text: {json: {name: Ada}}}\n"
    with server.overrides():
        server.load(scenario)
        client = sync_client(f"{server.url}/s/any-text")
        fmt = {"format": {"type": "json_schema", "schema": schema}}
        message = client.messages.create(model=MODEL, max_tokens=1024, messages=USER_HI, output_config=fmt)
        assert message.content[0].text == '{"name":"Ada"}'
        (warning,) = server.journal.last.warnings
        assert "the request's schema cannot be used" in warning and why in warning
