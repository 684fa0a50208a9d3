"""Structured outputs and forced tools with `--fallback generate`, and the warning for a scripted
text that does not follow the request's schema (docs/scenario-contract.md §10).

The servers validate leniently: the generator follows keywords upstream's structured outputs
refuse in strict mode (`minimum`, recursion, backreferences: `wire.schema_subset`, tested in
test_schema_subset.py), and must still answer them for clients that send them to it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any, Literal

import jsonschema
import pytest
from anthropic import transform_schema
from pydantic import BaseModel, Field

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


class Constrained(BaseModel):
    """Constraints the SDK's `messages.parse` moves into descriptions, then checks on the answer."""

    name: str = Field(max_length=8)
    code: str = Field(min_length=10, max_length=12, description="An order code")
    slug: str = Field(pattern=r"^[a-z]{3}-[0-9]{2}$")
    ratio: float = Field(gt=0, lt=1)
    age: int = Field(ge=18, le=30)
    tags: list[str] = Field(min_length=2, max_length=4)
    step: int = Field(multiple_of=5, ge=7)
    price: float = Field(multiple_of=0.25, gt=1, le=2)
    nickname: str | None = Field(min_length=20)


class Node(BaseModel):
    name: str
    children: list[Node]


class Tree(BaseModel):
    root: Node
    next: Tree | None


class Forest(BaseModel):
    trees: list[Node]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(fallback="generate", validation="lenient") as running:
        yield running


@pytest.fixture(scope="module")
def strict_server() -> Iterator[MockServer]:
    """Strict validation: the requests sent to it are ones upstream takes."""
    with MockServer(fallback="generate") as running:
        yield running


def test_parse_gets_an_instance_of_the_model(server: MockServer) -> None:
    client = sync_client(server.url)
    parsed = client.messages.parse(model=MODEL, max_tokens=1024, messages=USER_HI, output_format=Person)
    assert isinstance(parsed.parsed_output, Person) and parsed.stop_reason == "end_turn"
    again = client.messages.parse(model=MODEL, max_tokens=1024, messages=USER_HI, output_format=Person)
    assert again.parsed_output == parsed.parsed_output  # deterministic from the seed
    assert server.journal.last.warnings == []


@pytest.mark.parametrize("model", [Constrained, Tree, Node])
@pytest.mark.parametrize("seed", range(3))
def test_parse_gets_an_instance_of_a_constrained_or_recursive_model(
    model: type[BaseModel], seed: int
) -> None:
    """The SDK validates the answer against the whole model: the constraints it moved into
    descriptions, and recursion that must end."""
    with MockServer(fallback="generate", validation="lenient", seed=seed) as seeded:
        client = sync_client(seeded.url)
        kwargs: dict[str, Any] = {
            "model": MODEL,
            "max_tokens": 1024,
            "messages": USER_HI,
            "output_format": model,
        }
        parsed = client.messages.parse(**kwargs)
        assert isinstance(parsed.parsed_output, model) and seeded.journal.last.warnings == []
        with client.messages.stream(**kwargs) as stream:
            assert stream.get_final_message().to_dict() == parsed.to_dict()


@pytest.mark.parametrize("model", [Constrained, Forest])
def test_a_forced_tool_of_a_transformed_model_gets_input_the_model_accepts(
    server: MockServer, model: type[BaseModel]
) -> None:
    """As a framework's forced `final_result` tool sends a model's schema, keywords moved."""
    message = sync_client(server.url).messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=USER_HI,
        tools=[{"name": "final_result", "input_schema": transform_schema(model)}],
        tool_choice={"type": "tool", "name": "final_result"},
    )
    model.model_validate(message.content[-1].input)
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


# Tools Anthropic defines but the client runs (no input_schema): the model calls them with a
# client `tool_use`, never a `server_tool_use` (docs/wire-notes.md, "Anthropic's client tools").
CLIENT_TOOLS = [
    ({"type": "bash_20250124", "name": "bash"}, "command"),
    ({"type": "text_editor_20250728", "name": "str_replace_based_edit_tool"}, "command"),
    ({"type": "text_editor_20250124", "name": "str_replace_editor"}, "command"),
    ({"type": "memory_20250818", "name": "memory"}, "command"),
    (
        {"type": "computer_20250124", "name": "computer", "display_width_px": 1024, "display_height_px": 768},
        "action",
    ),
]


