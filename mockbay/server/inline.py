"""Requests answered as they are parsed, below aiohttp's request and response objects.

For every request aiohttp makes a request object, a task, a response object and its head: about
45 us here, as much as the bare benchmark server's whole answer (README, "Where a memo hit's time
goes"). A JSON answer that is complete at once needs none of it. So the protocol (`protocol`)
offers each request that arrived whole to `answer` first, while its connection has nothing else
in flight, and writes what it returns. Two kinds are answered:

- a memo hit (`memo`): the memo's bytes behind this exchange's request id, the caller's
  organisation and the date. The memo is looked up with the headers as parsed, so requests it
  does not answer are passed on before the header view is built; a hit counts only if the header
  view (a repeated header's last value, an undecodable byte made U+FFFD) gives the same key;
- a new request, where no reply of the loaded scenarios can wait (`ServerState.never_waits`: an
  instant server, no timing and no fault in any scenario) and the body cannot ask for a stream
  (it does not say `"stream"`): the pipeline (`messages.pipeline`) then completes without
  waiting, so it is run at once (`run_now`), its refusals and failures answered as the handler
  answers them (`exchanges`).

Safe because it is the answer and the journal entry the handler gives the same request: the
same steps (`exchanges`, `messages`) in the same order, and the head aiohttp writes (`head`).
Only the plainest request qualifies: `POST /v1/messages` exactly (no pin, prefix, query or dot
segment), HTTP/1.1 kept alive, no `Content-Encoding`, `Expect` or workspace header, accepted
credentials and version, and a store whose sequence is local (the memory store); and only in an
app without middlewares (`protocol.EnvelopeRunner`). Anything else returns None before it
touches any state, and the request goes the usual way. Tests compare both paths byte for byte.
"""

from __future__ import annotations

import time
from collections.abc import Coroutine
from typing import Any, NamedTuple, TypeVar, cast

from aiohttp import web
from aiohttp.http import HttpVersion11, RawRequestMessage

from mockbay import logs
from mockbay.config import MAX_BODY_BYTES
from mockbay.errors import ApiError
from mockbay.journal import Exchange, replayed_headers
from mockbay.platforms import ANTHROPIC
from mockbay.server.auth import authenticate, require_version
from mockbay.server.exchanges import (
    failure,
    finish,
    keep_reply_body,
    keep_sent_headers,
    open_exchange,
    refusal,
)
from mockbay.server.head import (
    OK_LINE,
    answer_bytes,
    date_and_server,
    header_lines,
    json_tail,
    writable,
    writable_pairs,
)
from mockbay.server.memo import memo_key
from mockbay.server.messages import SCENARIO_HEADER, Answer, Inbound, begin_answer, pipeline
from mockbay.server.protocol import InlineAnswer
from mockbay.server.request_headers import lowered_headers
from mockbay.server.responses import ORGANIZATION_HEADER, WORKSPACE_HEADER, JsonReply, json_body_response
from mockbay.state import ServerState
from mockbay.store.memory import MemoryStore

MESSAGES_PATH = "/v1/messages"
REQUEST_ID = "request-id"
# Headers that change what the handler does before the memo: the body's coding, a 100 Continue,
# and a workspace echoed into the head as the client sent it
DECLINED_HEADERS = ("content-encoding", "expect", WORKSPACE_HEADER)
STREAM = b'"stream"'  # a body without it cannot ask for a stream
T = TypeVar("T")


def answers(state: ServerState) -> InlineAnswer:
    """The inline answer of this server's connections."""
    return lambda message, body: answer(state, message, body)


def answer(state: ServerState, message: RawRequestMessage, body: bytes) -> bytes | None:
    """The whole HTTP answer to a plain request this server can answer at once, journaled: a memo
    hit, or a new JSON request where no reply waits; None to leave it to aiohttp."""
    store = state.store
    if not (message.path == MESSAGES_PATH and message.method == "POST" and isinstance(store, MemoryStore)):
        return None
    if message.version != HttpVersion11 or message.should_close or message.upgrade:
        return None
    as_sent = message.headers
    key = memo_key(state, body, as_sent, as_sent.get(SCENARIO_HEADER) or None, ANTHROPIC)
    memoized = state.memo.get(key)
    if memoized is None:
        return _computed(state, store, message, body)
    # debug logs explain every selection, so they bypass the memo (as `messages.recall` does)
    if memoized.json_head is None or logs.debug_enabled():
        return None
    admitted = _admitted(state, message)
    if admitted is None:
        return None
    headers, caller = admitted
    if memo_key(state, body, headers, headers.get(SCENARIO_HEADER) or None, ANTHROPIC) != key:
        return None  # the header view reads otherwise (a repeated header's last value): not this entry
    inbound = Inbound(raw=body, headers=headers, caller=caller)
    started = time.perf_counter()
    exchange = _opened(state, store, message, headers)
    answer_headers = begin_answer(exchange, inbound)
    memoized.replay(exchange)
    exchange.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    exchange.status = 200
    keep_reply_body(state, exchange, memoized.body)
    keep_sent_headers(state, exchange, memoized.sent_headers)
    _closed(state, exchange)
    head = OK_LINE + header_lines(answer_headers.items()) + memoized.json_head + date_and_server()
    return head + memoized.body


