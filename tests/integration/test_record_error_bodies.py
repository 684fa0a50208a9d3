"""`mockbay record` of error answers a gateway in front of the API sends: replayed byte for byte.

The upstream is an aiohttp app in this test standing for a gateway (LiteLLM, Kong, a load balancer,
a proxy with a Latin-1 error page): each question gets its error answer from `ANSWERS`. Recorded
through the recorder, replayed by a fresh server with no upstream: httpx sees the same status,
Content-Type and bytes, and the SDK the same exception and body. Anthropic's own envelope is still
written as its fields (type, message, error_code), which a replay's envelope holds.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import anthropic
import httpx
import pytest
import yaml
from aiohttp import web

from mockbay.config import ServerConfig
from mockbay.record.pytest_support import RecordingServer, RecordPlan
from mockbay.server.runner import MockServer
from mockbay.wire.sse import parse_events
from tests.loopback_app import serving

MODEL = "claude-sonnet-4-6"
HEADERS = {"x-api-key": "sk-ant-api03-test", "anthropic-version": "2023-06-01"}
CONFIG = ServerConfig(port=0, timing="instant", fallback="strict")


class Answer(NamedTuple):
    status: int
    body: bytes
    content_type: str


ENVELOPE = {
    "type": "error",
    "error": {"type": "overloaded_error", "message": "Overloaded"},
    "request_id": "req_1",
}
# question -> the gateway's answer
ANSWERS = {
    "fastapi": Answer(401, b'{"detail":"Not authenticated"}', "application/json"),
    "kong": Answer(401, b'{\n  "message":"Unauthorized"\n}', "application/json; charset=utf-8"),
    "openai-shape": Answer(
        400,
        b'{"error": {"message": "Invalid model", "type": "invalid_request_error", "param": null, "code": null}}',
        "application/json",
    ),
    "array": Answer(502, b'[{"error": "bad gateway"}]', "application/json"),
    "latin-1": Answer(
        502, b"<html><body>\xc9chec de la passerelle</body></html>", "text/html; charset=iso-8859-1"
    ),
    "binary": Answer(503, b"\x00\xff\xfe\x80 down", "application/octet-stream"),
    "nel": Answer(502, "line\u0085next".encode(), "text/plain; charset=utf-8"),
    "anthropic": Answer(529, json.dumps(ENVELOPE).encode(), "application/json"),
}


START = {
    "type": "message_start",
    "message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 1},
    },
}
# question -> the data of the `event: error` that cuts the stream after message_start
STREAM_ERRORS: dict[str, Any] = {
    "event-envelope": {
        "type": "error",
        "error": {"type": "rate_limit_error", "message": "Slow down", "details": {"error_code": "too_fast"}},
        "request_id": "req_1",
    },
    "event-string": {"type": "error", "error": "boom"},
    "event-gateway": {"error": "upstream gone", "code": 502},
}


async def _answer(request: web.Request) -> web.StreamResponse:
    body = await request.json()
    if body.get("stream"):
        stream = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await stream.prepare(request)
        for name, data in (
            ("message_start", START),
            ("error", STREAM_ERRORS[body["messages"][-1]["content"]]),
        ):
            await stream.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        await stream.write_eof()
        return stream
    answer = ANSWERS[body["messages"][-1]["content"]]
    response = web.Response(status=answer.status, body=answer.body)
    response.headers["Content-Type"] = answer.content_type
    return response


@pytest.fixture(scope="module")
def gateway() -> Iterator[str]:
    """The test's gateway on loopback, in a thread of its own."""
    app = web.Application()
    app.router.add_post("/v1/messages", _answer)
    with serving(app) as url:
        yield url


def _ask(base_url: str, question: str) -> httpx.Response:
    request = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": question}]}
    return httpx.post(f"{base_url}/v1/messages", json=request, headers=HEADERS)


