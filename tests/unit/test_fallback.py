"""Fallback: the strict 400 message, and generated replies (determinism, shape, tool input)."""

from __future__ import annotations

import ipaddress
import json
import random
import re
import uuid
from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
from anthropic import transform_schema

from mockbay.errors import SourceMark
from mockbay.fallback import FORMATS, generate_reply, schema_value, strict_message
from mockbay.matching import Miss, Selector
from mockbay.regexgen import matching_string
from mockbay.scenario.model import Block, Conditions, LiteralText, Reply, Scenario, Step
from mockbay.scenario.registry import Registry
from mockbay.schema_hints import HINTED, with_hints
from mockbay.textmatch import Glob
from mockbay.wire.request import MessagesRequest, ToolResultView
from tests.unit.conversations import answer_tool_uses, result_blocks

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"],
}


def req(
    last_user: str | None = "hello",
    *,
    model: str = "claude-haiku-4-5",
    turn: int = 0,
    tools: dict[str, dict[str, Any]] | None = None,
    tool_choice: str | None = None,
    tool_choice_name: str | None = None,
    thinking: bool = False,
    stream: bool = False,
    user_id: str | None = None,
    tool_results: tuple[ToolResultView, ...] = (),
    pinned: str | None = None,
) -> MessagesRequest:
    """A request whose derived fields agree with its body, as wire validation would build it."""
    messages: list[dict[str, Any]] = []
    for i in range(turn):
        messages += [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]
    answer_tool_uses(messages, tool_results)
    blocks = result_blocks(tool_results)
    messages.append(
        {
            "role": "user",
            "content": [*blocks, {"type": "text", "text": last_user}]
            if blocks and last_user
            else blocks or last_user or "",
        }
    )
    body: dict[str, Any] = {"model": model, "max_tokens": 64, "messages": messages}
    if tools is not None:
        body["tools"] = [{"name": name, "input_schema": schema} for name, schema in tools.items()]
    if tool_choice is not None:
        body["tool_choice"] = {
            "type": tool_choice,
            **({"name": tool_choice_name} if tool_choice_name else {}),
        }
    if thinking:
        body["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    if stream:
        body["stream"] = True
    if user_id is not None:
        body["metadata"] = {"user_id": user_id}
    return MessagesRequest(
        body=body,
        model=model,
        max_tokens=64,
        stream=stream,
        tool_names=tuple(tools or ()),
        tool_choice=tool_choice,
        tool_choice_name=tool_choice_name,
        thinking=thinking,
        pinned=pinned,
    )


def scenario(name: str, match: Conditions | None = None, when: Conditions | None = None) -> Scenario:
    step = Step(kind="rule", index=0, when=when, reply=Reply())
    return Scenario(name=name, match=match, rules=(step,), mark=SourceMark(f"scenarios/{name}.yaml", 1, 1))


WEATHER = scenario("weather-agent", match=Conditions(model=Glob("claude-sonnet-*")))
PINNED_ONLY = scenario("slow-path", when=Conditions(stream=True))

# request, loaded scenarios, phrases the message must contain
STRICT_CASES = [
    pytest.param(
        req(),
        [],
        [
            "mockbay: no scenario matched this request "
            "(model 'claude-haiku-4-5', turn 0, last user text 'hello').",
            "No scenarios are loaded.",
            "--fallback generate",
        ],
        id="nothing-loaded",
    ),
    pytest.param(
        req(turn=2),
        [WEATHER],
        [
            "(model 'claude-haiku-4-5', turn 2, last user text 'hello')",
            "Nearest: 'weather-agent' (scenarios/weather-agent.yaml:1:1) failed at match: "
            "model: 'claude-haiku-4-5' does not match 'claude-sonnet-*'.",
            "relax the failed condition",
        ],
        id="near-miss",
    ),
    pytest.param(req("z" * 100), [WEATHER], [f"last user text '{'z' * 59}…'"], id="long-text-shortened"),
    pytest.param(
        req(
            "",
            tool_results=(
                ToolResultView(tool_use_id="t", name="get_weather", content_text="", is_error=False),
            ),
        ),
        [WEATHER],
        ["last user message: tool_result for 'get_weather'"],
        id="tool-result-summary",
    ),
    pytest.param(
        req(pinned="slow-path"),
        [PINNED_ONLY, WEATHER],
        [
            "mockbay: pinned scenario 'slow-path' did not answer this request",
            "'slow-path' (scenarios/slow-path.yaml:1:1) failed at rules[0].when: "
            "stream: request has false, scenario wants true.",
        ],
        id="pinned-did-not-answer",
    ),
    pytest.param(
        req(pinned="weathr-agent"),
        [WEATHER, PINNED_ONLY],
        [
            "mockbay: scenario 'weathr-agent' is pinned "
            "(by the /s/weathr-agent path prefix or the x-mockbay-scenario header)",
            "Did you mean 'weather-agent'?",
        ],
        id="pinned-unknown",
    ),
    pytest.param(
        req(pinned="zzz"), [WEATHER], ["No loaded scenario has a similar name."], id="pinned-unknown-far"
    ),
]


@pytest.mark.parametrize(("request_", "loaded", "phrases"), STRICT_CASES)
def test_strict_message_says_what_failed_and_how_to_fix_it(
    request_: MessagesRequest, loaded: list[Scenario], phrases: list[str]
) -> None:
    miss = Selector(Registry(loaded)).select(request_)
    assert isinstance(miss, Miss)
    message = strict_message(request_, miss)
    for phrase in phrases:
        assert phrase in message


# ---- generated replies ----------------------------------------------------------------------


def kinds(reply: Reply) -> list[str]:
    return [block.type for block in reply.content]


def text_of(block: Block) -> str:
    assert isinstance(block.text, LiteralText)
    return block.text.value


def test_same_request_and_seed_give_an_equal_reply_whatever_the_stream_flag() -> None:
    assert generate_reply(req("hi"), 7) == generate_reply(req("hi", stream=True, user_id="u-1"), 7)


def test_different_seeds_give_different_replies() -> None:
    replies = [generate_reply(req("hi"), seed) for seed in range(20)]
    assert replies[1] != replies[2]
    assert len({text_of(r.content[0]) for r in replies}) >= 15


@pytest.mark.parametrize("seed", range(10))
def test_plain_reply_is_one_text_block_of_one_to_three_sentences(seed: int) -> None:
    reply = generate_reply(req("hi"), seed)
    assert kinds(reply) == ["text"]
    assert 1 <= len(re.findall(r"[.?!](?:\s|$)", text_of(reply.content[0]))) <= 3


def test_thinking_comes_first_when_thinking_is_on() -> None:
    assert kinds(generate_reply(req(thinking=True), 1)) == ["thinking", "text"]
    assert "thinking" not in kinds(generate_reply(req(), 1))


def test_text_after_a_tool_result_mentions_the_tool() -> None:
    result = ToolResultView(tool_use_id="toolu_1", name="get_weather", content_text="18 C", is_error=False)
    reply = generate_reply(
        req(None, turn=1, tools={"get_weather": WEATHER_SCHEMA}, tool_results=(result,)), 3
    )
    assert kinds(reply) == ["text"]
    assert "get_weather" in text_of(reply.content[0])


# request, expected block kinds, expected tool name
TOOL_CHOICES = [
    pytest.param(
        req(
            tools={"get_weather": WEATHER_SCHEMA, "get_time": {}},
            tool_choice="tool",
            tool_choice_name="get_time",
        ),
        ["tool_use"],
        "get_time",
        id="tool-forced-by-name",
    ),
    pytest.param(
        req(tools={"get_weather": WEATHER_SCHEMA}, tool_choice="any"),
        ["tool_use"],
        "get_weather",
        id="any-forces-a-call",
    ),
    pytest.param(
        req("Weather in Paris?", tools={"get_weather": WEATHER_SCHEMA, "send_email": {}}),
        ["text", "tool_use"],
        "get_weather",
        id="auto-user-names-the-topic",
    ),
    pytest.param(
        req("Weather in Paris?", tools={"get_weather": WEATHER_SCHEMA}, thinking=True),
        ["thinking", "text", "tool_use"],
        "get_weather",
        id="auto-with-thinking",
    ),
    pytest.param(
        req("Tell me a joke", tools={"get_weather": WEATHER_SCHEMA}),
        ["text"],
        None,
        id="auto-topic-not-named",
    ),
    pytest.param(
        req("Weather again?", turn=1, tools={"get_weather": WEATHER_SCHEMA}),
        ["text"],
        None,
        id="auto-after-turn-0",
    ),
    pytest.param(
        req("Weather?", tools={"get_weather": WEATHER_SCHEMA}, tool_choice="none"),
        ["text"],
        None,
        id="none-never-calls",
    ),
]


@pytest.mark.parametrize(("request_", "expected", "tool"), TOOL_CHOICES)
def test_tool_use_follows_tool_choice(
    request_: MessagesRequest, expected: list[str], tool: str | None
) -> None:
    reply = generate_reply(request_, 5)
    assert kinds(reply) == expected
    assert [b.name for b in reply.content if b.type == "tool_use"] == ([tool] if tool else [])


ADDRESS = {
    "type": "object",
    "properties": {"street": {"type": "string"}, "zip": {"type": "string", "minLength": 5, "maxLength": 5}},
    "required": ["street", "zip"],
}
SCHEMAS = [
    pytest.param(WEATHER_SCHEMA, id="string-and-enum"),
    pytest.param(
        {
            "type": "object",
            "properties": {
                "n": {"type": "integer", "minimum": 3, "maximum": 4},
                "x": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            },
            "required": ["n", "x"],
        },
        id="numeric-bounds",
    ),
    pytest.param(
        {
            "type": "object",
            "properties": {
                "flag": {"type": "boolean"},
                "nothing": {"type": "null"},
                "kind": {"const": "fixed"},
            },
            "required": ["flag", "nothing", "kind"],
        },
        id="boolean-null-const",
    ),
    pytest.param(
        {
            "type": "object",
            "properties": {
                "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 4}
            },
            "required": ["tags"],
        },
        id="array",
    ),
    pytest.param(
        {"type": "object", "properties": {"home": ADDRESS}, "required": ["home"]}, id="nested-object"
    ),
    pytest.param(
        {
            "type": "object",
            "properties": {"stops": {"type": "array", "items": {"$ref": "#/$defs/A"}}},
            "required": ["stops"],
            "$defs": {"A": ADDRESS},
        },
        id="ref-to-defs",
    ),
    pytest.param(
        {
            "type": "object",
            "properties": {
                "when": {"anyOf": [{"type": "null"}, {"type": "string", "format": "date"}]},
                "email": {"type": "string", "format": "email"},
                "id": {"type": "string", "format": "uuid"},
                "site": {"type": "string", "format": "uri"},
            },
            "required": ["when", "email", "id", "site"],
        },
        id="formats-and-anyof",
    ),
    pytest.param({"type": "object", "properties": {"optional": {"type": "string"}}}, id="nothing-required"),
    pytest.param(
        {
            "type": "object",
            "properties": {
                "code": {"type": "string", "pattern": "^[0-9]{4}$"},
                "n": {"type": "integer", "multipleOf": 7, "minimum": 10},
                "x": {"type": "number", "multipleOf": 0.1, "exclusiveMinimum": 0.2, "maximum": 1},
            },
            "required": ["code", "n", "x"],
        },
        id="pattern-and-multiple-of",
    ),
    pytest.param(
        {
            "type": "object",
            "properties": {
                "a": {"type": "integer", "minimum": 10**400},
                "b": {"type": "number", "minimum": 10**400},
                "c": {"type": "number", "exclusiveMaximum": -(10**400)},
            },
            "required": ["a", "b", "c"],
        },
        id="bounds-past-every-float",
    ),
]


@pytest.mark.parametrize("schema", SCHEMAS)
@pytest.mark.parametrize("seed", range(3))
def test_forced_tool_input_is_valid_for_the_tool_schema(schema: dict[str, Any], seed: int) -> None:
    request = req(tools={"act": schema}, tool_choice="tool", tool_choice_name="act")
    (block,) = generate_reply(request, seed).content
    assert block.type == "tool_use" and block.name == "act"
    assert set(block.input) == set(schema.get("required", []))
    jsonschema.validate(block.input, schema, format_checker=jsonschema.FormatChecker())


def _address(value: str) -> None:
    local, _, host = value.partition("@")
    assert local and "." in host


def _uri(value: str) -> None:
    parts = urlsplit(value)
    assert parts.scheme and parts.netloc


def _spelled(pattern: str) -> Callable[[str], None]:
    def check(value: str) -> None:
        assert re.fullmatch(pattern, value), value

    return check


# How a reader of each format takes its value: a check that raises or fails for a bad one.
FORMAT_READERS: dict[str, Callable[[str], object]] = {
    "date": date.fromisoformat,
    "time": time.fromisoformat,
    "date-time": datetime.fromisoformat,
    "duration": _spelled(r"P(\d+D)?(T(\d+H)?(\d+M)?(\d+S)?)?"),
    "email": _address,
    "hostname": _spelled(r"[a-z0-9-]+(\.[a-z0-9-]+)+"),
    "uri": _uri,
    "ipv4": ipaddress.IPv4Address,
    "ipv6": ipaddress.IPv6Address,
    "uuid": uuid.UUID,
}


def test_every_supported_string_format_is_written_as_its_readers_take_it() -> None:
    assert set(FORMAT_READERS) == set(FORMATS)
    properties = {f"v{i}": {"type": "string", "format": fmt} for i, fmt in enumerate(FORMAT_READERS)}
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    for seed in range(3):
        (block,) = generate_reply(req(tools={"act": schema}, tool_choice="any"), seed).content
        for key, fmt in zip(properties, FORMAT_READERS, strict=True):
            FORMAT_READERS[fmt](block.input[key])


def test_tool_input_uses_property_names_for_plausible_values() -> None:
    (block,) = generate_reply(req(tools={"get_weather": WEATHER_SCHEMA}, tool_choice="any"), 0).content
    assert block.input["city"][0].isupper() and block.input["city"].isalpha()


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": True, "required": ["a"]},
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": [None, 0, [], "a"]},
        {"type": "object", "properties": {"a": "text"}, "required": "a"},
        {"type": "object", "properties": {"a": {"enum": "abc", "anyOf": 5}}, "required": ["a"]},
        {
            "type": "object",
            "properties": {"a": {"type": "array", "minItems": 10**30, "maxItems": 10**30}},
            "required": ["a"],
        },
        {
            "type": "object",
            "properties": {"a": {"type": "string", "minLength": 10**30, "maxLength": True}},
            "required": ["a"],
        },
        {"type": "object", "properties": {"a": {"$ref": []}}, "required": ["a"]},
        {"type": "object", "properties": {"a": {"type": "string", "pattern": 5}}, "required": ["a"]},
        {
            "type": "object",
            "properties": {
                "a": {"type": "integer", "multipleOf": "7"},
                "b": {"type": "number", "multipleOf": 1e-308, "minimum": 1e308},
            },
            "required": ["a", "b"],
        },
        {
            "type": "object",
            "properties": {"a": {"type": "integer", "description": "{minimum: 1e999, maximum: x}"}},
            "required": ["a"],
        },
        # Schemas no finite value follows: a required self-reference, a recursive array with
        # minItems, an anyOf of nothing but itself.
        {"type": "object", "properties": {"a": {"$ref": "#"}, "b": {"$ref": "#"}}, "required": ["a", "b"]},
        {
            "type": "object",
            "properties": {"kids": {"type": "array", "items": {"$ref": "#"}, "minItems": 3}},
            "required": ["kids"],
        },
        {
            "type": "object",
            "properties": {"a": {"$ref": "#/$defs/A"}},
            "required": ["a"],
            "$defs": {"A": {"anyOf": [{"$ref": "#/$defs/A"}, {"$ref": "#/$defs/A"}]}},
        },
    ],
)
def test_generated_tool_input_survives_malformed_schemas(schema: Any) -> None:
    """Client schemas are arbitrary JSON; a broken keyword is ignored, never a crash (found by
    fuzzing), and a schema no value follows still gets a small one."""
    reply = generate_reply(req("call it", tools={"t": schema}, tool_choice="any"), seed=1)
    tool_input = reply.content[-1].input
    assert isinstance(tool_input, dict) and len(repr(tool_input)) < 2_000


