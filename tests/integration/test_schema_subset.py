"""Structured outputs' schema subset (`wire.schema_subset`): strict validation refuses an output
schema or a strict tool's input schema upstream cannot compile, with upstream's 400; lenient
validation and count_tokens take it; what the SDK's `messages.parse()` sends is accepted.

Each row is (name, where the schema goes, schema, the whole message): `output_config`, the beta
`output_format`, or a strict tool (`tools.0.custom`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from pydantic import BaseModel, Field

from mockbay.server.runner import MockServer
from tests.conftest import USER_HI, sync_client

MODEL = "claude-sonnet-4-6"
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BETA = {"anthropic-beta": "structured-outputs-2025-11-13"}


def closed(**properties: Any) -> dict[str, Any]:
    """An object schema upstream compiles: every property required, nothing else allowed."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def asking(where: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The request body that sends `schema` as `where` says."""
    base: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": USER_HI}
    if where == "output_config":
        return {**base, "output_config": {"format": {"type": "json_schema", "schema": schema}}}
    if where == "output_format":
        return {**base, "output_format": {"type": "json_schema", "schema": schema}}
    return {**base, "tools": [{"name": "record", "input_schema": schema, "strict": True}]}


PREFIX = {
    "output_config": "output_config.format.schema",
    "output_format": "output_format.schema",
    "tool": "tools.0.custom",
}
OBJECT_OPEN = "For 'object' type, 'additionalProperties' must be explicitly set to false"
NODE = {"type": "object", "properties": {"child": {"anyOf": [{"$ref": "#/$defs/N"}, {"type": "null"}]}}}
RECURSIVE = {
    **closed(n={"$ref": "#/$defs/N"}),
    "$defs": {"N": {**NODE, "required": ["child"], "additionalProperties": False}},
}

REFUSED: list[tuple[str, str, dict[str, Any], str]] = [
    ("minimum", "output_config", closed(n={"type": "integer", "minimum": 0}), "For 'integer' type, property 'minimum' is not supported"),
    ("numeric-bounds", "tool", closed(n={"type": "number", "maximum": 9, "minimum": 0, "multipleOf": 2}), "For 'number' type, properties maximum, minimum, multipleOf are not supported"),
    ("exclusive-minimum", "output_format", closed(n={"type": "number", "exclusiveMinimum": 0}), "For 'number' type, property 'exclusiveMinimum' is not supported"),
    ("min-length", "output_config", closed(s={"type": "string", "minLength": 2}), "For 'string' type, property 'minLength' is not supported"),
    ("max-items", "tool", closed(a={"type": "array", "items": {"type": "string"}, "maxItems": 3}), "For 'array' type, property 'maxItems' is not supported"),
    ("min-items-2", "output_config", closed(a={"type": "array", "items": {"type": "string"}, "minItems": 2}), "For 'array' type, 'minItems' values other than 0 or 1 are not supported"),
    ("tuple-items", "output_config", closed(a={"type": "array", "items": [{"type": "string"}]}), "Invalid schema: Array types must be specified with a single object schema for 'items'."),
    ("additional-properties-missing", "output_config", {"type": "object", "properties": {"a": {"type": "string"}}}, OBJECT_OPEN),
    ("additional-properties-nested", "tool", closed(o={"type": ["object", "null"], "properties": {}}), OBJECT_OPEN),
    ("additional-properties-schema", "output_config", {"type": "object", "additionalProperties": {"type": "string"}}, OBJECT_OPEN),
    ("additional-properties-true", "tool", {"type": "object", "additionalProperties": True}, "For 'object' type, 'additionalProperties: true' is not supported. Please set 'additionalProperties' to false"),
    ("pattern-properties", "output_config", {**closed(), "patternProperties": {"^x": {"type": "string"}}}, "For 'object' type, property 'patternProperties' is not supported"),
    ("if-then", "output_config", {**closed(a={"type": "string"}), "if": {"properties": {}}, "then": {}}, "For 'object' type, properties if, then are not supported"),
    ("not", "output_config", closed(u={"type": "string", "not": {"const": "x"}}), "Schema keyword 'not' is not supported"),
    ("one-of", "tool", closed(u={"oneOf": [{"type": "string"}, {"type": "number"}]}), "Schema type 'oneOf' is not supported"),
    ("type-beside-any-of", "output_config", closed(u={"type": "string", "anyOf": [{"type": "string"}, {"type": "null"}]}), "For 'anyOf', 'type' is not supported"),
    ("empty-schema", "output_config", closed(anything={}), "Empty schema ({}) that accepts any JSON value is not supported."),
    ("annotation-only", "tool", closed(anything={"title": "Anything"}), "Empty schema ({}) that accepts any JSON value is not supported."),
    ("recursive-def", "output_config", RECURSIVE, "Circular reference detected in schema definitions: N -> N"),
    ("recursive-root", "tool", closed(again={"$ref": "#"}), "Circular reference detected in schema definitions: # -> #"),
    ("pattern-lookahead", "output_config", closed(p={"type": "string", "pattern": "^(?=.*[0-9]).+$"}), "For 'string' type, 'pattern' with lookahead or lookbehind assertions is not supported"),
    ("pattern-backreference", "tool", closed(p={"type": "string", "pattern": r"^([0-9])\1$"}), "For 'string' type, 'pattern' with backreferences is not supported"),
    ("pattern-word-boundary", "output_config", closed(p={"type": "string", "pattern": r"\bred\b"}), "For 'string' type, 'pattern' with word boundaries is not supported"),
    ("in-a-definition", "output_config", {**closed(a={"$ref": "#/$defs/A"}), "$defs": {"A": {"type": "integer", "maximum": 3}}}, "For 'integer' type, property 'maximum' is not supported"),
]  # fmt: skip

