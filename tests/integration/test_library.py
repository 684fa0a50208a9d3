"""The bundled scenario library (scenarios/): each file selected as its header comment says, not by
pinning, and checked for the behaviour it documents; plus `mockbay validate` and `mockbay schema`."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest
import yaml

from mockbay.cli import main
from mockbay.loading import load_registry
from mockbay.server.runner import MockServer
from tests.conftest import REPO, sync_client

LIBRARY = REPO / "scenarios"
FILES = sorted(LIBRARY.glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../mockbay-scenario.schema.json"
MODEL = "claude-sonnet-4-6"
# Every bundled scenario and the test(s) below that exercise it; a new scenario needs a row here.
EXERCISED = {
    "weather-agent": "test_weather_agent_tool_loop, test_weather_agent_tool_error",
    "coding-agent": "test_coding_agent_three_steps, test_coding_agent_failed_tool",
    "flaky-upstream": "test_flaky_upstream_retries_to_success",
    "midstream-failure": "test_midstream_*",
    "prompt-cache": "test_prompt_cache_writes_then_reads",
    "stop-sequence": "test_stop_sequence_cuts_the_list",
    "generated-reply": "test_generated_reply_is_deterministic",
    "tenant-acme": "test_tenants_by_header",
    "tenant-globex": "test_tenants_by_header",
    "rate-limited": "test_rate_limited_after_five",
    "slow-stream": "test_slow_stream_events_in_order",
    "http-errors": "test_http_errors",
}


@pytest.fixture(scope="module")
def library() -> Iterator[MockServer]:
    """The bundled library as `mockbay serve` loads it by default, with strict fallback."""
    with MockServer([LIBRARY]) as server:
        yield server


def client(server: MockServer, **options: Any) -> anthropic.Anthropic:
    """An unpinned client: scenarios are chosen by the content of each request."""
    return sync_client(server.url, **options)


def create(api: anthropic.Anthropic, **overrides: Any) -> anthropic.types.Message:
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 1024, **overrides}
    return api.messages.create(**kwargs)


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def tool_result(message: anthropic.types.Message, content: str, *, is_error: bool = False) -> dict[str, Any]:
    """The user turn answering the message's tool_use, as an agent loop would send it."""
    call = next(block for block in message.content if block.type == "tool_use")
    block = {"type": "tool_result", "tool_use_id": call.id, "content": content, "is_error": is_error}
    return {"role": "user", "content": [block]}


# ---- the files themselves ------------------------------------------------------------------


def test_every_bundled_scenario_is_exercised() -> None:
    assert {scenario.name for scenario in load_registry([LIBRARY])} == set(EXERCISED)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_file_opens_with_the_schema_line_and_a_comment(path: Path) -> None:
    lines = path.read_text().splitlines()
    assert lines[0] == SCHEMA_LINE
    comment = " ".join(line for line in lines[1:] if line.startswith("#"))
    assert lines[1].startswith("# ") and "select" in comment.lower(), "say what it shows and how to select it"