# A description as each client writes the keywords it moved there, and the keywords read back.
HINTS = [
    pytest.param("{maxLength: 8}", {"maxLength": 8}, id="sdk-alone"),
    pytest.param(
        "A code\n\n{maxLength: 8, minLength: 2}", {"maxLength": 8, "minLength": 2}, id="sdk-after-text"
    ),
    pytest.param(
        "{exclusiveMaximum: 1, exclusiveMinimum: 0}",
        {"exclusiveMaximum": 1, "exclusiveMinimum": 0},
        id="sdk-exclusive",
    ),
    pytest.param(
        "{exclusiveMinimum: -1e+30, multipleOf: 0.25}",
        {"exclusiveMinimum": -1e30, "multipleOf": 0.25},
        id="sdk-floats",
    ),
    pytest.param("{maxItems: 4, minItems: 2}", {"maxItems": 4, "minItems": 2}, id="sdk-items"),
    pytest.param(
        "{format: ipvanyaddress, pattern: ^[a-z]{2}-\\d+$, uniqueItems: True}",
        {"pattern": "^[a-z]{2}-\\d+$"},
        id="sdk-pattern-among-others",
    ),
    pytest.param(
        '{pattern: "^\\\\d{3}$", maxLength: 3}', {"pattern": "^\\d{3}$", "maxLength": 3}, id="ts-sdk-json"
    ),
    pytest.param("min length: 2; max length: 8.", {"minLength": 2, "maxLength": 8}, id="ai-sdk-alone"),
    pytest.param("Age\nminimum: 18; maximum: 30.", {"minimum": 18, "maximum": 30}, id="ai-sdk-after-text"),
    pytest.param(
        "exclusive minimum: 0; exclusive maximum: 1; multiple of: 0.25.",
        {"exclusiveMinimum": 0, "exclusiveMaximum": 1, "multipleOf": 0.25},
        id="ai-sdk-numbers",
    ),
    pytest.param(
        "min items: 2; max items: 4; unique items: true.", {"minItems": 2, "maxItems": 4}, id="ai-sdk-items"
    ),
    pytest.param("pattern: ^[a-z]+$; format: ipvanyaddress.", {"pattern": "^[a-z]+$"}, id="ai-sdk-pattern"),
    pytest.param("Keep it {maxLength: 8} short", {}, id="mid-text"),
    pytest.param("{maxLength: 8}\nSee above.", {}, id="not-the-last-line"),
    pytest.param("Note: keep it short.", {}, id="prose"),
    pytest.param("{minimum: 1e999, maximum: many}", {}, id="no-number"),
    pytest.param("{maxLength: " + "9" * 5000 + "}", {}, id="past-int-digit-limit"),
]