@pytest.mark.parametrize("choice", ["tool", "any"])
@pytest.mark.parametrize(("tool", "key"), CLIENT_TOOLS, ids=[t["type"] for t, _ in CLIENT_TOOLS])
def test_a_forced_client_run_anthropic_tool_gets_a_tool_use(
    strict_server: MockServer, tool: dict[str, Any], key: str, choice: str
) -> None:
    forced: dict[str, Any] = {"type": choice} | ({"name": tool["name"]} if choice == "tool" else {})
    message = sync_client(strict_server.url).beta.messages.create(
        model=MODEL,
        max_tokens=1024,
        messages=USER_HI,
        tools=[tool],  # type: ignore[list-item]
        tool_choice=forced,  # type: ignore[arg-type]
        betas=["computer-use-2025-01-24"],
    )
    (call,) = message.content
    assert call.type == "tool_use" and call.name == tool["name"] and call.id.startswith("toolu_01")
    assert isinstance(call.input, dict) and isinstance(call.input[key], str)
    assert message.stop_reason == "tool_use" and message.usage.server_tool_use is None


WEATHER = {
    "name": "get_weather",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    "defer_loading": True,
}
SEARCHES = ["tool_search_tool_regex", "tool_search_tool_bm25"]


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("choice", [{"type": "auto"}, {"type": "any"}, {"type": "tool", "name": "SEARCH"}])
def test_a_deferred_tool_is_found_by_tool_search_before_it_is_called(
    strict_server: MockServer, search: str, choice: dict[str, str]
) -> None:
    """A tool with `defer_loading` is not in the model's context until a tool search returns a
    reference to it: the call comes after a search and its result, in one turn, never as a
    paused search that a continuation would pause again."""
    forced = {**choice, "name": search} if "name" in choice else choice
    tools = [{"type": f"{search}_20251119", "name": search}, WEATHER]
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 1024, "messages": USER_HI, "tools": tools}
    client = sync_client(strict_server.url)
    message = client.messages.create(**kwargs, tool_choice=forced)  # type: ignore[arg-type]
    kinds = [b.type for b in message.content if b.type != "text"]
    assert kinds == ["server_tool_use", "tool_search_tool_result", "tool_use"]
    call, result, use = (b for b in message.content if b.type != "text")
    assert call.name == search and isinstance(call.input["query"], str) and call.input["query"]
    assert result.tool_use_id == call.id
    assert [r.tool_name for r in result.content.tool_references] == ["get_weather"]
    assert use.name == "get_weather" and isinstance(use.input["city"], str)
    assert message.stop_reason == "tool_use"
    with client.messages.stream(**kwargs, tool_choice=forced) as stream:  # type: ignore[arg-type]
        assert stream.get_final_message().to_dict() == message.to_dict()


