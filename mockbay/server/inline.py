"""Memo hits answered as their request is parsed, below aiohttp's request and response objects.

For every request aiohttp makes a request object, a task, a response object and its head: about
45 us here, as much as the bare benchmark server's whole answer (README, "Where a memo hit's time
goes"). A request the reply memo answers (`memo`) needs none of it: its answer is the memo's
bytes behind this exchange's request id, the caller's organisation and the date. So the protocol
(`protocol`) offers each request that arrived whole to `answer` first, while its connection has
nothing else in flight, and writes what it returns.

Safe because it is the answer and the journal entry the handler gives the same request: the
same steps (`exchanges`, `messages.begin_answer`, the memo's key) in the same order, and the
head aiohttp writes (`head`). The memo is looked up with the headers as parsed, so the many
requests it does not answer (new bodies, streams) are declined before the header view is built;
a hit counts only if the header view (a repeated header's last value, an undecodable byte made
U+FFFD) gives the same key. Only the plainest request qualifies: `POST /v1/messages` exactly
(no pin, prefix, query or dot segment), HTTP/1.1 kept alive, no `Content-Encoding`, `Expect` or
workspace header, accepted credentials and version, a JSON (not streamed) memo hit, and a store
whose sequence is local (the memory store). Anything else returns None before it touches any
state, and the request goes the usual way. Tests compare both paths byte for byte.
"""

from __future__ import annotations

import time

from aiohttp.http import HttpVersion11, RawRequestMessage

from mockbay import logs
from mockbay.errors import ApiError
from mockbay.platforms import ANTHROPIC
from mockbay.server.auth import authenticate, require_version
from mockbay.server.exchanges import keep_reply_body, open_exchange
from mockbay.server.head import OK_LINE, date_and_server, header_lines
from mockbay.server.memo import memo_key
from mockbay.server.messages import SCENARIO_HEADER, Inbound, begin_answer
from mockbay.server.protocol import InlineAnswer
from mockbay.server.request_headers import lowered_headers
from mockbay.server.responses import WORKSPACE_HEADER
from mockbay.state import ServerState
from mockbay.store.memory import MemoryStore

MESSAGES_PATH = "/v1/messages"
# Headers that change what the handler does before the memo: the body's coding, a 100 Continue,
# and a workspace echoed into the head as the client sent it
DECLINED_HEADERS = ("content-encoding", "expect", WORKSPACE_HEADER)


def answers(state: ServerState) -> InlineAnswer:
    """The inline answer of this server's connections."""
    return lambda message, body: answer(state, message, body)


def answer(state: ServerState, message: RawRequestMessage, body: bytes) -> bytes | None:
    """The whole HTTP answer to a request the memo answers, journaled; None to leave it to aiohttp."""
    store = state.store
    if not (message.path == MESSAGES_PATH and message.method == "POST" and isinstance(store, MemoryStore)):
        return None
    if message.version != HttpVersion11 or message.should_close or message.upgrade:
        return None
    as_sent = message.headers
    key = memo_key(state, body, as_sent, as_sent.get(SCENARIO_HEADER) or None, ANTHROPIC)
    memoized = state.memo.get(key)
    # debug logs explain every selection, so they bypass the memo (as `messages.recall` does)
    if memoized is None or memoized.json_head is None or logs.debug_enabled():
        return None
    headers = lowered_headers(as_sent)
    if any(name in headers for name in DECLINED_HEADERS):
        return None
    if memo_key(state, body, headers, headers.get(SCENARIO_HEADER) or None, ANTHROPIC) != key:
        return None  # the header view reads otherwise (a repeated header's last value): not this entry
    try:
        caller = authenticate(headers, state.config)
        require_version(headers, state.config)
    except ApiError:
        return None
    inbound = Inbound(raw=body, headers=headers, caller=caller)
    started = time.perf_counter()
    exchange = open_exchange(state, store.take_sequence(), message.method, MESSAGES_PATH, headers)
    exchange.endpoint = "messages"
    answer_headers = begin_answer(exchange, inbound)
    memoized.replay(exchange)
    exchange.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    exchange.status = 200
    keep_reply_body(state, exchange, memoized.body)
    state.metrics.finished(exchange)
    logs.log_exchange(exchange)
    head = OK_LINE + header_lines(answer_headers.items()) + memoized.json_head + date_and_server()
    return head + memoized.body
