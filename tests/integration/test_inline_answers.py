"""Memo hits answered as the protocol parses them (`mockbay/server/inline.py`): the same bytes and
journal entry as aiohttp's handler gives, and every request the inline answer must not take is
left to the handler.

Raw HTTP/1.1 over loopback, since what is compared is bytes. Which path answered is read from
aiohttp's own count of the requests its handler ran (`web.Server.requests_count`).
"""

from __future__ import annotations

import json
import re
import socket
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockbay.server.runner import MockServer
from tests.raw_answers import read_answers

SCENARIO = """
name: plain
rules:
  - when: {last_user: {contains: slow}}
    reply: {text: "slow", timing: {ttft_ms: 300}}
  - when: {stream: true}
    reply: {text: "streamed"}
  - reply: {text: "plain", headers: {anthropic-ratelimit-requests-remaining: "41"}}
"""
API_KEY = "sk-inline"
BODY = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
HEADERS = {"content-type": "application/json", "x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
VARYING = re.compile(rb"^(request-id|Date): .*$", re.MULTILINE)  # this exchange's id, this second


def request(
    body: dict[str, object] = BODY,
    *,
    target: str = "/v1/messages",
    version: str = "1.1",
    **extra: str,
) -> bytes:
    raw = json.dumps(body).encode()
    headers = {**HEADERS, **{name.replace("_", "-"): value for name, value in extra.items()}}
    lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    head = f"POST {target} HTTP/{version}\r\nhost: mockbay\r\n{lines}content-length: {len(raw)}\r\n\r\n"
    return head.encode() + raw


def handled(server: MockServer) -> int:
    """How many requests aiohttp's handler has run."""
    assert server._runner is not None and server._runner.server is not None
    return server._runner.server.requests_count


def text_of(answer: bytes) -> str:
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["content"][0]["text"]


@pytest.fixture
def server() -> Iterator[MockServer]:
    with MockServer(api_keys=(API_KEY,)) as running:
        running.load(SCENARIO)
        yield running


@pytest.fixture
def connection(server: MockServer) -> Iterator[socket.socket]:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request())  # computed by the handler, and kept by the memo
        read_answers(sock, 1)
        yield sock


def chunked(sent: bytes) -> bytes:
    """The same request with its body in two chunks."""
    head, body = sent.split(b"\r\n\r\n", 1)
    head = re.sub(rb"content-length: \d+", b"transfer-encoding: chunked", head)
    pieces = (body[:10], body[10:])
    return head + b"\r\n\r\n" + b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


# Requests the memo answers, each as the handler and then inline answers it
MEMO_HITS = {
    "plain": request(),
    "keep-alive said": request(connection="keep-alive"),
    "a session": request(x_mockbay_session="alice"),
    "a pinned scenario header": request(x_mockbay_scenario="plain"),
    "chunked": chunked(request()),
}


@pytest.mark.parametrize("sent", MEMO_HITS.values(), ids=MEMO_HITS.keys())
def test_an_inline_memo_hit_is_the_handlers_answer_byte_for_byte(
    server: MockServer, connection: socket.socket, sent: bytes
) -> None:
    other = {**BODY, "messages": [{"role": "user", "content": "another"}]}
    connection.sendall(sent)
    read_answers(connection, 1)  # memoised as this request
    before = handled(server)
    # pipelined behind a request only the handler can answer, the memo hit is the handler's too
    connection.sendall(request(other) + sent)
    by_handler = read_answers(connection, 2)[1]
    assert handled(server) == before + 2
    connection.sendall(sent)
    inline = read_answers(connection, 1)[0]
    assert handled(server) == before + 2
    assert VARYING.sub(b"", inline) == VARYING.sub(b"", by_handler)
    assert text_of(inline) == "plain"
    *_, handler_entry, inline_entry = server.journal.calls
    handler_json, inline_json = handler_entry.to_json(), inline_entry.to_json()
    for varying in ("seq", "request_id", "started_at", "duration_ms"):
        del handler_json[varying], inline_json[varying]
    assert inline_json == handler_json
    # what "save as scenario" repeats of the answer's headers, kept by either path
    assert (
        inline_entry.sent_headers
        == handler_entry.sent_headers
        == {"anthropic-ratelimit-requests-remaining": "41"}
    )
    assert inline_entry.request_id.encode() in inline and inline_entry.seq == handler_entry.seq + 1


