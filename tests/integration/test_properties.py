"""Property tests with hypothesis against the real server: valid requests are answered, and any
mutation of one at any JSON path (a wrong type, a deletion, a lone surrogate, deep nesting, a huge
number) is a 200 or an Anthropic 4xx envelope whose `request_id` repeats the header.

Bounded and derandomised (a fixed set of examples per run), so the suite stays fast and the same
run finds the same thing; `tests/integration/test_fuzz.py` is the older seeded random walk.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockbay.server.runner import MockServer
from mockbay.wire.jsonbody import MAX_DEPTH

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
PROPERTY = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
Path = tuple[str | int, ...]

# -- valid requests ------------------------------------------------------------------------------

words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=20).filter(lambda t: t.strip() != "")
text_block = st.fixed_dictionaries({"type": st.just("text"), "text": words})
content = st.one_of(words, st.lists(text_block, min_size=1, max_size=3))
tool = st.fixed_dictionaries(
    {
        "name": st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
        "input_schema": st.just({"type": "object", "properties": {"q": {"type": "string"}}}),
    },
    optional={"description": words},
)


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    """User and assistant turns alternating, ending with a user turn."""
    turns = draw(st.integers(min_value=0, max_value=2))
    messages: list[dict[str, Any]] = []
    for _ in range(turns):
        messages.append({"role": "user", "content": draw(content)})
        messages.append({"role": "assistant", "content": draw(content)})
    messages.append({"role": "user", "content": draw(content)})
    return messages


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": draw(st.sampled_from(["claude-sonnet-4-6", "claude-haiku-4-5", "mock-model-1"])),
        "max_tokens": draw(st.integers(min_value=1, max_value=2048)),
        "messages": draw(conversations()),
    }
    optional = {
        "system": st.one_of(words, st.lists(text_block, min_size=1, max_size=2)),
        "stream": st.booleans(),
        "temperature": st.floats(min_value=0, max_value=1),
        "stop_sequences": st.lists(words, max_size=2),
        "metadata": st.fixed_dictionaries({"user_id": words}),
        "tools": st.lists(tool, min_size=1, max_size=2, unique_by=lambda t: t["name"]),
        "tool_choice": st.fixed_dictionaries({"type": st.sampled_from(["auto", "none"])}),
    }
    for key in draw(st.sets(st.sampled_from(sorted(optional)))):
        body[key] = draw(optional[key])
    return body


# -- mutations -----------------------------------------------------------------------------------

deep = st.integers(min_value=MAX_DEPTH - 8, max_value=MAX_DEPTH * 4).map(
    lambda n: json.loads("[" * n + "]" * n)
)
odd_values = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0, -1, 10**100, -(10**30), 1.5, 1e308, -0.0]),
    st.sampled_from(["", " ", "\udfff", "a\ud800b", "\x00", "😀", "x" * 10_000]),
    st.sampled_from([[], {}, [None], {"type": "text"}, {"type": "\udfff"}, {"type": 5}]),
    deep,
)


def paths(value: Any, path: Path = ()) -> Iterator[Path]:
    yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        yield from paths(child, (*path, key))


def replaced(body: Any, path: Path, value: Any) -> Any:
    if not path:
        return value
    body = copy.deepcopy(body)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return body


def deleted(body: Any, path: Path) -> Any:
    body = copy.deepcopy(body)
    parent = body
    for key in path[:-1]:
        parent = parent[key]
    del parent[path[-1]]
    return body


@st.composite
def mutants(draw: st.DrawFn) -> Any:
    body = draw(requests())
    where = draw(st.sampled_from(list(paths(body))))
    if where and draw(st.booleans()):
        return deleted(body, where)
    return replaced(body, where, draw(odd_values))


# -- the properties ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Iterator[tuple[MockServer, httpx.Client]]:
    with (
        MockServer(fallback="generate") as server,
        httpx.Client(base_url=server.url, headers=HEADERS) as http,
    ):
        yield server, http


def answer(http: httpx.Client, body: Any) -> httpx.Response:
    """Post the body as a client would: JSON with lone surrogates escaped (`\\udfff`)."""
    return http.post("/v1/messages", content=json.dumps(body).encode())


def assert_answered(response: httpx.Response) -> None:
    """A 200 (JSON message or stream), or a 4xx envelope whose request_id repeats the header."""
    assert response.status_code == 200 or 400 <= response.status_code < 500, response.text[:300]
    if response.status_code == 200:
        if response.headers["content-type"].startswith("text/event-stream"):
            assert "event: message_stop" in response.text
        else:
            assert response.json()["type"] == "message"
        return
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error", error
    assert error["request_id"] == response.headers["request-id"]


@PROPERTY
@given(body=requests())
def test_valid_requests_are_answered(client, body):
    server, http = client
    response = answer(http, body)
    assert response.status_code == 200, response.text
    assert_answered(response)
    assert server.state.internal_errors == []


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield key
            yield from strings(child)
    elif isinstance(value, list):
        for child in value:
            yield from strings(child)


def depth(value: Any) -> int:
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
    return 0 if children is None else 1 + max((depth(child) for child in children), default=0)


def refusal(body: Any) -> str | None:
    """What the parser must refuse the body with, before any validation, if anything."""
    if any(0xD800 <= ord(char) <= 0xDFFF for text in strings(body) for char in text):
        return "The request body is not valid JSON: "
    if depth(body) > MAX_DEPTH:
        return "There was an error parsing the body: nesting deeper than"
    return None


@PROPERTY
@given(body=mutants())
def test_a_mutation_at_any_path_is_a_200_or_a_400_envelope(client, body):
    server, http = client
    response = answer(http, body)
    assert_answered(response)
    expected = refusal(body)
    if expected is not None:
        assert response.status_code == 400 and response.json()["error"]["message"].startswith(expected)
    assert server.state.internal_errors == []


# Paths the validator types, with a value of the wrong type for each; null is absent for the
# optional ones, so it is not among them.
TYPED: list[tuple[Path, Any]] = [
    (("model",), 5),
    (("max_tokens",), "ten"),
    (("max_tokens",), 1.5),
    (("messages",), {}),
    (("messages", 0), "hi"),
    (("messages", 0, "role"), 1),
    (("messages", 0, "content"), 5),
    (("messages", 0, "content"), {"type": "text", "text": "x"}),
    (("system",), 5),
    (("stream",), "yes"),
    (("temperature",), "hot"),
    (("top_k",), "k"),
    (("stop_sequences",), "zz"),
    (("stop_sequences", 0), 7),
    (("metadata",), "m"),
    (("metadata", "user_id"), 5),
    (("tools",), {}),
    (("tools", 0), "t"),
    (("tools", 0, "name"), 5),
    (("tools", 0, "input_schema"), "s"),
    (("tools", 0, "cache_control"), "ephemeral"),
    (("tool_choice",), "auto"),
    (("thinking",), True),
]
BASE = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hi"}],
    "stop_sequences": ["zz"],
    "metadata": {"user_id": "u"},
    "tools": [{"name": "t", "input_schema": {"type": "object"}}],
}


@pytest.mark.parametrize(("path", "value"), TYPED, ids=[".".join(map(str, p)) for p, _ in TYPED])
def test_a_wrong_type_is_a_400_naming_its_path(client, path, value):
    _server, http = client
    response = answer(http, replaced(BASE, path, value))
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    location = message.split(":")[0].split(".")
    wanted = [str(part) for part in path]
    found = iter(location)
    assert all(part in found for part in wanted), (path, message)