@pytest.mark.parametrize(("description", "recovered"), HINTS)
def test_keywords_moved_into_the_description_are_read_back(
    description: str, recovered: dict[str, Any]
) -> None:
    schema = {"type": "string", "description": description}
    assert with_hints(schema) == {**recovered, **schema}


def test_a_keyword_the_schema_gives_wins_over_its_description() -> None:
    schema = {"type": "integer", "maximum": 5, "description": "{minimum: 2, maximum: 30}"}
    assert with_hints(schema) == {**schema, "minimum": 2}


def _property(original: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "properties": {"v": original}, "required": ["v"]}


# (schema sent, schema the client validates the answer against): `transform_schema` is what the
# SDK's `messages.parse` sends
DESCRIBED = [
    pytest.param(transform_schema(_property(s)), _property(s), id=f"sdk-{name}")
    for name, s in [
        ("max-length", {"type": "string", "maxLength": 8}),
        ("min-length", {"type": "string", "minLength": 30, "maxLength": 32, "description": "A note"}),
        ("pattern", {"type": "string", "pattern": "^[A-Z]{2}-[0-9]{3}$"}),
        ("exclusive-float", {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
        ("inclusive-int", {"type": "integer", "minimum": 18, "maximum": 30}),
        ("multiple", {"type": "integer", "multipleOf": 5, "minimum": 7}),
        ("float-multiple", {"type": "number", "multipleOf": 0.25, "exclusiveMinimum": 1, "maximum": 2}),
        (
            "items",
            {"type": "array", "items": {"type": "string", "maxLength": 3}, "minItems": 2, "maxItems": 2},
        ),
        ("nullable", {"anyOf": [{"type": "string", "minLength": 12}, {"type": "null"}]}),
    ]
] + [
    pytest.param(
        _property({"type": "string", "description": "min length: 2; max length: 8."}),
        _property({"type": "string", "minLength": 2, "maxLength": 8}),
        id="ai-sdk-length",
    ),
    pytest.param(
        _property({"type": "integer", "description": "How old\nminimum: 18; maximum: 30."}),
        _property({"type": "integer", "minimum": 18, "maximum": 30}),
        id="ai-sdk-bounds",
    ),
    pytest.param(
        _property({"type": "number", "description": "exclusive minimum: 0; exclusive maximum: 1."}),
        _property({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
        id="ai-sdk-exclusive",
    ),
]


@pytest.mark.parametrize(("sent", "original"), DESCRIBED)
@pytest.mark.parametrize("seed", range(5))
def test_a_value_keeps_to_the_constraints_moved_into_descriptions(
    sent: dict[str, Any], original: dict[str, Any], seed: int
) -> None:
    assert not [k for k in HINTED if f'"{k}"' in json.dumps(sent)]  # each one is in a description
    (block,) = generate_reply(req(tools={"act": sent}, tool_choice="any"), seed).content
    jsonschema.validate(block.input, original)
    jsonschema.validate(block.input, sent)


NODE = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
    },
    "required": ["name", "children"],
}
TREE = {
    "type": "object",
    "properties": {"root": {"$ref": "#/$defs/Node"}},
    "required": ["root"],
    "$defs": {"Node": NODE},
}


def _nested(depth: int) -> dict[str, Any]:
    """Objects inside objects, `depth` deep, with a leaf of each type that is not a string."""
    if depth == 0:
        leaves = {"n": {"type": "integer", "minimum": 5}, "on": {"type": "boolean"}, "xs": {"type": "array"}}
        return {"type": "object", "properties": leaves, "required": list(leaves)}
    return {"type": "object", "properties": {"in": _nested(depth - 1)}, "required": ["in"]}


# Schemas that refer to themselves, as pydantic writes recursive models, and one nested past MAX_DEPTH.
RECURSIVE = [
    pytest.param(TREE, id="tree-of-nodes"),
    pytest.param(transform_schema(TREE), id="tree-as-the-sdk-sends-it"),
    pytest.param({"$defs": {"Node": NODE}, "$ref": "#/$defs/Node"}, id="model-refers-to-itself"),
    pytest.param(
        {
            "type": "object",
            "properties": {"name": {"type": "string"}, "children": {"type": "array", "items": {"$ref": "#"}}},
            "required": ["name", "children"],
        },
        id="root-recursion",
    ),
    pytest.param(
        {
            "$defs": {
                "Item": {
                    "type": "object",
                    "properties": {
                        "v": {"type": "integer"},
                        "next": {"anyOf": [{"$ref": "#/$defs/Item"}, {"type": "null"}]},
                    },
                    "required": ["v", "next"],
                }
            },
            "$ref": "#/$defs/Item",
        },
        id="linked-list",
    ),
    pytest.param(
        {
            "$defs": {
                "A": {"type": "object", "properties": {"b": {"$ref": "#/$defs/B"}}, "required": ["b"]},
                "B": {
                    "type": "object",
                    "properties": {"a": {"type": "array", "items": {"$ref": "#/$defs/A"}, "maxItems": 2}},
                    "required": ["a"],
                },
            },
            "$ref": "#/$defs/A",
        },
        id="mutual",
    ),
    pytest.param(
        {
            "$defs": {
                "J": {
                    "anyOf": [
                        {"type": "integer"},
                        {"type": "array", "items": {"$ref": "#/$defs/J"}},
                        {"type": "object", "properties": {"j": {"$ref": "#/$defs/J"}}, "required": ["j"]},
                    ]
                }
            },
            "$ref": "#/$defs/J",
        },
        id="json-like-union",
    ),
    pytest.param(_nested(7), id="nested-past-max-depth"),
]


@pytest.mark.parametrize("schema", RECURSIVE)
@pytest.mark.parametrize("seed", range(5))
def test_a_recursive_schema_gets_a_small_valid_value(schema: dict[str, Any], seed: int) -> None:
    value = schema_value(schema, random.Random(seed), schema)
    jsonschema.validate(value, schema)
    assert value == schema_value(schema, random.Random(seed), schema)
    assert len(json.dumps(value)) < 1_000


def test_a_tree_shows_its_recursion_near_the_top() -> None:
    roots = [schema_value(TREE, random.Random(seed), TREE)["root"] for seed in range(5)]
    assert all(1 <= len(root["children"]) <= 3 and root["children"][0]["children"] == [] for root in roots)


# (pattern, minLength, maxLength): each construct regexgen.py walks, and bounds that steer repeats.
PATTERNS = [
    ("^[A-Z]{3}-[0-9]{2}$", 0, 200),
    (r"^\d\w\s\D\W\S$", 0, 200),
    ("^[^a-z0-9][^.]x.$", 0, 200),
    ("^(?:red|green|blue)$", 0, 200),
    ("^(?:ab|c)+$", 9, 10),
    ("^(?P<word>[a-z]+)(?:_[a-z]+)*$", 20, 20),
    ("^(?>ab)c*+d+?$", 0, 200),
    ("^a{2,}?b{,3}$", 5, 200),
    (r"(?i)^Hello, \w+[!?]$", 0, 200),
    (r"\bid[0-9]+\b", 0, 200),
    ("^[é-ü]{3}$", 0, 200),
    ("^$", 0, 200),
]
# Backreferences, lookarounds and conditionals; a class nothing is in; bounds no string meets;
# an anchor mid-pattern; a pattern that is no regex: no string, never an exception.
NO_STRING = [
    (r"^(a)\1$", 0, 200),
    ("^(?=a)a$", 0, 200),
    ("^(?<!b)a$", 0, 200),
    ("^(a)?(?(1)b|c)$", 0, 200),
    (r"^[^\s\S]$", 0, 200),
    ("^[0-9]{5}$", 0, 3),
    ("^(?:a?){4000000000}$", 0, 200),
    ("a^b", 0, 200),
    ("(", 0, 200),
    ("^[[a]$", 0, 200),  # `re` warns "Possible nested set", an error where warnings are errors
]


@pytest.mark.parametrize(("pattern", "low", "high"), PATTERNS)
@pytest.mark.parametrize("seed", range(3))
def test_a_generated_string_matches_its_pattern(pattern: str, low: int, high: int, seed: int) -> None:
    value = matching_string(pattern, random.Random(seed), low, high)
    assert value is not None and re.search(pattern, value) and low <= len(value) <= high
    assert matching_string(pattern, random.Random(seed), low, high) == value


@pytest.mark.parametrize(("pattern", "low", "high"), NO_STRING)
def test_a_pattern_beyond_the_generator_gives_no_string(pattern: str, low: int, high: int) -> None:
    assert matching_string(pattern, random.Random(0), low, high) is None