# What the inline answer leaves to the handler, though the memo holds the body's reply. Each row:
# the request, and the status the handler answers it with.
DECLINED = {
    "a query": (request(target="/v1/messages?beta=true"), 200),
    "a pinned scenario": (request(target="/s/plain/v1/messages"), 200),
    "a path prefix": (request(target="/proxy/v1/messages"), 200),
    "HTTP/1.0": (request(version="1.0"), 200),
    "connection close": (request(connection="close"), 200),
    "a content coding": (request(content_encoding="identity"), 200),
    "a workspace": (request(anthropic_workspace_id="wrkspc_01"), 200),
    "a key not accepted": (request(x_api_key="sk-other"), 401),
    "no version": (request(anthropic_version=""), 400),
    "a stream": (request({**BODY, "stream": True}), 200),
}


@pytest.mark.parametrize("sent, status", DECLINED.values(), ids=DECLINED.keys())
def test_the_handler_answers_what_the_inline_answer_declines(
    server: MockServer, connection: socket.socket, sent: bytes, status: int
) -> None:
    if b'"stream": true' in sent:  # its reply memoised first, so only the kind of reply declines
        connection.sendall(sent)
        read_answers(connection, 1)
    before = handled(server)
    connection.sendall(sent)
    answer = read_answers(connection, 1)[0]
    assert answer.startswith(f"HTTP/1.{1 if b'HTTP/1.1' in sent else 0} {status} ".encode())
    assert handled(server) == before + 1


def test_pipelined_requests_are_answered_in_order(server: MockServer, connection: socket.socket) -> None:
    other = {**BODY, "messages": [{"role": "user", "content": "another"}]}
    before = handled(server)
    connection.sendall(request() + request(other) + request())
    answers = read_answers(connection, 3)
    assert [text_of(answer) for answer in answers] == ["plain"] * 3
    assert handled(server) == before + 2  # the first inline; the handler then keeps the order
    ids = [entry.request_id.encode() for entry in server.journal.calls[-3:]]
    assert [entry.body for entry in server.journal.calls[-3:]] == [BODY, other, BODY]
    assert all(request_id in answer for request_id, answer in zip(ids, answers, strict=True))


def test_a_body_still_arriving_is_left_to_the_handler(server: MockServer, connection: socket.socket) -> None:
    sent = request()
    before = handled(server)
    connection.sendall(sent[:-5])
    time.sleep(0.05)  # parsed (its head is whole) before the rest of its body comes
    connection.sendall(sent[-5:])
    assert text_of(read_answers(connection, 1)[0]) == "plain"
    assert handled(server) == before + 1


def test_a_request_behind_one_in_flight_waits_for_it(server: MockServer, connection: socket.socket) -> None:
    slow = {**BODY, "messages": [{"role": "user", "content": "slow"}]}
    before = handled(server)
    connection.sendall(request(slow))
    time.sleep(0.1)  # the handler is answering it
    connection.sendall(request())
    assert [text_of(answer) for answer in read_answers(connection, 2)] == ["slow", "plain"]
    assert handled(server) == before + 2


def test_a_repeated_header_is_read_as_the_handler_reads_it(
    server: MockServer, connection: socket.socket
) -> None:
    beta = request(anthropic_beta="files-api-2025-04-14")
    connection.sendall(beta)
    read_answers(connection, 1)  # memoised under the beta header's value
    before = handled(server)
    # the header view keeps a repeated header's last value: not the memoised request, though its first is
    repeated = beta.replace(b"\r\ncontent-length", b"\r\nanthropic-beta: other\r\ncontent-length")
    connection.sendall(repeated)
    assert text_of(read_answers(connection, 1)[0]) == "plain"
    assert handled(server) == before + 1
    assert server.journal.calls[-1].to_json()["headers"]["anthropic-beta"] == "other"


# Requests to mix on one connection: memo hits (plain and chunked), a new body each time, a
# stream, and forms the inline answer declines or the handler refuses
OTHER = {**BODY, "messages": [{"role": "user", "content": "another"}]}
MIX = (
    request(),
    chunked(request()),
    request(OTHER),
    request({**BODY, "stream": True}),
    request(target="/v1/messages?beta=true"),
    request(x_api_key="sk-other"),
    request(anthropic_beta="files-api-2025-04-14"),
)


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[MockServer, MockServer]]:
    """The same scenario served with the reply memo (so with inline answers) and without it."""
    with (
        MockServer(api_keys=(API_KEY,)) as inline,
        MockServer(api_keys=(API_KEY,), reply_memo_entries=0) as plain,
    ):
        for server in (inline, plain):
            server.load(SCENARIO)
        yield inline, plain


