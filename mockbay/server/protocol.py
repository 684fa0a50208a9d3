"""HTTP-level garbage (a bad request line, an over-long header, broken chunking) answered
like any other client error: the Anthropic envelope with `request-id`, and one INFO log line.

aiohttp answers such requests itself, before any route or middleware runs, with a text/plain
body, and logs each as "Error handling request" with a traceback. Its protocol class has no
public hook for either, so `envelope_runner` serves the app through a small subclass of it; any
other failure keeps aiohttp's own handling and traceback, because that is mockbay's bug.

A request whose body is still arriving when its handler starts gets a deadline for the rest
(`_body_deadline`): a client that stalls mid-body, or trickles it in, is answered 408 and its
connection closed, where aiohttp would wait on the body for ever. A request whose head (request
line and headers) is still arriving the same body timeout after its first byte gets the same 408
(`_WatchedParser`), where aiohttp would wait for its keep-alive timeout and close without a word.

The same subclass offers each request, once parsed whole, to the app's inline answer (`inline`:
JSON answers complete at once, written without aiohttp's request and response objects) before
aiohttp queues it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http import RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from yarl import URL

from mockbay.config import BODY_TIMEOUT_SECONDS, KEEPALIVE_TIMEOUT_SECONDS
from mockbay.errors import ApiError
from mockbay.render import ids
from mockbay.server.head import answer_bytes
from mockbay.server.responses import error_response
from mockbay.wire.errors import default_message, pair_for

log = logging.getLogger(__name__)

# Where the app keeps its source of request ids for answers outside the journal (admin, garbage).
SIDE_REQUEST_ID: web.AppKey[Callable[[], str]] = web.AppKey("mockbay_side_request_id")
# Where the app keeps the answer its connections may give a request as it is parsed (`inline`)
InlineAnswer = Callable[[RawRequestMessage, bytes], bytes | None]
INLINE_ANSWER: web.AppKey[InlineAnswer] = web.AppKey("mockbay_inline_answer")
# Where the app keeps its body timeout in seconds, read when a request's body is still to come
BODY_TIMEOUT: web.AppKey[Callable[[], float]] = web.AppKey("mockbay_body_timeout")
# Where the app keeps how long, in seconds, an idle keep-alive connection is held (aiohttp's
# `keepalive_timeout`, read as each connection is made)
KEEPALIVE_TIMEOUT: web.AppKey[float] = web.AppKey("mockbay_keepalive_timeout")
# Where the app keeps what counts an answer its connections give before any request is parsed
# (a stalled head's 408, HTTP-level garbage's 400), by its status: the journal never sees them
UNPARSED_ANSWERED: web.AppKey[Callable[[int], None]] = web.AppKey("mockbay_unparsed_answered")
CLIENT_FAULTS = (HttpProcessingError, RequestPayloadError)
# The handler state the inline answer and the head deadline read and keep (`_EnvelopeHandler`,
# `_WatchedParser`) and the body buffer they read (`_complete_body`, `_WatchedParser._next_begun`),
# as aiohttp 3.14 names them; an aiohttp without one of them answers every request through its
# handler and leaves a stalled head to its keep-alive timeout.
INLINE_STATE = frozenset(
    {"_waiter", "_messages", "_request_count", "_next_keepalive_close_time", "_keepalive_timeout", "_parser"}
)
CRLF = b"\r\n"  # blank lines between requests, which the parser skips: no request's first bytes
COMPARED = 64  # bytes of a body's end compared with the stream's (`_WatchedParser._next_begun`)
BUSY_RECHECK_S = 1.0  # how often a stalled head behind an answer still being written is looked at


def _slots(cls: type) -> set[str]:
    return {slot for klass in cls.__mro__ for slot in getattr(klass, "__slots__", ())}


INLINE_READY = _slots(RequestHandler) >= INLINE_STATE and "_buffer" in _slots(StreamReader)
_Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
MAX_REASON = 200


def side_request_ids(seed: int, worker: int = 0, *, shared: bool = False) -> Callable[[], str]:
    """Request ids for answers that take no journal sequence number, so the journal's stay dense.
    Replicas sharing a store each count from 1 here too: a random token per process keeps them apart."""
    counter = itertools.count(1)
    instance = f"{secrets.token_hex(8)}-" if shared else ""
    return lambda: ids.request_id(seed, f"side-{instance}{next(counter)}", worker)


def reason(exc: BaseException) -> str:
    """A client fault in one short line (aiohttp's messages can quote kilobytes of the input)."""
    cause = exc if isinstance(exc, HttpProcessingError) else exc.__cause__
    text = cause.message if isinstance(cause, HttpProcessingError) else str(exc)
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_REASON else f"{line[:MAX_REASON]}…"


class _EnvelopeHandler(RequestHandler):
    """aiohttp's protocol with client faults answered in the envelope and logged in one line, and
    answers complete at once given as requests are parsed (`inline_answer`, see `_WatchedParser`).
    Slotted like its base, as one is made per connection: without `__slots__` each also carried a
    `__dict__` for `new_request_id` (40 bytes more per open stream, tracemalloc)."""

    __slots__ = ("answered_unparsed", "inline_answer", "new_request_id")
    new_request_id: Callable[[], str]
    inline_answer: InlineAnswer
    answered_unparsed: Callable[[int], None]

    def idle(self) -> bool:
        """Nothing in flight on this connection: its handler waits for the next request."""
        waiter = self._waiter
        return waiter is not None and not waiter.done() and not self._messages

    def unanswered(self, messages: list[Any]) -> list[Any]:
        """The parsed requests left for aiohttp once the inline answer has answered what it can:
        only while nothing else is in flight on this connection (`idle`) and the client reads what
        is written, and only from the first on, so answers keep the requests' order."""
        if not self.idle():
            return messages
        for index, (message, payload) in enumerate(messages):
            body = _complete_body(payload)
            transport = self.transport
            written = None
            if body is not None and transport is not None and not self.writing_paused:
                written = self._inline(message, body)
            if written is None or transport is None:
                return messages[index:]
            payload.read_nowait()  # drained as aiohttp would, which resumes a paused read
            transport.write(written)
            self._request_count += 1
            self._next_keepalive_close_time = self._loop.time() + self._keepalive_timeout
        return []

    def _inline(self, message: RawRequestMessage, body: bytes) -> bytes | None:
        """The inline answer, or None; a failure of it is mockbay's bug, logged, and the request
        is left to aiohttp (raised here, it would drop the connection)."""
        try:
            return self.inline_answer(message, body)
        except Exception:
            log.exception(
                "the inline answer to %s %s failed; the handler answers it", message.method, message.path
            )
            return None

    def head_timed_out(self, seconds: float) -> None:
        """The 408 a body gets (`timeout_error`), for a head still arriving after `seconds`; then
        the connection is closed: the rest of that head cannot be told from the next request."""
        transport = self.transport
        if transport is None:
            return
        error = timeout_error(HeadTimeout(seconds))
        log.info("request timed out from %s: %s", self.peername, error.message)
        request_id = self.new_request_id()
        response = error_response(error, request_id)
        response.headers["request-id"] = request_id
        response.headers["Connection"] = "close"
        transport.write(answer_bytes(response))
        self.force_close()
        self.answered_unparsed(error.status)

    def connection_lost(self, exc: BaseException | None) -> None:
        parser = self._parser
        if isinstance(parser, _WatchedParser):
            parser.stop()
        super().connection_lost(exc)

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        if isinstance(exc, CLIENT_FAULTS):
            log.info("bad request: %s", reason(exc))
            return
        super().log_exception(*args, **kw)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, CLIENT_FAULTS):
            super().handle_error(request, status, exc, message)  # logs the traceback; we answer
            error = ApiError(status, *_described(status))
        else:
            log.info("bad request from %s: %s", request.remote, reason(exc))
            error = ApiError(400, "invalid_request_error", f"Malformed HTTP request: {reason(exc)}")
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already under way")
        request_id = self.new_request_id()
        response = error_response(error, request_id)
        response.headers["request-id"] = request_id
        response.force_close()
        if isinstance(exc, CLIENT_FAULTS):  # HTTP-level garbage: no request reached the app's count
            self.answered_unparsed(error.status)
        return response