def _sdk_error(base_url: str, question: str) -> tuple[str, int, Any]:
    with (
        anthropic.Anthropic(base_url=base_url, api_key="sk-ant-api03-test", max_retries=0) as sdk,
        pytest.raises(anthropic.APIStatusError) as raised,
    ):
        sdk.messages.create(model=MODEL, max_tokens=64, messages=[{"role": "user", "content": question}])
    body = raised.value.body
    kept = {k: v for k, v in body.items() if k != "request_id"} if isinstance(body, dict) else body
    return type(raised.value).__name__, raised.value.status_code, kept


@pytest.fixture(scope="module")
def recording(gateway: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every answer recorded through the recorder (mode `all`) into one file."""
    out = tmp_path_factory.mktemp("gateway-errors")
    plan = RecordPlan("gateway", "all", "all", out, "gateway", gateway, None)
    with RecordingServer(plan, CONFIG) as proxy:
        for question in ANSWERS:
            assert _ask(proxy.url, question).content == ANSWERS[question].body  # passed on as sent
    return out / "gateway.yaml"


@pytest.mark.parametrize("question", list(ANSWERS))
def test_a_recorded_error_replays_the_bytes_the_client_first_got(
    recording: Path, gateway: str, question: str
) -> None:
    with MockServer([recording], config=CONFIG) as fresh:
        again = _ask(fresh.url, question)
        seen = _sdk_error(fresh.url, question)
    answer = ANSWERS[question]
    assert seen == _sdk_error(gateway, question)
    assert (again.status_code, again.headers["content-type"]) == (answer.status, answer.content_type)
    if question == "anthropic":  # the replay's own envelope, its request id minted anew
        assert {k: v for k, v in again.json().items() if k != "request_id"} == {
            k: v for k, v in ENVELOPE.items() if k != "request_id"
        }
    else:
        assert again.content == answer.body


def test_the_file_keeps_text_as_text_bytes_as_base64_and_anthropics_envelope_as_fields(
    recording: Path,
) -> None:
    document = yaml.safe_load(recording.read_text())
    entries = [*document["turns"], *document["rules"]]
    errors = {entry["when"]["last_user"]: entry["reply"]["error"] for entry in entries}
    assert errors["fastapi"]["body"] == '{"detail":"Not authenticated"}'
    assert errors["nel"]["body"] == "line\u0085next"
    assert base64.b64decode(errors["latin-1"]["body"]["base64"]) == ANSWERS["latin-1"].body
    assert errors["anthropic"] == {"status": 529, "type": "overloaded_error", "message": "Overloaded"}


def _error_event(base_url: str, question: str) -> Any:
    """The data of the `event: error` a streamed request for `question` ends with."""
    request = {
        "model": MODEL,
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": question}],
    }
    answer = httpx.post(f"{base_url}/v1/messages", json=request, headers=HEADERS)
    return [data for name, data in parse_events(answer.content) if name == "error"]


def test_a_stream_cut_by_an_error_event_replays_the_error_its_envelope_holds(
    gateway: str, tmp_path: Path
) -> None:
    """Anthropic's envelope comes back as sent (its request id minted anew); an event of another
    shape (a gateway's, or a string `error`) is still an error event, of type api_error, and
    neither is lost to a traceback or turned into a disconnect."""
    plan = RecordPlan("events", "all", "all", tmp_path, "events", gateway, None)
    with RecordingServer(plan, CONFIG) as proxy:
        for question in STREAM_ERRORS:
            assert _error_event(proxy.url, question) == [STREAM_ERRORS[question]]  # passed on as sent
    with MockServer([tmp_path / "events.yaml"], config=CONFIG) as fresh:
        replayed = {question: _error_event(fresh.url, question) for question in STREAM_ERRORS}
    [envelope] = replayed["event-envelope"]
    assert envelope["request_id"].startswith("req_")
    assert {**envelope, "request_id": "req_1"} == STREAM_ERRORS["event-envelope"]
    api_error = {"type": "api_error", "message": "Internal server error"}
    for question in ("event-string", "event-gateway"):
        assert [event["error"] for event in replayed[question]] == [api_error]