def _exchange(server: MockServer, sent: bytes, cuts: list[int], count: int) -> list[bytes]:
    """`sent` written in pieces cut at `cuts` (so requests arrive split and several to a read)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        start = 0
        for cut in [*sorted({c % len(sent) for c in cuts}), len(sent)]:
            sock.sendall(sent[start:cut])
            start = cut
            time.sleep(0.002)
        return [VARYING.sub(b"", answer) for answer in read_answers(sock, count)]


def test_the_mix_reaches_the_inline_answer(servers: tuple[MockServer, MockServer]) -> None:
    inline, plain = servers
    sent = b"".join(MIX)
    for _ in range(2):  # the first time round fills the memo
        before = handled(inline), handled(plain)
        assert _exchange(inline, sent, [], len(MIX)) == _exchange(plain, sent, [], len(MIX))
    assert handled(plain) - before[1] == len(MIX)
    assert handled(inline) - before[0] < len(MIX)


# -- new bodies, computed as they are parsed where no reply can wait ------------------------------

NOW = """
name: plain
rules:
  - when: {stream: true}
    reply: {text: "streamed"}
  - when: {last_user: {contains: over}}
    reply: {error: {status: 529}}
  - when: {last_user: {contains: limit}}
    reply: {error: {status: 429, message: slow down}, headers: {retry-after: "2"}}
  - when: {last_user: {contains: own}}
    reply: {text: "own", headers: {Server: "own-server", x-after: "1"}}
  - reply: {text: "plain", headers: {anthropic-ratelimit-requests-remaining: "41"}}
"""
# Loaded beside NOW, it makes a server's replies able to wait, so that server computes none inline
WAITS = """
name: waits
match: {header: {x-never: "1"}}
rules:
  - reply: {text: "late", timing: {ttft_ms: 5}}
"""
INVALID = {**BODY, "max_tokens": "many"}
NEW_MIX = (
    *MIX,
    request(INVALID),
    *(
        request({**BODY, "messages": [{"role": "user", "content": text}]})
        for text in ("third", "over", "limit", "own")
    ),
)


@pytest.fixture(scope="module")
def computing() -> Iterator[tuple[MockServer, MockServer]]:
    """NOW served where no reply waits (new bodies computed inline), and beside WAITS without the
    memo (every request through aiohttp's handler)."""
    with (
        MockServer(api_keys=(API_KEY,)) as inline,
        MockServer(api_keys=(API_KEY,), reply_memo_entries=0) as plain,
    ):
        inline.load(NOW)
        plain.load(NOW, WAITS)
        yield inline, plain


Pairs = dict[str, tuple[MockServer, MockServer, tuple[bytes, ...]]]


@pytest.fixture(scope="module")
def pairs(servers: tuple[MockServer, MockServer], computing: tuple[MockServer, MockServer]) -> Pairs:
    """Each inline server with the server that answers everything through aiohttp, and its mix."""
    return {"memo hits": (*servers, MIX), "new bodies": (*computing, NEW_MIX)}


@settings(max_examples=80, deadline=None, derandomize=True, database=None)
@given(
    which=st.sampled_from(["memo hits", "new bodies"]),
    data=st.data(),
    cuts=st.lists(st.integers(0, 1 << 16), max_size=4),
)
def test_any_mix_on_one_connection_is_answered_as_by_the_handler(
    pairs: Pairs, which: str, data: st.DataObject, cuts: list[int]
) -> None:
    inline, plain, mix = pairs[which]
    order = data.draw(st.lists(st.integers(0, len(mix) - 1), min_size=1, max_size=8))
    sent = b"".join(mix[index] for index in order)
    assert _exchange(inline, sent, cuts, len(order)) == _exchange(plain, sent, cuts, len(order))


@pytest.mark.parametrize(
    "body",
    [
        {**BODY, "messages": [{"role": "user", "content": "fresh"}]},
        INVALID,
        {**BODY, "messages": [{"role": "user", "content": "own, once"}]},  # a header the head writes itself
    ],
)
def test_a_new_body_computed_inline_is_journaled_as_by_the_handler(
    computing: tuple[MockServer, MockServer], body: dict[str, object]
) -> None:
    inline, plain = computing
    before = handled(inline)
    answers = [_exchange(server, request(body), [], 1) for server in (inline, plain)]
    assert answers[0] == answers[1]
    assert handled(inline) == before  # computed as it was parsed
    entries = [server.journal.calls[-1].to_json() for server in (inline, plain)]
    for entry in entries:
        for varying in ("seq", "request_id", "started_at", "duration_ms"):
            del entry[varying]
    assert entries[0] == entries[1]


def test_a_body_that_may_stream_is_left_to_the_handler(computing: tuple[MockServer, MockServer]) -> None:
    inline, _ = computing
    before = handled(inline)
    _exchange(
        inline, request({**BODY, "stream": False, "messages": [{"role": "user", "content": "s"}]}), [], 1
    )
    assert handled(inline) == before + 1