def _described(status: int) -> tuple[str, str]:
    error_type = pair_for(status, None)[1]
    return error_type, default_message(status, error_type)


def _targets_as_paths(handler: _Handler) -> _Handler:
    """The app's handler, also for a request whose target is not a path (`OPTIONS *`, CONNECT's
    `host:port`): no route can match one, and aiohttp would answer its own text 404. It reaches
    the app as `/` and the target, so it gets the not_found envelope, a request-id and a journal
    entry like any other unknown path. A plain function: every request passes through it."""

    def handle(request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        if request.path[:1] == "/":
            return handler(request)
        return handler(request.clone(rel_url=URL.build(path="/" + request.path, encoded=False)))

    return handle


class BodyTimeout(TimeoutError):
    """A request body that did not arrive whole within the body timeout. Set on the body's stream,
    so whichever reader waits on it raises it (`upload.unreadable` makes it the 408). A
    TimeoutError, so aiohttp's lingering read after the answer takes it for its own timeout and
    closes the connection without a traceback."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive whole within {seconds:g} s")


class HeadTimeout(TimeoutError):
    """A request head (request line and headers) that did not arrive whole within the body timeout
    of its first byte (`_WatchedParser`)."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request headers did not arrive whole within {seconds:g} s")


def timeout_error(exc: TimeoutError) -> ApiError:
    """Upstream's 408 for a request that did not arrive in time (the SDK retries it)."""
    return ApiError(408, "timeout_error", f"Request timed out: {exc}")