ACCEPTED: list[tuple[str, str, dict[str, Any]]] = [
    ("closed-object", "output_config", closed(a={"type": "string"}, b={"type": "integer"})),
    ("nullable-any-of", "tool", closed(a={"anyOf": [{"type": "string"}, {"type": "null"}], "description": "maybe"})),
    ("type-list", "output_config", closed(a={"type": ["string", "null"]})),
    ("enum-and-const", "output_format", closed(a={"enum": ["x", "y"]}, b={"const": 3})),
    ("shared-definitions", "output_config", {**closed(a={"$ref": "#/$defs/A"}, b={"$ref": "#/$defs/A"}), "$defs": {"A": closed(x={"type": "boolean"})}}),
    ("min-items-0-and-1", "tool", closed(a={"type": "array", "items": {"type": "string"}, "minItems": 1}, b={"type": "array", "items": {"type": "number"}, "minItems": 0})),
    ("simple-pattern-and-format", "output_config", closed(p={"type": "string", "pattern": r"^[A-Z]{3}-\d{2}$"}, f={"type": "string", "format": "date-time"})),
    ("optional-property", "output_config", {**closed(a={"type": "string"}), "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}),
    ("all-of", "tool", closed(a={"allOf": [{"type": "string"}]})),
]  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(fallback="generate") as running:
        yield running


@pytest.fixture(scope="module")
def lenient() -> Iterator[MockServer]:
    with MockServer(fallback="generate", validation="lenient") as running:
        yield running


def post(
    server: MockServer, where: str, schema: dict[str, Any], path: str = "/v1/messages"
) -> httpx.Response:
    payload = asking(where, schema)
    if path.endswith("count_tokens"):
        del payload["max_tokens"]
    return httpx.post(
        f"{server.url}{path}", json=payload, headers={**HEADERS, **(BETA if where == "output_format" else {})}
    )


@pytest.mark.parametrize(("name", "where", "schema", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_over_raw_http(server: MockServer, name: str, where: str, schema: dict, message: str) -> None:
    response = post(server, where, schema)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": f"{PREFIX[where]}: {message}"},
        "request_id": response.headers["request-id"],
    }


@pytest.mark.parametrize(("name", "where", "schema", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_through_the_sdk(
    server: MockServer, name: str, where: str, schema: dict, message: str
) -> None:
    payload = asking(where, schema)
    client = sync_client(server.url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as caught:
        if where == "output_format":  # SDK 2.17 no longer declares it: sent as LiteLLM sends it
            fmt = payload.pop("output_format")
            client.beta.messages.create(
                **payload, betas=[BETA["anthropic-beta"]], extra_body={"output_format": fmt}
            )
        else:
            client.messages.create(**payload)
    assert caught.value.status_code == 400
    assert caught.value.body["error"]["message"] == f"{PREFIX[where]}: {message}"  # type: ignore[index]


@pytest.mark.parametrize(("name", "where", "schema", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_lenient_mode_and_count_tokens_take_it(
    server: MockServer, lenient: MockServer, name: str, where: str, schema: dict, message: str
) -> None:
    """Lenient mode lets values through that the schema would refuse; count_tokens compiles no
    grammar (upstream's guide: "Count tokens without compilation")."""
    assert post(lenient, where, schema).status_code == 200
    assert post(server, where, schema, "/v1/messages/count_tokens").status_code == 200


@pytest.mark.parametrize(("name", "where", "schema"), ACCEPTED, ids=[r[0] for r in ACCEPTED])
def test_accepted(server: MockServer, name: str, where: str, schema: dict) -> None:
    response = post(server, where, schema)
    assert response.status_code == 200, response.text


class Address(BaseModel):
    street: str
    city: str | None


class Constrained(BaseModel):
    """Constraints the SDK moves into descriptions before it sends the schema."""

    name: str = Field(max_length=8)
    age: int = Field(ge=18, le=30)
    tags: list[str] = Field(min_length=2)
    address: Address


class Node(BaseModel):
    name: str
    children: list[Node]


def test_what_parse_sends_is_accepted_and_recursion_refused(server: MockServer) -> None:
    client = sync_client(server.url, max_retries=0)
    parsed = client.messages.parse(model=MODEL, max_tokens=1024, messages=USER_HI, output_format=Constrained)
    assert isinstance(parsed.parsed_output, Constrained)
    with pytest.raises(
        anthropic.BadRequestError, match="Circular reference detected in schema definitions: Node -> Node"
    ):
        client.messages.parse(model=MODEL, max_tokens=1024, messages=USER_HI, output_format=Node)


def strict_tool(index: int, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": f"t{index}", "input_schema": schema, "strict": True}


OPTIONAL = {
    "type": "object",
    "properties": {f"p{n}": {"type": "string"} for n in range(5)},
    "additionalProperties": False,
}
UNION = closed(**{f"u{n}": {"type": ["string", "null"]} for n in range(4)})

# (name, tools, output schema or None, the message): upstream's complexity limits, summed over
# the request's strict schemas (its structured-outputs guide); the texts are mockbay's.
LIMITS: list[tuple[str, list[dict[str, Any]], dict[str, Any] | None, str]] = [
    ("strict-tools", [strict_tool(n, closed()) for n in range(21)], None, "A maximum of 20 tools with `strict: true` may be provided. Found 21."),
    ("optional-parameters", [strict_tool(n, OPTIONAL) for n in range(4)], OPTIONAL, "A maximum of 24 optional parameters across strict tool schemas and the output schema may be provided. Found 25."),
    ("union-parameters", [strict_tool(n, UNION) for n in range(4)], closed(u={"anyOf": [{"type": "string"}, {"type": "null"}]}), "A maximum of 16 parameters with union types across strict tool schemas and the output schema may be provided. Found 17."),
]  # fmt: skip


@pytest.mark.parametrize(("name", "tools", "output", "message"), LIMITS, ids=[r[0] for r in LIMITS])
def test_complexity_limits(
    server: MockServer, lenient: MockServer, name: str, tools: list, output: dict | None, message: str
) -> None:
    payload: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": USER_HI, "tools": tools}
    if output is not None:
        payload["output_config"] = {"format": {"type": "json_schema", "schema": output}}
    with pytest.raises(anthropic.BadRequestError) as caught:
        sync_client(server.url, max_retries=0).messages.create(**payload)
    assert caught.value.body["error"]["message"] == message  # type: ignore[index]
    under = {**payload, "tools": tools[:-1]}
    assert sync_client(server.url).messages.create(**under).type == "message"
    assert sync_client(lenient.url).messages.create(**payload).type == "message"


def test_non_strict_tools_are_not_compiled(server: MockServer) -> None:
    """Only `strict: true` tools are compiled: any schema keyword passes in a plain tool."""
    schema = {"type": "object", "properties": {"n": {"type": "integer", "minimum": 0}}}
    tools = [
        {"name": "record", "input_schema": schema},
        {"name": "other", "input_schema": schema, "strict": False},
    ]
    message = sync_client(server.url).messages.create(
        model=MODEL, max_tokens=256, messages=USER_HI, tools=tools
    )
    assert message.type == "message"