def test_a_tool_found_earlier_is_called_without_a_new_search(strict_server: MockServer) -> None:
    tools = [{"type": "tool_search_tool_regex_20251119", "name": "tool_search_tool_regex"}, WEATHER]
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 1024, "messages": USER_HI, "tools": tools}
    client = sync_client(strict_server.url)
    first = client.messages.create(**kwargs, tool_choice={"type": "any"})
    use = first.content[-1]
    history = [
        *USER_HI,
        {"role": "assistant", "content": [b.to_dict() for b in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18 C"}]},
        {"role": "user", "content": "And in Rome?"},
    ]
    again = client.messages.create(**{**kwargs, "messages": history}, tool_choice={"type": "any"})
    assert [b.type for b in again.content] == ["tool_use"]


def test_a_forced_advisor_call_gets_its_advice_in_the_same_turn(strict_server: MockServer) -> None:
    """The advisor tool (beta) is run by the server: its `advisor_tool_result` follows the call,
    not a `pause_turn` that a continuation (the SDK's tool runner sends one) would pause again."""
    kwargs: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 1024,
        "messages": USER_HI,
        "tools": [{"type": "advisor_20260301", "name": "advisor", "model": "claude-opus-4-8"}],
        "tool_choice": {"type": "tool", "name": "advisor"},
        "betas": ["advisor-tool-2026-03-01"],
    }
    client = sync_client(strict_server.url)
    message = client.beta.messages.create(**kwargs)
    assert [b.type for b in message.content] == ["server_tool_use", "advisor_tool_result", "text"]
    call, result, _ = message.content
    assert call.name == "advisor" and result.tool_use_id == call.id
    assert result.content.type == "advisor_result" and result.content.text
    assert message.stop_reason == "end_turn"
    with client.beta.messages.stream(**kwargs) as stream:
        assert stream.get_final_message().to_dict() == message.to_dict()


@pytest.mark.parametrize(
    ("toolset", "name"),
    [("computer_toolset_20260801", "computer"), ("browser_toolset_20260801", "browser")],
)
def test_a_forced_choice_of_a_toolset_calls_one_of_its_members(
    strict_server: MockServer, toolset: str, name: str
) -> None:
    """A toolset entry has no name; the model calls its members, each a `tool_use` with the
    member's name, the `toolset_name` and a `caller` (the SDK's `ComputerScreenshotToolUseBlock`)."""
    kwargs: dict[str, Any] = {
        "model": MODEL,
        "max_tokens": 1024,
        "messages": USER_HI,
        "tools": [{"type": toolset}],
    }
    client = sync_client(strict_server.url)
    message = client.messages.create(**kwargs, tool_choice={"type": "any"})
    (call,) = message.content
    wire = call.to_dict()
    assert (wire["type"], wire["name"], wire["toolset_name"], wire["caller"]) == (
        "tool_use",
        "screenshot",
        name,
        {"type": "direct"},
    )
    assert wire["input"] == {} and wire["id"].startswith("toolu_01") and message.stop_reason == "tool_use"
    with client.messages.stream(**kwargs, tool_choice={"type": "any"}) as stream:
        assert stream.get_final_message().to_dict() == message.to_dict()


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


def test_a_scripted_call_of_a_tool_not_offered_is_served_with_a_warning(server: MockServer) -> None:
    scenario = (
        "name: other-tools\nrules:\n  - reply:\n      content:\n"
        "        - tool_use: {name: get_weather, input: {city: Paris}}\n"
        "        - server_tool_use: {name: web_search, input: {query: Paris}}\n"
    )
    tools = [{"name": "get_time", "input_schema": {"type": "object"}}]
    with server.overrides():
        server.load(scenario)
        client = sync_client(f"{server.url}/s/other-tools")
        message = client.messages.create(model=MODEL, max_tokens=1024, messages=USER_HI, tools=tools)
        assert [block.type for block in message.content] == ["tool_use", "server_tool_use"]
        assert server.journal.last.warnings == [
            "tool_use calls 'get_weather', which the request's tools do not offer"
        ]
        message = client.messages.create(
            model=MODEL,
            max_tokens=1024,
            messages=USER_HI,
            tools=[*tools, {**tools[0], "name": "get_weather"}],
        )
        assert server.journal.last.warnings == []


def _closed(**properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema requiring each of `properties` and nothing else."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


# Schemas whose values need `pattern` and `multipleOf` followed, each asked for both ways (ASKS).
VALUE_SCHEMAS = [
    (
        "pattern-and-multiple",
        _closed(
            u={"type": "string", "pattern": "^[A-Z]{3}-[0-9]{2}$"}, n={"type": "integer", "multipleOf": 7}
        ),
    ),
    (
        "ref-multiple-and-minimum",
        {
            **_closed(a={"$ref": "#/$defs/N"}),
            "$defs": {"N": _closed(n={"type": "integer", "multipleOf": 7, "minimum": 10})},
        },
    ),
    (
        "pattern-or-null",
        _closed(v={"anyOf": [{"type": "string", "pattern": r"^v[0-9]+\.[0-9]+$"}, {"type": "null"}]}),
    ),
    (
        "multiples-in-exclusive-bounds",
        _closed(
            x={"type": "number", "multipleOf": 0.25, "exclusiveMinimum": 1, "maximum": 2},
            y={"type": "number", "multipleOf": 0.1, "minimum": 0.25},
            k={"type": "integer", "multipleOf": 5, "minimum": -12, "exclusiveMaximum": 0},
        ),
    ),
    (
        "pattern-constructs",
        _closed(
            code={"type": "string", "pattern": "^[0-9]{4}$"},
            colour={"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
            clock={"type": "string", "pattern": r"^(?:[01]\d|2[0-3]):[0-5]\d$"},
            phone={"type": "string", "pattern": r"^\+?[1-9]\d{1,14}$"},
            slug={"type": "string", "pattern": r"^\w+(-\w+)*$", "minLength": 12, "maxLength": 14},
            classes={"type": "string", "pattern": r"^\S\s\D\W[^a-z.][.]$"},
            choice={"type": "string", "pattern": r"\b(red|green|blue).{2,3}"},
        ),
    ),
    (
        "pattern-in-items",
        _closed(
            tags={"type": "array", "items": {"type": "string", "pattern": "^tag_[a-z]{3}$"}, "minItems": 2}
        ),
    ),
    (
        "formats",
        _closed(
            at={"type": "string", "format": "date-time"},
            day={"type": "string", "format": "date"},
            mail={"type": "string", "format": "email"},
            site={"type": "string", "format": "uri"},
            key={"type": "string", "format": "uuid"},
        ),
    ),
]
# How a request asks for a value of a schema: a structured answer, or a forced tool's input.
ASKS = {
    "output_config": lambda schema: {"output_config": {"format": {"type": "json_schema", "schema": schema}}},
    "forced_tool": lambda schema: {
        "tools": [{"name": "record", "input_schema": schema}],
        "tool_choice": {"type": "any"},
    },
}


def _asked(ask: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 1024, "messages": USER_HI, **ASKS[ask](schema)}


def _value(message: Any) -> Any:
    """The generated value: the JSON text of a structured answer, or the forced call's input."""
    block = message.content[-1]
    return json.loads(block.text) if block.type == "text" else block.input


@pytest.mark.parametrize("ask", ASKS)
@pytest.mark.parametrize("schema", [pytest.param(s, id=name) for name, s in VALUE_SCHEMAS])
def test_a_generated_value_follows_pattern_and_multiple_of(
    server: MockServer, ask: str, schema: dict[str, Any]
) -> None:
    client = sync_client(server.url)
    plain = client.messages.create(**_asked(ask, schema))
    jsonschema.validate(_value(plain), schema, format_checker=jsonschema.FormatChecker())
    assert server.journal.last.warnings == []
    with client.messages.stream(**_asked(ask, schema)) as stream:
        assert stream.get_final_message().to_dict() == plain.to_dict()


def test_generated_values_are_a_function_of_the_seed_and_request(server: MockServer) -> None:
    """A fresh server with the same seed answers each request alike; another seed does not."""
    asked = [_asked(ask, schema) for ask in ASKS for _, schema in VALUE_SCHEMAS]
    answers = [_value(sync_client(server.url).messages.create(**kwargs)) for kwargs in asked]
    for seed, same in ((0, True), (1, False)):
        with MockServer(fallback="generate", validation="lenient", seed=seed) as fresh:
            again = [_value(sync_client(fresh.url).messages.create(**kwargs)) for kwargs in asked]
        assert (again == answers) is same


@pytest.mark.parametrize(
    ("ask", "says"),
    [
        ("output_config", "the reply's JSON text does not follow the request's schema at zip"),
        ("forced_tool", "the input of tool 'record' does not follow its input_schema at zip"),
    ],
)
def test_a_pattern_the_generator_cannot_follow_is_reported_once(
    server: MockServer, caplog: pytest.LogCaptureFixture, ask: str, says: str
) -> None:
    """A backreference is beyond the generator: its value is checked as a scripted one is, once."""
    caplog.set_level(logging.WARNING, logger="mockbay")
    pattern = r"^([0-9])\1{4}$"
    message = sync_client(server.url).messages.create(
        **_asked(ask, _closed(zip={"type": "string", "pattern": pattern}))
    )
    assert "zip" in _value(message)
    (warning,) = server.journal.last.warnings
    assert warning.startswith(says) and f"does not match {pattern!r}" in warning
    logged = [r.getMessage() for r in caplog.records if "does not match" in r.getMessage()]
    assert len(logged) == 1 and warning in logged[0]


# Schemas a client may send that are no schema, or point nowhere: each still gets its reply, with a
# warning naming why the schema cannot be used, never a 500 (a validator raised on each before).
UNUSABLE_SCHEMAS = [
    ("unknown-type", {"type": "nonsense"}, "is not valid under any of the given schemas"),
    ("enum-not-a-list", {"enum": 5}, "5 is not of type 'array'"),
    ("broken-pattern", {"properties": {"name": {"type": "string", "pattern": "("}}}, "is not a 'regex'"),
    # `re` warns about it, which is an error where warnings are errors (as in this suite)
    (
        "pattern-re-warns-about",
        {"properties": {"name": {"type": "string", "pattern": "^[[a]$"}}},
        "nested set",
    ),
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
