"""The matchers of docs/scenario-contract.md §10: has_block, tools.types and output_format, one row
per case."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from mockbay.matching import evaluate
from mockbay.scenario.loader import load_text
from mockbay.wire.validate import validate_messages

IMAGE = {
    "type": "image",
    "source": {"type": "base64", "media_type": "image/png", "data": base64.b64encode(b"png").decode()},
}
WEB_SEARCH = {"type": "web_search_20250305", "name": "web_search"}
CUSTOM = {"name": "get_time", "input_schema": {"type": "object"}}
FORMAT = {"format": {"type": "json_schema", "schema": {"type": "object", "additionalProperties": False}}}


def _request(content: Any = "hi", **extra: Any) -> Any:
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 10,
        "messages": [{"role": "user", "content": content}],
    }
    return validate_messages({**body, **extra}, {})


def _tool_loop_with_image() -> Any:
    call = {"type": "tool_use", "id": "toolu_1", "name": "shot", "input": {}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": [IMAGE]}
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 10,
        "messages": [
            {"role": "user", "content": "look"},
            {"role": "assistant", "content": [call]},
            {"role": "user", "content": [result]},
        ],
    }
    return validate_messages(body, {})


# (when: YAML, request, the first failed condition or None when it holds)
ROWS = [
    ("has_block: {type: image}", _request([IMAGE, {"type": "text", "text": "what is it?"}]), None),
    ("has_block: {type: image}", _tool_loop_with_image(), None),
    ("has_block: {type: image}", _request(), "has_block: no message holds a 'image' block"),
    ("tools: {types: [web_search_20250305]}", _request(tools=[WEB_SEARCH, CUSTOM]), None),
    ("tools: {types: [custom]}", _request(tools=[WEB_SEARCH, CUSTOM]), None),
    (
        "tools: {types: [web_fetch_20250910]}",
        _request(tools=[WEB_SEARCH]),
        "tools: no tool of type 'web_fetch_20250910' is offered (types: web_search_20250305)",
    ),
    ("output_format: true", _request(output_config=FORMAT), None),
    ("output_format: false", _request(), None),
    ("output_format: true", _request(), "output_format: request has false, scenario wants true"),
]


@pytest.mark.parametrize(("when", "request_", "failed"), ROWS)
def test_surface_matchers(when: str, request_: Any, failed: str | None) -> None:
    (scenario,) = load_text(f"name: m\nmatch: {{{when}}}\nrules: [{{reply: {{text: x}}}}]\n")
    assert scenario.match is not None
    assert evaluate(scenario.match, request_) == failed
