"""A request body that stops arriving, or trickles in for longer than `--body-timeout`, is
answered 408 `timeout_error` in its route's error shape, journaled, and its connection closed:
never held open for ever. Raw sockets, because HTTP clients always finish what they start."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import pytest

from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS
from tests.processes import start, stop
from tests.raw_answers import read_answers
from tests.rows import check_rows_at_once

pytestmark = pytest.mark.usefixtures("no_tracebacks")

TIMEOUT_S = 0.5
ANSWERED_WITHIN_S = 5.0  # well past the timeout, well short of a hang
AUTH = b"x-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
SIGV4 = b"authorization: AWS4-HMAC-SHA256 Credential=AKIDTEST/20261206/us-east-1/bedrock/aws4_request\r\n"
BEARER = b"authorization: Bearer ya29.token\r\n"
VERTEX = "/v1/projects/p/locations/l/publishers/anthropic/models/claude-sonnet-4-6@20260203:rawPredict"
BOUNDARY = "b0undary"
FIRST_PARTY = b'"type":"timeout_error"'
BEDROCK = b"x-amzn-errortype: modeltimeoutexception"


class Stall(NamedTuple):
    path: str
    head: bytes  # headers besides host and the body's framing
    sent: bytes  # the part of the body that arrives; the rest never does
    shows: bytes  # in the answer (its head in lower case): the route's error shape saying timeout
    endpoint: str | None  # its journal entry's endpoint; None: outside the journal (admin)


JSON = b"content-type: application/json\r\n"
PARTIAL_JSON = b'{"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": '
PARTIAL_FORM = (
    f'--{BOUNDARY}\r\ncontent-disposition: form-data; name="file"; filename="a.txt"\r\n'
    "content-type: text/plain\r\n\r\nsome of the file"
).encode()

STALLS = {
    "messages": Stall("/v1/messages", AUTH + JSON, PARTIAL_JSON, FIRST_PARTY, "messages"),
    "count_tokens": Stall(
        "/v1/messages/count_tokens", AUTH + JSON, PARTIAL_JSON, FIRST_PARTY, "count_tokens"
    ),
    "batch create": Stall("/v1/messages/batches", AUTH + JSON, b'{"requests": [', FIRST_PARTY, "batches"),
    "file upload": Stall(
        "/v1/files",
        AUTH + f"content-type: multipart/form-data; boundary={BOUNDARY}\r\n".encode(),
        PARTIAL_FORM,
        FIRST_PARTY,
        "files",
    ),
    "bedrock": Stall(
        "/model/anthropic.claude-sonnet-4-6-v1:0/invoke",
        SIGV4 + JSON,
        b'{"anthropic_version":',
        BEDROCK,
        "messages",
    ),
    "vertex": Stall(VERTEX, BEARER + JSON, b'{"anthropic_version":', FIRST_PARTY, "messages"),
    "admin scenario load": Stall(
        "/_mockbay/scenarios", b"content-type: application/yaml\r\n", b"name: x\n", FIRST_PARTY, None
    ),
}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([SCENARIOS], fallback="generate", body_timeout_seconds=TIMEOUT_S) as running:
        yield running


def _answer(port: int | None, head: bytes, pieces: list[bytes], gap_s: float = 0.0) -> tuple[bytes, float]:
    """Send the head, then each piece `gap_s` apart, then nothing; what the server wrote before it
    closed the connection, and when it closed it (a hang fails on the socket's timeout)."""
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWERED_WITHIN_S) as sock:
        started = time.monotonic()
        sock.sendall(head)
        for piece in pieces:
            time.sleep(gap_s)
            try:
                sock.sendall(piece)
            except OSError:  # answered and closed while the body was still coming
                break
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data, time.monotonic() - started


def _request_head(stall: Stall, framing: bytes) -> bytes:
    return f"POST {stall.path} HTTP/1.1\r\nhost: x\r\n".encode() + stall.head + framing + b"\r\n"