def test_validate_accepts_the_library(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(LIBRARY)]) == 0
    assert capsys.readouterr().out == f"ok: {len(EXERCISED)} scenarios in 1 path(s)\n"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    """A validator for what `mockbay schema` prints."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(["schema"]) == 0
    schema = json.loads(printed.getvalue())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_schema_accepts_every_bundled_file(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == []


def test_schema_rejects_an_unknown_key(validator: jsonschema.Draft202012Validator) -> None:
    document = yaml.safe_load((LIBRARY / "weather-agent.yaml").read_text())
    document["turns"][1]["reply"]["colour"] = "blue"
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(document)


# ---- agents ----------------------------------------------------------------------------------

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
WEATHER_SYSTEM = "You are a weather assistant. Use get_weather for current conditions."


def _weather_first_turn(library: MockServer) -> tuple[anthropic.Anthropic, list[dict[str, Any]]]:
    api = client(library)
    messages = user("What is the weather in Paris?")
    first = create(api, system=WEATHER_SYSTEM, tools=[WEATHER_TOOL], messages=messages)
    assert [b.type for b in first.content] == ["thinking", "text", "tool_use"]
    assert first.stop_reason == "tool_use" and first.content[2].input == {"city": "Paris", "unit": "celsius"}
    return api, [*messages, {"role": "assistant", "content": first.content}, tool_result(first, "")]


def test_weather_agent_tool_loop(library: MockServer) -> None:
    api, messages = _weather_first_turn(library)
    messages[-1]["content"][0]["content"] = "18 C, sunny"
    final = create(api, system=WEATHER_SYSTEM, tools=[WEATHER_TOOL], messages=messages)
    assert final.content[0].text == "It is 18 C and sunny in Paris." and final.stop_reason == "end_turn"
    assert [(e.scenario, e.step) for e in library.journal.calls[-2:]] == [
        ("weather-agent", "turns[0]"),
        ("weather-agent", "turns[1]"),
    ]


def test_weather_agent_tool_error(library: MockServer) -> None:
    api, messages = _weather_first_turn(library)
    messages[-1]["content"][0].update(content="service unavailable", is_error=True)
    final = create(api, system=WEATHER_SYSTEM, tools=[WEATHER_TOOL], messages=messages)
    assert final.content[0].text.startswith("I could not reach the weather service")
    assert library.journal.last.step == "rules[0]"


CODING_TOOLS = [
    {"name": name, "description": f"{name} tool", "input_schema": {"type": "object"}}
    for name in ("read_file", "edit_file", "run_tests")
]


def test_coding_agent_three_steps(library: MockServer) -> None:
    api = client(library)
    messages = user("Add a return type to main() in src/app.py")
    read = create(api, tools=CODING_TOOLS, messages=messages)
    assert read.content[1].name == "read_file" and read.content[1].input == {"path": "src/app.py"}
    messages += [
        {"role": "assistant", "content": read.content},
        tool_result(read, "def main():\n    run()\n"),
    ]
    edit = create(api, tools=CODING_TOOLS, messages=messages)
    assert edit.content[0].name == "edit_file" and edit.content[0].input["new"] == "def main() -> None:"
    messages += [{"role": "assistant", "content": edit.content}, tool_result(edit, "ok")]
    done = create(api, tools=CODING_TOOLS, messages=messages)
    assert done.content[0].text == "I added a return type to main() in src/app.py."
    assert [e.turn for e in library.journal.calls[-3:]] == [0, 1, 2]


def test_coding_agent_failed_tool(library: MockServer) -> None:
    api = client(library)
    messages = user("Add a return type to main()")
    read = create(api, tools=CODING_TOOLS, messages=messages)
    messages += [{"role": "assistant", "content": read.content}, tool_result(read, "ENOENT", is_error=True)]
    assert create(api, tools=CODING_TOOLS, messages=messages).content[0].text.startswith("The tool failed")


# ---- failures and retries --------------------------------------------------------------------


def test_flaky_upstream_retries_to_success(library: MockServer) -> None:
    api = client(library, default_headers={"x-mockbay-session": "library-flaky"})
    message = create(api, messages=user("Is this flaky?"))
    assert message.content[0].text == "Third time lucky: the upstream answered."
    attempts = [e for e in library.journal.calls if e.headers.get("x-mockbay-session") == "library-flaky"]
    assert [e.status for e in attempts] == [429, 529, 200]
    assert create(api, messages=user("flaky again")).content[0].text.startswith("Third time lucky")
    httpx.post(f"{library.url}/_mockbay/reset")
    with pytest.raises(anthropic.RateLimitError):
        create(client(library, max_retries=0), messages=user("flaky"))


def _stream_texts(api: anthropic.Anthropic, kind: str) -> tuple[list[str], list[str]]:
    seen: list[str] = []
    texts: list[str] = []
    headers = {"x-mockbay-fault": kind}
    with api.messages.stream(
        model=MODEL, max_tokens=1024, messages=user("Tell me"), extra_headers=headers
    ) as s:
        for event in s:
            seen.append(event.type)
            if event.type == "content_block_delta":
                texts.append(event.delta.text)
    return seen, texts


def test_midstream_error_event(library: MockServer) -> None:
    with pytest.raises(anthropic.APIStatusError) as caught:
        _stream_texts(client(library), "error_event")
    assert caught.value.body["error"]["type"] == "overloaded_error"
    assert library.journal.last.fault == "error_event" and len(library.journal.last.planned_offsets_ms) == 7


def test_midstream_disconnect(library: MockServer) -> None:
    with pytest.raises(anthropic.APIConnectionError):
        _stream_texts(client(library), "disconnect")
    assert library.journal.last.fault == "disconnect"


def test_midstream_stall(library: MockServer) -> None:
    api = client(library, max_retries=0, timeout=anthropic.Timeout(5.0, read=0.3))
    with pytest.raises(anthropic.APITimeoutError):
        _stream_texts(api, "stall")


def test_midstream_json_request_gets_the_http_error(library: MockServer) -> None:
    api = client(library, max_retries=0)
    with pytest.raises(anthropic.OverloadedError):
        create(api, messages=user("Tell me"), extra_headers={"x-mockbay-fault": "error_event"})


@pytest.mark.parametrize(
    ("status", "exception"),
    [
        (400, anthropic.BadRequestError),
        (401, anthropic.AuthenticationError),
        (403, anthropic.PermissionDeniedError),
        (404, anthropic.NotFoundError),
        (413, anthropic.RequestTooLargeError),
        (429, anthropic.RateLimitError),
        (500, anthropic.InternalServerError),
        (529, anthropic.OverloadedError),
    ],
)
def test_http_errors(library: MockServer, status: int, exception: type[anthropic.APIStatusError]) -> None:
    api = client(library, max_retries=0, default_headers={"x-mockbay-error": str(status)})
    with pytest.raises(exception) as caught:
        create(api, messages=user("hi"))
    assert caught.value.status_code == status and caught.value.request_id
    assert library.journal.last.scenario == "http-errors"


def test_http_errors_explains_an_unknown_status(library: MockServer) -> None:
    api = client(library, max_retries=0, default_headers={"x-mockbay-error": "418"})
    with pytest.raises(anthropic.BadRequestError, match="use one of 400 401"):
        create(api, messages=user("hi"))


def test_http_errors_529_is_not_retried(library: MockServer) -> None:
    api = client(library, default_headers={"x-mockbay-error": "529", "x-mockbay-session": "no-retry"})
    with pytest.raises(anthropic.OverloadedError):
        create(api, messages=user("hi"))
    assert len([e for e in library.journal.calls if e.headers.get("x-mockbay-session") == "no-retry"]) == 1


def test_rate_limited_after_five() -> None:
    with MockServer([LIBRARY]) as server:
        api = client(server, max_retries=0, default_headers={"x-mockbay-demo": "rate-limit"})
        remaining = []
        for _ in range(5):
            raw = api.messages.with_raw_response.create(model=MODEL, max_tokens=64, messages=user("hi"))
            remaining.append(raw.headers["anthropic-ratelimit-requests-remaining"])
            assert raw.parse().content[0].text == "Within your limits."
        assert remaining == ["4", "3", "2", "1", "0"]
        with pytest.raises(anthropic.RateLimitError) as caught:
            create(api, messages=user("hi"))
        assert int(caught.value.response.headers["retry-after"]) >= 1
        assert caught.value.response.headers["anthropic-ratelimit-requests-limit"] == "5"


# ---- usage, cuts, generated text, tenants, timing -------------------------------------------

HANDBOOK = [
    {
        "type": "text",
        "text": "You answer questions from the employee handbook.\n" + "Section text of the handbook. " * 900,
        "cache_control": {"type": "ephemeral"},
    }
]


def test_prompt_cache_writes_then_reads(library: MockServer) -> None:
    api = client(library, default_headers={"x-mockbay-session": "library-cache"})
    first = create(api, system=HANDBOOK, messages=user("How do I file expenses?"))
    second = create(api, system=HANDBOOK, messages=user("And travel?"))
    assert first.content[0].text.startswith("According to the handbook")
    written = first.usage.cache_creation_input_tokens
    assert written > 4000 and first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == written
    assert second.usage.cache_read_input_tokens == written and second.usage.cache_creation_input_tokens == 0
    assert 0 < second.usage.input_tokens < 50


def test_stop_sequence_cuts_the_list(library: MockServer) -> None:
    api = client(library)
    cut = create(api, messages=user("Please list the steps for a cake."), stop_sequences=["###"])
    assert cut.content[0].text == "1. Preheat the oven.\n2. Mix the batter.\n"
    assert (cut.stop_reason, cut.stop_sequence) == ("stop_sequence", "###")
    whole = create(api, messages=user("List the steps for a cake."))
    assert whole.stop_reason == "end_turn" and "3. Bake for 30 minutes." in whole.content[0].text


def test_generated_reply_is_deterministic(library: MockServer) -> None:
    request = {"model": "claude-haiku-4-5", "messages": user("Write some lorem ipsum")}
    first = create(client(library), **request)
    with MockServer([LIBRARY]) as other:
        again = create(client(other), **request)
    assert first.content[0].text == "You said: Write some lorem ipsum (model claude-haiku-4-5, turn 0)."
    assert len(first.content[1].text.split(". ")) >= 2
    assert again.to_dict() == first.to_dict()


def test_tenants_by_header(library: MockServer) -> None:
    acme = create(client(library, default_headers={"x-tenant": "acme"}), messages=user("hi"))
    assert acme.content[0].text == "Hello from Acme's assistant."
    assert set(library.journal.last.planned_offsets_ms) <= {0.0}
    globex = create(client(library, default_headers={"x-tenant": "globex"}), messages=user("hi"))
    assert globex.content[0].text.startswith("Hello from Globex's assistant")
    assert library.journal.last.duration_ms >= 800
    with pytest.raises(anthropic.BadRequestError):
        create(client(library, max_retries=0, default_headers={"x-tenant": "initech"}), messages=user("hi"))


def test_slow_stream_events_in_order(library: MockServer) -> None:
    api = client(library, default_headers={"x-mockbay-demo": "slow-stream"})
    with api.messages.stream(model=MODEL, max_tokens=256, messages=user("Stream please")) as stream:
        events = [event.type for event in stream if event.type in EVENT_TYPES]
        text = stream.get_final_text()
    assert text == "Streaming one piece at a time."
    assert events == ["message_start", "content_block_start", *["content_block_delta"] * 6,
                      "content_block_stop", "message_delta", "message_stop"]  # fmt: skip
    exchange = library.journal.last
    planned, observed = exchange.planned_offsets_ms, exchange.observed_offsets_ms
    assert planned == [0.0, 0.0, 0.0, 300.0, 350.0, 400.0, 450.0, 500.0, 550.0, 550.0, 550.0, 550.0]
    assert observed == sorted(observed) and all(o >= p - 1 for p, o in zip(planned, observed, strict=True))
    assert observed[-1] < 1500


EVENT_TYPES = {
    "message_start",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
}


def test_library_is_what_serve_loads_by_default() -> None:
    """`mockbay serve` with no --scenarios serves this folder (the package's bundled/ link)."""
    from mockbay.loading import default_scenario_paths

    (bundled,) = default_scenario_paths()
    assert Path(bundled).resolve() == LIBRARY.resolve()
