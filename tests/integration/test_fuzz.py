"""Mutated requests against the whole server: every answer is a 200 or an Anthropic-shaped 4xx.

Bounded and seeded: 400 mutations of a rich valid body (tools, cache_control, images, a tool
loop), each sent as JSON and as a stream, with the generate fallback answering what validation
lets through. A 500 here once came from the generated tool input trusting client schemas.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from typing import Any

import httpx

from mockbay.server.runner import MockServer

BASE: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 300,
    "system": [{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral"}}],
    "tools": [
        {
            "name": "t1",
            "description": "d",
            "input_schema": {
                "type": "object",
                "properties": {
                    "a": {"type": "array", "items": {"type": ["string", "null"]}},
                    "b": {"$ref": "#/$defs/B"},
                },
                "required": ["a", "b"],
                "$defs": {"B": {"type": "integer", "minimum": 5}},
            },
        }
    ],
    "tool_choice": {"type": "any"},
    "stop_sequences": ["zz"],
    "messages": [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "hi"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
            ],
        },
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "t1", "input": {}}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": "r"}],
                    "is_error": True,
                }
            ],
        },
    ],
    "metadata": {"user_id": "u"},
}
ODD: list[Any] = [
    None,
    True,
    0,
    -1,
    10**30,
    1.5,
    "",
    " ",
    "xxxxx",
    [],
    {},
    [None],
    {"type": "text"},
    {"type": "weird"},
    "\x00",
    "😀",
]


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from _paths(child, (*path, key))


def _mutate(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    body = copy.deepcopy(body)
    node = body
    try:
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    except (TypeError, KeyError, IndexError):
        pass
    return body


def test_mutated_requests_never_reach_a_500():
    rng = random.Random(20261125)
    paths = list(_paths(BASE))
    statuses: dict[int, int] = {}
    with (
        MockServer(fallback="generate") as server,
        httpx.Client(
            base_url=server.url, headers={"x-api-key": "k", "anthropic-version": "2023-06-01"}
        ) as client,
    ):
        for _ in range(400):
            body = BASE
            for _ in range(rng.randint(1, 3)):
                body = _mutate(body, rng.choice(paths), rng.choice(ODD))
            for stream in (False, True):
                sent = {**body, "stream": stream} if isinstance(body, dict) else body
                response = client.post("/v1/messages", content=json.dumps(sent))
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if response.status_code != 200:
                    assert response.json()["type"] == "error", response.text
        assert server.state.internal_errors == []
    assert set(statuses) <= {200, 400} and statuses.get(200, 0) > 50 and statuses.get(400, 0) > 50
