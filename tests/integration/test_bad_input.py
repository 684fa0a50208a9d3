"""Bad client input always gets an Anthropic-shaped 4xx, never a 500, a traceback or a hang."""

from __future__ import annotations

import httpx
import pytest

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
GOOD = '{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}'


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ("{not json", 400, "parsing"),
        ("", 400, "parsing"),
        ("\xff\xfe", 400, "parsing"),
        ("[]", 400, ""),
        ("null", 400, ""),
        ('"text"', 400, ""),
        ('{"model":"m","messages":[{"role":"user","content":"hi"}]}', 400, "max_tokens: Field required"),
        ('{"model":"m","max_tokens":"ten","messages":[{"role":"user","content":"hi"}]}', 400, "max_tokens"),
        ('{"model":5,"max_tokens":10,"messages":[]}', 400, "model"),
        ('{"model":"m","max_tokens":10,"messages":"hi"}', 400, "messages"),
        ('{"model":"m","max_tokens":10,"messages":[{"role":"robot","content":"hi"}]}', 400, "role"),
        (
            '{"model":"m","max_tokens":10,"messages":[{"role":"user","content":[{"type":"text","text":""}]}]}',
            400,
            "non-empty",
        ),
        (
            '{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"stop_sequences":[" "]}',
            400,
            "non-whitespace",
        ),
        (
            '{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}],"tools":[{"name":"bad.name","input_schema":{"type":"object"}}]}',
            400,
            "pattern",
        ),
        (
            '{"model":"claude-opus-4-20250514","max_tokens":64000,"messages":[{"role":"user","content":"hi"}]}',
            400,
            "maximum allowed number of output tokens",
        ),
    ],
)
def test_bad_bodies_get_invalid_request_errors(core_server, body, status, fragment):
    response = httpx.post(
        f"{core_server.url}/s/plain-text/v1/messages", headers=HEADERS, content=body.encode("latin-1")
    )
    assert response.status_code == status, response.text
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert fragment in error["error"]["message"]
    assert error["request_id"] == response.headers["request-id"]


def test_unknown_model_names_are_accepted(core_server):
    body = GOOD.replace("claude-sonnet-4-6", "mock-model-1").replace("10", "999999")
    response = httpx.post(f"{core_server.url}/s/plain-text/v1/messages", headers=HEADERS, content=body)
    assert response.status_code == 200


def test_body_over_32_mb_is_a_413(core_server):
    huge = (
        b'{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"'
        + b"a" * (33 * 1024 * 1024)
        + b'"}]}'
    )
    response = httpx.post(f"{core_server.url}/v1/messages", headers=HEADERS, content=huge)
    assert response.status_code == 413
    assert response.json()["error"]["type"] == "request_too_large"


def test_chunked_body_over_32_mb_is_a_413(core_server):
    def chunks():
        yield b'{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"'
        for _ in range(34):
            yield b"a" * (1024 * 1024)
        yield b'"}]}'

    response = httpx.post(f"{core_server.url}/v1/messages", headers=HEADERS, content=chunks())
    assert response.status_code == 413


def test_missing_version_header(core_server):
    response = httpx.post(
        f"{core_server.url}/s/plain-text/v1/messages", headers={"x-api-key": "k"}, content=GOOD
    )
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "anthropic-version: header is required"


def test_no_internal_errors_were_recorded(core_server):
    assert core_server.state.internal_errors == []