def _check_timed_out(answer: bytes, elapsed: float, shows: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in head.lower()
    assert shows in head.lower() + body.replace(b" ", b"")
    assert TIMEOUT_S <= elapsed < ANSWERED_WITHIN_S


def _journaled(server: MockServer, endpoint: str | None) -> None:
    if endpoint is None:
        return
    last = server.journal.all[-1]
    assert (last.endpoint, last.status, last.error_type) == (endpoint, 408, "timeout_error")


@pytest.mark.parametrize("stall", STALLS.values(), ids=STALLS.keys())
def test_a_body_cut_short_of_its_length_is_a_408(server: MockServer, stall: Stall) -> None:
    head = _request_head(stall, b"content-length: 1000\r\n")
    answer, elapsed = _answer(server.port, head + stall.sent, [])
    _check_timed_out(answer, elapsed, stall.shows)
    _journaled(server, stall.endpoint)


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_a_chunked_body_that_stops_is_a_408(server: MockServer) -> None:
    stall = STALLS["messages"]
    head = _request_head(stall, b"transfer-encoding: chunked\r\n")
    answer, elapsed = _answer(server.port, head + _chunk(stall.sent), [])
    _check_timed_out(answer, elapsed, stall.shows)
    _journaled(server, stall.endpoint)


def test_the_timeout_is_for_the_whole_body_not_each_read(server: MockServer) -> None:
    """A byte every 0.2 s never leaves a read waiting the timeout out, yet is cut off: the
    deadline counts from the request's start, as a proxy in front of the API times it. The
    trickle lasts 8 s, past `ANSWERED_WITHIN_S`: a timeout on each read would answer after it."""
    stall = STALLS["messages"]
    head = _request_head(stall, b"transfer-encoding: chunked\r\n")
    pieces = [_chunk(bytes([byte])) for byte in stall.sent[:40]]
    answer, elapsed = _answer(server.port, head, pieces, gap_s=TIMEOUT_S * 0.4)
    _check_timed_out(answer, elapsed, stall.shows)
    _journaled(server, stall.endpoint)


def test_a_slow_body_that_completes_in_time_is_answered(server: MockServer) -> None:
    body = json.dumps(
        {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    )
    stall = STALLS["messages"]
    head = _request_head(stall, f"content-length: {len(body)}\r\nconnection: close\r\n".encode())
    half = len(body) // 2
    answer, _ = _answer(
        server.port, head, [body[:half].encode(), body[half:].encode()], gap_s=TIMEOUT_S * 0.4
    )
    assert answer.startswith(b"HTTP/1.1 200 "), answer


def test_the_recorder_times_a_body_and_a_head_too(tmp_path: Path) -> None:
    """`mockbay record` reads each body before forwarding it: `--body-timeout` there too."""
    out = str(tmp_path / "out")
    proxy = start(
        "record", "--upstream", "http://127.0.0.1:9", "--out", out, "--port", "0", "--body-timeout", "0.5"
    )
    try:
        stall = STALLS["messages"]
        head = _request_head(stall, b"content-length: 1000\r\n")
        answer, elapsed = _answer(urlsplit(proxy.url).port, head + stall.sent, [])
        stalled_head, _ = _answer(urlsplit(proxy.url).port, STALLED_HEAD, [])
    finally:
        stop(proxy)
    _check_timed_out(answer, elapsed, stall.shows)
    _check_head_timed_out(stalled_head)


# ---- a request head that stalls: the same 408, timed from the request's first byte -------------

COUNTED = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "hi"}]}
MESSAGE, TO_COUNT = json.dumps({**COUNTED, "max_tokens": 10}).encode(), json.dumps(COUNTED).encode()
STALLED_HEAD = b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n"  # then nothing: a slowloris
HEAD_TIMED_OUT = b"the request headers did not arrive whole within 0.5 s"
# Whole requests that end every way one can: a body (the inline answer's and the handler's), no
# body, a chunked body, and a body followed by a stray blank line (which some clients send)
WHOLE = {
    "body": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + AUTH + JSON
    + b"content-length: %d\r\n\r\n%s" % (len(MESSAGE), MESSAGE),
    "body to the handler": b"POST /v1/messages/count_tokens HTTP/1.1\r\nhost: x\r\n" + AUTH + JSON
    + b"content-length: %d\r\n\r\n%s" % (len(TO_COUNT), TO_COUNT),
    "no body": b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + AUTH + b"\r\n",
    "chunked": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + AUTH + JSON
    + b"transfer-encoding: chunked\r\n\r\n" + _chunk(MESSAGE) + b"0\r\n\r\n",
    "stray blank line": b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n" + AUTH + JSON
    + b"content-length: %d\r\n\r\n%s\r\n" % (len(MESSAGE), MESSAGE),
}  # fmt: skip


@pytest.fixture(scope="module")
def inline_server() -> Iterator[MockServer]:
    """No scenario, so no reply waits: plain messages requests are answered as they are parsed
    (server/inline.py), where the `server` fixture's go through aiohttp's handler."""
    with MockServer(fallback="generate", body_timeout_seconds=TIMEOUT_S) as running:
        assert running.state.never_waits
        yield running