def _computed(
    state: ServerState, store: MemoryStore, message: RawRequestMessage, body: bytes
) -> bytes | None:
    """A request the memo has not answered, run through the pipeline now, when no reply can wait
    (`ServerState.never_waits`) and the body cannot ask for a stream (it does not say `"stream"`):
    then the pipeline completes without waiting, and its answer is the handler's."""
    if not state.never_waits or STREAM in body or len(body) > MAX_BODY_BYTES:
        return None
    admitted = _admitted(state, message)
    if admitted is None:
        return None
    headers, caller = admitted
    inbound = Inbound(raw=body, headers=headers, caller=caller)
    started = time.perf_counter()
    exchange = _opened(state, store, message, headers)
    response: web.Response | Headed
    try:
        response = _written(exchange, run_now(pipeline(None, state, exchange, None, inbound)))
    except ApiError as error:
        response = refusal(exchange, error)
    except Exception:
        response = failure(state, exchange)
    exchange.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    if isinstance(response, Headed):
        sent = _finished(state, exchange, response)
    else:
        finish(state, exchange, headers, response)
        sent = answer_bytes(response)
    _closed(state, exchange)
    return sent


class Headed(NamedTuple):
    """A JSON reply with its head up to `Date` (`_own_head`), written without aiohttp's response."""

    head: bytes
    reply: JsonReply


def _own_head(exchange: Exchange, reply: JsonReply) -> bytes | None:
    """A JSON reply's head up to its `Date`, where aiohttp would write it with nothing added: its
    identity headers first, as `begin_answer` put them (so `finish` changes none), and none of the
    others a name the head writes itself or a character aiohttp refuses (`head.json_tail`, whose
    lines are memoised: a rule's replies carry the same). Else None, and aiohttp's response is built."""
    pairs = tuple(reply.headers.items())
    if len(pairs) < 2 or pairs[0] != (REQUEST_ID, exchange.request_id) or pairs[1][0] != ORGANIZATION_HEADER:
        return None
    identity = pairs[:2]
    tail = json_tail(pairs[2:], reply.body)
    if tail is None or not writable_pairs(identity):
        return None
    return OK_LINE + header_lines(identity) + tail


def _finished(state: ServerState, exchange: Exchange, headed: Headed) -> bytes:
    """The bytes and journal entry `finish` and `answer_bytes` give the reply made a response."""
    reply = headed.reply
    exchange.status = exchange.status or 200
    keep_reply_body(state, exchange, reply.body)
    keep_sent_headers(state, exchange, replayed_headers(reply.headers))
    return headed.head + date_and_server() + reply.body


def _written(exchange: Exchange, answer: Answer | JsonReply) -> web.Response | Headed:
    """The pipeline's answer written at once (all an inline answer can be): a JSON reply with its
    head where `_own_head` writes it, else as aiohttp's response; one whose headers aiohttp would
    refuse to write is mockbay's failure, as in its handler."""
    if isinstance(answer, JsonReply):
        head = _own_head(exchange, answer)
        if head is not None:
            return Headed(head, answer)
        answer = json_body_response(*answer)
    if not (isinstance(answer, web.Response) and isinstance(answer.body, bytes)):
        raise RuntimeError(f"an inline answer gave {answer!r}")
    if not writable(answer):
        raise ValueError(f"a header of the answer cannot be written: {list(answer.headers.items())!r}")
    return answer


def run_now(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine's result when it completes without waiting, as the pipeline does where no
    reply waits and the store is this process's memory; one that waits is closed, and raised as
    mockbay's bug (its request gets the 500 and the log its traceback)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coroutine.close()
    raise RuntimeError("an inline answer waited")


def _admitted(state: ServerState, message: RawRequestMessage) -> tuple[dict[str, str], str] | None:
    """The header view and the caller's key, as the handler reads them; None for a header that
    changes what it does first, or a key or version it refuses (its answers are the handler's)."""
    headers = lowered_headers(message.headers)
    if any(name in headers for name in DECLINED_HEADERS):
        return None
    try:
        caller = authenticate(headers, state.config)
        require_version(headers, state.config)
    except ApiError:
        return None
    return headers, caller


def _opened(
    state: ServerState, store: MemoryStore, message: RawRequestMessage, headers: dict[str, str]
) -> Exchange:
    exchange = open_exchange(state, store.take_sequence(), message.method, MESSAGES_PATH, headers)
    exchange.endpoint = "messages"
    return exchange


def _closed(state: ServerState, exchange: Exchange) -> None:
    """Counted and logged as the handler does once an exchange is answered."""
    state.metrics.finished(exchange)
    logs.log_exchange(exchange)
