"""Strict mode's typed rules decide exactly as the full hand-written rules on schema-valid bodies.

After the schema, strict mode runs the rules typed, in one walk (`wire.typed_rules`), and falls
back to the full rules only to name an error. For every body the schema accepts, the outcome
(the view, or the error's text) must be what the full rules give: `check_tools_and_roles`, then
lenient validation, then the model's rules. Each base body is mutated at every position with
values the schema takes but a rule may refuse, so every typed rule meets both of its sides.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from mockbay.errors import ApiError
from mockbay.wire.model_rules import check_model_rules
from mockbay.wire.request import MessagesRequest
from mockbay.wire.strict import check_shape, check_tools_and_roles
from mockbay.wire.validate import validate_count_tokens, validate_messages
from tests.unit.test_validate import IMAGE_AT_LIMIT, IMAGE_OVER_LIMIT, image, pdf

MARK = {"type": "ephemeral"}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
WEATHER = {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}
BETAS = {"anthropic-beta": "context-management-2025-06-27,interleaved-thinking-2025-05-14"}


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def tool_loop_body() -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2048,
        "system": [text("sys", cache_control=MARK)],
        "tools": [WEATHER, {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        "tool_choice": {"type": "tool", "name": "get_weather"},
        "stop_sequences": ["END"],
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 5,
        "messages": [
            {"role": "user", "content": [text("Weather in Lyon?")]},
            {
                "role": "assistant",
                "content": [
                    text("Checking."),
                    {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Lyon"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [text("18C", cache_control=MARK)],
                    },
                    text("Thanks", cache_control=MARK),
                ],
            },
            {"role": "assistant", "content": "Lyon is"},
        ],
    }


def thinking_body() -> dict[str, Any]:
    return {
        "model": "claude-opus-4-5",
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "cache_control": MARK,
        "tools": [{**WEATHER, "type": "custom", "cache_control": MARK}],
        "messages": [
            {"role": "user", "content": "Think about Lyon."},
            {"role": "system", "content": [text("Be brief.")]},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "t", "signature": "s"},
                    {"type": "tool_use", "id": "t9", "name": "get_weather", "input": {}},
                ],
            },
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t9", "content": "x"}]},
        ],
    }


BASES = [(tool_loop_body(), {}), (thinking_body(), BETAS)]
# Values the schema takes in many places, chosen to cross the typed rules' boundaries.
VALUES: list[object] = [
    "", " ", "a ", "get_weather", "web_search", "bad name!", "a\nb", "t1", "assistant", "system", "tool_use",
    "tool_result", "image", "tool_addition", "ephemeral", "claude-opus-4-7", "claude-3-5-haiku-20241022",
    -1, 0, 1, 2, 0.5, 1023, 1024, 4096, 10**6, 2.5, None, [], [" "], {}, dict(MARK), dict(ONE_HOUR), [text(" ")],
    [text("ok", cache_control=MARK)] * 3, [{"type": "image", "source": {"type": "url", "url": "u"}}],
]  # fmt: skip


# Blocks on either side of a limit, put in a user message and in a tool_result's content.
MEDIA: list[dict[str, Any]] = [image(IMAGE_AT_LIMIT), image(IMAGE_OVER_LIMIT), pdf(100), pdf(101), pdf(50)]


def positions(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if prefix:
        yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from positions(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from positions(inner, (*prefix, index))


def replaced(root: dict[str, Any], path: tuple[Any, ...], value: object) -> dict[str, Any]:
    root = copy.deepcopy(root)
    parent: Any = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = copy.deepcopy(value)
    return root


def dropped(root: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    root = copy.deepcopy(root)
    parent: Any = root
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return root


def mutants(base: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in positions(base):
        for value in VALUES:
            yield replaced(base, path, value)
        yield dropped(base, path)
    tools = base["tools"]
    yield {**base, "tools": [*tools, tools[0]]}  # a duplicate name
    yield {**base, "messages": base["messages"][:-1]}
    yield {**base, "messages": [*base["messages"], {"role": "assistant", "content": "done "}]}
    yield {**base, "messages": [*base["messages"], {"role": "system"}]}
    result = next(
        ("messages", index, "content", position, "content")
        for index, message in enumerate(base["messages"])
        if isinstance(message["content"], list)
        for position, block in enumerate(message["content"])
        if block["type"] == "tool_result"
    )
    for block in MEDIA:
        yield {**base, "messages": [*base["messages"], {"role": "user", "content": [text("See"), block]}]}
        yield replaced(base, result, [text("Seen"), block])
    for pages in (50, 51):  # with the 50 pages in the tool_result: at the page limit, then past it
        within = replaced(base, result, [pdf(50)])
        yield {**within, "messages": [*within["messages"], {"role": "user", "content": [pdf(pages)]}]}


def outcome(check: Any, body: dict[str, Any], headers: dict[str, str]) -> MessagesRequest | str:
    try:
        return check(body, headers)  # type: ignore[no-any-return]
    except ApiError as error:
        return error.message


def full_rules(body: dict[str, Any], headers: dict[str, str], *, counting: bool) -> MessagesRequest:
    """What strict mode decided before the typed rules: every check in order, untyped."""
    if body["messages"]:
        check_tools_and_roles(body)
    lenient = validate_count_tokens if counting else validate_messages
    view = lenient(body, headers, strict=False)
    check_model_rules(body, counting=counting)
    return view


@pytest.mark.parametrize("counting", [False, True], ids=["messages", "count_tokens"])
def test_typed_rules_decide_as_the_full_rules(counting: bool) -> None:
    strict = validate_count_tokens if counting else validate_messages
    compared = refused = 0
    for base, headers in BASES:
        for body in mutants(base):
            if counting:
                body.pop("max_tokens", None)
            try:
                check_shape(body, headers, counting=counting)
            except ApiError:
                continue
            expected = outcome(lambda b, h: full_rules(b, h, counting=counting), body, headers)
            assert outcome(strict, body, headers) == expected, body
            compared += 1
            refused += isinstance(expected, str)
    assert compared > 250 and refused > 100