@pytest.fixture
def both(server: MockServer, inline_server: MockServer) -> dict[str, tuple[int, bytes]]:
    """Each whole request on each server, by `SERVER-REQUEST`: the (port, request) rows of a table
    checked at once (tests/rows.py), since each row mostly waits out a timeout."""
    servers = {"server": server, "inline_server": inline_server}
    ports = {name: running.port for name, running in servers.items() if running.port is not None}
    return {f"{s}-{w}": (ports[s], whole) for s in servers for w, whole in WHOLE.items()}


def _check_head_timed_out(answer: bytes) -> None:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in head.lower() and b"request-id: req_" in head
    error = json.loads(body)
    assert error["type"] == "error" and error["error"]["type"] == "timeout_error"
    assert HEAD_TIMED_OUT in body and error["request_id"] in head.decode()


def test_a_head_that_stalls_is_a_408_after_the_body_timeout(server: MockServer) -> None:
    """Where aiohttp alone would say nothing until its keep-alive timeout closed the connection."""
    answer, elapsed = _answer(server.port, STALLED_HEAD, [])
    _check_head_timed_out(answer)
    assert TIMEOUT_S <= elapsed < ANSWERED_WITHIN_S


def test_a_head_is_timed_from_its_first_byte_not_each_read(server: MockServer) -> None:
    """A header line every 0.2 s, for longer than `ANSWERED_WITHIN_S`, is cut off all the same."""
    lines = [b"x-trickle-%d: %d\r\n" % (n, n) for n in range(40)]
    answer, elapsed = _answer(server.port, STALLED_HEAD, lines, gap_s=TIMEOUT_S * 0.4)
    _check_head_timed_out(answer)
    assert elapsed < ANSWERED_WITHIN_S


def test_pipelined_after_whole_requests_a_stalled_head_is_a_408(both: dict[str, tuple[int, bytes]]) -> None:
    """Sent in one write, so the head's first bytes arrive with the end of the request before it."""
    check_rows_at_once(both, _pipelined_then_stalled)


def _pipelined_then_stalled(row: tuple[int, bytes]) -> None:
    port, whole = row
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWERED_WITHIN_S) as sock:
        started = time.monotonic()
        sock.sendall(whole + whole + STALLED_HEAD)
        answers = read_answers(sock, 3)
        assert sock.recv(1) == b""  # then closed
    assert [answer[:13] for answer in answers[:2]] == [b"HTTP/1.1 200 "] * 2
    _check_head_timed_out(answers[2])
    assert TIMEOUT_S <= time.monotonic() - started < ANSWERED_WITHIN_S


def test_an_idle_connection_after_whole_requests_gets_nothing(both: dict[str, tuple[int, bytes]]) -> None:
    """No byte of a next request, no 408: idle keep-alive is aiohttp's to close, silently. The
    requests come pipelined, then one at a time, then one split in two writes."""
    check_rows_at_once(both, _whole_then_idle)


def _whole_then_idle(row: tuple[int, bytes]) -> None:
    port, whole = row
    with socket.create_connection(("127.0.0.1", port), timeout=ANSWERED_WITHIN_S) as sock:
        sock.sendall(whole + whole)
        for piece in (whole, whole[:-3], whole[-3:]):
            time.sleep(TIMEOUT_S * 0.4)
            sock.sendall(piece)
        answers = read_answers(sock, 4)
        assert [answer[:13] for answer in answers] == [b"HTTP/1.1 200 "] * 4
        sock.settimeout(TIMEOUT_S * 3)
        with pytest.raises(TimeoutError):
            sock.recv(1)


@pytest.mark.parametrize("stall", STALLS.values(), ids=STALLS.keys())
def test_a_body_whose_chunking_breaks_is_a_400_at_once_and_the_connection_closes(
    server: MockServer, stall: Stall
) -> None:
    """A chunk, then a chunk size that is not hex: aiohttp's compiled parser dropped such a body
    without a word to the handler reading it, which waited for the body timeout's 408. It is one
    400 saying the body could not be read, at once, and the connection closes: what follows the
    broken chunk cannot be framed."""
    head = _request_head(stall, b"transfer-encoding: chunked\r\n")
    chunk = b"%x\r\n%s\r\n" % (len(stall.sent), stall.sent)
    answer, elapsed = _answer(server.port, head + chunk, [b"zz\r\nmore after it\r\n"], gap_s=0.1)
    assert answer.startswith(b"HTTP/1.1 400 ") and answer.count(b"HTTP/1.1 ") == 1, answer
    assert b"Invalid character in chunk size" in answer, answer
    assert elapsed < TIMEOUT_S