def _body_deadline(handler: _Handler, seconds: Callable[[], float]) -> _Handler:
    """The app's handler, with a deadline on a body still arriving as it starts. A plain function:
    every request passes through it, and one whose body has arrived whole (most) costs one check."""

    def handle(request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        payload = request.content
        if payload.is_eof():
            return handler(request)
        return _before_deadline(handler, request, payload, seconds())

    return handle


async def _before_deadline(
    handler: _Handler, request: web.BaseRequest, payload: StreamReader, seconds: float
) -> web.StreamResponse:
    """The handler's answer; the body, unless whole `seconds` after the handler's start (the
    request's, unless one before it on the connection was still being answered), raises
    `BodyTimeout` in its reader, and the answer then closes the connection (the rest of that body
    may still come: its bytes cannot be taken for the next request's). The whole body is timed,
    not each read, so a trickle is cut off too."""
    timer = asyncio.get_running_loop().call_later(seconds, _expire, payload, seconds)
    payload.on_eof(timer.cancel)
    try:
        response = await handler(request)
    finally:
        timer.cancel()
    if isinstance(payload.exception(), BodyTimeout):
        response.force_close()
    return response


def _expire(payload: StreamReader, seconds: float) -> None:
    if not payload.is_eof() and payload.exception() is None:
        payload.set_exception(BodyTimeout(seconds))


def _complete_body(payload: Any) -> bytes | None:
    """A request body that has fully arrived, unread; None while any of it is still to come."""
    if type(payload) is StreamReader and payload.is_eof() and payload.exception() is None:
        return b"".join(payload._buffer)  # read without consuming it: aiohttp may read it yet
    return None


class _WatchedParser:
    """aiohttp's request parser, watched by its connection's handler. The parsed requests may be
    answered inline (`_EnvelopeHandler.unanswered`) before aiohttp queues the rest; and the time
    the first byte of a request not yet parsed arrived is kept (`_head_since`), so a head still
    arriving a body timeout later is answered 408 (`_expire`). One timer per connection, armed when
    a head starts and moved on as it fires, rather than one per request. Anything else it is asked
    goes to the parser itself.

    The parser does not say whether bytes it holds after a request's end begin another, so the
    stream's end is compared with the end of the request that ended in it (`_next_begun`)."""

    __slots__ = (
        "_broken",
        "_chunked",
        "_handler",
        "_head_since",
        "_inline",
        "_parser",
        "_payload",
        "_tail",
        "_timeout",
        "_timer",
    )

    def __init__(self, parser: Any, handler: _EnvelopeHandler, inline: bool, timeout: Callable[[], float]):
        self._parser = parser
        self._handler = handler
        self._inline = inline
        self._timeout = timeout
        # The body still arriving after the last feed, if any, and whether it is chunked: only
        # held while the request holds it, so no answered request's body is kept
        self._payload: Any = None
        self._chunked = False
        self._tail = b""  # the stream's last bytes (`COMPARED` of them)
        self._head_since: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._broken = False  # a body's framing broke: nothing after it can be framed

    def feed_data(self, data: bytes) -> tuple[list[Any], bool, bytes]:
        payload, chunked = self._payload, self._chunked
        if self._broken:
            return [], False, b""
        try:
            messages, upgraded, tail = self._parser.feed_data(data)
        except HttpProcessingError as exc:
            if payload is None:  # in a head: aiohttp answers it as HTTP-level garbage
                raise
            self._body_broken(payload, exc)
            return [], False, b""
        if data:
            self._tail = data[-COMPARED:] if len(data) >= COMPARED else (self._tail + data)[-COMPARED:]
        if messages:
            message, payload = messages[-1]
            chunked = message.chunked
        if payload is None:  # no request ended here: bytes of the next one's head, or blank lines
            if self._head_since is None and data.strip(CRLF):
                self._begin()
        elif not payload.is_eof():  # its body is arriving: the body deadline times that
            self._payload, self._chunked, self._head_since = payload, chunked, None
        else:
            self._payload, self._head_since = None, None
            if self._next_begun(payload, chunked, data):
                self._begin()
        if messages and self._inline:
            parsed = len(messages)
            messages = self._handler.unanswered(messages)
            for _ in range(parsed - len(messages)):  # each answered one frees its queue slot
                self._parser.message_consumed()
        return messages, upgraded, tail

    def _body_broken(self, payload: Any, exc: HttpProcessingError) -> None:
        """A body whose framing broke while its handler reads it (a chunk size that is not hex,
        say). aiohttp's compiled parser drops such a body without a word to it, so the handler
        waited for the body timeout's 408; the body now gets the error, which the handler answers
        400 (`upload.unreadable`), and the connection closes after that answer (aiohttp's
        lingering read meets the error): what follows cannot be framed, so it is not read."""
        self._payload, self._broken = None, True
        payload.set_exception(exc)

    def _next_begun(self, payload: Any, chunked: bool, data: bytes) -> bool:
        """Whether bytes other than blank lines follow the request that ended in this feed: the
        stream does not end as that request does, with a blank line (no body, or chunked) or its
        body's last bytes (still in its buffer: they were fed just now; most often the feed ends
        with them). A blank line or a body the stream ends with is never taken for another
        request's start."""
        if chunked or type(payload) is not StreamReader or not payload._buffer:
            return self._tail[-4:].strip(CRLF) != b""
        if data.endswith(payload._buffer[-1]):
            return False
        sent = self._tail.rstrip(CRLF)
        body = payload._buffer[-1][-COMPARED:].rstrip(CRLF)
        compared = min(len(sent), len(body))
        return sent[len(sent) - compared :] != body[len(body) - compared :]

    def _begin(self) -> None:
        """A request's head began arriving now; aiohttp's keep-alive timer, which would close the
        connection without a word, is put off until its deadline has passed."""
        handler = self._handler
        now = handler._loop.time()
        self._head_since = now
        deadline = now + self._timeout()
        handler._next_keepalive_close_time = max(
            handler._next_keepalive_close_time, deadline + BUSY_RECHECK_S
        )
        if self._timer is None:
            self._timer = handler._loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        """The timer: a head still arriving past its deadline is answered 408 once nothing is in
        flight before it (until then it is looked at again); else the timer waits for the next
        deadline, or for the next head to start."""
        self._timer = None
        since, handler = self._head_since, self._handler
        if since is None or handler.transport is None:
            return
        loop, seconds = handler._loop, self._timeout()
        now = loop.time()
        if now < since + seconds:
            self._timer = loop.call_at(since + seconds, self._expire)
        elif not handler.idle():
            self._timer = loop.call_at(now + BUSY_RECHECK_S, self._expire)
        else:
            handler.head_timed_out(seconds)

    def stop(self) -> None:
        """The connection is lost: no timer keeps it."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class _EnvelopeServer(web.Server):
    def __init__(
        self,
        base: web.Server,
        new_request_id: Callable[[], str],
        answered_unparsed: Callable[[int], None],
        inline_answer: InlineAnswer | None,
        body_timeout: Callable[[], float],
        **kwargs: Any,
    ) -> None:
        handler = _body_deadline(_targets_as_paths(base.request_handler), body_timeout)
        super().__init__(handler, request_factory=base.request_factory, **kwargs)
        self._new_request_id = new_request_id
        self._answered_unparsed = answered_unparsed
        self._inline_answer = inline_answer
        self._body_timeout = body_timeout

    def __call__(self) -> RequestHandler:
        handler = _EnvelopeHandler(self, loop=self._loop, **self._kwargs)
        handler.new_request_id = self._new_request_id
        handler.answered_unparsed = self._answered_unparsed
        if INLINE_READY:
            inline_answer = self._inline_answer
            if inline_answer is not None:
                handler.inline_answer = inline_answer
            inline = inline_answer is not None
            handler._parser = _WatchedParser(handler._parser, handler, inline, self._body_timeout)  # type: ignore[assignment]
        return handler


def _uncounted(status: int) -> None:
    """An app with nothing to count its connections' own answers in (`UNPARSED_ANSWERED`)."""


class EnvelopeRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer HTTP-level garbage in the Anthropic envelope, hand
    bodies over as sent (`upload.decoded` applies `Content-Encoding` with upstream's answers), and
    close an idle connection after the app's `KEEPALIVE_TIMEOUT`, not aiohttp's hour."""

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        new_request_id = self.app.get(SIDE_REQUEST_ID) or side_request_ids(0)
        answered_unparsed = self.app.get(UNPARSED_ANSWERED, _uncounted)
        keepalive_timeout = self.app.get(KEEPALIVE_TIMEOUT, KEEPALIVE_TIMEOUT_SECONDS)
        kwargs = {**base._kwargs, "auto_decompress": False, "keepalive_timeout": keepalive_timeout}
        # the inline answer stands for the app's handler alone: an app with middlewares (the
        # recording proxy's) runs them for every request, so its connections answer none inline
        inline_answer = None if self.app.middlewares else self.app.get(INLINE_ANSWER)
        body_timeout = self.app.get(BODY_TIMEOUT) or (lambda: BODY_TIMEOUT_SECONDS)
        return _EnvelopeServer(
            base, new_request_id, answered_unparsed, inline_answer, body_timeout, loop=base._loop, **kwargs
        )
