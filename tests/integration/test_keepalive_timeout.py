"""An idle keep-alive connection (no byte of a next request) is closed silently after
`--keepalive-timeout`, where aiohttp's `web.AppRunner` held it for 3,630 s; a slow answer or a
long stream is never cut by it, and a head that stalls still gets its 408 at `--body-timeout`.
Raw sockets on loopback, with timeouts of fractions of a second."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mockbay.server.runner import MockServer
from tests.conftest import sync_client
from tests.processes import start, stop
from tests.rows import check_rows_at_once

pytestmark = pytest.mark.usefixtures("no_tracebacks")

KEEPALIVE_S = 0.3
BODY_S = 1.0  # longer than the keep-alive timeout: a stalled head must still be answered
WAIT_S = 5.0  # well past both timeouts, well short of aiohttp's 3,630 s
SCENARIO = """
name: slow
rules:
  - when: {last_user: {contains: stream}}
    reply: {text: {chunks: [one, " two", " three", " four"]}, timing: {ttft_ms: 400, gap_ms: 400}}
  - reply: {text: "late", timing: {ttft_ms: 900}}
"""
AUTH = b"x-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
MODELS = b"GET /v1/models HTTP/1.1\r\nhost: x\r\n" + AUTH + b"\r\n"
STALLED_HEAD = b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    folder = tmp_path_factory.mktemp("keepalive")
    (folder / "slow.yaml").write_text(SCENARIO)
    with MockServer(
        [folder], timing="realistic", keepalive_timeout_seconds=KEEPALIVE_S, body_timeout_seconds=BODY_S
    ) as running:
        yield running


def _connect(port: int | None) -> socket.socket:
    assert port is not None
    return socket.create_connection(("127.0.0.1", port), timeout=WAIT_S)


def _read_answer(sock: socket.socket) -> bytes:
    """One answer, read by its Content-Length."""
    data = b""
    while True:
        head, found, body = data.partition(b"\r\n\r\n")
        if found:
            length = next(
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length:")
            )
            if len(body) >= length:
                assert len(body) == length, data
                return data
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk


def _closed_after(sock: socket.socket, since: float) -> float:
    """Seconds from `since` until the server closed the connection, having written nothing more."""
    assert sock.recv(65536) == b""  # a socket timeout here: the connection was held
    return time.monotonic() - since


def test_an_idle_connection_is_closed_silently(server: MockServer) -> None:
    with _connect(server.port) as sock:
        sock.sendall(MODELS)
        assert _read_answer(sock).startswith(b"HTTP/1.1 200 ")
        elapsed = _closed_after(sock, time.monotonic())
    assert KEEPALIVE_S * 0.8 <= elapsed < BODY_S  # closed by the keep-alive timer, not a head deadline


def test_a_connection_that_never_sends_a_byte_is_closed_silently(server: MockServer) -> None:
    with _connect(server.port) as sock:
        elapsed = _closed_after(sock, time.monotonic())
    assert KEEPALIVE_S * 0.8 <= elapsed < BODY_S


def test_a_slow_answer_is_not_cut(server: MockServer) -> None:
    """Its 0.9 s before the answer is three keep-alive timeouts: aiohttp times only the idle gaps."""
    body = json.dumps(
        {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    )
    head = f"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
    with _connect(server.port) as sock:
        started = time.monotonic()
        sock.sendall(head.encode() + AUTH + b"\r\n" + body.encode())
        answer = _read_answer(sock)
        assert time.monotonic() - started >= 0.9
        assert answer.startswith(b"HTTP/1.1 200 ") and b'"text":"late"' in answer


def test_a_long_stream_is_not_cut(server: MockServer) -> None:
    """Four deltas 0.4 s apart, each gap longer than the keep-alive timeout, through the SDK."""
    client = sync_client(server.url, max_retries=0)
    started = time.monotonic()
    with client.messages.stream(
        model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": "stream"}]
    ) as stream:
        text = stream.get_final_text()
    assert text == "one two three four"
    assert time.monotonic() - started >= 1.5


# (what comes first on the connection, seconds idle before the stalled head), by row name
STALLED_AFTER = {
    f"{first}-{idling}": (before, idle_s)
    for first, before in (("first request", b""), ("after a request", MODELS))
    for idling, idle_s in (("at once", 0.0), ("after idling", KEEPALIVE_S * 0.5))
}


def test_a_stalled_head_still_gets_the_408_at_the_body_timeout(server: MockServer) -> None:
    """The head deadline puts off the keep-alive timer, which would close the connection silently
    at 0.3 s, until the 408 is written at 1 s from the head's first byte. The rows mostly wait,
    so they run at once (tests/rows.py)."""
    assert server.port is not None
    port = server.port
    check_rows_at_once(STALLED_AFTER, lambda row: _stalled_head_after(port, *row))


def _stalled_head_after(port: int, before: bytes, idle_s: float) -> None:
    with _connect(port) as sock:
        if before:
            sock.sendall(before)
            assert _read_answer(sock).startswith(b"HTTP/1.1 200 ")
        time.sleep(idle_s)
        started = time.monotonic()
        sock.sendall(STALLED_HEAD)
        answer = _read_answer(sock)
        elapsed = _closed_after(sock, started)
    assert answer.startswith(b"HTTP/1.1 408 ") and b"the request headers did not arrive whole" in answer
    assert BODY_S <= elapsed < WAIT_S


@pytest.mark.parametrize("command", ["serve", "record"])
def test_the_commands_take_the_option(command: str, tmp_path: Path) -> None:
    """`mockbay serve` and `mockbay record` pass `--keepalive-timeout` to their connections."""
    extra = ["--upstream", "http://127.0.0.1:9", "--out", str(tmp_path)] if command == "record" else []
    child = start(command, *extra, "--port", "0", "--keepalive-timeout", str(KEEPALIVE_S))
    try:
        with _connect(urlsplit(child.url).port) as sock:
            elapsed = _closed_after(sock, time.monotonic())
    finally:
        stop(child)
    assert KEEPALIVE_S * 0.8 <= elapsed < WAIT_S
