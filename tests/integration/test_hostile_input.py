"""Hostile input at every layer: JSON, text encoding, paths, HTTP framing, pipelining.

Each answer is an Anthropic envelope whose `request_id` repeats the `request-id` header, and
nothing the client sent leaves a traceback in the log. Raw sockets, because HTTP clients refuse
to send most of this.
"""

from __future__ import annotations

import gzip
import json
import logging
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from mockbay.server.runner import MockServer
from mockbay.wire.jsonbody import MAX_DEPTH
from tests.conftest import SCENARIOS

pytestmark = pytest.mark.usefixtures("no_tracebacks")

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
GOOD = {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
AUTH = b"x-api-key: k\r\nanthropic-version: 2023-06-01\r\n"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([SCENARIOS], fallback="generate") as running:
        yield running


def envelope(status: int, head: dict[str, str], body: bytes) -> dict[str, str]:
    """The error object, after checking the envelope and its request id."""
    assert 400 <= status < 500, body
    parsed = json.loads(body)
    assert parsed["type"] == "error" and set(parsed["error"]) >= {"type", "message"}
    assert parsed["request_id"] == head["request-id"] and head["request-id"].startswith("req_")
    return parsed["error"]  # type: ignore[no-any-return]


def post(server: MockServer, content: bytes, path: str = "/v1/messages") -> httpx.Response:
    return httpx.post(f"{server.url}{path}", headers=HEADERS, content=content)


def exchange_raw(server: MockServer, raw: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """Send bytes, read until the server closes; every answer on the connection, in order."""
    assert server.port is not None
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    answers = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        answers.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return answers


def request_bytes(path: str, body: bytes, extra: bytes = b"", close: bool = True) -> bytes:
    connection = b"connection: close\r\n" if close else b""
    return (
        f"POST {path} HTTP/1.1\r\nhost: x\r\n".encode()
        + AUTH
        + connection
        + extra
        + f"content-length: {len(body)}\r\n\r\n".encode()
        + body
    )


def test_nesting_past_the_limit_is_a_400_at_any_depth(server):
    for depth in (MAX_DEPTH + 1, 5_000, 200_000):
        nested = "[" * depth + "]" * depth
        body = json.dumps(GOOD).replace('"hi"', nested).encode()
        response = post(server, body)
        error = envelope(response.status_code, dict(response.headers), response.content)
        assert error["type"] == "invalid_request_error" and "nesting deeper than" in error["message"]


def test_nesting_within_the_limit_is_validated_as_usual(server):
    schema: dict[str, object] = {"type": "object"}
    for _ in range(MAX_DEPTH // 2 - 4):
        schema = {"type": "object", "properties": {"a": schema}}
    body = {**GOOD, "tools": [{"name": "deep", "input_schema": schema}]}
    assert post(server, json.dumps(body).encode()).status_code == 200


@pytest.mark.parametrize(
    ("text", "reason", "char"),
    [
        ('"a\\udfff"', "lone low surrogate in string", 2),
        ('"\\ud83d"', "no low surrogate in string", 1),
        ('"\\ud83dx"', "no low surrogate in string", 1),
    ],
)
def test_lone_surrogates_get_upstreams_not_valid_json_answer(server, text, reason, char):
    prefix = '{"model":"claude-sonnet-4-6","max_tokens":10,"messages":[{"role":"user","content":'
    response = post(server, (prefix + text + "}]}").encode())
    error = envelope(response.status_code, dict(response.headers), response.content)
    position = len(prefix) + char
    assert error["message"] == (
        f"The request body is not valid JSON: {reason}: line 1 column {position + 1} (char {position})"
    )


def test_a_surrogate_pair_and_an_escaped_backslash_are_fine(server):
    for text in ('"\\ud83d\\ude00"', '"\\\\udfff"'):
        body = json.dumps(GOOD).replace('"hi"', text).encode()
        assert post(server, body).status_code == 200


def test_a_surrogate_in_a_block_type_is_refused_before_validation(server):
    content = '[{"type":"\\udfff","text":"x"}]'
    response = post(server, json.dumps(GOOD).replace('"hi"', content).encode())
    assert "surrogate" in envelope(response.status_code, dict(response.headers), response.content)["message"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_constants_json_has_not_are_a_parse_error(server, constant):
    response = post(server, json.dumps({**GOOD, "temperature": 0.5}).replace("0.5", constant).encode())
    error = envelope(response.status_code, dict(response.headers), response.content)
    assert error == {
        "type": "invalid_request_error",
        "message": f"There was an error parsing the body: {constant} is not a JSON value",
    }


def test_an_integer_past_pythons_digit_limit_is_a_parse_error(server):
    response = post(
        server, json.dumps(GOOD).replace('"max_tokens": 10', '"max_tokens": 1' + "0" * 5000).encode()
    )
    error = envelope(response.status_code, dict(response.headers), response.content)
    assert error["message"] == "There was an error parsing the body: an integer of more than 4300 digits"


def test_invalid_utf8_is_a_400(server):
    response = post(server, json.dumps(GOOD).replace("hi", "h\xff").encode("latin-1"))
    assert (
        "invalid UTF-8" in envelope(response.status_code, dict(response.headers), response.content)["message"]
    )


def test_undecodable_header_bytes_are_answered(server):
    raw = request_bytes("/v1/messages", json.dumps(GOOD).encode()).replace(
        b"x-api-key: k", b"x-api-key: k\xff"
    )
    [(status, _, body)] = exchange_raw(server, raw)
    assert status == 200, body


@pytest.mark.parametrize("path", ["/_mockbay/../v1/messages", "/v1/./messages", "/a/b/../../v1/messages"])
def test_dot_segments_are_resolved_like_upstreams_edge(server, path):
    [(status, head, body)] = exchange_raw(server, request_bytes(path, json.dumps(GOOD).encode()))
    assert status == 200 and head["request-id"].startswith("req_") and json.loads(body)["type"] == "message"


@pytest.mark.parametrize(
    ("request_line", "message"),
    [
        (b"POST /v1/mess%0Aages HTTP/1.1", "Not found: POST /v1/mess\nages"),  # a decoded newline
        (b"OPTIONS * HTTP/1.1", "Not found: OPTIONS /*"),  # targets no route can match
        (b"CONNECT example.com:443 HTTP/1.1", "Not found: CONNECT /"),
    ],
)
def test_any_target_gets_the_not_found_envelope_not_aiohttps_text(server, request_line, message):
    [(status, head, body)] = exchange_raw(server, request_line + b"\r\nhost: x\r\nconnection: close\r\n\r\n")
    assert status == 404
    assert envelope(status, head, body) == {"type": "not_found_error", "message": message}


def test_admin_errors_carry_a_request_id(server):
    response = httpx.get(f"{server.url}/_mockbay/nothing-here")
    error = envelope(response.status_code, dict(response.headers), response.content)
    assert error["type"] == "not_found_error"
    response = httpx.post(f"{server.url}/_mockbay/scenarios", content=b"name: \xff")
    assert "not UTF-8" in envelope(response.status_code, dict(response.headers), response.content)["message"]


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        (b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nhost: x\r\n\r\n", "Got more than"),
        (b"GET /\x00 HTTP/1.1\r\nhost: x\r\n\r\n", "Invalid char in url"),
        (b"GET / HTTP/1.1\r\nhost: x\r\nx-big: " + b"b" * 20_000 + b"\r\n\r\n", "Got more than"),
        (
            b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + AUTH + b"transfer-encoding: chunked\r\n\r\nzz\r\n",
            "chunk size",
        ),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(64)), "HTTPS traffic"),
    ],
)
def test_http_garbage_gets_the_envelope_and_one_log_line(server, caplog, raw, fragment):
    caplog.set_level(logging.INFO)
    [(status, head, body)] = exchange_raw(server, raw)
    error = envelope(status, head, body)
    assert error["type"] == "invalid_request_error" and fragment in error["message"]
    lines = [r for r in caplog.records if "bad request" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and len(lines[0].getMessage()) < 300


def test_broken_gzip_is_a_400_and_a_gzip_bomb_a_413(server):
    broken = request_bytes("/v1/messages", b"not gzip at all", extra=b"content-encoding: gzip\r\n")
    [(status, head, body)] = exchange_raw(server, broken)
    assert "could not be read" in envelope(status, head, body)["message"]
    bomb = gzip.compress(b" " * (40 * 1024 * 1024))
    bombed = request_bytes("/v1/messages", bomb, extra=b"content-encoding: gzip\r\n")
    [(status, head, body)] = exchange_raw(server, bombed)
    assert status == 413 and envelope(status, head, body)["type"] == "request_too_large"


def test_pipelined_requests_are_all_answered_in_order(server):
    bodies = [json.dumps({**GOOD, "max_tokens": 10 + n}).encode() for n in range(30)]
    raw = b"".join(request_bytes("/v1/messages", body, close=False) for body in bodies)
    counted = {key: value for key, value in GOOD.items() if key != "max_tokens"}  # not a count_tokens key
    raw += request_bytes("/v1/messages/count_tokens", json.dumps(counted).encode())
    answers = exchange_raw(server, raw)
    assert [status for status, _, _ in answers] == [200] * 31
    seqs = [
        int(e.seq) for e in server.journal.all if e.request_id in {h["request-id"] for _, h, _ in answers}
    ]
    assert seqs == sorted(seqs) and len(seqs) == 31
    assert "input_tokens" in json.loads(answers[-1][2])


def test_an_oversized_admin_upload_is_a_413_envelope(server):
    chunk = b"#" * (1024 * 1024)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(33)) + b"0\r\n\r\n"
    head = b"POST /_mockbay/scenarios HTTP/1.1\r\nhost: x\r\nconnection: close\r\n"
    raw = head + b"transfer-encoding: chunked\r\n\r\n" + chunked
    [(status, head, body)] = exchange_raw(server, raw)
    assert status == 413 and envelope(status, head, body)["type"] == "request_too_large"


def test_a_client_hanging_up_mid_admin_upload_leaves_no_traceback(server):
    assert server.port is not None
    head = b"POST /_mockbay/scenarios HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + b"100\r\nname: cut")  # a chunk of 256 bytes, 9 of them sent
    deadline = time.monotonic() + 1  # on loopback the server sees the close at once
    while time.monotonic() < deadline and not server.state.internal_errors:
        time.sleep(0.02)
    assert server.state.internal_errors == []
    assert httpx.get(f"{server.url}/_mockbay/health").status_code == 200


@pytest.mark.parametrize("expect", [b"bogus", b"100-continue, x", b"\xff"])
def test_an_unknown_expectation_is_ignored_not_aiohttps_text_417(server, expect):
    body = json.dumps({**GOOD, "metadata": {"user_id": expect.hex()}}).encode()  # no memo hit: not inline
    raw = request_bytes("/v1/messages", body, extra=b"expect: " + expect + b"\r\n")
    [(status, head, body)] = exchange_raw(server, raw)
    assert status == 200 and json.loads(body)["type"] == "message", body
    assert head["request-id"].startswith("req_")


def test_expect_100_continue_still_gets_its_interim_answer(server):
    assert server.port is not None
    body = json.dumps(GOOD).encode()
    head = request_bytes("/v1/messages", body, extra=b"expect: 100-continue\r\n")[: -len(body)]
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(body)
        assert sock.recv(100).startswith(b"HTTP/1.1 200 OK")
